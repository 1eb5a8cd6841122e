import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { DeleteObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import {
  type BackupItem,
  type BackupPolicyItem,
  type BackupTargetItem,
  backupKeys,
} from '../../layers/model/backups';
import { tenantPartition } from '../../layers/model/keys';
import type { Platform } from '../../layers/runtime/platform';
import { putNew } from '../../layers/store/writes';
import type { targetBody } from './spec';
import { sealWith, targetClient, targetOf, tenantDataKey } from './storage';

/** Loopback, private, link-local, carrier-grade NAT and unspecified addresses (v4 and v6). */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
    if (mapped) return isPrivateAddress(mapped);
    return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
  }
  const [a = 0, b = 0] = address.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168)
  );
}

/**
 * Why the platform will not send backups to an endpoint, if it will not: only HTTPS, and only
 * public addresses (the Lambdas that reach it sit inside the platform's network), unless the
 * runtime is a local one, whose customers' storage is on this machine.
 */
export async function refusedEndpoint(endpoint: string, local: boolean): Promise<string | undefined> {
  const url = new URL(endpoint);
  if (local) return undefined;
  if (url.protocol !== 'https:') return 'Only https:// endpoints';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await lookup(host, { all: true }).then(
        (found) => found.map((a) => a.address),
        () => [],
      );
  if (addresses.length === 0) return 'The endpoint does not resolve';
  if (addresses.some(isPrivateAddress)) return 'The endpoint is not a public address';
  return undefined;
}

/** The field a storage's refusal points at. */
function refusal(error: unknown): { path: string; message: string } {
  const code = error instanceof S3ServiceException ? error.name : '';
  const said = error instanceof Error ? error.message : String(error);
  if (code === 'NoSuchBucket') return { path: 'body.bucket', message: 'The storage has no such bucket' };
  if (code === 'InvalidAccessKeyId')
    return { path: 'body.accessKeyId', message: 'The storage does not know this key' };
  if (code === 'SignatureDoesNotMatch') {
    return { path: 'body.secretAccessKey', message: 'The storage refused the secret key' };
  }
  if (code === 'AccessDenied') {
    return {
      path: 'body.accessKeyId',
      message: 'The key may not write to the bucket (s3:PutObject, s3:DeleteObject)',
    };
  }
  return { path: 'body.endpoint', message: `The storage could not be reached: ${said.slice(0, 200)}` };
}

/**
 * Adds a customer's storage: the endpoint checked, one small object written and deleted with
 * the credentials (a backup needs both), the secret sealed under the tenant's data key.
 */
export async function createTarget(platform: Platform, tenantId: string, body: z.output<typeof targetBody>) {
  const refused = await refusedEndpoint(body.endpoint, platform.config.BACKUP_TARGETS_LOCAL);
  if (refused) throw errors.validation([{ path: 'body.endpoint', message: refused }]);
  const client = targetClient(body, body.secretAccessKey);
  const probe = `${body.prefix}.vip-write-check`;
  try {
    await client.send(new PutObjectCommand({ Bucket: body.bucket, Key: probe, Body: 'vip' }));
    await client.send(new DeleteObjectCommand({ Bucket: body.bucket, Key: probe }));
  } catch (error) {
    throw errors.validation([refusal(error)]);
  }
  const id = platform.ids.next('btg');
  const target: BackupTargetItem = {
    ...backupKeys.target(tenantId, id),
    entity: 'backup-target',
    id,
    tenantId,
    name: body.name,
    type: body.type,
    endpoint: body.endpoint,
    region: body.region,
    bucket: body.bucket,
    prefix: body.prefix,
    forcePathStyle: body.forcePathStyle,
    accessKeyId: body.accessKeyId,
    secretSealed: sealWith(await tenantDataKey(platform, tenantId), body.secretAccessKey),
    createdAt: platform.clock.now().toISOString(),
  };
  await platform.store.transact([putNew(target)]);
  return target;
}

/** Forgets a customer's storage, once no policy sends backups there and no backup is kept there. */
export async function deleteTarget(platform: Platform, tenantId: string, targetId: string) {
  await targetOf(platform, tenantId, targetId);
  for (const [prefix, what] of [
    ['BACKUPPOLICY#', 'A backup policy sends backups to it'],
    ['BACKUP#', 'Backups are kept in it; delete them first'],
  ] as const) {
    for await (const page of platform.store.pages<BackupItem | BackupPolicyItem>({
      pk: tenantPartition(tenantId),
      skPrefix: prefix,
    })) {
      if (page.some((item) => item.targetId === targetId)) throw errors.conflict(`${what}.`);
    }
  }
  await platform.store.remove(backupKeys.target(tenantId, targetId));
}
