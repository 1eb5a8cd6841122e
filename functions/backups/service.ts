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
import type { backUpBody } from './spec';
import { storageFor, storedBytes, tenantDataKey } from './storage';

/** How long a download link stays valid. */
export const DOWNLOAD_SECONDS = 15 * 60;

export const backupRunning = () =>
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
