import * as z from 'zod';
import { testRestoreFrequencies } from '../../layers/model/backups';
import { operationSchema } from '../operations/spec';
import { isoTimestamp, pageQuery, prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';
import { isCronExpression } from '../sites/fields';

export const siteBackupsParams = tenantParams.extend({ siteId: prefixedId('ste') });
export const backupParams = siteBackupsParams.extend({ backupId: prefixedId('bkp') });

export const backUpBody = z
  .strictObject({
    files: z.boolean().default(true).meta({ description: "The site's files (its home, caches left out)" }),
    databaseIds: z
      .array(prefixedId('dbs'))
      .max(20)
      .refine((ids) => new Set(ids).size === ids.length, 'Each database once')
      .optional()
      .meta({
        description: "Databases on the site's server to dump with it; default: those linked to the site",
      }),
    targetId: prefixedId('btg').optional().meta({
      description:
        "The tenant's own storage to send it to (encrypted on the host first); default: the platform's bucket",
    }),
    testRestore: z.boolean().default(false).meta({
      description:
        'Once it is verified, also restore it into scratch on its host (files unpacked, each dump loaded into a scratch database) to prove it; the site does not change',
    }),
  })
  .default({ files: true, testRestore: false });

/** What the API tells of each object of a backup. */
const objectFields = {
  name: z.string(),
  sizeBytes: z.number().int(),
  sha256: z.string(),
  compression: z.enum(['zstd', 'gzip', 'none']),
};

export const backupSchema = z
  .object({
    id: z.string(),
    siteId: z.string(),
    serverId: z.string(),
    status: z.enum(['running', 'succeeded']),
    includes: z.object({
      files: z.boolean(),
      databases: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
    sizeBytes: z.number().int().nullable(),
    durationMs: z.number().int().nullable(),
    objects: z.array(
      z.object({
        ...objectFields,
        parts: z.number().int(),
      }),
    ),
    verification: z
      .object({
        status: z.enum(['verified', 'failed']),
        checkedAt: isoTimestamp,
        detail: z.string().optional(),
      })
      .nullable()
      .meta({
        description: "The bucket's copy read back and compared, part by part, with what the host sent",
      }),
    targetId: z
      .string()
      .nullable()
      .meta({ description: "The tenant's storage it is in; null: the platform's bucket" }),
    encryption: z
      .enum(['aes-256-gcm'])
      .nullable()
      .meta({ description: 'Encrypted on the host before it left, in chunks under the tenant data key' }),
    testRestore: z
      .object({
        status: z.enum(['passed', 'failed']),
        at: isoTimestamp,
        files: z.number().int().optional().meta({ description: 'Entries the files unpacked to' }),
        databases: z
          .array(z.object({ name: z.string(), tables: z.number().int() }))
          .optional()
          .meta({ description: 'Tables each dump loaded into its scratch database' }),
        detail: z.string().optional(),
      })
      .nullable()
      .meta({
        description: 'The backup restored into scratch on its host, if it was; the site did not change',
      }),
    operationId: z.string(),
    createdAt: isoTimestamp,
    endedAt: isoTimestamp.nullable(),
  })
  .meta({ id: 'Backup' });

export const downloadSchema = z.object({
  objects: z.array(
    z.object({
      ...objectFields,
      url: z.string().meta({ description: 'A presigned GET, valid 15 minutes' }),
      encryption: z.enum(['aes-256-gcm']).nullable(),
      expiresAt: isoTimestamp,
    }),
  ),
});

export const retentionSchema = z
  .strictObject({
    keepLast: z.number().int().min(1).max(1000).optional().meta({ description: 'The newest N' }),
    keepDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .meta({ description: 'Every backup younger than N days' }),
    gfs: z
      .strictObject({
        daily: z.number().int().min(0).max(366),
        weekly: z.number().int().min(0).max(520),
        monthly: z.number().int().min(0).max(240),
      })
      .optional()
      .meta({ description: 'The newest backup of each of the last N days, ISO weeks and months (UTC)' }),
  })
  .refine((r) => r.keepLast !== undefined || r.keepDays !== undefined || r.gfs !== undefined, {
    message: 'Give keepLast, keepDays, gfs or several',
  })
  .meta({
    description:
      'Rules add up: a backup any rule keeps stays; the newest verified backup always stays. Pruned after each successful backup.',
  });

export const scheduleSchema = z
  .union([
    z.enum(['hourly', 'daily', 'weekly']),
    z.strictObject({ cron: z.string().max(100).refine(isCronExpression, 'Five cron fields, UTC') }),
  ])
  .meta({
    description:
      "hourly, daily or weekly (at a minute, hour and weekday of the site's own, 01:00-05:59 UTC), or a cron expression (UTC) at most every 15 minutes",
  });

const policyFields = {
  retention: retentionSchema.optional(),
  targetId: prefixedId('btg').optional().meta({
    description: "The tenant's own storage its backups go to; default: the platform's bucket",
  }),
  schedule: scheduleSchema.optional(),
  files: z.boolean().default(true),
  testRestore: z.enum(testRestoreFrequencies).default('weekly').meta({
    description:
      'How often a scheduled backup is also restored into scratch on its host to prove it (the first scheduled backup after the interval)',
  }),
};
const givesSomething = {
  check: (body: { retention?: unknown; schedule?: unknown }) =>
    body.retention !== undefined || body.schedule !== undefined,
  message: 'Give a schedule, a retention or both',
};

export const policyBody = z
  .strictObject({
    ...policyFields,
    databaseIds: z.array(prefixedId('dbs')).max(20).optional().meta({
      description:
        'Databases to dump with each scheduled backup; default: those linked to the site when it runs',
    }),
  })
  .refine(givesSomething.check, { message: givesSomething.message });

/** A server's policy: every one of its sites without a schedule of its own, each with its linked databases. */
export const serverPolicyBody = z
  .strictObject(policyFields)
  .refine(givesSomething.check, { message: givesSomething.message });

export const serverPolicyParams = tenantParams.extend({ serverId: prefixedId('srv') });

export const policySchema = z
  .object({
    siteId: z.string().nullable().meta({ description: "The site it is of (null on a server's policy)" }),
    serverId: z
      .string()
      .nullable()
      .meta({ description: 'The server it is of: every one of its sites without a schedule of its own' }),
    retention: retentionSchema.nullable(),
    schedule: z.object({ cron: z.string(), frequency: z.string().nullable() }).nullable(),
    files: z.boolean(),
    databaseIds: z.array(z.string()).nullable(),
    targetId: z.string().nullable(),
    testRestore: z.enum(testRestoreFrequencies),
    lastTestRestoreAt: isoTimestamp.nullable(),
    nextRunAt: isoTimestamp.nullable(),
    lastRunAt: isoTimestamp.nullable(),
    updatedAt: isoTimestamp,
  })
  .meta({ id: 'BackupPolicy' });

export const restoreBody = z
  .strictObject({
    files: z.boolean().default(true).meta({ description: "The site's files, as the backup holds them" }),
    databases: z.boolean().default(true).meta({ description: 'Its databases, as the backup holds them' }),
    targetSiteId: prefixedId('ste')
      .optional()
      .meta({ description: "Another of the tenant's sites (on any server) to restore into" }),
    databaseTargets: z
      .array(
        z.strictObject({
          from: prefixedId('dbs').meta({ description: 'A database the backup holds' }),
          to: prefixedId('dbs').meta({
            description: "The database on the target site's server it is restored into (same engine)",
          }),
        }),
      )
      .min(1)
      .max(20)
      .optional()
      .meta({
        description:
          "Where each of the backup's databases goes. Default: in place, each into itself; into another site, the backup's one database into the database linked to that site.",
      }),
  })
  .default({ files: true, databases: true });

export const listQuery = z.strictObject({ ...pageQuery });
export const accepted = backupSchema.extend({ operation: operationSchema });
export const problems = { ...tenantRouteProblems('site or backup') };

export const targetParams = tenantParams.extend({ targetId: prefixedId('btg') });

const targetCommon = {
  name: z.string().trim().min(1).max(64),
  prefix: z
    .string()
    .max(200)
    .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, "Folders ending in '/', e.g. vip/backups/")
    .default(''),
};

const s3TargetBody = z.strictObject({
  ...targetCommon,
  type: z.literal('s3').meta({ description: 'S3-compatible storage (AWS S3, MinIO, R2, B2, Wasabi…)' }),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .max(300)
    .meta({ description: 'The storage API, https://…' }),
  region: z
    .string()
    .regex(/^[a-z0-9-]{2,32}$/)
    .default('us-east-1'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'An S3 bucket name: 3-63 of a-z, 0-9, dot and hyphen'),
  forcePathStyle: z
    .boolean()
    .default(true)
    .meta({ description: 'Address the bucket in the path (most S3-compatible stores want it)' }),
  accessKeyId: z
    .string()
    .min(3)
    .max(128)
    .regex(/^[\x21-\x7e]+$/),
  secretAccessKey: z
    .string()
    .min(8)
    .max(256)
    .regex(/^[\x21-\x7e]+$/)
    .meta({ description: 'Kept sealed; never answered back' }),
});

const sftpTargetBody = z.strictObject({
  ...targetCommon,
  type: z.literal('sftp').meta({ description: 'An SFTP server (a storage box, a NAS, another machine)' }),
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.:-]+$/, 'A host name or an IP address'),
  port: z.number().int().min(1).max(65535).default(22),
  username: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/),
  password: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[^\n\r\0]+$/, 'One line')
    .meta({ description: 'Kept sealed; never answered back' }),
  path: z
    .string()
    .max(300)
    .regex(/^\/([A-Za-z0-9._~-]+\/?)*$/, 'An absolute folder, e.g. /home/backup/vip'),
  hostKeySha256: z
    .string()
    .regex(
      /^[A-Za-z0-9+/]{43}=$/,
      "The server's host key as `ssh-keygen -lf` gives it (SHA256:…), without SHA256:",
    )
    .optional()
    .meta({ description: 'The host key to trust; default: the one the server shows when it is added' }),
});

