import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CompleteMultipartUploadCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../layers/aws/clients';
import {
  type BackupItem,
  type BackupObject,
  type BackupObjectManifest,
  type BackupPolicyItem,
  backupKeys,
} from '../../layers/model/backups';
import { quotaBytes } from '../../layers/model/counters';
import { tenantPartition } from '../../layers/model/keys';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import { deleteItem, updateItem } from '../../layers/store/writes';
import { discardObjects } from './objects';
import { retained } from './retention';

/** What a backup command's ending tells its record. */
export interface EndedBackupCommand {
  tenantId: string;
  operationId: string;
  siteId?: string;
  backupId?: string;
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

/**
 * Reads an object back from the bucket and compares it, part by part and whole, with what the
 * host sent: a backup nobody can read back is not one.
 */
export async function verifyObject(
  platform: Platform,
  manifest: BackupObjectManifest,
): Promise<string | undefined> {
  const { Body } = await s3Client().send(
    new GetObjectCommand({ Bucket: platform.config.BACKUPS_BUCKET, Key: manifest.key }),
  );
  const whole = createHash('sha256');
  let index = 0;
  let part = createHash('sha256');
  let left = manifest.parts[0]?.sizeBytes ?? 0;
  let read = 0;
  for await (const chunk of Body as Readable) {
    let data = chunk as Buffer;
    whole.update(data);
    read += data.length;
    while (data.length > 0 && index < manifest.parts.length) {
      const take = Math.min(left, data.length);
      part.update(data.subarray(0, take));
      data = data.subarray(take);
      left -= take;
      if (left === 0) {
        if (part.digest('hex') !== manifest.parts[index]?.sha256) {
          return `${manifest.name}: part ${index + 1} does not match what the host sent`;
        }
        index += 1;
        part = createHash('sha256');
        left = manifest.parts[index]?.sizeBytes ?? 0;
      }
    }
  }
  if (read !== manifest.sizeBytes)
    return `${manifest.name}: ${read} bytes in the bucket, ${manifest.sizeBytes} sent`;
  if (whole.digest('hex') !== manifest.sha256)
    return `${manifest.name}: the object does not match what the host sent`;
  return undefined;
}

/**
 * A backup follows its command's ending, once. Succeeded: each upload is completed from the
 * parts the host reported, read back and compared, and the backup keeps its manifest. Failed (or
 * not completable): every upload is aborted, what was completed is deleted and the record goes;
 * nothing half-made stays in the bucket or the list.
 */
export async function settleBackup(
  store: Store,
  ended: EndedBackupCommand,
  succeeded: boolean,
  ending: { output?: Record<string, unknown> | undefined; at: string; platform?: Platform },
) {
  if (!ended.backupId || !ended.siteId || !ending.platform) return;
  const platform = ending.platform;
  const ref = backupKeys.item(ended.tenantId, ended.siteId, ended.backupId);
  const backup = await store.get<BackupItem>(ref, true);
  if (backup?.status !== 'running' || backup.operationId !== ended.operationId) return;
  const release = deleteItem(backupKeys.lock(ended.tenantId, ended.siteId), {
    equals: { backupId: backup.id },
  });
  const stdout = typeof ending.output?.stdout === 'string' ? ending.output.stdout : '';
  try {
    if (!succeeded) throw new Error('The backup command failed on the host');
    const objects = parseManifest(stdout, backup.objects);
    for (const [i, manifest] of objects.entries()) {
      await s3Client().send(
        new CompleteMultipartUploadCommand({
          Bucket: platform.config.BACKUPS_BUCKET,
          Key: manifest.key,
          UploadId: backup.objects[i]?.uploadId,
          MultipartUpload: {
            Parts: manifest.parts.map((p) => ({ PartNumber: p.number, ETag: `"${p.etag}"` })),
          },
        }),
      );
    }
    const problems: string[] = [];
    for (const manifest of objects) {
      const problem = await verifyObject(platform, manifest);
      if (problem) problems.push(problem);
    }
    const sizeBytes = objects.reduce((sum, o) => sum + o.sizeBytes, 0);
    const durationMs = Number(/^timing: total (\d+)$/m.exec(stdout)?.[1] ?? 0);
    const verification = {
      status: problems.length === 0 ? ('verified' as const) : ('failed' as const),
      checkedAt: ending.at,
      ...(problems.length > 0 ? { detail: problems.join('; ') } : {}),
    };
    await store.transact([
      updateItem(
        ref,
        {
          set: {
            status: 'succeeded',
            manifest: { objects, sizeBytes, durationMs },
            verification,
            endedAt: ending.at,
          },
        },
        { equals: { operationId: ended.operationId } },
      ),
      release,
      // what it keeps in the bucket counts against the plan's backup storage
      quotaBytes(ended.tenantId, 'backupStorageBytes', sizeBytes),
    ]);
    if (problems.length > 0) {
      logger.error('A backup does not read back as it was sent', { backupId: backup.id, problems });
      metrics.addMetric('BackupVerificationFailed', 'Count', 1);
    }
  } catch (error) {
    await discardObjects(platform, backup.objects);
    await store.transact([deleteItem(ref, { equals: { operationId: ended.operationId } }), release]);
    logger.error('A backup failed; nothing of it was kept', {
      backupId: backup.id,
      siteId: backup.siteId,
      error: error instanceof Error ? error.message : String(error),
    });
    metrics.addMetric('BackupFailed', 'Count', 1);
    // a command that succeeded whose objects could not be completed fails its operation
    if (succeeded) throw error;
    return;
  }
  // only after a success: the site's older backups its policy no longer keeps go
  await prune(platform, backup.tenantId, backup.siteId, new Date(ending.at));
}

/** Deletes the site's finished backups its policy does not keep (objects first, then records). */
export async function prune(platform: Platform, tenantId: string, siteId: string, now: Date) {
  const policy = await platform.store.get<BackupPolicyItem>(backupKeys.policy(tenantId, siteId));
  const retention = policy?.retention;
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
  );
  for (const backup of finished.filter((b) => !keep.has(b.id))) {
    await discardObjects(platform, backup.objects);
    await platform.store.transact([
      deleteItem(backupKeys.item(tenantId, siteId, backup.id), { equals: { status: 'succeeded' } }),
      quotaBytes(tenantId, 'backupStorageBytes', -(backup.manifest?.sizeBytes ?? 0)),
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
