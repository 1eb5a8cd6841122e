import type { Store, StoredItem } from '../store/store';
import { tenantPartition } from './keys';

/** The engines a server's stack may run (functions/servers/stack). */
export type DatabaseEngineName = 'mariadb' | 'mysql' | 'postgresql';

/** MariaDB and MySQL speak the same SQL for what the panel does (bar password hashes). */
export const mysqlFamily = (engine: DatabaseEngineName): engine is 'mariadb' | 'mysql' =>
  engine !== 'postgresql';

/**
 * A database's life: `creating` until its operation succeeded (a failed create takes the
 * record away again, with its name and its unit of quota), `deleting` until the host dropped it.
 */
export const databaseStatuses = ['creating', 'active', 'deleting'] as const;
export type DatabaseStatus = (typeof databaseStatuses)[number];

export interface DatabaseItem extends StoredItem {
  entity: 'database';
  id: string;
  tenantId: string;
  serverId: string;
  engine: DatabaseEngineName;
  name: string;
  /** MySQL-family: its default character set and collation */
  charset?: string;
  collation?: string;
  /** PostgreSQL: its encoding */
  encoding?: string;
  status: DatabaseStatus;
  /** bytes on disk, as the server's last size refresh read them */
  sizeBytes?: number;
  sizeCheckedAt?: string;
  /** the site whose environment carries its credentials, and the user it names */
  link?: { siteId: string; userId: string };
  /** the operation changing it on its host, until it ends */
  operationId?: string;
  lastOperationId: string;
  createdAt: string;
  updatedAt: string;
}

export const databaseAccess = ['read', 'all'] as const;
export type DatabaseAccess = (typeof databaseAccess)[number];

/** What a user may do in one database of its server. */
export interface DatabaseGrant {
  databaseId: string;
  access: DatabaseAccess;
}

/** What a user is on its host: its grants and where it may sign in from besides the server itself. */
export interface DatabaseUserSpec {
  grants: DatabaseGrant[];
  /** IPv4/IPv6 networks in CIDR notation */
  remoteAccess: string[];
}

export const databaseUserStatuses = ['creating', 'active', 'updating', 'deleting'] as const;
export type DatabaseUserStatus = (typeof databaseUserStatuses)[number];

export interface DatabaseUserItem extends StoredItem {
  entity: 'database-user';
  id: string;
  tenantId: string;
  serverId: string;
  engine: DatabaseEngineName;
  name: string;
  status: DatabaseUserStatus;
  spec: DatabaseUserSpec;
  /** the change on its way to the host: the spec it brings, and whether the password changes with it */
  pending?: { operationId: string; spec: DatabaseUserSpec; passwordChange: boolean };
  passwordChangedAt: string;
  operationId?: string;
  lastOperationId: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * A name taken on a server: one item per database name and per user name, written in the same
 * transaction as the record that holds it, so two creates cannot both win a name.
 */
export interface DatabaseNameClaimItem extends StoredItem {
  entity: 'database-name';
  serverId: string;
  /** the database's or the user's id */
  ownerId: string;
}

/** A server's databases and users live in its tenant's partition, sorted under the server. */
export const databaseKeys = {
  item: (tenantId: string, serverId: string, databaseId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `DATABASE#${serverId}#${databaseId}`,
  }),
  prefix: (serverId: string) => `DATABASE#${serverId}#`,
  name: (tenantId: string, serverId: string, name: string) => ({
    pk: tenantPartition(tenantId),
    sk: `DBNAME#${serverId}#${name}`,
  }),
};

export const databaseUserKeys = {
  item: (tenantId: string, serverId: string, userId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `DBUSER#${serverId}#${userId}`,
  }),
  prefix: (serverId: string) => `DBUSER#${serverId}#`,
  name: (tenantId: string, serverId: string, name: string) => ({
    pk: tenantPartition(tenantId),
    sk: `DBUSERNAME#${serverId}#${name}`,
  }),
};

/**
 * A server with databases, in one platform partition: the scheduled refresh reads them with one
 * Query (no scan). Written when a database is made there; the refresh drops a server with none.
 */
export interface DatabaseServerItem extends StoredItem {
  entity: 'database-server';
  tenantId: string;
  serverId: string;
}

export const databaseServerKeys = {
  partition: 'DBSERVERS',
  item: (tenantId: string, serverId: string) => ({ pk: 'DBSERVERS', sk: `${tenantId}#${serverId}` }),
};

export const nameClaim = (
  key: { pk: string; sk: string },
  serverId: string,
  ownerId: string,
): DatabaseNameClaimItem => ({ ...key, entity: 'database-name', serverId, ownerId });

/** Every database of a server, page after page. */
export async function* databasesOf(store: Store, tenantId: string, serverId: string) {
  for await (const page of store.pages<DatabaseItem>({
    pk: tenantPartition(tenantId),
    skPrefix: databaseKeys.prefix(serverId),
  })) {
    yield* page;
  }
}

/** Every database user of a server, page after page. */
export async function* databaseUsersOf(store: Store, tenantId: string, serverId: string) {
  for await (const page of store.pages<DatabaseUserItem>({
    pk: tenantPartition(tenantId),
    skPrefix: databaseUserKeys.prefix(serverId),
  })) {
    yield* page;
  }
}

export const toDatabase = (item: DatabaseItem) => ({
  id: item.id,
  serverId: item.serverId,
  engine: item.engine,
  name: item.name,
  status: item.status,
  charset: item.charset ?? null,
  collation: item.collation ?? null,
  encoding: item.encoding ?? null,
  sizeBytes: item.sizeBytes ?? null,
  sizeCheckedAt: item.sizeCheckedAt ?? null,
  link: item.link ?? null,
  pendingOperationId: item.operationId ?? null,
  lastOperationId: item.lastOperationId,
  version: item.version ?? 1,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});

/** A user as the API shows it: never its password, which is shown once when it is made. */
export const toDatabaseUser = (item: DatabaseUserItem) => ({
  id: item.id,
  serverId: item.serverId,
  engine: item.engine,
  name: item.name,
  status: item.status,
  grants: item.spec.grants,
  remoteAccess: item.spec.remoteAccess,
  passwordChangedAt: item.passwordChangedAt,
  pendingOperationId: item.operationId ?? null,
  lastOperationId: item.lastOperationId,
  version: item.version ?? 1,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
});
