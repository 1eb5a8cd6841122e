import type { Store, StoredItem } from '../store/store';
import { type HttpResult, ok } from './route';

/**
 * One page of a tenant's items whose sort key starts with `skPrefix`, as the list convention
 * answers it: `{ items, nextCursor }`, the cursor signed and bound to the tenant and the list.
 */
export async function listPage<T extends StoredItem, R>(
  store: Store,
  list: {
    tenantId: string;
    pk: string;
    skPrefix: string;
    scope: string;
    query: { limit: number; cursor?: string | undefined };
  },
  toItem: (item: T) => R,
): Promise<HttpResult> {
  const page = await store.query<T>({
    pk: list.pk,
    skPrefix: list.skPrefix,
    limit: list.query.limit,
    cursor: list.query.cursor,
    tenantId: list.tenantId,
    scope: list.scope,
  });
  return ok({ items: page.items.map(toItem), nextCursor: page.nextCursor });
}
