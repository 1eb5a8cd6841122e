import { gzipSync } from 'node:zlib';
import type * as z from 'zod';
import { sealFor } from '../../layers/crypto/sealed';
import { errors } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { type BackupItem, type BackupObject, backupKeys } from '../../layers/model/backups';
import { type DatabaseItem, databasesOf } from '../../layers/model/databases';
import type { OperationItem } from '../../layers/model/operations';
import { serverOf } from '../../layers/model/servers';
import type { SiteItem } from '../../layers/model/sites';
import { siteOf } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { refusedBy, TransactionFailedError } from '../../layers/store/store';
import { deleteItem, named, putNew } from '../../layers/store/writes';
import { runCommand } from '../servers/runs';
import { noHostKey } from '../sites/change';
import { backupOperationKinds } from './operation-kinds';
import { backupRunning } from './service';
import type { restoreBody } from './spec';
import { HOST_URL_SECONDS, storageFor, tenantDataKey } from './storage';

/**
 * Restores a site from one of its backups, on its own host: everything is fetched and checked
 * before the site changes, then databases and files switch (see the restore-site document). One
 * backup or restore of a site at a time, and none while the site itself is changing.
 */
export async function restoreBackup(
  platform: Platform,
  backup: BackupItem,
  requestId: string,
  body: z.output<typeof restoreBody>,
): Promise<OperationItem> {
  if (backup.status !== 'succeeded' || !backup.manifest) {
    throw errors.conflict('The backup has not finished; only a finished backup restores.');
  }
  if (backup.verification?.status !== 'verified') {
    throw errors.conflict('The backup did not read back as it was sent; it cannot be restored.');
  }
  const source = await siteOf(platform, backup.tenantId, backup.siteId);
  const elsewhere = body.targetSiteId !== undefined && body.targetSiteId !== source.id;
  const site = elsewhere
    ? await siteOf(platform, backup.tenantId, body.targetSiteId as string).catch(() => {
        throw errors.validation([{ path: 'body.targetSiteId', message: "No such site of the tenant's" }]);
      })
    : source;
  if (site.status !== 'active')
    throw errors.conflict(`The site is ${site.status}; restore into an active site.`);
  if (site.operationId) {
    throw errors.conflict(
      `A change to the site is under way (operation ${site.operationId}); restore once it has ended.`,
    );
  }
  const server = await serverOf(platform, site.tenantId, site.serverId);
  if (!server.hostKey) throw noHostKey();
  const chosen = backup.objects.filter((o) => (o.kind === 'files' ? body.files : body.databases));
  if (chosen.length === 0) {
    throw errors.validation([
      { path: 'body', message: 'Nothing to restore: the backup holds none of what was asked' },
    ]);
  }
  const into = await databaseTargets(platform, site, elsewhere, body.databaseTargets, chosen);
  const restoreId = platform.ids.next('rst').slice(4);
  const planSealed = await sealedRestorePlan(platform, server.hostKey, backup, chosen, (database) => {
    const target = into.get(database.id) as DatabaseItem;
    return { engine: target.engine, name: target.name };
  });
  let lockedBy: string | undefined;
  try {
    const { operation } = await runCommand(platform)(site.tenantId, site.serverId, requestId, {
      kind: backupOperationKinds['restore-site'],
      subject: { siteId: site.id, backupId: backup.id },
      parameters: {
        siteUser: site.systemUser,
        restoreId,
        planSealed,
        intoAnotherSite: elsewhere ? 'yes' : 'no',
      },
      alongside: (operationId) => {
        lockedBy = operationId;
        return [
          named(
            'lock',
            putNew({
              ...backupKeys.lock(site.tenantId, site.id),
              entity: 'backup-lock',
              backupId: backup.id,
              operationId,
            }),
          ),
        ];
      },
    });
    return operation;
  } catch (error) {
    if (refusedBy(error, 'lock')) {
      throw backupRunning();
    }
    // written, but its workflow did not start: nothing runs, so nothing may hold the site
    if (lockedBy && !(error instanceof TransactionFailedError)) {
      await ignoring(TransactionFailedError, () =>
        platform.store.transact([
          deleteItem(backupKeys.lock(site.tenantId, site.id), { equals: { operationId: lockedBy } }),
        ]),
      );
    }
    throw error;
  }
}

