import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';

/**
 * Opens a backup object the hosts encrypted for a tenant's own storage
 * (step-functions/documents/fragments/aesgcm.sh), apart from the panel: the tenant's exported
 * data key (POST /v1/tenants/{tenantId}/backup-data-key/export) and this script are all it needs.
 *
 *   VIP_BACKUP_KEY=<base64 key> npm run open-backup < files > files.tar.zst
 *
 * The format: "VIPGCM1\0", a 7-byte nonce prefix, then 1 MiB chunks of AES-256-GCM ciphertext each
 * with its 16-byte tag; a chunk's nonce is the prefix, its index (4 bytes, big endian) and a byte
 * that is 1 on the last chunk only; the 15-byte header is every chunk's additional data.
 */
const CHUNK = 1 << 20;
const TAG = 16;
const SEALED = CHUNK + TAG;
const MAGIC = Buffer.from('VIPGCM1\0', 'latin1');

function opener(key: Buffer) {
  let header: Buffer | undefined;
  let index = 0;
  return {
    header(bytes: Buffer) {
      if (bytes.length < 15 || !bytes.subarray(0, 8).equals(MAGIC))
        throw new Error('not an encrypted backup');
      header = Buffer.from(bytes.subarray(0, 15));
    },
    open(sealed: Buffer, last: boolean): Buffer {
      if (!header) throw new Error('not an encrypted backup');
      if (sealed.length < TAG) throw new Error('the backup was truncated');
      const nonce = Buffer.alloc(12);
      header.copy(nonce, 0, 8, 15);
      nonce.writeUInt32BE(index, 7);
      nonce[11] = last ? 1 : 0;
      index += 1;
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(header);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
      try {
        return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()]);
      } catch {
        throw new Error('the backup does not open: it was altered, truncated or made with another key');
      }
    },
  };
}

/** The whole of an encrypted object, opened (for objects that fit in memory). */
export function openAesGcmStream(key: Buffer, stream: Buffer): Buffer {
  const open = opener(key);
  open.header(stream);
  const chunks: Buffer[] = [];
  for (let at = 15; ; at += SEALED) {
    const end = Math.min(at + SEALED, stream.length);
    chunks.push(open.open(stream.subarray(at, end), end === stream.length));
    if (end === stream.length) return Buffer.concat(chunks);
  }
}

/** A stream that opens an encrypted object as it passes, a chunk at a time. */
export function openingStream(key: Buffer): Transform {
  const open = opener(key);
  let pending = Buffer.alloc(0);
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      pending = Buffer.concat([pending, chunk]);
      try {
        if (!started) {
          if (pending.length < 15) return done();
          open.header(pending);
          pending = pending.subarray(15);
          started = true;
        }
        // a full chunk is the last only if nothing follows it, which only the end tells
        while (pending.length > SEALED) {
          this.push(open.open(pending.subarray(0, SEALED), false));
          pending = pending.subarray(SEALED);
        }
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        if (!started) throw new Error('not an encrypted backup');
        this.push(open.open(pending, true));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv.indexOf('--key-file');
  const encoded =
    file > 0 ? readFileSync(process.argv[file + 1] ?? '', 'utf8').trim() : (process.env.VIP_BACKUP_KEY ?? '');
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) {
    console.error('Give the tenant backup data key (base64) in VIP_BACKUP_KEY or --key-file FILE');
    process.exit(2);
  }
  pipeline(process.stdin, openingStream(key), process.stdout).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
