import type * as z from 'zod';
import { sealFor } from '../../layers/crypto/sealed';
import { errors, type FieldError } from '../../layers/errors/app-error';
import { countersChange } from '../../layers/model/counters';
import {
  type DatabaseEngineName,
  type DatabaseItem,
  type DatabaseUserItem,
  type DatabaseUserSpec,
  databaseKeys,
  databasesOf,
  databaseUserKeys,
  mysqlFamily,
  nameClaim,
} from '../../layers/model/databases';
import type { OperationItem } from '../../layers/model/operations';
import type { ServerItem } from '../../layers/model/servers';
import { serverOf } from '../../layers/model/servers';
import type { Platform } from '../../layers/runtime/platform';
import { refusedBy, type TransactItem } from '../../layers/store/store';
import { named, putNew, updateItem } from '../../layers/store/writes';
import { quotaExceeded } from '../plans/quota';
import { runCommand } from '../servers/runs';
import { noHostKey } from '../sites/change';
import { databaseOperationKinds } from './operation-kinds';
import { deletePassword, generatePassword, putPassword, readPassword } from './passwords';
import type {
  createDatabaseBody,
  createDatabaseUserBody,
  rotatePasswordBody,
  updateDatabaseUserBody,
} from './spec';
import { createDatabaseSql, dropDatabaseSql, dropUserSql, hbaLines, putUserSql } from './sql';

/** Each engine's longest name, for databases and for users. */
const NAME_LIMITS: Record<DatabaseEngineName, { database: number; user: number }> = {
  mariadb: { database: 64, user: 80 },
  mysql: { database: 64, user: 32 },
  postgresql: { database: 63, user: 63 },
};

/** Names the engines or the panel use themselves. */
const RESERVED = new Set([
  'mysql',
  'information_schema',
  'performance_schema',
  'sys',
  'test',
  'root',
  'postgres',
  'template0',
  'template1',
  'public',
  'debian_sys_maint',
  'mariadb_sys',
]);

/** The refusals of a name on this engine, each naming the field. */
export function nameProblems(
  engine: DatabaseEngineName,
  name: string,
  of: 'database' | 'user',
): FieldError[] {
  const path = 'body.name';
  const limit = NAME_LIMITS[engine][of];
  if (name.length > limit) return [{ path, message: `At most ${limit} characters on ${engine}` }];
  if (RESERVED.has(name.toLowerCase())) return [{ path, message: `${name} is the engine's own` }];
  if (/^(vip_|pg_)/i.test(name)) return [{ path, message: 'Names starting vip_ or pg_ are reserved' }];
  // the one-click apps' databases and users are named after their site's system user
  if (/^s[0-9a-z]{26}$/.test(name)) return [{ path, message: "Reserved for sites' own databases" }];
  if (engine === 'postgresql' && name !== name.toLowerCase()) {
    return [{ path, message: 'Lower case on PostgreSQL, so clients need not quote it' }];
  }
  return [];
}

/** The server's engine, or a 409 when it runs none. */
function engineOf(server: ServerItem): DatabaseEngineName {
  if (!server.stack.database) {
    throw errors.conflict('The server runs no database engine; its stack chose none when it was made.');
  }
  return server.stack.database;
}

/** The database document's parameters: the script (and its undo) sealed to the server's key. */
function documentParameters(
  server: ServerItem,
  engine: DatabaseEngineName,
  sql: { script?: string; undo?: string },
  access?: { user: string; hba: string; networks: string[] },
): Record<string, string> {
  const key = server.hostKey;
  if (!key) throw noHostKey();
  return {
    engine,
    sqlSealed: sql.script ? sealFor(key, sql.script) : '',
    undoSealed: sql.undo ? sealFor(key, sql.undo) : '',
    accessUser: access?.user ?? '',
    hbaBase64: Buffer.from(access?.hba ?? '', 'utf8').toString('base64'),
    networksBase64: Buffer.from(access ? access.networks.map((n) => `${n}\n`).join('') : '', 'utf8').toString(
      'base64',
    ),
  };
}

