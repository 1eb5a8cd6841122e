import type * as z from 'zod';
import { errors, type FieldError } from '../../layers/errors/app-error';
import {
  type DatabaseEngineName,
  type DatabaseItem,
  type DatabaseUserItem,
  type DatabaseUserSpec,
  databaseUserKeys,
  mysqlFamily,
  nameClaim,
} from '../../layers/model/databases';
import { serverOf } from '../../layers/model/servers';
import type { Platform } from '../../layers/runtime/platform';
import { refusedBy } from '../../layers/store/store';
import { named, putNew, updateItem } from '../../layers/store/writes';
import { noHostKey } from '../sites/change';
import {
  databasesById,
  documentParameters,
  engineOf,
  nameProblems,
  refusal,
  startDatabaseCommand,
} from './commands';
import { deletePassword, generatePassword, putPassword, readPassword } from './passwords';
import type { createDatabaseUserBody, rotatePasswordBody, updateDatabaseUserBody } from './spec';
import { dropUserSql, hbaLines, putUserSql } from './sql';

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
