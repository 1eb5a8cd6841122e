import { createHash } from 'node:crypto';
import * as z from 'zod';

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
