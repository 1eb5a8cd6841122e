import { tenantKeys } from '../model/tenants';
import type { Store, StoredItem } from '../store/store';

interface TenantRecord extends StoredItem {
  status?: string;
  ancestors?: string[];
  requestsPerMinute?: number;
  requireTwoFactor?: boolean;
}

/**
 * Whether the caller's tenant may act on `targetId`: its own tenant, or one below it in the
 * tenant tree (a reseller on its customers). Acting on its own tenant costs no request; on
 * another, one GetItem of the target's record. Anything else answers as if it did not exist.
 */
export async function canActOn(store: Store, callerTenantId: string, targetId: string): Promise<boolean> {
  if (callerTenantId === targetId) return true;
  const target = await store.get<TenantRecord>(tenantKeys.item(targetId));
  return target?.ancestors?.includes(callerTenantId) ?? false;
}

/** What every request of a tenant's principals needs to know about the tenant. */
export interface TenantStanding {
  /** false when the tenant or any tenant above it is suspended */
  active: boolean;
  /** the per-principal request limit of its plan, when the plan sets one */
  requestsPerMinute: number | undefined;
  /** its users must sign in with a second factor */
  requireTwoFactor: boolean;
}

/**
 * A tenant's standing: it is active only while it and every tenant above it are, so
 * suspending a reseller suspends its whole subtree at once without rewriting it. One
 * GetItem, and one BatchGetItem for a tenant with ancestors.
 */
export async function readStanding(store: Store, tenantId: string): Promise<TenantStanding> {
  const tenant = await store.get<TenantRecord>(tenantKeys.item(tenantId));
  if (!tenant) return { active: false, requestsPerMinute: undefined, requireTwoFactor: false };
  const ancestors = tenant.ancestors ?? [];
  const above =
    ancestors.length > 0
      ? await store.batchGet<TenantRecord>(ancestors.map((id) => tenantKeys.item(id)))
      : [];
  const active =
    tenant.status === 'active' &&
    above.length === ancestors.length &&
    above.every((ancestor) => ancestor.status === 'active');
  return {
    active,
    requestsPerMinute: typeof tenant.requestsPerMinute === 'number' ? tenant.requestsPerMinute : undefined,
    requireTwoFactor: tenant.requireTwoFactor === true,
  };
}

const standingCache = new Map<string, { standing: TenantStanding; until: number }>();

/**
 * A tenant's standing as a request sees it. Each function instance remembers it for
 * `cacheSeconds` (2 s by default), so a suspension takes effect everywhere within that time
 * while a busy tenant costs no extra read per request.
 */
export async function tenantStanding(
  store: Store,
  tenantId: string,
  cacheSeconds: number,
): Promise<TenantStanding> {
  const now = Date.now();
  const cached = standingCache.get(tenantId);
  if (cached && cached.until > now) return cached.standing;
  const standing = await readStanding(store, tenantId);
  if (cacheSeconds > 0) {
    if (standingCache.size > 10_000) standingCache.clear();
    standingCache.set(tenantId, { standing, until: now + cacheSeconds * 1000 });
  }
  return standing;
}
