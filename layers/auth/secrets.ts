import { randomBytes } from 'node:crypto';
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import * as z from 'zod';

/** The signing algorithm of every access token: asymmetric, so verifiers hold only public keys. */
export const JWT_ALG = 'ES256';

const jwkSchema = z.record(z.string(), z.unknown()).transform((v) => v as JWK);

const secretsSchema = z.object({
  signingKeys: z
    .array(z.object({ kid: z.string(), createdAt: z.string(), privateJwk: jwkSchema, publicJwk: jwkSchema }))
    .min(1),
  cursorSecret: z.string().min(32),
});

/** Platform secrets kept as one SecureString parameter: JWT signing keys (newest first) and the cursor key. */
export type PlatformSecrets = z.infer<typeof secretsSchema>;

/** A new key set: one ES256 key pair and a random cursor-signing secret. */
export async function generateSecrets(now: Date): Promise<PlatformSecrets> {
  const { privateKey, publicKey } = await generateKeyPair(JWT_ALG, { extractable: true });
  const kid = `k${now.getTime().toString(36)}${randomBytes(4).toString('hex')}`;
  const [privateJwk, publicJwk] = await Promise.all([exportJWK(privateKey), exportJWK(publicKey)]);
  return {
    signingKeys: [
      {
        kid,
        createdAt: now.toISOString(),
        privateJwk: { ...privateJwk, kid, alg: JWT_ALG, use: 'sig' },
        publicJwk: { ...publicJwk, kid, alg: JWT_ALG, use: 'sig' },
      },
    ],
    cursorSecret: randomBytes(32).toString('base64url'),
  };
}

/** Reads and validates the secrets parameter (decrypted). */
export async function loadSecrets(ssm: SSMClient, name: string): Promise<PlatformSecrets> {
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  return secretsSchema.parse(JSON.parse(Parameter?.Value ?? 'null'));
}

/**
 * Creates the secrets parameter if it does not exist yet and leaves an existing one as it
 * is; safe to call from several places at once (the second writer gets ParameterAlreadyExists).
 */
export async function ensureSecrets(
  ssm: SSMClient,
  name: string,
  options: { now: Date; keyId?: string },
): Promise<void> {
  const value = JSON.stringify(await generateSecrets(options.now));
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: name,
        Type: 'SecureString',
        Value: value,
        Overwrite: false,
        Tier: 'Standard',
        ...(options.keyId ? { KeyId: options.keyId } : {}),
        Description: 'VIP Hosting Panel JWT signing keys and cursor key',
      }),
    );
  } catch (error) {
    if (!(error instanceof ParameterAlreadyExists)) throw error;
  }
}

/**
 * Puts a new signing key first (it signs from now on) and keeps the newest `keep` keys, so
 * tokens signed by the previous keys stay valid until they expire. The cursor key is kept.
 */
export async function rotateSigningKey(
  ssm: SSMClient,
  name: string,
  options: { now: Date; keep?: number; keyId?: string },
): Promise<PlatformSecrets> {
  const current = await loadSecrets(ssm, name);
  const fresh = await generateSecrets(options.now);
  const rotated: PlatformSecrets = {
    ...current,
    signingKeys: [...fresh.signingKeys, ...current.signingKeys].slice(0, options.keep ?? 3),
  };
  await ssm.send(
    new PutParameterCommand({
      Name: name,
      Type: 'SecureString',
      Value: JSON.stringify(rotated),
      Overwrite: true,
      ...(options.keyId ? { KeyId: options.keyId } : {}),
    }),
  );
  return rotated;
}
