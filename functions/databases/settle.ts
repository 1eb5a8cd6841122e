import { AppError } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { countersChange } from '../../layers/model/counters';
import {
  type DatabaseItem,
  type DatabaseServerItem,
  type DatabaseUserItem,
  databaseKeys,
  databaseServerKeys,
  databasesOf,
  databaseUserKeys,
  databaseUsersOf,
} from '../../layers/model/databases';
import { serverKeys } from '../../layers/model/servers';
import { logger } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { type ItemKey, type Store, TransactionFailedError } from '../../layers/store/store';
import { deleteItem, updateItem } from '../../layers/store/writes';
import { deletePassword, putPassword, readPassword } from './passwords';
import { parseSizes } from './sql';

/** What a database command's ending tells its record: the command's ids and what the host printed. */
export interface EndedDatabaseCommand {
  tenantId: string;
  serverId: string;
  operationId: string;
  kind: string;
  databaseId?: string;
  userId?: string;
}

interface Ending {
  output?: Record<string, unknown> | undefined;
  at: string;
  platform?: Platform;
}

/** What the host reported, written without a new version (a reader's If-Match still holds). */
const quietly = (store: Store, key: ItemKey, set: Record<string, unknown>) =>
  store.transact([updateItem(key, { set, bumpVersion: false })]);

const stdoutOf = (output: Ending['output']) => (typeof output?.stdout === 'string' ? output.stdout : '');
const stderrOf = (output: Ending['output']) => (typeof output?.stderr === 'string' ? output.stderr : '');

/**
 * What every database command reports last: the engine's version and each database's size.
 * The server shows the engine up or down (a command that found it not answering says so), and
 * each database its size.
 */
async function recordEngineState(store: Store, ended: EndedDatabaseCommand, ending: Ending) {
  const { up, version, socket, port, sizes } = parseSizes(stdoutOf(ending.output));
  const down = /database engine \(\w+\) is not running/.test(stderrOf(ending.output));
  if (!up && !down) return;
  await quietly(store, serverKeys.item(ended.tenantId, ended.serverId), {
    databaseEngine: up
      ? {
          state: 'up',
          ...(version ? { version } : {}),
          ...(socket ? { socket } : {}),
          ...(port ? { port } : {}),
          checkedAt: ending.at,
        }
      : { state: 'down', checkedAt: ending.at },
  });
  if (!up) return;
  for await (const database of databasesOf(store, ended.tenantId, ended.serverId)) {
    const size = sizes.get(database.name);
    if (size === undefined || database.status === 'deleting') continue;
    try {
      await quietly(store, databaseKeys.item(ended.tenantId, ended.serverId, database.id), {
        sizeBytes: size,
        sizeCheckedAt: ending.at,
      });
    } catch (error) {
      // dropped meanwhile
      if (!(error instanceof TransactionFailedError)) throw error;
    }
  }
}

/**
 * A database follows its command's ending, once: a create that succeeded makes it active, one
 * that failed takes it away with its name and quota unit (the host's undo dropped what it made);
 * a drop that succeeded takes it and every user's grant on it away, one that failed leaves it as
 * it was.
 */
export async function settleDatabase(
  store: Store,
  ended: EndedDatabaseCommand,
  succeeded: boolean,
  ending: Ending,
) {
  await recordEngineState(store, ended, ending);
  if (!ended.databaseId) return;
  const ref = databaseKeys.item(ended.tenantId, ended.serverId, ended.databaseId);
  const database = await store.get<DatabaseItem>(ref, true);
  if (!database || database.operationId !== ended.operationId) return;
  const mine = { equals: { operationId: ended.operationId } };
  const gone = ended.kind === 'create-database' ? !succeeded : succeeded;
  if (gone) {
    await store.transact([
      deleteItem(ref, mine),
      deleteItem(databaseKeys.name(ended.tenantId, ended.serverId, database.name), {
        equals: { ownerId: database.id },
      }),
      countersChange(ended.tenantId, { giveBackQuota: 'databases' }),
      updateItem(serverKeys.item(ended.tenantId, ended.serverId), {
        add: { databaseCount: -1 },
        bumpVersion: false,
      }),
    ]);
    if (succeeded) await dropGrantsOn(store, ended, database.id);
    if (succeeded && database.link && ending.platform) {
      // the linked site's environment no longer names a database that is gone
      const { unlinkSite } = await import('./link');
      const platform = ending.platform;
      await ignoring(AppError, () => unlinkSite(platform, database, `${ended.operationId}-unlink`));
    }
    return;
  }
  await store.update(
    ref,
    { status: 'active', operationId: undefined, updatedAt: ending.at },
    { where: mine },
  );
  if (ended.kind !== 'create-database') return;
  // the server is among those the scheduled refresh reads
  const entry: DatabaseServerItem = {
    ...databaseServerKeys.item(ended.tenantId, ended.serverId),
    entity: 'database-server',
    tenantId: ended.tenantId,
    serverId: ended.serverId,
  };
  await store.put(entry);
}

