import { createHash, createHmac } from 'node:crypto';

type Bytes = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: Bytes) =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** SHA-256 (and HMAC-SHA256) from node:crypto, as @smithy/signature-v4 takes a hash constructor. */
export class Sha256 {
  private readonly hash;
  constructor(secret?: Bytes) {
    this.hash = secret ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: Bytes) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}
