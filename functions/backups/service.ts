import { gzipSync } from 'node:zlib';
import type * as z from 'zod';
import { sealFor } from '../../layers/crypto/sealed';
import { AppError, errors } from '../../layers/errors/app-error';
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
import { readUsage } from '../plans/quota';
import { runCommand } from '../servers/runs';
import { noHostKey } from '../sites/change';
import { discardObjects } from './objects';
import { backupOperationKinds } from './operation-kinds';
import type { backUpBody, restoreBody } from './spec';
import { HOST_URL_SECONDS, storageFor, storedBytes, tenantDataKey } from './storage';

/** How long a download link stays valid. */
export const DOWNLOAD_SECONDS = 15 * 60;

const backupRunning = () =>
  errors.conflict('A backup or restore of this site is running; try again once it has ended.');

export async function backupOf(platform: Platform, tenantId: string, siteId: string, backupId: string) {
  const backup = await platform.store.get<BackupItem>(backupKeys.item(tenantId, siteId, backupId), true);
  if (!backup) throw errors.notFound('backup');
  return backup;
}

/** The databases a backup takes: those asked for, else those linked to the site. */
export async function databasesFor(platform: Platform, site: SiteItem, ids: string[] | undefined) {
  const all: DatabaseItem[] = [];
  for await (const database of databasesOf(platform.store, site.tenantId, site.serverId)) all.push(database);
  if (ids === undefined) return all.filter((d) => d.link?.siteId === site.id && d.status === 'active');
  const problems = ids.flatMap((id, i) => {
    const database = all.find((d) => d.id === id);
    return database?.status === 'active'
      ? []
      : [{ path: `body.databaseIds.${i}`, message: "No such database on the site's server" }];
  });
  if (problems.length > 0) throw errors.validation(problems);
  return ids.map((id) => all.find((d) => d.id === id) as DatabaseItem);
}

/**
 * Backs a site up now: its files and databases, each a multipart upload the host streams into
 * through presigned part URLs, as an operation on the site's server. One backup of a site at a
 * time (its lock is written with the operation).
 */
