import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchUpload,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import SftpClient from 'ssh2-sftp-client';
import { kmsClient } from '../../layers/aws/kms';
import { s3Client } from '../../layers/aws/s3';
import { errors } from '../../layers/errors/app-error';
import {
  type BackupDataKeyItem,
  type BackupItem,
  type BackupObject,
  type BackupObjectManifest,
  type BackupTargetItem,
  backupKeys,
  backupObjectKey,
} from '../../layers/model/backups';
import { quotaBytes } from '../../layers/model/counters';
import {
  guardedHttpAgent,
  guardedHttpsAgent,
  pinnedAddress,
  type Reach,
  reachOf,
} from '../../layers/net/public-address';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';

const MiB = 1024 * 1024;

/**
 * The parts a host may send of one object, growing so that a small site's parts stay small (the
 * host holds one part at a time) and a large one still fits S3's 10,000: 40 of 16 MiB, 40 of
 * 64 MiB, 40 of 256 MiB (about 13 GiB in all).
 */
export const PART_PLAN = [
  { count: 40, bytes: 16 * MiB },
  { count: 40, bytes: 64 * MiB },
  { count: 40, bytes: 256 * MiB },
] as const;

/** The plan's `url N BYTES URL` line of every part of PART_PLAN, each with its URL. */
async function planLines(urlOf: (number: number) => Promise<string>) {
  const lines: string[] = [];
  let number = 0;
  for (const { count, bytes } of PART_PLAN) {
    for (let i = 0; i < count; i += 1) {
      number += 1;
      lines.push(`url ${number} ${bytes} ${await urlOf(number)}`);
    }
  }
  return lines;
}

/** How long the URLs the host is given stay valid: the longest a backup's command may run. */
export const HOST_URL_SECONDS = 6 * 3600;

/**
 * Where a backup's objects live: the platform's bucket, a customer's S3-compatible storage, or a
 * customer's SFTP server. The host reaches S3 through presigned URLs (no credentials on the host)
 * and an SFTP server with the account sealed into its plan, for the command's length only.
 */
export interface BackupStorage {
  /** the customer's storage; its backups are encrypted on the host */
  target?: BackupTargetItem;
  /** the object key of one of a backup's objects */
  keyOf(tenantId: string, siteId: string, backupId: string, name: string): string;
  /** begins an object: S3's multipart upload id ('' where there is none) */
  begin(key: string): Promise<string>;
  /** the plan's `url N BYTES URL` lines of an object's parts */
  partLines(object: BackupObject): Promise<string[]>;
  /** where the host writes the manifest, and where it fetches an object from */
  putUrl(key: string): Promise<string>;
  getUrl(key: string, seconds: number): Promise<string>;
  /** a link a customer's browser can use (SFTP has none) */
  downloadUrl(key: string, seconds: number): Promise<string | undefined>;
  /** what else the host needs to reach the storage (an SFTP account), as plan lines */
  hostLines(): string[];
  /** completes an object from the parts the host sent */
  complete(object: BackupObject, manifest: BackupObjectManifest): Promise<void>;
  readText(key: string): Promise<string>;
  /** the SHA-256 and length of bytes [start, end] of an object */
  hashRange(key: string, start: number, end: number): Promise<{ sha256: string; bytes: number }>;
  /** takes back an object, complete or not */
  discard(object: Pick<BackupObject, 'key' | 'uploadId'>): Promise<void>;
  /** checks the storage takes a write and a delete */
  probe(key: string): Promise<void>;
}

