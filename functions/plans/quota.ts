import { errors } from '../../layers/errors/app-error';
import { counterKeys } from '../../layers/model/counters';
import { limitAttribute, type Quota, quotas, usedAttribute } from '../../layers/model/plans';
import type { Store, StoredItem } from '../../layers/store/store';

/** The tenant's plan and each quota's limit (null: unlimited) and use, from its counters item. */
export async function readUsage(store: Store, tenantId: string) {
  const counters = await store.get<StoredItem>(counterKeys.item(tenantId), true);
  if (!counters) return undefined;
  const usage = Object.fromEntries(
    quotas.map((quota) => {
      const limit = counters[limitAttribute(quota)];
      return [
        quota,
        {
          limit: typeof limit === 'number' ? limit : null,
          used: Number(counters[usedAttribute(quota)] ?? 0),
        },
      ];
    }),
  ) as Record<Quota, { limit: number | null; used: number }>;
  return { planId: typeof counters.planId === 'string' ? counters.planId : null, quotas: usage };
}

/** The problem for a quota that is used up, naming it with its limit and current use. */
export async function quotaExceeded(store: Store, tenantId: string, quota: Quota) {
  const usage = await readUsage(store, tenantId);
  if (!usage) return errors.notFound('tenant');
  return errors.quotaExceeded(quota, usage.quotas[quota].limit ?? 0, usage.quotas[quota].used);
}
