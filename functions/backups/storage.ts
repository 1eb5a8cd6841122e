import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { kmsClient, s3Client } from '../../layers/aws/clients';
import { errors } from '../../layers/errors/app-error';
import {
  type BackupDataKeyItem,
  type BackupItem,
  type BackupTargetItem,
  backupKeys,
  backupObjectKey,
} from '../../layers/model/backups';
import { quotaBytes } from '../../layers/model/counters';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';

/** Where a backup's objects live: the platform's bucket, or a customer's own storage. */
export interface BackupStorage {
  client: S3Client;
  bucket: string;
  /** the object key of one of a backup's objects */
  keyOf: (tenantId: string, siteId: string, backupId: string, name: string) => string;
  /** the customer's storage; its backups are encrypted on the host */
  target?: BackupTargetItem;
}

const platformStorage = (platform: Platform): BackupStorage => ({
  client: s3Client(),
  bucket: platform.config.BACKUPS_BUCKET,
  keyOf: backupObjectKey,
});

/** An S3 client for a customer's storage, with its own credentials. */
export const targetClient = (
  target: Pick<BackupTargetItem, 'endpoint' | 'region' | 'forcePathStyle' | 'accessKeyId'>,
  secretAccessKey: string,
) =>
  new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle,
    credentials: { accessKeyId: target.accessKeyId, secretAccessKey },
    maxAttempts: 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

export async function targetOf(platform: Platform, tenantId: string, targetId: string) {
  const target = await platform.store.get<BackupTargetItem>(backupKeys.target(tenantId, targetId), true);
  if (!target) throw errors.notFound('backup target');
  return target;
}

/** A backup's storage, or the storage a new backup goes to. */
export async function storageFor(
  platform: Platform,
  tenantId: string,
  targetId: string | undefined,
): Promise<BackupStorage> {
  if (!targetId) return platformStorage(platform);
  const target = await targetOf(platform, tenantId, targetId);
  const key = await tenantDataKey(platform, tenantId);
  return {
    client: targetClient(target, openSealed(key, target.secretSealed)),
    bucket: target.bucket,
    keyOf: (...args) => `${target.prefix}${backupObjectKey(...args)}`,
    target,
  };
}

/**
 * The tenant's backup data key: made once by KMS (GenerateDataKey under the platform's key,
 * bound to the tenant by its encryption context), kept only as KMS's ciphertext, opened by a
 * Decrypt when a backup or restore needs it. A race to make it keeps the first.
 */
export async function tenantDataKey(platform: Platform, tenantId: string): Promise<Buffer> {
  const keyId = platform.config.BACKUP_KEY_ID;
  if (!keyId) throw new Error('BACKUP_KEY_ID is not configured');
  const context = { tenantId, purpose: 'backups' };
  const ref = backupKeys.dataKey(tenantId);
  const kept = await platform.store.get<BackupDataKeyItem>(ref, true);
  if (kept) {
    const { Plaintext } = await kmsClient().send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(kept.ciphertext, 'base64'),
        KeyId: kept.keyId,
        EncryptionContext: context,
      }),
    );
    return Buffer.from(Plaintext as Uint8Array);
  }
  const made = await kmsClient().send(
    new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
  );
  try {
    await platform.store.putIfVersion<BackupDataKeyItem>(
      {
        ...ref,
        entity: 'backup-data-key',
        tenantId,
        keyId,
        ciphertext: Buffer.from(made.CiphertextBlob as Uint8Array).toString('base64'),
        createdAt: platform.clock.now().toISOString(),
      },
      undefined,
    );
  } catch (error) {
    if (error instanceof ConditionFailedError) return tenantDataKey(platform, tenantId);
    throw error;
  }
  return Buffer.from(made.Plaintext as Uint8Array);
}

/** A secret sealed under a data key: AES-256-GCM, `iv.tag.ciphertext` in base64url. */
export function sealWith(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

export function openSealed(key: Buffer, sealed: string): string {
  const [iv = '', tag = '', body = ''] = sealed.split('.');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

/** What a backup keeps counts against the plan's backup storage, in the platform's bucket only. */
export const storedBytes = (backup: BackupItem, sign: 1 | -1) =>
  backup.targetId
    ? []
    : [quotaBytes(backup.tenantId, 'backupStorageBytes', sign * (backup.manifest?.sizeBytes ?? 0))];
