import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { AwsServiceError, type JsonOperations } from '../local/aws-json-protocol';

/**
 * AWS KMS, locally: GenerateDataKey and Decrypt over the JSON protocol (`TrentService.*`), as
 * the SDK calls them. One symmetric key stands for every key id; a ciphertext is bound to its
 * encryption context as KMS binds it (a Decrypt with another context fails), and to the key id
 * it was made under. The key is kept in a file so `npm start` can read yesterday's data keys.
 */
export function makeLocalKms(options: { keyFile?: string | undefined }) {
  let master: Buffer;
  if (options.keyFile && existsSync(options.keyFile))
    master = Buffer.from(readFileSync(options.keyFile, 'utf8'), 'hex');
  else {
    master = randomBytes(32);
    if (options.keyFile) writeFileSync(options.keyFile, master.toString('hex'), { mode: 0o600 });
  }
  /** The context as KMS canonicalises it: sorted pairs, so key order does not matter. */
  const aad = (keyId: string, context: unknown) =>
    Buffer.from(
      JSON.stringify([
        keyId,
        Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) => a.localeCompare(b)),
      ]),
    );
  const keyIdOf = (input: Record<string, unknown>) => {
    if (typeof input.KeyId !== 'string' || input.KeyId.length === 0) {
      throw new AwsServiceError('ValidationException', 'KeyId is required');
    }
    return input.KeyId;
  };

  function encrypt(keyId: string, plaintext: Buffer, context: unknown) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', master, iv);
    cipher.setAAD(aad(keyId, context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(keyId);
    return Buffer.concat([Buffer.from([id.length]), id, iv, cipher.getAuthTag(), body]);
  }

  const operations: JsonOperations = {
    GenerateDataKey: (input) => {
      const keyId = keyIdOf(input);
      const bytes = input.KeySpec === 'AES_128' ? 16 : input.NumberOfBytes ? Number(input.NumberOfBytes) : 32;
      const plaintext = randomBytes(bytes);
      return {
        KeyId: keyId,
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: encrypt(keyId, plaintext, input.EncryptionContext).toString('base64'),
      };
    },
    Decrypt: (input) => {
      const blob = Buffer.from(String(input.CiphertextBlob ?? ''), 'base64');
      const idLength = blob[0] ?? 0;
      const keyId = blob.subarray(1, 1 + idLength).toString();
      const iv = blob.subarray(1 + idLength, 13 + idLength);
      const tag = blob.subarray(13 + idLength, 29 + idLength);
      try {
        const decipher = createDecipheriv('aes-256-gcm', master, iv);
        decipher.setAAD(aad(keyId, input.EncryptionContext));
        decipher.setAuthTag(tag);
        const plaintext = Buffer.concat([decipher.update(blob.subarray(29 + idLength)), decipher.final()]);
        return { KeyId: keyId, Plaintext: plaintext.toString('base64') };
      } catch {
        throw new AwsServiceError('InvalidCiphertextException', 'The ciphertext or its context is not valid');
      }
    },
  };
  return { operations };
}
