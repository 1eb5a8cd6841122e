import { AppError, errors } from '../../layers/errors/app-error';
import {
  type DatabaseItem,
  type DatabaseUserItem,
  databaseKeys,
  databasesOf,
  mysqlFamily,
} from '../../layers/model/databases';
import type { OperationItem } from '../../layers/model/operations';
import type { ServerItem } from '../../layers/model/servers';
import { serverOf } from '../../layers/model/servers';
import { type SiteItem, siteKeys, siteOf } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import { readEnvironment } from '../sites/environment';
import { setEnvironment } from '../sites/service';
import { readPassword } from './passwords';

/** The variables a linked site's environment gets; what frameworks read (Laravel's names, a URL). */
export const LINK_VARIABLES = [
  'DB_CONNECTION',
  'DB_HOST',
  'DB_PORT',
  'DB_SOCKET',
  'DB_DATABASE',
  'DB_USERNAME',
  'DB_PASSWORD',
  'DATABASE_URL',
] as const;

/**
 * A database's credentials as a site on its server reaches it: over the engine's socket, where
 * the engine said it is (MySQL-family: `localhost` means the socket; PostgreSQL: the socket's
 * folder as the host), with the user's password.
 */
export function linkVariables(
  server: Pick<ServerItem, 'databaseEngine'>,
  database: Pick<DatabaseItem, 'engine' | 'name'>,
  user: Pick<DatabaseUserItem, 'name'>,
  password: string,
): Record<(typeof LINK_VARIABLES)[number], string> {
  const engine = server.databaseEngine;
  const credentials = `${encodeURIComponent(user.name)}:${encodeURIComponent(password)}`;
  if (mysqlFamily(database.engine)) {
    const socket = engine?.socket ?? '/run/mysqld/mysqld.sock';
    const port = String(engine?.port ?? 3306);
    return {
      DB_CONNECTION: 'mysql',
      DB_HOST: 'localhost',
      DB_PORT: port,
      DB_SOCKET: socket,
      DB_DATABASE: database.name,
      DB_USERNAME: user.name,
      DB_PASSWORD: password,
      DATABASE_URL: `mysql://${credentials}@localhost:${port}/${database.name}?unix_socket=${encodeURIComponent(socket)}`,
    };
  }
  const folder = engine?.socket ?? '/run/postgresql';
  const port = String(engine?.port ?? 5432);
  return {
    DB_CONNECTION: 'pgsql',
    DB_HOST: folder,
    DB_PORT: port,
    DB_SOCKET: folder,
    DB_DATABASE: database.name,
    DB_USERNAME: user.name,
    DB_PASSWORD: password,
    DATABASE_URL: `postgresql://${credentials}@${encodeURIComponent(folder)}:${port}/${database.name}`,
  };
}

/** The site's variables without a link's, and with them when `add` names them. */
async function siteVariables(platform: Platform, site: SiteItem, add?: Record<string, string>) {
  const current = (await readEnvironment(platform, site)) ?? {};
  const kept = Object.fromEntries(
    Object.entries(current).filter(([name]) => !(LINK_VARIABLES as readonly string[]).includes(name)),
  );
  return { ...kept, ...add };
}

/**
 * Links a database to a site on the same server: the site's environment gets the database's
 * credentials through one of its users with a grant on it (a change of the site, as any change
 * of its environment), and the database remembers the link, so a rotation of that user's
 * password reaches the site too.
 */
export async function linkSite(
  platform: Platform,
  database: DatabaseItem,
  user: DatabaseUserItem,
  siteId: string,
  requestId: string,
): Promise<{ database: DatabaseItem; operation: OperationItem }> {
  const site = await siteOf(platform, database.tenantId, siteId);
  const problems: { path: string; message: string }[] = [];
  if (site.serverId !== database.serverId) {
    problems.push({ path: 'body.siteId', message: 'The site is on another server' });
  }
  if (!user.spec.grants.some((g) => g.databaseId === database.id)) {
    problems.push({ path: 'body.userId', message: 'The user has no grant on this database' });
  }
  if (problems.length > 0) throw errors.validation(problems);
  if (database.status !== 'active' || user.status !== 'active') {
    throw errors.conflict('The database or the user is changing; try again once its operation has ended.');
  }
  const server = await serverOf(platform, database.tenantId, database.serverId);
  const password = await readPassword(platform, user, 'password');
  if (password === undefined) throw new Error(`Database user ${user.id} has no password parameter`);
  const variables = await siteVariables(platform, site, linkVariables(server, database, user, password));
  const { operation } = await setEnvironment(platform, site, requestId, variables);
  const link = { siteId: site.id, userId: user.id };
  const linked = await platform.store.update<DatabaseItem>(
    databaseKeys.item(database.tenantId, database.serverId, database.id),
    { link, updatedAt: platform.clock.now().toISOString() },
  );
  return { database: linked, operation };
}

/** Takes a database's credentials out of its linked site's environment, and forgets the link. */
export async function unlinkSite(
  platform: Platform,
  database: DatabaseItem,
  requestId: string,
): Promise<{ database: DatabaseItem; operation?: OperationItem }> {
  if (!database.link) throw errors.notFound('link');
  const site = await platform.store.get<SiteItem>(
    siteKeys.item(database.tenantId, database.link.siteId),
    true,
  );
  let operation: OperationItem | undefined;
  // a site deleted meanwhile took its environment with it
  if (site)
    ({ operation } = await setEnvironment(platform, site, requestId, await siteVariables(platform, site)));
  const unlinked = await platform.store.update<DatabaseItem>(
    databaseKeys.item(database.tenantId, database.serverId, database.id),
    { link: undefined, updatedAt: platform.clock.now().toISOString() },
  );
  return { database: unlinked, ...(operation ? { operation } : {}) };
}

/**
 * After a user's password changed on the host: every site linked through that user gets the new
 * one. A site that is changing right now, or gone, is reported back rather than waited for.
 */
export async function relinkAfterRotation(platform: Platform, user: DatabaseUserItem, requestId: string) {
  const missed: string[] = [];
  for await (const database of databasesOf(platform.store, user.tenantId, user.serverId)) {
    if (database.link?.userId !== user.id) continue;
    try {
      await linkSite(
        platform,
        database,
        { ...user, status: 'active' },
        database.link.siteId,
        `${requestId}-${database.id}`,
      );
    } catch (error) {
      if (!(error instanceof AppError || error instanceof ConditionFailedError)) throw error;
      missed.push(database.link.siteId);
    }
  }
  return missed;
}
