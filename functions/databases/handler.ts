import { errors } from '../../layers/errors/app-error';
import type { Implementations } from '../../layers/http/context-handler';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { accepted, etag, ok, versionFromIfMatch } from '../../layers/http/route';
import {
  type DatabaseItem,
  type DatabaseUserItem,
  databaseKeys,
  databaseUserKeys,
  toDatabase,
  toDatabaseUser,
} from '../../layers/model/databases';
import { type OperationItem, toOperation } from '../../layers/model/operations';
import { serverOf } from '../../layers/model/servers';
import { databaseOf, databaseUserOf } from './commands';
import { databasesContext } from './context';
import { linkSite, unlinkSite } from './link';
import type { databasesRoutes } from './routes';
import { createDatabase, deleteDatabase, refreshDatabases } from './service';
import { changeDatabaseUser, createDatabaseUser, deleteDatabaseUser } from './users';

const operationUrl = (tenantId: string, operation: OperationItem) =>
  `/v1/tenants/${tenantId}/operations/${operation.id}`;

/** A list of the server's databases or users, once the server is known to be the tenant's. */
async function serverList<T extends DatabaseItem | DatabaseUserItem>(
  platform: Parameters<typeof serverOf>[0],
  params: { tenantId: string; serverId: string },
  query: { limit: number; cursor?: string | undefined },
  skPrefix: string,
  map: (item: T) => unknown,
) {
  await serverOf(platform, params.tenantId, params.serverId);
  return listPage<T, unknown>(
    platform.store,
    { tenantId: params.tenantId, skPrefix, scope: skPrefix, query },
    map,
  );
}

export const databasesImplementations: Implementations<typeof databasesRoutes> = {
  createDatabase: async ({ params, body, requestId, platform }) => {
    const { database, operation } = await createDatabase(platform, { ...params, requestId }, body);
    return accepted(
      { ...toDatabase(database), operation: toOperation(operation) },
      operationUrl(params.tenantId, operation),
    );
  },
  listDatabases: async ({ params, query, platform }) =>
    serverList(platform, params, query, databaseKeys.prefix(params.serverId), toDatabase),
  getDatabase: async ({ params, platform }) => {
    const database = await databaseOf(platform, params.tenantId, params.serverId, params.databaseId);
    return ok(toDatabase(database), { ETag: etag(database.version) });
  },
  deleteDatabase: async ({ params, query, requestId, platform }) => {
    const database = await databaseOf(platform, params.tenantId, params.serverId, params.databaseId);
    const deleting = await deleteDatabase(platform, database, requestId, query.confirm);
    return accepted(
      { ...toDatabase(deleting.database), operation: toOperation(deleting.operation) },
      operationUrl(params.tenantId, deleting.operation),
    );
  },
  linkDatabaseSite: async ({ params, body, requestId, platform }) => {
    const database = await databaseOf(platform, params.tenantId, params.serverId, params.databaseId);
    const user = await databaseUserOf(platform, params.tenantId, params.serverId, body.userId).catch(() => {
      throw errors.validation([{ path: 'body.userId', message: 'No such user on this server' }]);
    });
    const linked = await linkSite(platform, database, user, body.siteId, requestId);
    return accepted(
      { ...toDatabase(linked.database), operation: toOperation(linked.operation) },
      operationUrl(params.tenantId, linked.operation),
    );
  },
  unlinkDatabaseSite: async ({ params, requestId, platform }) => {
    const database = await databaseOf(platform, params.tenantId, params.serverId, params.databaseId);
    const unlinked = await unlinkSite(platform, database, requestId);
    return unlinked.operation
      ? accepted(
          { ...toDatabase(unlinked.database), operation: toOperation(unlinked.operation) },
          operationUrl(params.tenantId, unlinked.operation),
        )
      : ok(toDatabase(unlinked.database));
  },
  refreshDatabases: async ({ params, requestId, platform }) => {
    const server = await serverOf(platform, params.tenantId, params.serverId);
    const operation = await refreshDatabases(platform, server, requestId);
    return accepted(toOperation(operation), operationUrl(params.tenantId, operation));
  },
  createDatabaseUser: async ({ params, body, requestId, platform }) => {
    const { user, password, operation } = await createDatabaseUser(platform, { ...params, requestId }, body);
    return accepted(
      { ...toDatabaseUser(user), password, operation: toOperation(operation) },
      operationUrl(params.tenantId, operation),
    );
  },
  listDatabaseUsers: async ({ params, query, platform }) =>
    serverList(platform, params, query, databaseUserKeys.prefix(params.serverId), toDatabaseUser),
  getDatabaseUser: async ({ params, platform }) => {
    const user = await databaseUserOf(platform, params.tenantId, params.serverId, params.databaseUserId);
    return ok(toDatabaseUser(user), { ETag: etag(user.version) });
  },
  updateDatabaseUser: async ({ params, body, headers, requestId, platform }) => {
    const user = await databaseUserOf(platform, params.tenantId, params.serverId, params.databaseUserId);
    const changed = await changeDatabaseUser(
      platform,
      user,
      requestId,
      { body },
      versionFromIfMatch(headers('if-match')),
    );
    return accepted(
      { ...toDatabaseUser(changed.user), operation: toOperation(changed.operation) },
      operationUrl(params.tenantId, changed.operation),
    );
  },
  rotateDatabaseUserPassword: async ({ params, body, requestId, platform }) => {
    const user = await databaseUserOf(platform, params.tenantId, params.serverId, params.databaseUserId);
    const changed = await changeDatabaseUser(platform, user, requestId, { rotate: body });
    if (changed.password === undefined) throw errors.conflict('No new password was made; try again.');
    return accepted(
      {
        ...toDatabaseUser(changed.user),
        password: changed.password,
        operation: toOperation(changed.operation),
      },
      operationUrl(params.tenantId, changed.operation),
    );
  },
  deleteDatabaseUser: async ({ params, requestId, platform }) => {
    const user = await databaseUserOf(platform, params.tenantId, params.serverId, params.databaseUserId);
    const deleting = await deleteDatabaseUser(platform, user, requestId);
    return accepted(
      { ...toDatabaseUser(deleting.user), operation: toOperation(deleting.operation) },
      operationUrl(params.tenantId, deleting.operation),
    );
  },
};

/** The databases context. */
export const handler = makeContextHandler(databasesContext, databasesImplementations);
