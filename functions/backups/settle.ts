import {
  type BackupItem,
  type BackupObject,
  type BackupObjectManifest,
  type BackupPolicyItem,
  backupKeys,
} from '../../layers/model/backups';
import { tenantPartition } from '../../layers/model/keys';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import { deleteItem, updateItem } from '../../layers/store/writes';
import { readUsage } from '../plans/quota';
import { discardObjects } from './objects';
import { retained } from './retention';
import { storageFor, storedBytes } from './storage';

/** What a backup command's ending tells its record. */
export interface EndedBackupCommand {
  tenantId: string;
  operationId: string;
  siteId?: string;
  backupId?: string;
  /** the backup, once verified, is also restored into scratch on its host */
  testRestore?: boolean;
}

/**
 * What the host printed of each planned object (`compression:`, `part:` and `object:` lines)
 * as manifests; an object it did not finish is an error.
 */
export function parseManifest(stdout: string, objects: readonly BackupObject[]): BackupObjectManifest[] {
  return objects.map((object) => {
    const parts = [...stdout.matchAll(/^part: (\S+) (\d+) (\d+) ([0-9a-f]{64}) ("?[0-9a-f-]+"?)$/gm)]
      .filter((m) => m[1] === object.name)
      .map((m) => ({
        number: Number(m[2]),
        sizeBytes: Number(m[3]),
        sha256: m[4] as string,
        etag: (m[5] as string).replace(/"/g, ''),
      }));
    const sha256 = new RegExp(`^object: ${object.name} ([0-9a-f]{64})$`, 'm').exec(stdout)?.[1];
    const compression = new RegExp(`^compression: ${object.name} (zstd|gzip|none)$`, 'm').exec(stdout)?.[1];
    if (parts.length === 0 || !sha256 || !compression) {
      throw new Error(`The host did not finish ${object.name}`);
    }
    return {
      name: object.name,
      key: object.key,
      sizeBytes: parts.reduce((sum, p) => sum + p.sizeBytes, 0),
      sha256,
      compression: compression as BackupObjectManifest['compression'],
      parts,
    };
  });
}

/** One part of a backup's objects, as the verification reads it back. */
export interface BackupPart {
  object: string;
  number: number;
}

/** The backup a workflow's step acts on, while it is still running under that workflow's operation. */
export async function runningBackup(store: Store, ended: EndedBackupCommand) {
  if (!ended.backupId || !ended.siteId) throw new Error('The command names no backup');
  const backup = await store.get<BackupItem>(
    backupKeys.item(ended.tenantId, ended.siteId, ended.backupId),
    true,
  );
  if (backup?.status !== 'running' || backup.operationId !== ended.operationId) {
    throw new Error(`The backup ${ended.backupId} is not running under ${ended.operationId}`);
  }
  return backup;
}

/**
 * The host finished streaming: each upload is completed from the parts it reported, and the
 * backup keeps the manifest; what follows reads each part back. An object the host did not
 * finish, or S3 refused to complete, fails the workflow (which discards the backup).
 */
export async function recordUploads(
  platform: Platform,
  ended: EndedBackupCommand,
  stdout: string,
): Promise<{ parts: BackupPart[] }> {
  const backup = await runningBackup(platform.store, ended);
  const storage = await storageFor(platform, backup.tenantId, backup.targetId);
  // what the host sent, from the manifest it wrote beside the objects (its output may be cut)
  const sent = backup.manifestKey ? await storage.readText(backup.manifestKey) : stdout;
  const objects = parseManifest(sent, backup.objects);
  for (const [i, manifest] of objects.entries()) {
    await storage.complete(backup.objects[i] as BackupObject, manifest);
  }
  const sizeBytes = objects.reduce((sum, o) => sum + o.sizeBytes, 0);
  const durationMs = Number(/^timing: total (\d+)$/m.exec(sent)?.[1] ?? 0);
  await platform.store.transact([
    updateItem(
      backupKeys.item(backup.tenantId, backup.siteId, backup.id),
      { set: { manifest: { objects, sizeBytes, durationMs } } },
      { equals: { operationId: ended.operationId } },
    ),
  ]);
  return { parts: objects.flatMap((o) => o.parts.map((p) => ({ object: o.name, number: p.number }))) };
}

/**
 * Reads one part back from its storage (a ranged read) and compares its size and SHA-256 with what
 * the host sent. Every part matching, in order and size, is the whole object the host hashed.
 */
export async function verifyPart(
  platform: Platform,
  ended: EndedBackupCommand,
  part: BackupPart,
): Promise<{ problem?: string }> {
  const backup = await runningBackup(platform.store, ended);
  const manifest = backup.manifest?.objects.find((o) => o.name === part.object);
  const index = manifest?.parts.findIndex((p) => p.number === part.number) ?? -1;
  const expected = manifest?.parts[index];
  if (!manifest || !expected) throw new Error(`No part ${part.number} of ${part.object} in the manifest`);
  const offset = manifest.parts.slice(0, index).reduce((sum, p) => sum + p.sizeBytes, 0);
  const storage = await storageFor(platform, backup.tenantId, backup.targetId);
  const { sha256, bytes: read } = await storage.hashRange(
    manifest.key,
    offset,
    offset + expected.sizeBytes - 1,
  );
  if (read !== expected.sizeBytes) {
    return {
      problem: `${part.object}: part ${part.number} is ${read} bytes in the storage, ${expected.sizeBytes} sent`,
    };
  }
  if (sha256 !== expected.sha256) {
    return { problem: `${part.object}: part ${part.number} does not match what the host sent` };
  }
  return {};
}

/** What reading every part back found, on the backup (still running until its operation ends). */
export async function recordVerification(
  platform: Platform,
  ended: EndedBackupCommand,
  parts: readonly { problem?: string }[],
) {
  const backup = await runningBackup(platform.store, ended);
  const problems = parts.flatMap((p) => (p.problem ? [p.problem] : []));
  await platform.store.transact([
    updateItem(
      backupKeys.item(backup.tenantId, backup.siteId, backup.id),
      {
        set: {
          verification: {
            status: problems.length === 0 ? 'verified' : 'failed',
            checkedAt: platform.clock.now().toISOString(),
            ...(problems.length > 0 ? { detail: problems.slice(0, 20).join('; ') } : {}),
          },
        },
      },
      { equals: { operationId: ended.operationId } },
    ),
  ]);
  if (problems.length > 0) {
    logger.error('A backup does not read back as it was sent', { backupId: backup.id, problems });
    metrics.addMetric('BackupVerificationFailed', 'Count', 1);
  }
  // a test restore, if one was asked for, proves only a backup that read back as it was sent
  return { testRestore: ended.testRestore === true && problems.length === 0 };
}

/**
 * A backup follows its workflow's ending, once. Succeeded (its uploads completed and read back by
 * the steps before): the backup is kept, counted against the plan's storage, and the site's
 * older backups its policy no longer keeps go. Failed anywhere: every upload is aborted, what
 * was completed is deleted and the record goes; nothing half-made stays in the bucket or the list.
 */
export async function settleBackup(
  store: Store,
  ended: EndedBackupCommand,
  succeeded: boolean,
  ending: { at: string; platform?: Platform },
) {
  if (!ended.backupId || !ended.siteId || !ending.platform) return;
  const platform = ending.platform;
  const ref = backupKeys.item(ended.tenantId, ended.siteId, ended.backupId);
  const backup = await store.get<BackupItem>(ref, true);
  if (backup?.status !== 'running' || backup.operationId !== ended.operationId) return;
  const release = deleteItem(backupKeys.lock(ended.tenantId, ended.siteId), {
    equals: { backupId: backup.id },
  });
  if (succeeded && backup.manifest && backup.verification) {
    await store.transact([
      updateItem(
        ref,
        { set: { status: 'succeeded', endedAt: ending.at } },
        { equals: { operationId: ended.operationId } },
      ),
      release,
      // what it keeps in the platform's bucket counts against the plan's backup storage
      ...storedBytes(backup, 1),
    ]);
    // only after a success: the site's older backups its policy no longer keeps go
    await prune(platform, backup, new Date(ending.at));
    return;
  }
  await discardObjects(
    await storageFor(platform, backup.tenantId, backup.targetId),
    backup.objects,
    backup.manifestKey,
  );
  await store.transact([deleteItem(ref, { equals: { operationId: ended.operationId } }), release]);
  logger.error('A backup failed; nothing of it was kept', { backupId: backup.id, siteId: backup.siteId });
  metrics.addMetric('BackupFailed', 'Count', 1);
  if (succeeded) throw new Error('The backup ended without its uploads completed and read back');
}

/**
 * Deletes the site's finished backups its policy does not keep (objects first, then records):
 * the site's own retention, else its server's, each capped by the plan's backupRetentionDays.
 */
export async function prune(
  platform: Platform,
  { tenantId, siteId, serverId }: Pick<BackupItem, 'tenantId' | 'siteId' | 'serverId'>,
  now: Date,
) {
  const own = await platform.store.get<BackupPolicyItem>(backupKeys.policy(tenantId, siteId));
  const maxDays = (await readUsage(platform.store, tenantId))?.quotas.backupRetentionDays.limit ?? null;
  // with no policy, the plan's limit alone decides what is kept
  const retention =
    own?.retention ??
    (await platform.store.get<BackupPolicyItem>(backupKeys.policy(tenantId, serverId)))?.retention ??
    (maxDays !== null ? { keepDays: maxDays } : undefined);
  if (!retention) return;
  const finished: BackupItem[] = [];
  for await (const page of platform.store.pages<BackupItem>({
    pk: tenantPartition(tenantId),
    skPrefix: backupKeys.prefix(siteId),
  })) {
    finished.push(...page.filter((b) => b.status === 'succeeded'));
  }
  const keep = retained(
    finished.map((b) => ({
      id: b.id,
      createdAt: b.createdAt,
      verified: b.verification?.status === 'verified',
    })),
    retention,
    now,
    maxDays,
  );
  for (const backup of finished.filter((b) => !keep.has(b.id))) {
    await discardObjects(
      await storageFor(platform, tenantId, backup.targetId),
      backup.objects,
      backup.manifestKey,
    );
    await platform.store.transact([
      deleteItem(backupKeys.item(tenantId, siteId, backup.id), { equals: { status: 'succeeded' } }),
      ...storedBytes(backup, -1),
    ]);
  }
}

/** A restore holds its site's backup lock until it ends, however it ended. */
export async function settleRestore(store: Store, ended: EndedBackupCommand) {
  if (!ended.siteId) return;
  await store.transact([
    deleteItem(backupKeys.lock(ended.tenantId, ended.siteId), { equals: { operationId: ended.operationId } }),
  ]);
}
