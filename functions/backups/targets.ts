import { S3ServiceException } from '@aws-sdk/client-s3';
import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import {
  type BackupItem,
  type BackupPolicyItem,
  type BackupTargetItem,
  backupKeys,
} from '../../layers/model/backups';
import { tenantPartition } from '../../layers/model/keys';
import { reachOf, refusedEndpoint } from '../../layers/net/public-address';
import { logger } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { putNew } from '../../layers/store/writes';
import type { targetBody } from './spec';
import { sealWith, targetOf, targetStorage, tenantDataKey, withSftp } from './storage';

/** A connection the guard refused as it was made (the name resolves elsewhere now). */
const refusedByGuard = (error: unknown) =>
  (error as { code?: string } | undefined)?.code === 'EREFUSEDADDRESS';

/**
 * The field a storage's refusal points at. What the connection itself said is logged, never
 * answered: the answer would tell a caller what listens at an address (a port scanner).
 */
function refusal(error: unknown): { path: string; message: string } {
  const code = error instanceof S3ServiceException ? error.name : '';
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
  logger.info('Backup storage unreachable', {
    error: error instanceof Error ? error.message : String(error),
  });
  if (refusedByGuard(error))
    return { path: 'body.endpoint', message: 'The endpoint is not an allowed address' };
  return { path: 'body.endpoint', message: 'The storage could not be reached' };
}

/**
 * Adds a customer's storage: the address checked, one small object written and deleted with
 * the credentials (a backup needs both), the secret sealed under the tenant's data key. An SFTP
 * server's host key is recorded as first seen (or as given), and no other is trusted after.
 */
export async function createTarget(platform: Platform, tenantId: string, body: z.output<typeof targetBody>) {
  const local = platform.config.BACKUP_TARGETS_LOCAL;
  const refused =
    body.type === 's3'
      ? await refusedEndpoint(body.endpoint, local)
      : await refusedEndpoint(`https://${body.host.includes(':') ? `[${body.host}]` : body.host}`, local);
  if (refused) {
    throw errors.validation([{ path: body.type === 's3' ? 'body.endpoint' : 'body.host', message: refused }]);
  }
  const reach = reachOf(local);
  const id = platform.ids.next('btg');
  const common = {
    ...backupKeys.target(tenantId, id),
    entity: 'backup-target' as const,
    id,
    tenantId,
    name: body.name,
    prefix: body.prefix,
    createdAt: platform.clock.now().toISOString(),
  };
  let target: BackupTargetItem;
  let secret: string;
  if (body.type === 's3') {
    secret = body.secretAccessKey;
    target = {
      ...common,
      type: 's3',
      endpoint: body.endpoint,
      region: body.region,
      bucket: body.bucket,
      forcePathStyle: body.forcePathStyle,
      accessKeyId: body.accessKeyId,
      secretSealed: '',
    };
  } else {
    secret = body.password;
    const server = {
      host: body.host,
      port: body.port,
      username: body.username,
      hostKeySha256: body.hostKeySha256,
    };
    const hostKeySha256 = await withSftp(server, body.password, reach, async (_sftp, seen) => seen).catch(
      (error) => {
        throw errors.validation([sftpRefusal(error, body.hostKeySha256 !== undefined)]);
      },
    );
    target = {
      ...common,
      type: 'sftp',
      host: body.host,
      port: body.port,
      username: body.username,
      path: body.path,
      hostKeySha256,
      secretSealed: '',
    };
  }
  try {
    await targetStorage(target, secret, reach).probe(`${body.prefix}.vip-write-check`);
  } catch (error) {
    throw errors.validation([body.type === 's3' ? refusal(error) : sftpRefusal(error, false, true)]);
  }
  target.secretSealed = sealWith(await tenantDataKey(platform, tenantId), secret);
  await platform.store.transact([putNew(target)]);
  return target;
}

/** The field an SFTP server's refusal points at. */
function sftpRefusal(
  error: unknown,
  keyGiven: boolean,
  connected = false,
): { path: string; message: string } {
  const said = error instanceof Error ? error.message : String(error);
  logger.info('SFTP storage refused', { error: said });
  if (/host key|verification/i.test(said) || (keyGiven && /handshake/i.test(said))) {
    return { path: 'body.hostKeySha256', message: 'The server showed another host key' };
  }
  if (/authentication/i.test(said))
    return { path: 'body.password', message: 'The server refused the account' };
  if (connected) return { path: 'body.path', message: 'The server would not take a file there' };
  if (refusedByGuard(error)) return { path: 'body.host', message: 'The host is not an allowed address' };
  return { path: 'body.host', message: 'The server could not be reached' };
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