/** A dropped database leaves no grant on it in its users' records (the host dropped them with it). */
async function dropGrantsOn(store: Store, ended: EndedDatabaseCommand, databaseId: string) {
  for await (const user of databaseUsersOf(store, ended.tenantId, ended.serverId)) {
    if (!user.spec.grants.some((g) => g.databaseId === databaseId)) continue;
    const without = (spec: DatabaseUserItem['spec']) => ({
      ...spec,
      grants: spec.grants.filter((g) => g.databaseId !== databaseId),
    });
    await store.update(databaseUserKeys.item(ended.tenantId, ended.serverId, user.id), {
      spec: without(user.spec),
      ...(user.pending ? { pending: { ...user.pending, spec: without(user.pending.spec) } } : {}),
    });
  }
}

/**
 * A user follows its command's ending, once: a create or change that succeeded takes the spec it
 * brought (and a rotated password becomes the one kept), one that failed leaves the user as it
 * was (a failed create takes it away, with its name and password); a drop that succeeded takes it.
 */
export async function settleDatabaseUser(
  store: Store,
  ended: EndedDatabaseCommand,
  succeeded: boolean,
  ending: Ending,
) {
  await recordEngineState(store, ended, ending);
  if (!ended.userId) return;
  const ref = databaseUserKeys.item(ended.tenantId, ended.serverId, ended.userId);
  const user = await store.get<DatabaseUserItem>(ref, true);
  if (!user || user.operationId !== ended.operationId) return;
  const mine = { equals: { operationId: ended.operationId } };
  const gone =
    ended.kind === 'create-database-user' ? !succeeded : ended.kind === 'delete-database-user' && succeeded;
  if (gone) {
    await store.transact([
      deleteItem(ref, mine),
      deleteItem(databaseUserKeys.name(ended.tenantId, ended.serverId, user.name), {
        equals: { ownerId: user.id },
      }),
      updateItem(serverKeys.item(ended.tenantId, ended.serverId), {
        add: { databaseUserCount: -1 },
        bumpVersion: false,
      }),
    ]);
    if (ending.platform) {
      await deletePassword(ending.platform, user, 'password');
      await deletePassword(ending.platform, user, 'password-next');
    }
    return;
  }
  const rotated = succeeded && user.pending?.passwordChange === true;
  if (rotated && ending.platform) {
    // the host has the new password: it becomes the one kept
    const next = await readPassword(ending.platform, user, 'password-next');
    if (next !== undefined) await putPassword(ending.platform, user, 'password', next);
  }
  await store.update(
    ref,
    {
      status: 'active',
      operationId: undefined,
      pending: undefined,
      updatedAt: ending.at,
      ...(succeeded && user.pending ? { spec: user.pending.spec } : {}),
      ...(rotated ? { passwordChangedAt: ending.at } : {}),
    },
    { where: mine },
  );
  if (user.pending?.passwordChange && ending.platform) {
    await deletePassword(ending.platform, user, 'password-next');
  }
  if (rotated && ending.platform) {
    // the sites linked through this user get the new password in their environment
    const { relinkAfterRotation } = await import('./link');
    const missed = await relinkAfterRotation(ending.platform, user, ended.operationId);
    if (missed.length > 0) {
      logger.error('Sites linked to a rotated database user still have the old password', {
        userId: user.id,
        siteIds: missed,
      });
    }
  }
}

/** A refresh only reports: the engine's state and the sizes. */
export async function settleDatabaseRefresh(
  store: Store,
  ended: EndedDatabaseCommand,
  _succeeded: boolean,
  ending: Ending,
) {
  await recordEngineState(store, ended, ending);
}
