import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ignoring } from '../../../layers/errors/ignoring';
import type { OperationItem } from '../../../layers/model/operations';
import { type SshKeyItem, sshKeyKeys, sshKeysOf } from '../../../layers/model/ssh-keys';
import { ConditionFailedError, type Store } from '../../../layers/store/store';

const keyTypes = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
];

/**
 * An OpenSSH public key line (`type base64 [comment]`) whose blob names the same type, and
 * its SHA256 fingerprint as `ssh-keygen -l` prints it; undefined when it is not one.
 */
export function parsePublicKey(line: string): { publicKey: string; fingerprint: string } | undefined {
  const match = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: ([^\r\n]{0,200}))?$/.exec(line.trim());
  if (!match?.[1] || !match[2] || !keyTypes.includes(match[1])) return undefined;
  const blob = Buffer.from(match[2], 'base64');
  if (blob.length < 4) return undefined;
  const typeLength = blob.readUInt32BE(0);
  if (blob.length < 4 + typeLength || blob.subarray(4, 4 + typeLength).toString('latin1') !== match[1])
    return undefined;
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { publicKey: [match[1], match[2], match[3]].filter(Boolean).join(' '), fingerprint };
}

export const sshKeyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    publicKey: z
      .string()
      .max(8000)
      .refine(
        (line) => parsePublicKey(line) !== undefined,
        'Not an OpenSSH public key (ssh-ed25519, ssh-rsa or ecdsa)',
      ),
  })
  .meta({ id: 'SshKeyRequest' });

export const sshKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    publicKey: z.string(),
    fingerprint: z.string(),
    status: z.enum(['authorizing', 'authorized', 'revoking', 'failed']),
    lastOperationId: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'SshKey' });

/**
 * An SSH key's record follows its command: authorised, or gone once revoked; failed otherwise
 * (a cancelled command too). Only the key's latest command decides, and only once: whichever of
 * the command's ending and a cancel comes first settles it.
 */
export async function settleSshKey(
  store: Store,
  ref: { tenantId: string; serverId: string; operationId: string; kind: string; keyId: string },
  succeeded: boolean,
) {
  const key = sshKeyKeys.item(ref.tenantId, ref.serverId, ref.keyId);
  const item = await store.get<SshKeyItem>(key, true);
  if (!item || item.lastOperationId !== ref.operationId) return;
  if (item.status !== 'authorizing' && item.status !== 'revoking') return;
  if (succeeded && ref.kind === 'revoke-ssh-key') {
    await store.remove(key);
    return;
  }
  await ignoring(ConditionFailedError, () =>
    store.update(
      key,
      { status: succeeded ? 'authorized' : 'failed' },
      { where: { equals: { status: item.status, lastOperationId: ref.operationId } } },
    ),
  );
}

/** The SSH key a cancelled command was changing, found by its operation: marked failed unless settled. */
export async function settleSshKeyOfCancelled(store: Store, operation: OperationItem): Promise<void> {
  for await (const key of sshKeysOf(store, operation.tenantId, operation.targetId)) {
    if (key.lastOperationId === operation.id) {
      const ref = { tenantId: operation.tenantId, serverId: operation.targetId, operationId: operation.id };
      await settleSshKey(store, { ...ref, kind: operation.kind, keyId: key.id }, false);
      return;
    }
  }
}
