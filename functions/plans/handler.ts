import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created, ok } from '../../layers/http/route';
import type { StoredItem } from '../../layers/store/store';
import { authKeys, type TenantItem } from '../auth/entity';
import { serverKeys } from '../servers/entity';
import { limitAttribute, type PlanItem, planKeys, quotas, toPlan } from './entity';
import { readUsage } from './quota';
import { planRoutes } from './spec';

export const handler = makeContextHandler(planRoutes, {
  createPlan: async ({ params, body, platform }) => {
    const owner = await platform.store.get<TenantItem>(authKeys.tenant(params.tenantId));
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
        pk: planKeys.item(params.tenantId, '').pk,
        skPrefix: planKeys.prefix,
        scope: 'plans',
        query,
      },
      toPlan,
    ),
  assignPlan: async ({ params, body, platform }) => {
    const [customer, plan] = await Promise.all([
      platform.store.get<TenantItem>(authKeys.tenant(params.customerId)),
      platform.store.get<PlanItem>(planKeys.item(params.tenantId, body.planId)),
    ]);
    if (!customer || customer.parentId !== params.tenantId) throw errors.notFound('customer');
    if (!plan) throw errors.validation([{ path: 'body.planId', message: 'No such plan of yours' }]);
    // Limits are copied onto the customer's counters, where creates check them atomically.
    await platform.store.update<StoredItem>(serverKeys.counters(customer.id), {
      planId: plan.id,
      ...Object.fromEntries(quotas.map((q) => [limitAttribute(q), plan.limits[q]])),
    });
    // The rate limit sits on the tenant record, which every request's standing check reads anyway.
    await platform.store.update(authKeys.tenant(customer.id), { requestsPerMinute: plan.requestsPerMinute });
    return ok(await readUsage(platform.store, customer.id));
  },
  getUsage: async ({ params, platform }) => {
    const usage = await readUsage(platform.store, params.tenantId);
    if (!usage) throw errors.notFound('tenant');
    return ok(usage);
  },
});
