import { generateKeyPairSync } from 'node:crypto';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { alertKeys } from '../../layers/model/alerts';
import { serverKeys } from '../../layers/model/servers';
import { idFor } from '../loadgen';
import { type LocalRuntime, startLocalRuntime } from '../local/runtime';

/** The local runtime as the benchmarks run it: quiet, short workflow waits, metrics out of the way. */
export const startBenchRuntime = () =>
  startLocalRuntime({ port: 0, logLevel: 'ERROR', waitMs: 100, metricsIntervalMs: 60_000 });

/**
 * A tenant of the benchmark's own on a runtime: its owner signed in, a JSON client that sends
 * the owner's token, and a wait for an operation to end.
 */
export async function benchTenant(runtime: LocalRuntime, email: string) {
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: response.status,
      location: response.headers.get('location'),
      // biome-ignore lint/suspicious/noExplicitAny: the API's answers, read as the benchmark needs them
      json: (await response.json().catch(() => ({}))) as Record<string, any>,
    };
  };
  const credentials = { email, password: 'benchmark password' };
  await send('POST', '/v1/auth/signup', { ...credentials, name: 'Bench', tenantName: 'Bench' });
  const login = (await send('POST', '/v1/auth/login', credentials)).json;
  const auth = { authorization: `Bearer ${login.accessToken}` };
  const call = (method: string, path: string, body?: unknown) => send(method, path, body, auth);
  return {
    /** the tenant's own path: /v1/tenants/<id> */
    tenant: `/v1/tenants/${login.tenantId}`,
    call,
    send,
    /** waits for an operation (by its path, as a Location names it) to end, and answers it */
    async ended(path: string) {
      for (;;) {
        const operation = (await call('GET', path)).json;
        if (operation.status === 'succeeded' || operation.status === 'failed') return operation;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/**
 * A metrics benchmark's fleet registered as a tenant's servers, each item as big as a real
 * server's (its stack, tags, host key), with two alert rules on every server (CPU and disk above
 * 90% for 5 minutes): what the aggregator reads and writes besides the rollups.
 */
export async function registerFleet(
  runtime: LocalRuntime,
  tenantId: string,
  fleet: { hosts: { serverId: string }[] },
  seed: number,
): Promise<void> {
  // the servers, as big as a real one (its stack, tags, host key), and two alert rules
  const hostKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  }) as string;
  const documents = DynamoDBDocumentClient.from(runtime.clients.dynamodb);
  const now = new Date().toISOString();
  const items: Record<string, unknown>[] = fleet.hosts.map((host, i) => ({
    ...serverKeys.item(tenantId, host.serverId),
    entity: 'server',
    id: host.serverId,
    tenantId,
    name: `web-${String(i).padStart(4, '0')}.example.com`,
    provider: 'hetzner',
    region: 'fsn1',
    size: 'cx32',
    stack: {
      webServer: 'nginx',
      phpVersions: ['8.3', '8.2'],
      database: 'mariadb',
      redis: true,
      nodeVersions: [],
    },
    status: 'active',
    tags: ['web', i % 2 ? 'eu' : 'us'],
    hostId: `mi-${String(i).padStart(17, '0')}`,
    instanceId: String(50_000_000 + i),
    ipv4: `203.0.113.${i % 250}`,
    lastOperationId: `op_${'0'.repeat(26)}`,
    hostKey,
    bootId: '8f2c1e0a-5b7d-4c3e-9a1f-2d6b8e4c7a90',
    siteCount: 12,
    databaseCount: 8,
    createdAt: now,
    updatedAt: now,
    version: 3,
  }));
  const rule = (id: string, metric: string, threshold: number) => ({
    ...alertKeys.rule(tenantId, id),
    entity: 'alert-rule',
    id,
    tenantId,
    name: metric,
    metric,
    comparison: '>',
    threshold,
    forSeconds: 300,
    recoverSeconds: 60,
    severity: 'warning',
    scope: { kind: 'all' },
    enabled: true,
    emails: ['oncall@example.com'],
    webhooks: [],
    webhookSecret: 'whsec_cost',
    createdAt: now,
    updatedAt: now,
    version: 1,
  });
  items.push(
    rule(idFor('alr', seed, 'cpu'), 'cpuPercent', 90),
    rule(idFor('alr', seed, 'disk'), 'diskUsedPercent', 90),
  );
  items.push({ ...alertKeys.firing(tenantId), entity: 'firing-alerts', firing: {} });
  for (let i = 0; i < items.length; i += 25) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [runtime.names.table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
        },
      }),
    );
  }
}
