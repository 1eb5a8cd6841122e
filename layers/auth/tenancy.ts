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
