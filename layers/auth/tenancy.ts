import type { Store, StoredItem } from '../store/store';

/** The key of a tenant's own record. */
export const tenantKey = (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'TENANT' });

/**
 * Whether the caller's tenant may act on `targetId`: its own tenant, or one below it in the
 * tenant tree (a reseller on its customers). Acting on its own tenant costs no request; on
 * another, one GetItem of the target's record. Anything else answers as if it did not exist.
 */
export async function canActOn(store: Store, callerTenantId: string, targetId: string): Promise<boolean> {
  if (callerTenantId === targetId) return true;
  const target = await store.get<StoredItem & { ancestors?: string[] }>(tenantKey(targetId));
  return target?.ancestors?.includes(callerTenantId) ?? false;
}

const statusCache = new Map<string, { active: boolean; until: number }>();

/**
 * Whether a tenant is active: a suspended tenant's users and tokens are refused. Each function
 * instance remembers a tenant's status for `cacheSeconds` (2 s by default), so a suspension
 * takes effect everywhere within that time while a busy tenant costs no extra read per request.
 */
export async function tenantActive(store: Store, tenantId: string, cacheSeconds: number): Promise<boolean> {
  const now = Date.now();
  const cached = statusCache.get(tenantId);
  if (cached && cached.until > now) return cached.active;
  const tenant = await store.get<StoredItem & { status?: string }>(tenantKey(tenantId));
  const active = tenant?.status === 'active';
  if (cacheSeconds > 0) {
    if (statusCache.size > 10_000) statusCache.clear();
    statusCache.set(tenantId, { active, until: now + cacheSeconds * 1000 });
  }
  return active;
}
