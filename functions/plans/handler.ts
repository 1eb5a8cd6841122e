import { errors } from '../../layers/errors/app-error';
import { updateIfMatch } from '../../layers/http/conditional';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created, etag, ok, versionFromIfMatch } from '../../layers/http/route';
import { counterKeys } from '../../layers/model/counters';
import {
  limitAttribute,
  type PlanCustomerItem,
  type PlanItem,
  planKeys,
  quotas,
  toPlan,
} from '../../layers/model/plans';
import { type TenantItem, tenantKeys } from '../../layers/model/tenants';
import { type Store, type StoredItem, TransactionFailedError } from '../../layers/store/store';
import { deleteItem } from '../../layers/store/writes';
import { plansContext } from './context';
import { readUsage } from './quota';

/**
 * Puts a plan's limits on a customer's counters, where creates check them atomically, and its
 * request rate on the tenant record, which every request's standing check reads anyway.
 */
async function applyPlan(store: Store, customerId: string, plan: PlanItem) {
  await store.update<StoredItem>(counterKeys.item(customerId), {
    planId: plan.id,
    ...Object.fromEntries(quotas.map((q) => [limitAttribute(q), plan.limits[q]])),
  });
  await store.update(tenantKeys.item(customerId), { requestsPerMinute: plan.requestsPerMinute });
}

export const handler = makeContextHandler(plansContext, {
  createPlan: async ({ params, body, platform }) => {
    const owner = await platform.store.get<TenantItem>(tenantKeys.item(params.tenantId));
    if (owner?.kind !== 'reseller') throw errors.forbidden('Only a reseller has plans.');
    const id = platform.ids.next('plan');
    const plan = await platform.store.create<PlanItem>({
      ...planKeys.item(params.tenantId, id),
      entity: 'plan',
      id,
      ownerTenantId: params.tenantId,
      name: body.name,
      limits: body.limits,
      ...(body.requestsPerMinute !== undefined ? { requestsPerMinute: body.requestsPerMinute } : {}),
      createdAt: platform.clock.now().toISOString(),
    });
    return created(toPlan(plan), `/v1/tenants/${params.tenantId}/plans/${id}`);
  },
  listPlans: async ({ params, query, platform }) =>
    listPage<PlanItem, ReturnType<typeof toPlan>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: planKeys.prefix,
        scope: 'plans',
        query,
      },
      toPlan,
    ),
  updatePlan: async ({ params, body, headers, platform }) => {
    const key = planKeys.item(params.tenantId, params.planId);
    const plan = await platform.store.get<PlanItem>(key, true);
    if (!plan) throw errors.notFound('plan');
    const updated = await updateIfMatch<PlanItem>(
      platform.store,
      key,
      {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.limits !== undefined ? { limits: body.limits } : {}),
        ...(body.requestsPerMinute !== undefined
          ? { requestsPerMinute: body.requestsPerMinute ?? undefined }
          : {}),
      },
      headers('if-match'),
      plan.version,
    );
    if (body.limits !== undefined || body.requestsPerMinute !== undefined) {
      for await (const customers of platform.store.pages<PlanCustomerItem>({
        pk: key.pk,
        skPrefix: planKeys.customersPrefix(plan.id),
      })) {
        await Promise.all(customers.map((c) => applyPlan(platform.store, c.customerId, updated)));
      }
    }
    return ok(toPlan(updated), { ETag: etag(updated.version) });
  },
  deletePlan: async ({ params, headers, platform }) => {
    const key = planKeys.item(params.tenantId, params.planId);
    const plan = await platform.store.get<PlanItem>(key, true);
    if (!plan) throw errors.notFound('plan');
    const onIt = await platform.store.query<PlanCustomerItem>({
      pk: key.pk,
      skPrefix: planKeys.customersPrefix(plan.id),
      limit: 1,
      tenantId: params.tenantId,
      scope: 'plan-customers',
    });
    if (onIt.items.length > 0) {
      throw errors.conflict('Customers are on this plan; put them on another plan first.');
    }
    try {
      await platform.store.transact([
        deleteItem(key, {
          equals: { version: versionFromIfMatch(headers('if-match')) ?? plan.version ?? 1 },
        }),
      ]);
    } catch (error) {
      if (error instanceof TransactionFailedError) throw errors.preconditionFailed();
      throw error;
    }
    return { status: 204 };
  },
  assignPlan: async ({ params, body, platform }) => {
    const [customer, plan, usage] = await Promise.all([
      platform.store.get<TenantItem>(tenantKeys.item(params.customerId)),
      platform.store.get<PlanItem>(planKeys.item(params.tenantId, body.planId)),
      readUsage(platform.store, params.customerId),
    ]);
    if (!customer || customer.parentId !== params.tenantId) throw errors.notFound('customer');
    if (!plan) throw errors.validation([{ path: 'body.planId', message: 'No such plan of yours' }]);
    // The plan knows its customers, so that a change to it reaches them.
    if (usage?.planId && usage.planId !== plan.id) {
      await platform.store.remove(planKeys.customer(params.tenantId, usage.planId, customer.id));
    }
    await platform.store.transact([
      {
        Put: {
          Item: {
            ...planKeys.customer(params.tenantId, plan.id, customer.id),
            entity: 'plan-customer',
            planId: plan.id,
            customerId: customer.id,
          } satisfies PlanCustomerItem,
        },
      },
    ]);
    await applyPlan(platform.store, customer.id, plan);
    return ok(await readUsage(platform.store, customer.id));
  },
  getUsage: async ({ params, platform }) => {
    const usage = await readUsage(platform.store, params.tenantId);
    if (!usage) throw errors.notFound('tenant');
    return ok(usage);
  },
});