export async function databaseOf(platform: Platform, tenantId: string, serverId: string, databaseId: string) {
  const database = await platform.store.get<DatabaseItem>(
    databaseKeys.item(tenantId, serverId, databaseId),
    true,
  );
  if (!database) throw errors.notFound('database');
  return database;
}

export async function databaseUserOf(platform: Platform, tenantId: string, serverId: string, userId: string) {
  const user = await platform.store.get<DatabaseUserItem>(
    databaseUserKeys.item(tenantId, serverId, userId),
    true,
  );
  if (!user) throw errors.notFound('database user');
  return user;
}

/** The server's databases by id, for the grants a user's SQL names. */
async function databasesById(platform: Platform, tenantId: string, serverId: string) {
  const all = new Map<string, DatabaseItem>();
  for await (const database of databasesOf(platform.store, tenantId, serverId))
    all.set(database.id, database);
  return all;
}

/** Starts a command of the database document on the server. */
const startDatabaseCommand = (
  platform: Platform,
  server: ServerItem,
  requestId: string,
  command: {
    kind: keyof typeof databaseOperationKinds;
    databaseId?: string;
    userId?: string;
    parameters: Record<string, string>;
    alongside?: (operationId: string) => TransactItem[];
    serverAdd?: Record<string, number>;
  },
) =>
  runCommand(platform)(server.tenantId, server.id, requestId, {
    kind: databaseOperationKinds[command.kind],
    subject: {
      ...(command.databaseId ? { databaseId: command.databaseId } : {}),
      ...(command.userId ? { userId: command.userId } : {}),
    },
    parameters: command.parameters,
    ...(command.alongside ? { alongside: command.alongside } : {}),
    ...(command.serverAdd ? { serverAdd: command.serverAdd } : {}),
  });

/** A refused transaction's reason, by the named write that failed: the name's claim, or the record. */
function refusal(error: unknown, name: string): never {
  if (refusedBy(error, 'name')) throw errors.conflict(`${name} is taken on this server.`, 'body.name');
  if (refusedBy(error, 'record')) {
    throw errors.conflict('A change to it is on its way to the server; try again once it has ended.');
  }
  throw error;
}

/**
 * Creates a database: its record (creating), its name on the server and a unit of the plan's
 * `databases` quota in one transaction with the operation that makes it on the host.
 */
export async function createDatabase(
  platform: Platform,
  ref: { tenantId: string; serverId: string; requestId: string },
  body: z.output<typeof createDatabaseBody>,
) {
  const server = await serverOf(platform, ref.tenantId, ref.serverId);
  const engine = engineOf(server);
  const problems = nameProblems(engine, body.name, 'database');
  if (mysqlFamily(engine) && body.encoding) {
    problems.push({ path: 'body.encoding', message: 'PostgreSQL only; MariaDB and MySQL take charset' });
  }
  if (!mysqlFamily(engine)) {
    if (body.charset)
      problems.push({ path: 'body.charset', message: 'MariaDB/MySQL only; PostgreSQL takes encoding' });
    if (body.collation) problems.push({ path: 'body.collation', message: 'MariaDB/MySQL only' });
  }
  if (problems.length > 0) throw errors.validation(problems);
  const id = platform.ids.next('dbs');
  const now = platform.clock.now().toISOString();
  const shape = {
    id,
    engine,
    name: body.name,
    ...(mysqlFamily(engine)
      ? { charset: body.charset ?? 'utf8mb4', collation: body.collation ?? 'utf8mb4_unicode_ci' }
      : { encoding: body.encoding ?? 'UTF8' }),
  };
  let database: DatabaseItem | undefined;
  try {
    const { operation } = await startDatabaseCommand(platform, server, ref.requestId, {
      kind: 'create-database',
      databaseId: id,
      // what a failed run made is dropped again (only a database carrying this one's mark)
      parameters: documentParameters(server, engine, {
        script: createDatabaseSql(shape),
        undo: dropDatabaseSql(shape),
      }),
      serverAdd: { databaseCount: 1 },
      alongside: (operationId) => {
        database = {
          ...databaseKeys.item(ref.tenantId, ref.serverId, id),
          entity: 'database',
          tenantId: ref.tenantId,
          serverId: ref.serverId,
          ...shape,
          status: 'creating',
          operationId,
          lastOperationId: operationId,
          createdAt: now,
          updatedAt: now,
        };
        return [
          putNew(database),
          named(
            'name',
            putNew(nameClaim(databaseKeys.name(ref.tenantId, ref.serverId, body.name), ref.serverId, id)),
          ),
          named('quota', countersChange(ref.tenantId, { takeQuota: 'databases' })),
        ];
      },
    });
    return { database: database as DatabaseItem, operation };
  } catch (error) {
    if (refusedBy(error, 'quota')) throw await quotaExceeded(platform.store, ref.tenantId, 'databases');
    return refusal(error, body.name);
  }
}

