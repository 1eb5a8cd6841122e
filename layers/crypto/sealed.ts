import { constants, createCipheriv, createHmac, publicEncrypt, randomBytes } from 'node:crypto';

/**
 * A secret sealed to one host: only the host's own key (made by its bootstrap, kept on the
 * host) opens it, so it crosses the workflow's input, Run Command's parameters and their logs
 * as ciphertext. AES-256-CBC with an HMAC-SHA256 over IV and ciphertext (encrypt-then-MAC),
 * the two keys wrapped with RSA-OAEP (SHA-256): what `openssl pkeyutl`, `openssl dgst` and
 * `openssl enc` open on the host (the documents' `unseal`). One token:
 * `wrappedKeys:iv:mac:ciphertext` (base64, hex, hex, base64).
 */
export function sealFor(hostKeyPem: string, plaintext: string): string {
  const encryptionKey = randomBytes(32);
  const macKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', encryptionKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const mac = createHmac('sha256', macKey)
    .update(Buffer.concat([iv, ciphertext]))
    .digest('hex');
  const wrapped = publicEncrypt(
    { key: hostKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    Buffer.concat([encryptionKey, macKey]),
  );
  return [wrapped.toString('base64'), iv.toString('hex'), mac, ciphertext.toString('base64')].join(':');
}
