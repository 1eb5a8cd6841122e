import { tenantPartition } from '../model/keys';
import type { CursorCodec } from '../store/cursor';
import type { QueryOptions, Store, StoredItem } from '../store/store';
import { type HttpResult, ok } from './route';

/**
 * One page of a tenant's items whose sort key starts with `skPrefix` (in its own partition
 * unless `pk` names another; newest first with `ascending: false`; narrowed by `filter`), as the
 * list convention answers it: `{ items, nextCursor }`, the cursor signed and bound to the tenant
 * and the list (a filtered list's scope names its filters, so a cursor works only with them).
 */
export async function listPage<T extends StoredItem, R>(
  store: Store,
  list: {
    tenantId: string;
    /** the partition; by default the tenant's own */
    pk?: string;
    skPrefix: string;
    scope: string;
    query: { limit: number; cursor?: string | undefined };
    ascending?: boolean;
    filter?: QueryOptions['filter'];
  },
  toItem: (item: T) => R,
): Promise<HttpResult> {
  const page = await store.query<T>({
    pk: list.pk ?? tenantPartition(list.tenantId),
    skPrefix: list.skPrefix,
    limit: list.query.limit,
    cursor: list.query.cursor,
    tenantId: list.tenantId,
    scope: list.scope,
    ...(list.ascending === undefined ? {} : { ascending: list.ascending }),
    ...(list.filter ? { filter: list.filter } : {}),
  });
  return ok({ items: page.items.map(toItem), nextCursor: page.nextCursor });
}

/**
 * One page of a list held in memory (what a provider's API answered), as the list convention
 * answers it: the cursor carries the offset, signed and bound to the tenant and the list.
 */
export function arrayPage<T>(
  cursors: CursorCodec,
  list: { tenantId: string; scope: string; query: { limit: number; cursor?: string | undefined } },
  items: readonly T[],
): HttpResult {
  const start = list.query.cursor
    ? Number(cursors.decode(list.query.cursor, list.tenantId, list.scope).o)
    : 0;
  const end = start + list.query.limit;
  return ok({
    items: items.slice(start, end),
    nextCursor: end < items.length ? cursors.encode(list.tenantId, list.scope, { o: end }) : null,
  });
}
