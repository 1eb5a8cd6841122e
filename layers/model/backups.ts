import type { StoredItem } from '../store/store';
import type { DatabaseEngineName } from './databases';
import { tenantPartition } from './keys';

/**
 * One object of a backup in the bucket, as planned before the host streams it: the site's files
 * (a compressed tar of its home) or one database's dump, each its own multipart upload.
 */
export interface BackupObject {
  name: string;
  kind: 'files' | 'database';
  key: string;
  uploadId: string;
  database?: { id: string; engine: DatabaseEngineName; name: string };
}

/** What the host sent and the bucket holds of one object, part by part. */
export interface BackupObjectManifest {
  name: string;
  key: string;
  sizeBytes: number;
  sha256: string;
  compression: 'zstd' | 'gzip' | 'none';
  parts: { number: number; sizeBytes: number; sha256: string; etag: string }[];
}

/** How often a scheduled backup also proves itself by a test restore into scratch on its host. */
export const testRestoreFrequencies = ['off', 'daily', 'weekly', 'monthly'] as const;
export type TestRestoreFrequency = (typeof testRestoreFrequencies)[number];

/** What a test restore of a backup found: the files it unpacked, the tables each dump loaded. */
export interface BackupTestRestore {
  status: 'passed' | 'failed';
  at: string;
  files?: number;
  databases?: { name: string; tables: number }[];
  detail?: string;
}

/**
 * A backup policy, of a site or of a server: when it is backed up (a cron expression, UTC) and
 * what with, and which of its backups are kept (functions/backups/retention.ts). A server's
 * policy is every one of its sites' that has no schedule of its own. A scheduled policy is in
 * the schedule index by its next run, which the schedule sweep reads.
 */
export interface BackupPolicyItem extends StoredItem {
  entity: 'backup-policy';
  tenantId: string;
  /** the site it is of; absent on a server's */
  siteId?: string;
  /** the server it is of; absent on a site's */
  serverId?: string;
  retention?: {
    keepLast?: number;
    keepDays?: number;
    gfs?: { daily: number; weekly: number; monthly: number };
  };
  schedule?: { cron: string; frequency?: 'hourly' | 'daily' | 'weekly' };
  files: boolean;
  databaseIds?: string[];
  /** the customer's storage its backups go to; the platform's bucket when absent */
  targetId?: string;
  /** how often a scheduled backup is also test-restored (default weekly) */
  testRestore?: TestRestoreFrequency;
  lastTestRestoreAt?: string;
  nextRunAt?: string;
  lastRunAt?: string;
  updatedAt: string;
}

/** Scheduled policies by their next run, across tenants, in gsi1: one Query finds those due. */
export const backupScheduleIndex = {
  partition: 'BACKUPDUE',
  keys: (nextRunAt: string, tenantId: string, siteOrServerId: string) => ({
    gsi1pk: 'BACKUPDUE',
    gsi1sk: `${nextRunAt}#${tenantId}#${siteOrServerId}`,
  }),
  /** the sort keys of every policy due at `at` (ISO timestamps sort as they read) */
  until: (at: string): [string, string] => ['0', `${at}#~`],
};

export const backupStatuses = ['running', 'succeeded'] as const;

/**
 * A backup of a site. `running` while its host streams it; `succeeded` once every object is
 * complete in the bucket. One that fails leaves nothing: its uploads are aborted and its record
 * goes (the operation tells what happened).
 */
export interface BackupItem extends StoredItem {
  entity: 'backup';
  id: string;
  tenantId: string;
  siteId: string;
  serverId: string;
  status: (typeof backupStatuses)[number];
  objects: BackupObject[];
  manifest?: { objects: BackupObjectManifest[]; sizeBytes: number; durationMs: number };
  /** the bucket's copy read back and compared, part by part, with what the host sent */
  verification?: { status: 'verified' | 'failed'; checkedAt: string; detail?: string };
  /** the backup restored into scratch on its host: the files unpacked, each dump loaded, counted */
  testRestore?: BackupTestRestore;
  /** the object the host writes beside the others: each part's size, SHA-256 and ETag */
  manifestKey?: string;
  /** the customer's storage it went to (functions/backups/storage.ts); the platform's bucket when absent */
  targetId?: string;
  /** encrypted on the host before it left (customers' storage): AES-256-GCM in chunks under the tenant's data key */
  encryption?: 'aes-256-gcm';
  operationId: string;
  createdAt: string;
  endedAt?: string;
}

