import { errors } from '../errors/app-error';
import { ConditionFailedError, type ItemKey, type Store, type StoredItem } from '../store/store';
import { versionFromIfMatch } from './route';

/**
 * A PATCH's write: the changes hold only if the item is still at the version the client's
 * If-Match names (or, without one, the version just read); otherwise 412.
 */
export async function updateIfMatch<T extends StoredItem>(
  store: Store,
  key: ItemKey,
  changes: Record<string, unknown>,
  ifMatch: string | undefined,
  readVersion: number | undefined,
): Promise<T> {
  try {
    return await store.update<T>(key, changes, {
      expectedVersion: versionFromIfMatch(ifMatch) ?? readVersion ?? 1,
    });
  } catch (error) {
    if (error instanceof ConditionFailedError) throw errors.preconditionFailed();
    throw error;
  }
}