export async function backUpNow(
  platform: Platform,
  ref: { tenantId: string; siteId: string; requestId: string },
  body: z.output<typeof backUpBody>,
): Promise<{ backup: BackupItem; operation: OperationItem }> {
  const site = await siteOf(platform, ref.tenantId, ref.siteId);
  if (site.status === 'creating' || site.status === 'deleting') {
    throw errors.conflict(`The site is ${site.status}; back it up once it is active.`);
  }
  const server = await serverOf(platform, site.tenantId, site.serverId);
  if (!server.hostKey) throw noHostKey();
  // a running backup or restore answers before any upload is begun (the lock's write decides a race)
  if (await platform.store.get(backupKeys.lock(site.tenantId, site.id), true)) throw backupRunning();
  const storage = await storageFor(platform, site.tenantId, body.targetId).catch((error) => {
    if (error instanceof AppError && error.status === 404) {
      throw errors.validation([{ path: 'body.targetId', message: 'No such backup target of the tenant' }]);
    }
    throw error;
  });
  if (!storage.target) {
    // the plan's backup storage: a backup starts only while some is left (its size is known once made)
    const usage = await readUsage(platform.store, site.tenantId);
    const quota = usage?.quotas.backupStorageBytes;
    if (quota && quota.limit !== null && quota.used >= quota.limit) {
      throw errors.quotaExceeded('backupStorageBytes', quota.limit, quota.used);
    }
  }
  const databases = await databasesFor(platform, site, body.databaseIds);
  if (!body.files && databases.length === 0) {
    throw errors.validation([{ path: 'body', message: 'Nothing to back up: no files and no databases' }]);
  }
  const id = platform.ids.next('bkp');
  const names = [
    ...(body.files ? [{ name: 'files', kind: 'files' as const }] : []),
    ...databases.map((d) => ({ name: `database-${d.name}`, kind: 'database' as const, database: d })),
  ];
  const objects: BackupObject[] = [];
  for (const planned of names) {
    const key = storage.keyOf(site.tenantId, site.id, id, planned.name);
    // an upload that cannot begin takes back those begun before it
    const uploadId = await storage.begin(key).catch(async (error: unknown) => {
      await discardObjects(storage, objects);
      throw error;
    });
    objects.push({
      name: planned.name,
      kind: planned.kind,
      key,
      uploadId,
      ...(planned.kind === 'database'
        ? {
            database: {
              id: planned.database.id,
              engine: planned.database.engine,
              name: planned.database.name,
            },
          }
        : {}),
    });
  }
  // to a customer's storage, the host encrypts every object with the tenant's data key first
  const plan: string[] = [
    ...(storage.target ? [`key ${(await tenantDataKey(platform, site.tenantId)).toString('base64')}`] : []),
    ...storage.hostLines(),
  ];
  // the host writes what it sent beside the objects (its output is cut at 24,000 characters)
  const manifestKey = storage.keyOf(site.tenantId, site.id, id, 'manifest');
  plan.push(`manifest ${await storage.putUrl(manifestKey)}`);
  for (const object of objects) {
    plan.push(
      object.database
        ? `object ${object.name} database ${object.database.engine} ${object.database.name}`
        : `object ${object.name} files`,
    );
    plan.push(...(await storage.partLines(object)));
  }
  const planSealed = sealFor(server.hostKey, gzipSync(`${plan.join('\n')}\n`).toString('base64'));
  const now = platform.clock.now().toISOString();
  let backup: BackupItem | undefined;
  try {
    const { operation } = await runCommand(platform)(site.tenantId, site.serverId, ref.requestId, {
      kind: backupOperationKinds['backup-site'],
      subject: { siteId: site.id, backupId: id, ...(body.testRestore ? { testRestore: true } : {}) },
      parameters: { siteUser: site.systemUser, planSealed },
      alongside: (operationId) => {
        backup = {
          ...backupKeys.item(site.tenantId, site.id, id),
          entity: 'backup',
          id,
          tenantId: site.tenantId,
          siteId: site.id,
          serverId: site.serverId,
          status: 'running',
          objects,
          manifestKey,
          ...(storage.target ? { targetId: storage.target.id, encryption: 'aes-256-gcm' as const } : {}),
          operationId,
          createdAt: now,
        };
        return [
          putNew(backup),
          named(
            'lock',
            putNew({
              ...backupKeys.lock(site.tenantId, site.id),
              entity: 'backup-lock',
              backupId: id,
              operationId,
            }),
          ),
        ];
      },
    });
    return { backup: backup as BackupItem, operation };
  } catch (error) {
    await discardObjects(storage, objects, manifestKey);
    if (refusedBy(error, 'lock')) {
      throw backupRunning();
    }
    // written, but its workflow did not start: nothing runs, so nothing may hold the site
    if (backup && !(error instanceof TransactionFailedError)) {
      await ignoring(TransactionFailedError, () =>
        platform.store.transact([
          deleteItem(backupKeys.item(site.tenantId, site.id, id), {
            equals: { operationId: backup?.operationId },
          }),
          deleteItem(backupKeys.lock(site.tenantId, site.id), {
            equals: { operationId: backup?.operationId },
          }),
        ]),
      );
    }
    throw error;
  }
}

/** Short-lived links to download each of a backup's objects. */
export async function downloadLinks(platform: Platform, backup: BackupItem) {
  if (backup.status !== 'succeeded' || !backup.manifest) {
    throw errors.conflict('The backup has not finished; its objects are not complete yet.');
  }
  const expiresAt = new Date(platform.clock.now().getTime() + DOWNLOAD_SECONDS * 1000).toISOString();
  const storage = await storageFor(platform, backup.tenantId, backup.targetId);
  const links = [];
  for (const object of backup.manifest.objects) {
    const url = await storage.downloadUrl(object.key, DOWNLOAD_SECONDS);
    if (!url) {
      throw errors.conflict("The backup is on the tenant's SFTP server; download it from there.");
    }
    links.push({
      name: object.name,
      sizeBytes: object.sizeBytes,
      sha256: object.sha256,
      compression: object.compression,
      url,
      expiresAt,
      encryption: backup.encryption ?? null,
    });
  }
  return links;
}

/** Deletes a finished backup: its objects, then its record. */
export async function deleteBackup(platform: Platform, backup: BackupItem) {
  if (backup.status === 'running') {
    throw errors.conflict('The backup is running; delete it once it has ended.');
  }
  await discardObjects(
    await storageFor(platform, backup.tenantId, backup.targetId),
    backup.objects,
    backup.manifestKey,
  );
  await platform.store.transact([
    deleteItem(backupKeys.item(backup.tenantId, backup.siteId, backup.id), {
      equals: { status: 'succeeded' },
    }),
    ...storedBytes(backup, -1),
  ]);
}

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