/** Drops a database with everything in it, once its name is given again; its users lose their grants on it. */
export async function deleteDatabase(
  platform: Platform,
  database: DatabaseItem,
  requestId: string,
  confirm: string,
): Promise<{ database: DatabaseItem; operation: OperationItem }> {
  if (confirm !== database.name) {
    throw errors.validation([{ path: 'query.confirm', message: "Give the database's name to confirm" }]);
  }
  if (database.status !== 'active' || database.operationId) {
    throw errors.conflict(`The database is ${database.status}; try again once its operation has ended.`);
  }
  const server = await serverOf(platform, database.tenantId, database.serverId);
  const now = platform.clock.now().toISOString();
  let deleting = database;
  try {
    const { operation } = await startDatabaseCommand(platform, server, requestId, {
      kind: 'delete-database',
      databaseId: database.id,
      parameters: documentParameters(server, database.engine, { script: dropDatabaseSql(database) }),
      alongside: (operationId) => {
        deleting = {
          ...database,
          status: 'deleting',
          operationId,
          lastOperationId: operationId,
          updatedAt: now,
        };
        return [
          named(
            'record',
            updateItem(
              databaseKeys.item(database.tenantId, database.serverId, database.id),
              { set: { status: 'deleting', operationId, lastOperationId: operationId, updatedAt: now } },
              { equals: { status: 'active' }, absent: ['operationId'] },
            ),
          ),
        ];
      },
    });
    return { database: deleting, operation };
  } catch (error) {
    return refusal(error, database.name);
  }
}

/** The grants and networks a user asks for, checked against the server's databases and engine. */
function checkSpec(
  engine: DatabaseEngineName,
  spec: DatabaseUserSpec,
  databases: ReadonlyMap<string, DatabaseItem>,
): FieldError[] {
  const problems: FieldError[] = [];
  spec.grants.forEach((grant, i) => {
    const database = databases.get(grant.databaseId);
    if (!database || database.status === 'deleting') {
      problems.push({ path: `body.grants.${i}.databaseId`, message: 'No such database on this server' });
    }
  });
  if (mysqlFamily(engine)) {
    spec.remoteAccess.forEach((network, i) => {
      if (network.includes(':') && engine === 'mariadb') {
        problems.push({ path: `body.remoteAccess.${i}`, message: 'MariaDB takes IPv4 networks only' });
      }
    });
  }
  return problems;
}

const accessOf = (name: string, spec: DatabaseUserSpec, databases: ReadonlyMap<string, DatabaseItem>) => ({
  user: name,
  hba: hbaLines(name, spec, databases),
  networks: spec.remoteAccess,
});

/**
 * Makes a user with its grants and networks. Its password (given, or generated) is kept as a
 * SecureString and answered this once; the host gets only the hash its engine stores.
 */
