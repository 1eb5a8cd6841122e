import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { countersChange } from '../../layers/model/counters';
import {
  type DatabaseEngineName,
  type DatabaseItem,
  databaseKeys,
  mysqlFamily,
  nameClaim,
} from '../../layers/model/databases';
import type { OperationItem } from '../../layers/model/operations';
import type { ServerItem } from '../../layers/model/servers';
import { serverOf } from '../../layers/model/servers';
import type { Platform } from '../../layers/runtime/platform';
import { refusedBy } from '../../layers/store/store';
import { named, putNew, updateItem } from '../../layers/store/writes';
import { quotaExceeded } from '../plans/quota';
import { documentParameters, engineOf, nameProblems, refusal, startDatabaseCommand } from './commands';
import type { createDatabaseBody } from './spec';
import { createDatabaseSql, dropDatabaseSql } from './sql';

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

/** Reads the engine's state and every database's size on the server (on demand and on a schedule). */
export async function refreshDatabases(platform: Platform, server: ServerItem, requestId: string) {
  const engine = engineOf(server);
  const { operation } = await startDatabaseCommand(platform, server, requestId, {
    kind: 'refresh-databases',
    parameters: documentParameters(server, engine, {}),
  });
  return operation;
}
