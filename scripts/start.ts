import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalRuntime } from './local/runtime';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    'data-dir': { type: 'string', default: process.env.VIP_DATA_DIR ?? '.data' },
    'in-memory': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
const dataDir = values['in-memory'] ? undefined : resolve(values['data-dir'] ?? '.data');
const say = (message: string) => process.stdout.write(`${message}\n`);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const portBusy = (p: number) =>
  new Promise<boolean>((resolveBusy) => {
    const socket = createConnection({ port: p, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolveBusy(true);
    });
    socket.once('error', () => resolveBusy(false));
  });

async function main() {
  const started = Date.now();
  const lockDir = dataDir ?? resolve('.data');
  mkdirSync(lockDir, { recursive: true });
  const lockFile = join(lockDir, 'control-plane.lock');
  if (existsSync(lockFile)) {
    const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; url: string };
    if (pidAlive(lock.pid) && lock.pid !== process.pid) {
      say(
        `The control plane is already running (pid ${lock.pid}) at ${lock.url}. Stop it with Ctrl-C there first.`,
      );
      process.exit(1);
    }
  }
  if (await portBusy(port)) {
    say(`Port ${port} is in use by another program. Start on another port with: npm start -- --port 3001`);
    process.exit(1);
  }
  say(`Starting VIP Hosting Panel locally (${dataDir ? `data in ${dataDir}` : 'in memory'})...`);
  const runtime = await startLocalRuntime({
    port,
    dataDir,
    logLevel: values.quiet ? 'WARN' : 'INFO',
    ...(values.quiet ? {} : { log: (message: string) => say(`[local] ${message}`) }),
  });
  writeFileSync(
    lockFile,
    JSON.stringify({
      pid: process.pid,
      url: runtime.url,
      // where `npm run loadgen` puts its samples, and where the lag benchmark reads the rollups
      kinesis: { endpoint: runtime.endpoints.kinesis, streamName: runtime.names.metricsStream },
      dynamodb: { endpoint: runtime.endpoints.dynamodb, tableName: runtime.names.table },
    }),
  );
  say(
    `Ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${runtime.url}  (API docs: ${runtime.url}/v1/openapi.json)`,
  );
  const fakes = Object.keys(runtime.cloudFakes);
  if (fakes.length > 0) {
    say(`Cloud providers' APIs are local stand-ins (${fakes.join(', ')}); their tokens are in the README.`);
  }
  say(`Sites by their domain (as port 80 would answer): curl -H 'Host: <domain>' ${runtime.frontDoor}/`);
  say(`Git server: ${runtime.git.url}/<name>.git for the bare repositories in ${runtime.git.root}`);
  say(`Backups: S3 at ${runtime.s3.endpoint}, bucket ${runtime.s3.bucket}`);
  if (runtime.acme) {
    // pebble makes a new root at every start: what a client trusts to check the sites' certificates
    const root = join(runtime.dataDir, 'pebble-root.pem');
    writeFileSync(root, await runtime.acme.issuingRoot());
    say(
      `ACME directory (pebble, Let's Encrypt's test server): ${runtime.acme.directoryUrl}; its root: ${root}`,
    );
  } else {
    say('No ACME directory: install pebble (apt-get install pebble) to order certificates locally.');
  }
  say('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping...`);
    await runtime.stop();
    rmSync(lockFile, { force: true });
    say('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