interface BackupTargetBase extends StoredItem {
  entity: 'backup-target';
  id: string;
  tenantId: string;
  name: string;
  /** every object's key starts with it ('' or ending in '/') */
  prefix: string;
  /** the secret (S3's secret key, SFTP's password), sealed under the tenant's backup data key */
  secretSealed: string;
  createdAt: string;
}

/**
 * A customer's own storage for backups: S3-compatible, or an SFTP server. Its secret is kept
 * sealed under the tenant's backup data key (never in the clear, never answered back).
 */
export type BackupTargetItem =
  | (BackupTargetBase & {
      type: 's3';
      endpoint: string;
      region: string;
      bucket: string;
      forcePathStyle: boolean;
      accessKeyId: string;
    })
  | (BackupTargetBase & {
      type: 'sftp';
      host: string;
      port: number;
      username: string;
      /** the absolute folder backups go under */
      path: string;
      /** the server's host key (SHA-256, base64), as first seen or as given: no other is trusted */
      hostKeySha256: string;
    });

/** A tenant's backup data key, as KMS encrypted it under the platform's key (bound to the tenant). */
export interface BackupDataKeyItem extends StoredItem {
  entity: 'backup-data-key';
  tenantId: string;
  keyId: string;
  ciphertext: string;
  createdAt: string;
}

export const toBackupTarget = (item: BackupTargetItem) => ({
  id: item.id,
  name: item.name,
  type: item.type,
  prefix: item.prefix,
  ...(item.type === 's3'
    ? {
        endpoint: item.endpoint,
        region: item.region,
        bucket: item.bucket,
        forcePathStyle: item.forcePathStyle,
        accessKeyId: item.accessKeyId,
      }
    : {
        host: item.host,
        port: item.port,
        username: item.username,
        path: item.path,
        hostKeySha256: item.hostKeySha256,
      }),
  createdAt: item.createdAt,
});

/** A site's backups sort by id (ULIDs: oldest first) under the site; one runs at a time, held by its lock. */
export const backupKeys = {
  item: (tenantId: string, siteId: string, backupId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `BACKUP#${siteId}#${backupId}`,
  }),
  prefix: (siteId: string) => `BACKUP#${siteId}#`,
  /** a site's or a server's backup policy (their ids' prefixes keep them apart) */
  policy: (tenantId: string, siteOrServerId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `BACKUPPOLICY#${siteOrServerId}`,
  }),
  /** a customer's storage for backups */
  target: (tenantId: string, targetId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `BACKUPTARGET#${targetId}`,
  }),
  targetPrefix: 'BACKUPTARGET#',
  /** the tenant's backup data key (one per tenant) */
  dataKey: (tenantId: string) => ({ pk: tenantPartition(tenantId), sk: 'BACKUPDATAKEY' }),
  /** held while a backup of the site runs, so backups of one site are serialised */
  lock: (tenantId: string, siteId: string) => ({ pk: tenantPartition(tenantId), sk: `BACKUPLOCK#${siteId}` }),
};

/** Where a backup's objects live in the bucket: by tenant, site and backup. */
export const backupObjectKey = (tenantId: string, siteId: string, backupId: string, name: string) =>
  `tenants/${tenantId}/sites/${siteId}/backups/${backupId}/${name}`;

export const toBackup = (item: BackupItem) => ({
  id: item.id,
  siteId: item.siteId,
  serverId: item.serverId,
  status: item.status,
  includes: {
    files: item.objects.some((o) => o.kind === 'files'),
    databases: item.objects.flatMap((o) =>
      o.database ? [{ id: o.database.id, name: o.database.name }] : [],
    ),
  },
  sizeBytes: item.manifest?.sizeBytes ?? null,
  durationMs: item.manifest?.durationMs ?? null,
  objects:
    item.manifest?.objects.map((o) => ({
      name: o.name,
      sizeBytes: o.sizeBytes,
      sha256: o.sha256,
      compression: o.compression,
      parts: o.parts.length,
    })) ?? [],
  verification: item.verification ?? null,
  testRestore: item.testRestore ?? null,
  targetId: item.targetId ?? null,
  encryption: item.encryption ?? null,
  operationId: item.operationId,
  createdAt: item.createdAt,
  endedAt: item.endedAt ?? null,
});
