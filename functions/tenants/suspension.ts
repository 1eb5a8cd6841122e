import { readStanding } from '../../layers/auth/tenancy';
import { counterKeys } from '../../layers/model/counters';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import { type SiteItem, siteKeys } from '../../layers/model/sites';
import { type ChildLinkItem, tenantKeys } from '../../layers/model/tenants';
import type { Store, StoredItem } from '../../layers/store/store';

/** Every item of a partition under a sort-key prefix, page after page. */
async function* everyItem<T extends StoredItem>(store: Store, pk: string, skPrefix: string) {
  for await (const page of store.pages<T>({ pk, skPrefix })) yield* page;
}

/**
 * Marks (or unmarks) the resources of a tenant and of every tenant below it as suspended.
 * Logins and tokens of the subtree are already refused by the tenants' standing; this makes
 * the suspension visible on each resource. Unmarking skips a subtree whose own tenant is
 * still suspended, and does nothing while a tenant above is suspended.
 */
export async function markSubtreeSuspended(
  store: Store,
  rootId: string,
  suspended: boolean,
  at: string,
  /** each site once marked: its host serves the suspension page, or the site again */
  onSite: (site: SiteItem) => Promise<void> = async () => {},
): Promise<{ tenants: number; servers: number; sites: number }> {
  if (!suspended && !(await readStanding(store, rootId)).active) return { tenants: 0, servers: 0, sites: 0 };
  const counts = { tenants: 0, servers: 0, sites: 0 };
  const pending = [rootId];
  while (pending.length > 0) {
    const tenantId = pending.shift() as string;
    counts.tenants += 1;
    const { pk } = counterKeys.item(tenantId);
    for await (const server of everyItem<ServerItem>(store, pk, serverKeys.prefix)) {
      await store.update(serverKeys.item(tenantId, server.id), { suspendedAt: suspended ? at : undefined });
      counts.servers += 1;
    }
    for await (const site of everyItem<SiteItem>(store, pk, siteKeys.prefix)) {
      const marked = await store.update<SiteItem>(siteKeys.item(tenantId, site.id), {
        tenantSuspendedAt: suspended ? at : undefined,
      });
      await onSite(marked);
      counts.sites += 1;
    }
    for await (const child of everyItem<ChildLinkItem>(store, pk, tenantKeys.childPrefix)) {
      if (suspended || child.status === 'active') pending.push(child.id);
    }
  }
  return counts;
}