export async function createDatabaseUser(
  platform: Platform,
  ref: { tenantId: string; serverId: string; requestId: string },
  body: z.output<typeof createDatabaseUserBody>,
) {
  const server = await serverOf(platform, ref.tenantId, ref.serverId);
  const engine = engineOf(server);
  const spec: DatabaseUserSpec = { grants: body.grants, remoteAccess: body.remoteAccess };
  const databases = await databasesById(platform, ref.tenantId, ref.serverId);
  const problems = [...nameProblems(engine, body.name, 'user'), ...checkSpec(engine, spec, databases)];
  if (problems.length > 0) throw errors.validation(problems);
  if (!server.hostKey) throw noHostKey();
  const id = platform.ids.next('dbu');
  const now = platform.clock.now().toISOString();
  const password = body.password ?? generatePassword();
  const identity = { tenantId: ref.tenantId, id };
  await putPassword(platform, identity, 'password', password);
  const change = { engine, name: body.name, password, spec, databases };
  let user: DatabaseUserItem | undefined;
  try {
    const { operation } = await startDatabaseCommand(platform, server, ref.requestId, {
      kind: 'create-database-user',
      userId: id,
      parameters: documentParameters(
        server,
        engine,
        // PostgreSQL's runs in one transaction; a MariaDB user half made is dropped again
        {
          script: putUserSql(change),
          ...(mysqlFamily(engine) ? { undo: dropUserSql(engine, body.name, spec, databases) } : {}),
        },
        accessOf(body.name, spec, databases),
      ),
      serverAdd: { databaseUserCount: 1 },
      alongside: (operationId) => {
        user = {
          ...databaseUserKeys.item(ref.tenantId, ref.serverId, id),
          entity: 'database-user',
          id,
          tenantId: ref.tenantId,
          serverId: ref.serverId,
          engine,
          name: body.name,
          status: 'creating',
          spec,
          pending: { operationId, spec, passwordChange: false },
          passwordChangedAt: now,
          operationId,
          lastOperationId: operationId,
          createdAt: now,
          updatedAt: now,
        };
        return [
          putNew(user as DatabaseUserItem),
          named(
            'name',
            putNew(nameClaim(databaseUserKeys.name(ref.tenantId, ref.serverId, body.name), ref.serverId, id)),
          ),
        ];
      },
    });
    return { user: user as DatabaseUserItem, password, operation };
  } catch (error) {
    await deletePassword(platform, identity, 'password');
    return refusal(error, body.name);
  }
}

/**
 * Changes a user's grants or networks, or its password (a rotation: the new one waits as
 * `password-next` until the host has it, so a failed rotation leaves the old one working).
 */
