import { createDecipheriv } from 'node:crypto';

const CHUNK = 1 << 20;
const TAG = 16;
const MAGIC = Buffer.from('VIPGCM1\0', 'latin1');

/**
 * Opens a stream the hosts encrypt for customers' storage (step-functions/documents/fragments/
 * aesgcm.sh), written apart from it with Node's crypto: "VIPGCM1\0", a 7-byte nonce prefix, then
 * 1 MiB chunks each with its tag; a chunk's nonce is the prefix, its index and a last-chunk flag.
 */
export function openAesGcmStream(key: Buffer, stream: Buffer): Buffer {
  const header = stream.subarray(0, 15);
  if (!header.subarray(0, 8).equals(MAGIC)) throw new Error('not an encrypted backup');
  const chunks: Buffer[] = [];
  let at = 15;
  let index = 0;
  for (;;) {
    const end = Math.min(at + CHUNK + TAG, stream.length);
    const last = end === stream.length;
    const sealed = stream.subarray(at, end);
    if (sealed.length < TAG) throw new Error('truncated');
    const nonce = Buffer.alloc(12);
    header.copy(nonce, 0, 8, 15);
    nonce.writeUInt32BE(index, 7);
    nonce[11] = last ? 1 : 0;
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(header);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    chunks.push(decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final());
    if (last) break;
    at = end;
    index += 1;
  }
  return Buffer.concat(chunks);
}
