import { createHash, randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from './sha256';
import { fromXml, tags, toXml, xmlDocument } from './xml';

/**
 * Amazon S3 as a local stand-in of its REST API (path-style), for what the platform's backups
 * do: buckets, objects (streamed to disk, ranged reads), multipart uploads (create, upload part,
 * complete with S3's rules on part sizes and ETags, abort, list) and listing, each request
 * authenticated by Signature Version 4 as S3 checks it, in the Authorization header or in a
 * presigned URL's query (with its expiry). Objects and parts stream through, never held in memory.
 */
export interface FakeS3 {
  endpoint: string;
  /** a bucket the operator's stack made */
  createBucket(name: string): void;
  /** the multipart uploads not completed nor aborted (what a lifecycle rule would clean up) */
  openUploads(bucket: string): { key: string; uploadId: string }[];
  /** where an object's bytes are on disk */
  objectPath(bucket: string, key: string): string | undefined;
  /** the next multipart upload completed has one byte changed on disk, as storage gone bad would */
  corruptNextCompletion(): void;
  stop(): Promise<void>;
}

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MIN_PART_BYTES = 5 * 1024 * 1024;

interface ObjectMeta {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  metadata: Record<string, string>;
}

interface UploadMeta {
  key: string;
  uploadId: string;
  initiated: string;
  contentType: string;
  metadata: Record<string, string>;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const amzDateOf = (value: string) =>
  new Date(
    `${value.slice(0, 4)}-${value.slice(4, 6)}-${value.slice(6, 8)}T${value.slice(9, 11)}:${value.slice(11, 13)}:${value.slice(13, 15)}Z`,
  );

export async function startFakeS3(options: {
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** temporary credentials it also accepts (the STS stand-in's sessions) */
  sessions?: (accessKeyId: string) => { secretAccessKey: string; sessionToken: string } | undefined;
  port?: number;
}): Promise<FakeS3> {
  const bucketDir = (bucket: string) => join(options.dir, bucket);
  let corruptNext = false;
  const keyId = (key: string) => createHash('sha256').update(key).digest('hex');
  const objectFile = (bucket: string, key: string) => join(bucketDir(bucket), 'objects', keyId(key));
  const uploadDir = (bucket: string, uploadId: string) => join(bucketDir(bucket), 'uploads', uploadId);
  const readJson = <T>(file: string): T | undefined =>
    existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;

  const requireBucket = (bucket: string) => {
    if (!existsSync(bucketDir(bucket)))
      throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
  };
  const requireUpload = (bucket: string, uploadId: string, key: string) => {
    const meta = readJson<UploadMeta>(join(uploadDir(bucket, uploadId), 'upload.json'));
    if (!meta || meta.key !== key) {
      throw new S3Error(
        404,
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      );
    }
    return meta;
  };

  const signerFor = (accessKeyId: string, region: string) => {
    const session = accessKeyId === options.accessKeyId ? undefined : options.sessions?.(accessKeyId);
    if (accessKeyId !== options.accessKeyId && !session) {
      throw new S3Error(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    }
    return {
      session,
      signer: new SignatureV4({
        service: 's3',
        region,
        uriEscapePath: false,
        applyChecksum: false,
        credentials: session
          ? { accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken }
          : { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
        sha256: Sha256,
      }),
    };
  };

  const mismatch = () =>
    new S3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );

  /** Checks the request's SigV4 signature (header or presigned query); answers the payload hash it signed. */
  async function authenticate(request: IncomingMessage, url: URL): Promise<string> {
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const presigned = query['X-Amz-Signature'];
    if (presigned !== undefined) {
      const credential = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(
        query['X-Amz-Credential'] ?? '',
      );
      if (!credential)
        throw new S3Error(400, 'AuthorizationQueryParametersError', 'Invalid X-Amz-Credential');
      const [, accessKeyId = '', , region = ''] = credential;
      const signingDate = amzDateOf(query['X-Amz-Date'] ?? '');
      const expiresIn = Number(query['X-Amz-Expires'] ?? 0);
      if (Number.isNaN(signingDate.getTime()) || !(expiresIn > 0)) {
        throw new S3Error(
          400,
          'AuthorizationQueryParametersError',
          'X-Amz-Date and X-Amz-Expires must be given',
        );
      }
      if (Date.now() > signingDate.getTime() + expiresIn * 1000) {
        throw new S3Error(403, 'AccessDenied', 'Request has expired');
      }
      const { session } = signerFor(accessKeyId, region);
      if (session && query['X-Amz-Security-Token'] !== session.sessionToken) {
        throw new S3Error(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
      }
      // signed again by the SDK's own presigner, from what the URL carries besides its signature
      const {
        'X-Amz-Signature': _signature,
        'X-Amz-Algorithm': _algorithm,
        'X-Amz-Credential': _credential,
        'X-Amz-Date': _date,
        'X-Amz-Expires': _expires,
        'X-Amz-SignedHeaders': _signed,
        'X-Amz-Content-Sha256': _payload,
        'X-Amz-Security-Token': _token,
        ...params
      } = query;
      const [hostname = '', port] = String(request.headers.host ?? '').split(':');
      const resigned = await new S3RequestPresigner({
        credentials: session
          ? { accessKeyId, secretAccessKey: session.secretAccessKey, sessionToken: session.sessionToken }
          : { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
        region,
        sha256: Sha256,
      }).presign(
        {
          method: request.method ?? 'GET',
          protocol: 'http:',
          hostname,
          ...(port ? { port: Number(port) } : {}),
          path,
          query: params,
          headers: {},
        } as Parameters<S3RequestPresigner['presign']>[0],
        { signingDate, expiresIn },
      );
      if (resigned.query?.['X-Amz-Signature'] !== presigned) throw mismatch();
      return 'UNSIGNED-PAYLOAD';
    }
    const authorization = String(request.headers.authorization ?? '');
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (!match) throw new S3Error(403, 'AccessDenied', 'Access Denied');
    const [, accessKeyId = '', , region = '', signedHeaders = '', signature = ''] = match;
    const { signer, session } = signerFor(accessKeyId, region);
    if (session && request.headers['x-amz-security-token'] !== session.sessionToken) {
      throw new S3Error(403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders.split(';')) headers[name] = String(request.headers[name] ?? '');
    const payloadHash = headers['x-amz-content-sha256'] ?? '';
    if (!payloadHash)
      throw new S3Error(
        400,
        'InvalidRequest',
        'Missing required header for this request: x-amz-content-sha256',
      );
    if (payloadHash.startsWith('STREAMING-')) {
      throw new S3Error(501, 'NotImplemented', 'Chunked (aws-chunked) payloads are not supported here');
    }
    const signed = await signer.sign(
      {
        method: request.method ?? 'GET',
        protocol: 'http:',
        hostname: (headers.host ?? '').split(':')[0] ?? '',
        path,
        query,
        headers,
      },
      { signingDate: amzDateOf(headers['x-amz-date'] ?? '') },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
    if (expected !== signature) throw mismatch();
    return payloadHash;
  }

  /** Streams the body to a file, checking its SHA-256 when the signature covers it; answers its MD5 and size. */
  async function receive(request: IncomingMessage, file: string, payloadHash: string) {
    const md5 = createHash('md5');
    // only a signed payload's hash is checked (a presigned part's is UNSIGNED-PAYLOAD)
    const sha256 = payloadHash === 'UNSIGNED-PAYLOAD' ? undefined : createHash('sha256');
    let size = 0;
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await pipeline(
      request,
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          md5.update(chunk);
          sha256?.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      }),
      createWriteStream(tmp),
    );
    if (sha256 && sha256.digest('hex') !== payloadHash) {
      rmSync(tmp, { force: true });
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
      );
    }
    renameSync(tmp, file);
    return { etag: `"${md5.digest('hex')}"`, size };
  }

  const metadataOf = (request: IncomingMessage) =>
    Object.fromEntries(
      Object.entries(request.headers)
        .filter(([name]) => name.startsWith('x-amz-meta-'))
        .map(([name, value]) => [name.slice('x-amz-meta-'.length), String(value)]),
    );

  const objects = (bucket: string): ObjectMeta[] => {
    const dir = join(bucketDir(bucket), 'objects');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ObjectMeta)
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  };

  const uploads = (bucket: string): UploadMeta[] => {
    const dir = join(bucketDir(bucket), 'uploads');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .map((id) => readJson<UploadMeta>(join(dir, id, 'upload.json')))
      .filter((u): u is UploadMeta => u !== undefined)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated < b.initiated ? -1 : 1));
  };

  function send(
    response: ServerResponse,
    status: number,
    body?: string,
    headers: Record<string, string> = {},
  ) {
    response.writeHead(status, {
      'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
      ...(body !== undefined ? { 'content-type': 'application/xml' } : {}),
      ...headers,
    });
    response.end(body === undefined ? undefined : xmlDocument(body));
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://s3.local');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.map((part) => decodeURIComponent(part)).join('/');
    const q = url.searchParams;
    const method = request.method ?? 'GET';
    const payloadHash = await authenticate(request, url);
    if (!bucket) {
      return send(
        response,
        200,
        `<ListAllMyBucketsResult xmlns="${NS}"><Buckets>${readdirSync(options.dir)
          .map((b) => `<Bucket><Name>${b}</Name></Bucket>`)
          .join('')}</Buckets></ListAllMyBucketsResult>`,
      );
    }
    if (!key) {
      if (method === 'PUT') {
        mkdirSync(join(bucketDir(bucket), 'objects'), { recursive: true });
        return send(response, 200, undefined, { location: `/${bucket}` });
      }
      requireBucket(bucket);
      if (method === 'HEAD') return send(response, 200);
      if (method === 'GET' && q.has('uploads')) {
        const open = uploads(bucket).filter((u) => u.key.startsWith(q.get('prefix') ?? ''));
        return send(
          response,
          200,
          `<ListMultipartUploadsResult xmlns="${NS}"><Bucket>${bucket}</Bucket><IsTruncated>false</IsTruncated>${open
            .map(
              (u) =>
                `<Upload><Key>${toXml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated}</Initiated></Upload>`,
            )
            .join('')}</ListMultipartUploadsResult>`,
        );
      }
      if (method === 'GET') {
        const prefix = q.get('prefix') ?? '';
        const max = Math.min(Number(q.get('max-keys') ?? 1000), 1000);
        const after = q.get('continuation-token')
          ? Buffer.from(q.get('continuation-token') ?? '', 'base64url').toString()
          : (q.get('start-after') ?? '');
        const all = objects(bucket).filter((o) => o.key.startsWith(prefix) && o.key > after);
        const page = all.slice(0, max);
        const truncated = all.length > page.length;
        return send(
          response,
          200,
          `<ListBucketResult xmlns="${NS}"><Name>${bucket}</Name><Prefix>${toXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${
            truncated
              ? `<NextContinuationToken>${Buffer.from(page.at(-1)?.key ?? '').toString('base64url')}</NextContinuationToken>`
              : ''
          }${page
            .map(
              (o) =>
                `<Contents><Key>${toXml(o.key)}</Key><LastModified>${o.lastModified}</LastModified><ETag>${toXml(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
            )
            .join('')}</ListBucketResult>`,
        );
      }
      throw new S3Error(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
      );
    }
    requireBucket(bucket);
    const file = objectFile(bucket, key);
    if (method === 'POST' && q.has('uploads')) {
      const uploadId = randomBytes(24).toString('base64url');
      mkdirSync(uploadDir(bucket, uploadId), { recursive: true });
      const meta: UploadMeta = {
        key,
        uploadId,
        initiated: new Date().toISOString(),
        contentType: String(request.headers['content-type'] ?? 'binary/octet-stream'),
        metadata: metadataOf(request),
      };
      writeFileSync(join(uploadDir(bucket, uploadId), 'upload.json'), JSON.stringify(meta));
      return send(
        response,
        200,
        `<InitiateMultipartUploadResult xmlns="${NS}"><Bucket>${bucket}</Bucket><Key>${toXml(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`,
      );
    }
    if (method === 'PUT' && q.has('uploadId')) {
      const uploadId = q.get('uploadId') ?? '';
      requireUpload(bucket, uploadId, key);
      const partNumber = Number(q.get('partNumber'));
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
        throw new S3Error(
          400,
          'InvalidArgument',
          'Part number must be an integer between 1 and 10000, inclusive',
        );
      }
      const part = join(uploadDir(bucket, uploadId), `part-${partNumber}`);
      const { etag, size } = await receive(request, part, payloadHash);
      writeFileSync(`${part}.json`, JSON.stringify({ etag, size }));
      return send(response, 200, undefined, { etag });
    }
    if (method === 'POST' && q.has('uploadId')) {
      const uploadId = q.get('uploadId') ?? '';
      const upload = requireUpload(bucket, uploadId, key);
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const listed = tags(body, 'Part').map((part) => ({
        number: Number(tags(part, 'PartNumber')[0]),
        etag: fromXml(tags(part, 'ETag')[0] ?? ''),
      }));
      if (listed.length === 0)
        throw new S3Error(
          400,
          'MalformedXML',
          'The XML you provided was not well-formed or did not validate against our published schema',
        );
      const dir = uploadDir(bucket, uploadId);
      const md5s: Buffer[] = [];
      let size = 0;
      listed.forEach((part, i) => {
        if (i > 0 && part.number <= (listed[i - 1]?.number ?? 0)) {
          throw new S3Error(
            400,
            'InvalidPartOrder',
            'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
          );
        }
        const stored = readJson<{ etag: string; size: number }>(join(dir, `part-${part.number}.json`));
        if (!stored || stored.etag.replace(/"/g, '') !== part.etag.replace(/"/g, '')) {
          throw new S3Error(
            400,
            'InvalidPart',
            "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
          );
        }
        if (i < listed.length - 1 && stored.size < MIN_PART_BYTES) {
          throw new S3Error(
            400,
            'EntityTooSmall',
            'Your proposed upload is smaller than the minimum allowed object size.',
          );
        }
        md5s.push(Buffer.from(stored.etag.replace(/"/g, ''), 'hex'));
        size += stored.size;
      });
      const tmp = `${file}.complete.tmp`;
      const out = createWriteStream(tmp);
      for (const part of listed)
        await pipeline(createReadStream(join(dir, `part-${part.number}`)), out, { end: false });
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      renameSync(tmp, file);
      if (corruptNext && size > 0) {
        corruptNext = false;
        const bytes = readFileSync(file);
        const at = Math.floor(size / 2);
        bytes[at] = (bytes[at] ?? 0) ^ 0xff;
        writeFileSync(file, bytes);
      }
      const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${listed.length}"`;
      const meta: ObjectMeta = {
        key,
        size,
        etag,
        lastModified: new Date().toISOString(),
        contentType: upload.contentType,
        metadata: upload.metadata,
      };
      writeFileSync(`${file}.json`, JSON.stringify(meta));
      rmSync(dir, { recursive: true, force: true });
      return send(
        response,
        200,
        `<CompleteMultipartUploadResult xmlns="${NS}"><Bucket>${bucket}</Bucket><Key>${toXml(key)}</Key><ETag>${toXml(etag)}</ETag></CompleteMultipartUploadResult>`,
      );
    }
    if (method === 'DELETE' && q.has('uploadId')) {
      const uploadId = q.get('uploadId') ?? '';
      requireUpload(bucket, uploadId, key);
      rmSync(uploadDir(bucket, uploadId), { recursive: true, force: true });
      return send(response, 204);
    }
    if (method === 'PUT') {
      const { etag, size } = await receive(request, file, payloadHash);
      const meta: ObjectMeta = {
        key,
        size,
        etag,
        lastModified: new Date().toISOString(),
        contentType: String(request.headers['content-type'] ?? 'binary/octet-stream'),
        metadata: metadataOf(request),
      };
      writeFileSync(`${file}.json`, JSON.stringify(meta));
      return send(response, 200, undefined, { etag });
    }
    if (method === 'DELETE') {
      rmSync(file, { force: true });
      rmSync(`${file}.json`, { force: true });
      return send(response, 204);
    }
    const meta = readJson<ObjectMeta>(`${file}.json`);
    if (!meta) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    const headers: Record<string, string> = {
      etag: meta.etag,
      'last-modified': new Date(meta.lastModified).toUTCString(),
      'content-type': meta.contentType,
      'accept-ranges': 'bytes',
      ...Object.fromEntries(
        Object.entries(meta.metadata).map(([name, value]) => [`x-amz-meta-${name}`, value]),
      ),
    };
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(request.headers.range ?? ''));
    let start = 0;
    let end = meta.size - 1;
    if (range) {
      if (range[1] === '' && range[2]) start = Math.max(0, meta.size - Number(range[2]));
      else {
        start = Number(range[1]);
        if (range[2]) end = Math.min(end, Number(range[2]));
      }
      if (start >= meta.size)
        throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
      headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
    }
    headers['content-length'] = String(Math.max(0, end - start + 1));
    response.writeHead(range ? 206 : 200, headers);
    if (method === 'HEAD' || meta.size === 0) {
      response.end();
      return;
    }
    await pipeline(createReadStream(file, { start, end }), response);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const failure =
        error instanceof S3Error
          ? error
          : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      request.resume();
      send(
        response,
        failure.status,
        request.method === 'HEAD'
          ? undefined
          : `<Error><Code>${failure.code}</Code><Message>${toXml(failure.message)}</Message></Error>`,
      );
    });
  });
  mkdirSync(options.dir, { recursive: true });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    createBucket: (name) => mkdirSync(join(bucketDir(name), 'objects'), { recursive: true }),
    openUploads: (bucket) => uploads(bucket).map((u) => ({ key: u.key, uploadId: u.uploadId })),
    corruptNextCompletion: () => {
      corruptNext = true;
    },
    objectPath: (bucket, key) => {
      const file = objectFile(bucket, key);
      return existsSync(file) && statSync(file).isFile() ? file : undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
