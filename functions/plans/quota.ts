import { errors } from '../../layers/errors/app-error';
import { counterKeys } from '../../layers/model/counters';
import { limitAttribute, type Quota, quotas, usedAttribute } from '../../layers/model/plans';
import type { Store, StoredItem } from '../../layers/store/store';

/**
 * The parts of an update on the tenant's counters item that take one unit of a quota: it
 * holds only while use is below the limit (no limit: unlimited), so concurrent creates cannot
 * overshoot. A transaction cannot touch one item twice, so callers merge these into their own
 * update of the counters item. (Condition expressions have no arithmetic, hence one unit.)
 */
export function takeQuota(quota: Quota) {
  return {
    add: '#quotaUsed :quotaOne',
    condition:
      '(attribute_not_exists(#quotaLimit) OR #quotaUsed < #quotaLimit OR (attribute_not_exists(#quotaUsed) AND #quotaLimit > :quotaZero))',
    names: { '#quotaUsed': usedAttribute(quota), '#quotaLimit': limitAttribute(quota) },
    values: { ':quotaOne': 1, ':quotaZero': 0 },
  };
}

/** The parts of a counters update that give units back. */
export function returnQuota(quota: Quota) {
  return {
    add: '#quotaUsed :quotaReturned',
    names: { '#quotaUsed': usedAttribute(quota) },
    values: { ':quotaReturned': -1 },
  };
}

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
