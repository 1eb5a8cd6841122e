import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const require = createRequire(import.meta.url);

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** kinesis-local on free ports, run from its package folder (where it reads server.json). */
export async function startKinesisLocal() {
  const [plain, tls] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(process.execPath, ['main.js'], {
    cwd: dirname(require.resolve('kinesis-local/package.json')),
    env: {
      ...process.env,
      KINESIS_MOCK_PLAIN_PORT: String(plain),
      KINESIS_MOCK_TLS_PORT: String(tls),
      LOG_LEVEL: 'ERROR',
      CREATE_STREAM_DURATION: '50ms',
    },
    stdio: 'ignore',
  });
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${plain}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  return {
    client,
    async createStream(name: string, shards = 1): Promise<string> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      for (;;) {
        const { StreamDescriptionSummary: s } = await client.send(
          new DescribeStreamSummaryCommand({ StreamName: name }),
        );
        if (s?.StreamStatus === 'ACTIVE') return s.StreamARN ?? '';
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      client.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
