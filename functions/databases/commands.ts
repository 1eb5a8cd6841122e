import { sealFor } from '../../layers/crypto/sealed';
import { errors, type FieldError } from '../../layers/errors/app-error';
import {
  type DatabaseEngineName,
  type DatabaseItem,
  type DatabaseUserItem,
  databaseKeys,
  databasesOf,
  databaseUserKeys,
} from '../../layers/model/databases';
import type { ServerItem } from '../../layers/model/servers';
import type { Platform } from '../../layers/runtime/platform';
import { refusedBy, type TransactItem } from '../../layers/store/store';
import { runCommand } from '../servers/runs';
import { noHostKey } from '../sites/change';
import { databaseOperationKinds } from './operation-kinds';

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
export function engineOf(server: ServerItem): DatabaseEngineName {
  if (!server.stack.database) {
    throw errors.conflict('The server runs no database engine; its stack chose none when it was made.');
  }
  return server.stack.database;
}

/** The database document's parameters: the script (and its undo) sealed to the server's key. */
export function documentParameters(
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
export async function databasesById(platform: Platform, tenantId: string, serverId: string) {
  const all = new Map<string, DatabaseItem>();
  for await (const database of databasesOf(platform.store, tenantId, serverId))
    all.set(database.id, database);
  return all;
}

/** Starts a command of the database document on the server. */
export const startDatabaseCommand = (
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
export function refusal(error: unknown, name: string): never {
  if (refusedBy(error, 'name')) throw errors.conflict(`${name} is taken on this server.`, 'body.name');
  if (refusedBy(error, 'record')) {
    throw errors.conflict('A change to it is on its way to the server; try again once it has ended.');
  }
  throw error;
}
