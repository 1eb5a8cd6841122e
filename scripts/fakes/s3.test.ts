import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeS3, startFakeS3 } from './s3';

/**
 * The local S3 stand-in, driven by the AWS SDK's own client and presigner: what the backups
 * rely on (multipart uploads through presigned part URLs, S3's completion rules, aborts that
 * leave nothing, ranged reads) and SigV4 checked as S3 checks it.
 */
let s3: FakeS3;
let client: S3Client;
let dir: string;
const Bucket = 'vip-test-backups';
const MiB = 1024 * 1024;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vip-s3-'));
  s3 = await startFakeS3({ dir, accessKeyId: 'AKIALOCAL', secretAccessKey: 'local-secret' });
  s3.createBucket(Bucket);
  client = new S3Client({
    endpoint: s3.endpoint,
    region: 'eu-central-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local-secret' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  await s3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const md5 = (data: Buffer) => createHash('md5').update(data).digest();

describe('S3 stand-in', () => {
  it('assembles a multipart upload sent through presigned part URLs, with S3’s ETag', async () => {
    const Key = 'tenants/t1/site.tar.zst';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const parts = [Buffer.alloc(5 * MiB, 1), Buffer.alloc(5 * MiB, 2), Buffer.from('the end')];
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const url = await getSignedUrl(
        client,
        new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1 }),
        {
          expiresIn: 600,
        },
      );
      const put = await fetch(url, { method: 'PUT', body });
      expect(put.status).toBe(200);
      etags.push(put.headers.get('etag') ?? '');
    }
    expect(s3.openUploads(Bucket)).toEqual([{ key: Key, uploadId: UploadId }]);
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    expect(done.ETag).toBe(
      `"${createHash('md5')
        .update(Buffer.concat(parts.map(md5)))
        .digest('hex')}-3"`,
    );
    const object = await client.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=-7' }));
    expect(Buffer.from((await object.Body?.transformToByteArray()) ?? []).toString()).toBe('the end');
    expect(s3.openUploads(Bucket)).toEqual([]);
  });

  it('refuses a tampered or expired presigned URL, and a part under 5 MiB that is not the last', async () => {
    const Key = 'refusals';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const url = await getSignedUrl(client, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1 }), {
      expiresIn: 600,
    });
    const tampered = await fetch(url.replace('partNumber=1', 'partNumber=2'), { method: 'PUT', body: 'x' });
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('SignatureDoesNotMatch');
    const expired = await getSignedUrl(
      client,
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1 }),
      {
        expiresIn: 1,
        signingDate: new Date(Date.now() - 60_000),
      },
    );
    const late = await fetch(expired, { method: 'PUT', body: 'x' });
    expect(late.status).toBe(403);
    expect(await late.text()).toContain('Request has expired');

    const small = await client.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'small' }),
    );
    const last = await client.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: 'last' }),
    );
    await expect(
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: {
            Parts: [
              { ETag: small.ETag, PartNumber: 1 },
              { ETag: last.ETag, PartNumber: 2 },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'EntityTooSmall' });
    // an abort leaves nothing behind
    await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket }));
    expect(open.Uploads ?? []).toEqual([]);
    await expect(
      client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 3, Body: 'late' })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('checks signed payloads and the secret, and lists what it holds', async () => {
    await client.send(new PutObjectCommand({ Bucket, Key: 'a/one', Body: 'one' }));
    await client.send(new PutObjectCommand({ Bucket, Key: 'a/two', Body: 'two' }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket, Prefix: 'a/' }));
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([
      ['a/one', 3],
      ['a/two', 3],
    ]);
    const intruder = new S3Client({
      endpoint: s3.endpoint,
      region: 'eu-central-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'not-the-secret' },
    });
    await expect(intruder.send(new ListObjectsV2Command({ Bucket }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
  });
});