/** A target: S3-compatible (the default type) or SFTP. */
export const targetBody = z.preprocess(
  (value) =>
    value && typeof value === 'object' && !Array.isArray(value) && !('type' in value)
      ? { ...value, type: 's3' }
      : value,
  z.discriminatedUnion('type', [s3TargetBody, sftpTargetBody]),
);

export const targetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(['s3', 'sftp']),
    prefix: z.string(),
    endpoint: z.string().optional(),
    region: z.string().optional(),
    bucket: z.string().optional(),
    forcePathStyle: z.boolean().optional(),
    accessKeyId: z.string().optional(),
    host: z.string().optional(),
    port: z.number().int().optional(),
    username: z.string().optional(),
    path: z.string().optional(),
    hostKeySha256: z.string().optional().meta({ description: 'The only host key trusted (SHA-256, base64)' }),
    createdAt: isoTimestamp,
  })
  .meta({ id: 'BackupTarget' });

export const dataKeySchema = z
  .object({
    algorithm: z.literal('aes-256-gcm'),
    format: z.literal('VIPGCM1').meta({
      description:
        "1 MiB chunks, each nonce the header's 7-byte prefix, the chunk index and a last-chunk flag; open with `npm run open-backup`",
    }),
    key: z.string().meta({ description: 'The 256-bit key, base64' }),
    createdAt: isoTimestamp,
  })
  .meta({ id: 'BackupDataKey' });