export async function changeDatabaseUser(
  platform: Platform,
  user: DatabaseUserItem,
  requestId: string,
  change: { body?: z.output<typeof updateDatabaseUserBody>; rotate?: z.output<typeof rotatePasswordBody> },
  expectedVersion?: number,
) {
  if (user.status === 'deleting' || user.status === 'creating' || user.operationId) {
    throw errors.conflict(
      user.operationId
        ? `A change to this user is on its way to the server (operation ${user.operationId}); try again once it has ended.`
        : `The user is ${user.status}.`,
    );
  }
  const server = await serverOf(platform, user.tenantId, user.serverId);
  const databases = await databasesById(platform, user.tenantId, user.serverId);
  const spec: DatabaseUserSpec = {
    grants: change.body?.grants ?? user.spec.grants,
    remoteAccess: change.body?.remoteAccess ?? user.spec.remoteAccess,
  };
  const problems = checkSpec(user.engine, spec, databases);
  for (const database of databases.values()) {
    // a site reaches this database as this user: the grant stays until the site is unlinked
    if (database.link?.userId === user.id && !spec.grants.some((g) => g.databaseId === database.id)) {
      problems.push({
        path: 'body.grants',
        message: `Site ${database.link.siteId} reaches ${database.name} as this user; unlink it first`,
      });
    }
  }
  if (problems.length > 0) throw errors.validation(problems);
  if (!server.hostKey) throw noHostKey();
  const rotating = change.rotate !== undefined;
  const password = rotating
    ? (change.rotate?.password ?? generatePassword())
    : await readPassword(platform, user, 'password');
  if (password === undefined) throw new Error(`Database user ${user.id} has no password parameter`);
  if (rotating) await putPassword(platform, user, 'password-next', password);
  const now = platform.clock.now().toISOString();
  const accessChanged = JSON.stringify(spec) !== JSON.stringify(user.spec);
  let changed = user;
  try {
    const { operation } = await startDatabaseCommand(platform, server, requestId, {
      kind: 'update-database-user',
      userId: user.id,
      parameters: documentParameters(
        server,
        user.engine,
        {
          script: putUserSql({
            engine: user.engine,
            name: user.name,
            password,
            spec,
            previous: user.spec,
            databases,
          }),
        },
        accessChanged ? accessOf(user.name, spec, databases) : undefined,
      ),
      alongside: (operationId) => {
        const pending = { operationId, spec, passwordChange: rotating };
        changed = {
          ...user,
          status: 'updating',
          pending,
          operationId,
          lastOperationId: operationId,
          updatedAt: now,
        };
        return [
          named(
            'record',
            updateItem(
              databaseUserKeys.item(user.tenantId, user.serverId, user.id),
              {
                set: {
                  status: 'updating',
                  pending,
                  operationId,
                  lastOperationId: operationId,
                  updatedAt: now,
                },
              },
              {
                equals: { status: 'active', version: expectedVersion ?? user.version ?? 1 },
                absent: ['operationId'],
              },
            ),
          ),
        ];
      },
    });
    return { user: changed, password: rotating ? password : undefined, operation };
  } catch (error) {
    if (rotating) await deletePassword(platform, user, 'password-next');
    if (expectedVersion !== undefined && refusedBy(error, 'record')) throw errors.preconditionFailed();
    return refusal(error, user.name);
  }
}

/** Takes a user off the server with its networks' rules; its record and password go once the host dropped it. */
export async function deleteDatabaseUser(platform: Platform, user: DatabaseUserItem, requestId: string) {
  if (user.operationId || user.status !== 'active') {
    throw errors.conflict(`The user is ${user.status}; try again once its operation has ended.`);
  }
  const server = await serverOf(platform, user.tenantId, user.serverId);
  const databases = await databasesById(platform, user.tenantId, user.serverId);
  const linked = [...databases.values()].find((d) => d.link?.userId === user.id);
  if (linked?.link) {
    throw errors.conflict(
      `Site ${linked.link.siteId} reaches database ${linked.name} as this user; unlink it first (DELETE .../databases/${linked.id}/site).`,
    );
  }
  const now = platform.clock.now().toISOString();
  let deleting = user;
  try {
    const { operation } = await startDatabaseCommand(platform, server, requestId, {
      kind: 'delete-database-user',
      userId: user.id,
      parameters: documentParameters(
        server,
        user.engine,
        { script: dropUserSql(user.engine, user.name, user.spec, databases) },
        { user: user.name, hba: '', networks: [] },
      ),
      alongside: (operationId) => {
        deleting = { ...user, status: 'deleting', operationId, lastOperationId: operationId, updatedAt: now };
        return [
          named(
            'record',
            updateItem(
              databaseUserKeys.item(user.tenantId, user.serverId, user.id),
              { set: { status: 'deleting', operationId, lastOperationId: operationId, updatedAt: now } },
              { equals: { status: 'active' }, absent: ['operationId'] },
            ),
          ),
        ];
      },
    });
    return { user: deleting, operation };
  } catch (error) {
    return refusal(error, user.name);
  }
}

/** Reads the engine's state and every database's size on the server (on demand and on a schedule). */
export async function refreshDatabases(platform: Platform, server: ServerItem, requestId: string) {
  const engine = engineOf(server);
  const { operation } = await startDatabaseCommand(platform, server, requestId, {
    kind: 'refresh-databases',
    parameters: documentParameters(server, engine, {}),
  });
  return operation;
}
