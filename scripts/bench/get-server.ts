import { Agent, request } from 'node:http';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { serverKeys } from '../../functions/servers/entity';
import { startLocalRuntime } from '../local/runtime';

/**
 * p50/p99 of GET /v1/tenants/{id}/servers/{id} through the local gateway (authorizer, handler,
 * DynamoDB Local) against a raw GetItem of the same item on the same DynamoDB Local, in one
 * run. Prints ratios; it never fails on a timing.
 */
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 500);
const WARMUP = 300;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * Measures both calls interleaved, one of each per round, so both see the same state of
 * DynamoDB Local's JVM (it keeps getting faster as its JIT warms up).
 */
async function measurePair(a: () => Promise<unknown>, b: () => Promise<unknown>) {
  for (let i = 0; i < WARMUP; i += 1) {
    await a();
    await b();
  }
  const samples: [number[], number[]] = [[], []];
  const time = async (run: () => Promise<unknown>, into: number[]) => {
    const start = process.hrtime.bigint();
    await run();
    into.push(Number(process.hrtime.bigint() - start) / 1e6);
  };
  for (let i = 0; i < ITERATIONS; i += 1) {
    await time(a, samples[0]);
    await time(b, samples[1]);
  }
  return samples.map((s) => {
    s.sort((x, y) => x - y);
    return { p50: percentile(s, 50), p99: percentile(s, 99) };
  }) as [{ p50: number; p99: number }, { p50: number; p99: number }];
}

async function main() {
  const runtime = await startLocalRuntime({
    port: 0,
    logLevel: 'ERROR',
    waitMs: 100,
    metricsIntervalMs: 60_000,
  });
  try {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${runtime.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, string>>);
    await post('/v1/auth/signup', {
      email: 'bench@example.com',
      password: 'benchmark password',
      name: 'Bench',
      tenantName: 'Bench',
    });
    const login = await post('/v1/auth/login', {
      email: 'bench@example.com',
      password: 'benchmark password',
    });
    const token = login.accessToken as string;
    const tenantId = login.tenantId as string;
    const server = await post(
      `/v1/tenants/${tenantId}/servers`,
      { name: 'bench-1', provider: 'local' },
      token,
    );
    const path = `/v1/tenants/${tenantId}/servers/${server.id}`;
    const key = serverKeys.item(tenantId, String(server.id));

    // A plain keep-alive HTTP client, as a load tool would be, so the client's own cost stays small.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const getViaGateway = () =>
      new Promise<void>((resolve, reject) => {
        const req = request(
          `${runtime.url}${path}`,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`GET answered ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const rawGetItem = () =>
      runtime.clients.dynamodb.send(
        new GetItemCommand({ TableName: runtime.names.table, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }),
      );
    const [gateway, direct] = await measurePair(getViaGateway, rawGetItem);
    const api = { label: 'GET server via gateway', ...gateway };
    const raw = { label: 'raw GetItem', ...direct };
    const rows = [api, raw].map(
      (r) => `${r.label.padEnd(24)} p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms`,
    );
    process.stdout.write(`${ITERATIONS} requests each, after ${WARMUP} warm-up\n${rows.join('\n')}\n`);
    process.stdout.write(
      `ratio gateway/raw: p50 ${(api.p50 / raw.p50).toFixed(2)}x (target <= 1.5x), p99 ${(api.p99 / raw.p99).toFixed(2)}x\n`,
    );
  } finally {
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
