import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { updateIfMatch } from '../../layers/http/conditional';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { counterKeys } from '../../layers/model/counters';
import {
  limitAttribute,
  type PlanCustomerItem,
  type PlanItem,
  planKeys,
  quotas,
} from '../../layers/model/plans';
import { type TenantItem, tenantKeys } from '../../layers/model/tenants';
import { type Store, type StoredItem, TransactionFailedError } from '../../layers/store/store';
import { deleteItem, putItem } from '../../layers/store/writes';
import { readUsage } from './quota';
import type { createPlanBody, updatePlanBody } from './spec';

export interface PlanDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
}

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

/** A reseller's new plan: its limits per quota and, if given, its request rate. */
export function makeCreatePlan({ store, clock, ids }: PlanDeps) {
  return async (tenantId: string, body: z.infer<typeof createPlanBody>) => {
    const owner = await store.get<TenantItem>(tenantKeys.item(tenantId));
    if (owner?.kind !== 'reseller') throw errors.forbidden('Only a reseller has plans.');
    const id = ids.next('plan');
    return store.create<PlanItem>({
      ...planKeys.item(tenantId, id),
      entity: 'plan',
      id,
      ownerTenantId: tenantId,
      name: body.name,
      limits: body.limits,
      ...(body.requestsPerMinute !== undefined ? { requestsPerMinute: body.requestsPerMinute } : {}),
      createdAt: clock.now().toISOString(),
    });
  };
}

/** Changes a plan (conditional on its version); new limits or rate reach every customer on it at once. */
export function makeUpdatePlan({ store }: Pick<PlanDeps, 'store'>) {
  return async (
    tenantId: string,
    planId: string,
    body: z.infer<typeof updatePlanBody>,
    ifMatch: string | undefined,
  ) => {
    const key = planKeys.item(tenantId, planId);
    const plan = await store.get<PlanItem>(key, true);
    if (!plan) throw errors.notFound('plan');
    const updated = await updateIfMatch<PlanItem>(
      store,
      key,
      {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.limits !== undefined ? { limits: body.limits } : {}),
        ...(body.requestsPerMinute !== undefined
          ? { requestsPerMinute: body.requestsPerMinute ?? undefined }
          : {}),
      },
      ifMatch,
      plan.version,
    );
    if (body.limits !== undefined || body.requestsPerMinute !== undefined) {
      for await (const customers of store.pages<PlanCustomerItem>({
        pk: key.pk,
        skPrefix: planKeys.customersPrefix(plan.id),
      })) {
        await Promise.all(customers.map((c) => applyPlan(store, c.customerId, updated)));
      }
    }
    return updated;
  };
}

/** Deletes a plan nobody is on (conditional on its version, or the If-Match one). */
export function makeDeletePlan({ store }: Pick<PlanDeps, 'store'>) {
  return async (tenantId: string, planId: string, ifMatchVersion: number | undefined) => {
    const key = planKeys.item(tenantId, planId);
    const plan = await store.get<PlanItem>(key, true);
    if (!plan) throw errors.notFound('plan');
    const onIt = await store.query<PlanCustomerItem>({
      pk: key.pk,
      skPrefix: planKeys.customersPrefix(plan.id),
      limit: 1,
      tenantId,
      scope: 'plan-customers',
    });
    if (onIt.items.length > 0) {
      throw errors.conflict('Customers are on this plan; put them on another plan first.');
    }
    try {
      await store.transact([deleteItem(key, { equals: { version: ifMatchVersion ?? plan.version ?? 1 } })]);
    } catch (error) {
      if (error instanceof TransactionFailedError) throw errors.preconditionFailed();
      throw error;
    }
  };
}

/** Puts one of the reseller's customers on one of its plans; answers the customer's usage. */
export function makeAssignPlan({ store }: Pick<PlanDeps, 'store'>) {
  return async (tenantId: string, customerId: string, planId: string) => {
    const [customer, plan, usage] = await Promise.all([
      store.get<TenantItem>(tenantKeys.item(customerId)),
      store.get<PlanItem>(planKeys.item(tenantId, planId)),
      readUsage(store, customerId),
    ]);
    if (!customer || customer.parentId !== tenantId) throw errors.notFound('customer');
    if (!plan) throw errors.validation([{ path: 'body.planId', message: 'No such plan of yours' }]);
    // The plan knows its customers, so that a change to it reaches them.
    if (usage?.planId && usage.planId !== plan.id) {
      await store.remove(planKeys.customer(tenantId, usage.planId, customer.id));
    }
    await store.transact([
      putItem({
        ...planKeys.customer(tenantId, plan.id, customer.id),
        entity: 'plan-customer',
        planId: plan.id,
        customerId: customer.id,
      } satisfies PlanCustomerItem),
    ]);
    await applyPlan(store, customer.id, plan);
    return readUsage(store, customer.id);
  };
}