/**
 * Where each of the backup's chosen databases is restored: the targets given (databases of the
 * target site's server, each of the same engine), else in place each into itself, else into
 * another site its one database into the database linked to that site.
 */
async function databaseTargets(
  platform: Platform,
  site: SiteItem,
  elsewhere: boolean,
  given: { from: string; to: string }[] | undefined,
  chosen: readonly BackupObject[],
): Promise<Map<string, DatabaseItem>> {
  const held = chosen.flatMap((o) => (o.database ? [o.database] : []));
  const on = new Map<string, DatabaseItem>();
  for await (const database of databasesOf(platform.store, site.tenantId, site.serverId)) {
    if (database.status === 'active') on.set(database.id, database);
  }
  const into = new Map<string, DatabaseItem>();
  if (given) {
    const problems = given.flatMap(({ from, to }, i) => {
      const source = held.find((d) => d.id === from);
      const target = on.get(to);
      if (!source)
        return [{ path: `body.databaseTargets.${i}.from`, message: 'The backup holds no such database' }];
      if (!target) {
        return [
          { path: `body.databaseTargets.${i}.to`, message: "No such database on the target site's server" },
        ];
      }
      if (target.engine !== source.engine) {
        return [{ path: `body.databaseTargets.${i}.to`, message: `Not a ${source.engine} database` }];
      }
      if (into.has(from) || [...into.values()].some((d) => d.id === to)) {
        return [
          { path: `body.databaseTargets.${i}`, message: 'Each database is restored once, into one database' },
        ];
      }
      into.set(from, target);
      return [];
    });
    if (problems.length > 0) throw errors.validation(problems);
  }
  const missing = held.filter((d) => !into.has(d.id));
  if (missing.length === 0) return into;
  if (!elsewhere) {
    for (const database of missing) {
      const itself = on.get(database.id);
      if (!itself) {
        throw errors.conflict(
          `The database ${database.name} is no longer on the server; restore the files alone, or name a database to restore it into.`,
        );
      }
      into.set(database.id, itself);
    }
    return into;
  }
  const linked = [...on.values()].filter((d) => d.link?.siteId === site.id);
  const only = missing.length === 1 ? missing[0] : undefined;
  const target = linked.length === 1 ? linked[0] : undefined;
  if (!only || !target || target.engine !== only.engine || [...into.values()].includes(target)) {
    throw errors.validation([
      {
        path: 'body.databaseTargets',
        message: `Name the database on the target site's server each of the backup's databases (${missing
          .map((d) => `${d.name}, ${d.engine}`)
          .join('; ')}) is restored into, or give databases: false`,
      },
    ]);
  }
  into.set(only.id, target);
  return into;
}

/**
 * The restore document's plan, sealed to the host's key: a presigned GET per chosen object with
 * its compression and SHA-256, and for a dump the database it loads into (and the one it was
 * taken of).
 */
export async function sealedRestorePlan(
  platform: Platform,
  hostKey: string,
  backup: BackupItem,
  chosen: readonly BackupObject[],
  targetOf: (database: NonNullable<BackupObject['database']>) => { engine: string; name: string },
) {
  const storage = await storageFor(platform, backup.tenantId, backup.targetId);
  const lines: string[] = [
    ...(backup.encryption
      ? [`key ${(await tenantDataKey(platform, backup.tenantId)).toString('base64')}`]
      : []),
    ...storage.hostLines(),
  ];
  for (const object of chosen) {
    const manifest = backup.manifest?.objects.find((m) => m.name === object.name);
    if (!manifest) continue;
    const url = await storage.getUrl(object.key, HOST_URL_SECONDS);
    if (object.kind === 'files') {
      lines.push(`files ${manifest.compression} ${manifest.sha256} ${url}`);
    } else if (object.database) {
      const target = targetOf(object.database);
      lines.push(
        `database ${target.engine} ${target.name} ${object.database.name} ${manifest.compression} ${manifest.sha256} ${url}`,
      );
    }
  }
  return sealFor(hostKey, gzipSync(`${lines.join('\n')}\n`).toString('base64'));
}