/** S3 or an S3-compatible store, through a client with the storage's own credentials. */
function s3Storage(
  client: S3Client,
  bucket: string,
  prefix: string,
  target?: BackupTargetItem,
): BackupStorage {
  return {
    ...(target ? { target } : {}),
    keyOf: (...args) => `${prefix}${backupObjectKey(...args)}`,
    async begin(key) {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      return UploadId as string;
    },
    partLines: (object) =>
      planLines((number) =>
        getSignedUrl(
          client,
          new UploadPartCommand({
            Bucket: bucket,
            Key: object.key,
            UploadId: object.uploadId,
            PartNumber: number,
          }),
          { expiresIn: HOST_URL_SECONDS },
        ),
      ),
    putUrl: (key) =>
      getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: HOST_URL_SECONDS,
      }),
    getUrl: (key, seconds) =>
      getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds }),
    downloadUrl: (key, seconds) =>
      getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds }),
    hostLines: () => [],
    async complete(object, manifest) {
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: object.key,
          UploadId: object.uploadId,
          MultipartUpload: {
            Parts: manifest.parts.map((p) => ({ PartNumber: p.number, ETag: `"${p.etag}"` })),
          },
        }),
      );
    },
    async readText(key) {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await Body?.transformToString()) ?? '';
    },
    async hashRange(key, start, end) {
      const { Body } = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}` }),
      );
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of Body as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return { sha256: hash.digest('hex'), bytes };
    },
    async discard(object) {
      if (object.uploadId) {
        try {
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: object.key, UploadId: object.uploadId }),
          );
        } catch (error) {
          if (!(error instanceof NoSuchUpload)) throw error;
        }
      }
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key }));
    },
    async probe(key) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'vip' }));
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

/** The SHA-256 of an SSH host key blob, base64 as OpenSSH and curl write it (`SHA256:…`, padded). */
export const hostKeyFingerprint = (key: Buffer) => createHash('sha256').update(key).digest('base64');

/**
 * An SFTP session to a customer's server that trusts only the host key recorded for it, to the
 * address its name resolves to now, checked against the runtime's reach (every session, so a
 * name that later resolves inside the platform's network is refused then).
 */
export async function withSftp<T>(
  server: { host: string; port: number; username: string; hostKeySha256?: string | undefined },
  password: string,
  reach: Reach,
  work: (sftp: SftpClient, hostKey: string) => Promise<T>,
): Promise<T> {
  const address = await pinnedAddress(server.host, reach);
  const sftp = new SftpClient();
  let seen = '';
  await sftp.connect({
    host: address,
    port: server.port,
    username: server.username,
    password,
    readyTimeout: 10_000,
    retries: 1,
    hostVerifier: (key: Buffer) => {
      seen = hostKeyFingerprint(key);
      return server.hostKeySha256 === undefined || seen === server.hostKeySha256;
    },
  } as SftpClient.ConnectOptions);
  try {
    return await work(sftp, seen);
  } finally {
    await sftp.end();
  }
}

/** A customer's SFTP server: objects are files under its folder, the host appends each part. */
function sftpStorage(
  target: BackupTargetItem & { type: 'sftp' },
  password: string,
  reach: Reach,
): BackupStorage {
  const session = <T>(work: (sftp: SftpClient) => Promise<T>) =>
    withSftp(target, password, reach, (sftp) => work(sftp));
  const pathOf = (key: string) => `${target.path.replace(/\/$/, '')}/${key}`;
  const urlOf = (key: string) =>
    `sftp://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${pathOf(key)}`;
  return {
    target,
    keyOf: (...args) => `${target.prefix}${backupObjectKey(...args)}`,
    begin: async () => '',
    // every part goes to the one file, appended in order
    partLines: (object) => planLines(async () => urlOf(object.key)),
    putUrl: async (key) => urlOf(key),
    getUrl: async (key) => urlOf(key),
    downloadUrl: async () => undefined,
    hostLines: () => [
      `sftp-user ${Buffer.from(target.username).toString('base64')}`,
      `sftp-password ${Buffer.from(password).toString('base64')}`,
      `sftp-hostkey ${target.hostKeySha256}`,
    ],
    complete: async () => {},
    readText: (key) => session(async (sftp) => String(await sftp.get(pathOf(key)))),
    hashRange: (key, start, end) =>
      session(async (sftp) => {
        const hash = createHash('sha256');
        let bytes = 0;
        const sink = new Writable({
          write(chunk: Buffer, _encoding, done) {
            hash.update(chunk);
            bytes += chunk.length;
            done();
          },
        });
        // ssh2 reads the range; the typings leave start and end out
        await sftp.get(pathOf(key), sink, {
          readStreamOptions: { start, end } as SftpClient.ReadStreamOptions,
        });
        return { sha256: hash.digest('hex'), bytes };
      }),
    discard: (object) =>
      session(async (sftp) => {
        await sftp.delete(pathOf(object.key), true);
      }),
    probe: (key) =>
      session(async (sftp) => {
        const path = pathOf(key);
        await sftp.mkdir(path.slice(0, path.lastIndexOf('/')) || '/', true);
        await sftp.put(Buffer.from('vip'), path);
        await sftp.delete(path);
      }),
  };
}

/**
 * The storage a customer's target describes, with its secret, reached only at addresses within
 * the runtime's reach.
 */
export function targetStorage(target: BackupTargetItem, secret: string, reach: Reach): BackupStorage {
  if (target.type === 'sftp') return sftpStorage(target, secret, reach);
  return s3Storage(targetClient(target, secret, reach), target.bucket, target.prefix, target);
}

/** An S3 client for a customer's storage, with its own credentials; every connection guarded. */
const targetClient = (
  target: { endpoint: string; region: string; forcePathStyle: boolean; accessKeyId: string },
  secretAccessKey: string,
  reach: Reach,
) =>
  new S3Client({
    requestHandler: new NodeHttpHandler({
      httpAgent: guardedHttpAgent(reach),
      httpsAgent: guardedHttpsAgent(reach),
    }),
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
  if (!targetId) return s3Storage(s3Client(), platform.config.BACKUPS_BUCKET, '');
  const target = await targetOf(platform, tenantId, targetId);
  const key = await tenantDataKey(platform, tenantId);
  return targetStorage(
    target,
    openSealed(key, target.secretSealed),
    reachOf(platform.config.BACKUP_TARGETS_LOCAL),
  );
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
