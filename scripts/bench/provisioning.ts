import { counterKeys } from '../../layers/model/counters';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import { getPlatform } from '../../layers/runtime/platform';
import type { StoredItem } from '../../layers/store/store';
import { type FakeMachine, startFakeProvider } from '../fakes/providers';
import { type LocalRuntime, startLocalRuntime } from '../local/runtime';

/**
 * Provisioning, measured in one run:
 * 1. local provisioning time from POST to active, split by step, and the state transitions
 *    each run costs (what Step Functions bills), with `npm start`'s own waits;
 * 2. a fault-injection run: N provisionings through a fake Hetzner Cloud API, each with a
 *    fault injected at a random step (provider 429s and 5xx, a create answer lost after the
 *    VM was made, a host that never comes online, a bootstrap that fails, a service that
 *    fails the health check, a cancel mid-way), then active servers decommissioned with a
 *    provider 5xx on the way, and the VMs, managed instances, activations and quota units
 *    left behind counted (target: zero).
 * Prints figures; it never fails on a timing.
 */
const TIMED_RUNS = Number(process.env.BENCH_PROVISIONINGS ?? 3);
const FAULT_RUNS = Number(process.env.BENCH_FAULT_RUNS ?? 24);
const password = 'benchmark password';

type Api = (
  method: string,
  path: string,
  body?: unknown,
  token?: string,
) => Promise<{
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: the benchmark reads API answers loosely
  json: any;
  location: string;
}>;

function client(runtime: LocalRuntime): Api {
  return async (method, path, body, token) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      json: text ? JSON.parse(text) : undefined,
      location: response.headers.get('location') ?? '',
    };
  };
}

async function account(api: Api, email: string) {
  await api('POST', '/v1/auth/signup', { email, password, name: 'Bench', tenantName: email });
  const login = await api('POST', '/v1/auth/login', { email, password });
  return { tenantId: login.json.tenantId as string, token: login.json.accessToken as string };
}

async function ended(api: Api, path: string, token: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { json } = await api('GET', path, undefined, token);
    if (json?.status === 'succeeded' || json?.status === 'failed') return json;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} did not end`);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timedRuns() {
  process.env.DEFAULT_REQUESTS_PER_MINUTE = '1000000';
  const runtime = await startLocalRuntime({ port: 0, logLevel: 'ERROR', metricsIntervalMs: 60_000 });
  try {
    const api = client(runtime);
    const owner = await account(api, 'timing@example.com');
    const steps = new Map<string, number[]>();
    const totals: number[] = [];
    for (let i = 0; i < TIMED_RUNS; i += 1) {
      const started = Date.now();
      const created = await api(
        'POST',
        `/v1/tenants/${owner.tenantId}/servers`,
        { name: `timed-${i}`, provider: 'local' },
        owner.token,
      );
      const operation = await ended(api, created.location, owner.token);
      totals.push(Date.now() - started);
      if (operation.status !== 'succeeded') throw new Error(`timed run ${i} ended ${operation.status}`);
      for (const step of operation.steps as { name: string; startedAt: string; endedAt: string }[]) {
        steps.set(step.name, [
          ...(steps.get(step.name) ?? []),
          Date.parse(step.endedAt) - Date.parse(step.startedAt),
        ]);
      }
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const transitions = runtime.stepFunctions.executions().map((e) => e.transitions);
    const lines = [
      `Local provisioning, POST to active (${TIMED_RUNS} runs; as in npm start, each Wait state lasts 1 s, where AWS waits 5 s for the VM and the agent, 3 s for the bootstrap and 2 s for the health check):`,
      `  total: mean ${seconds(mean(totals))}, min ${seconds(Math.min(...totals))}, max ${seconds(Math.max(...totals))}`,
      ...[...steps].map(([name, values]) => `  ${name.padEnd(13)} mean ${seconds(mean(values))}`),
      `  state transitions per run: ${transitions.join(', ')} (mean ${mean(transitions).toFixed(1)})`,
    ];
    process.stdout.write(`${lines.join('\n')}\n\n`);
  } finally {
    await runtime.stop();
  }
}

const faults = [
  'none',
  'provider-429',
  'provider-5xx',
  'lost-answer',
  'never-online',
  'bootstrap-fails',
  'health-fails',
  'cancelled',
] as const;
type Fault = (typeof faults)[number];

async function faultInjection() {
  const hostOf = new Map<string, string>();
  const silent = new Set<string>();
  let runtime: LocalRuntime | undefined;
  const hetzner = await startFakeProvider('hetzner', {
    token: 'bench-hetzner-token',
    bootMs: 10,
    onCreate: (machine: FakeMachine) => {
      // a VM whose agent never registers: its user data never runs
      if (silent.has(machine.name)) return;
      const booted = runtime?.hosts.handle('POST', '/v1/hosts', {
        name: machine.name,
        userData: machine.userData,
      });
      const hostId = (booted?.body as { host?: { id: string } } | undefined)?.host?.id;
      if (hostId) hostOf.set(machine.id, hostId);
    },
    onDelete: (machine: FakeMachine) => {
      const hostId = hostOf.get(machine.id);
      if (hostId) runtime?.hosts.handle('DELETE', `/v1/hosts/${hostId}`, undefined);
    },
  });
  process.env.HETZNER_API_URL = hetzner.baseUrl;
  runtime = await startLocalRuntime({
    port: 0,
    logLevel: 'SILENT',
    metricsIntervalMs: 60_000,
    waitMs: 20,
    retryIntervalMs: 20,
    hostBootDelayMs: 20,
    unavailablePackages: ['caddy'],
    crashingServices: ['redis-server'],
  });
  try {
    const api = client(runtime);
    const owner = await account(api, 'faults@example.com');
    await api(
      'PUT',
      `/v1/tenants/${owner.tenantId}/provider-credentials/hetzner`,
      { token: 'bench-hetzner-token' },
      owner.token,
    );
    let seed = 20261127;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const outcomes = new Map<string, number>();
    const runs: { fault: Fault; path: string; serverId: string }[] = [];
    for (let i = 0; i < FAULT_RUNS; i += 1) {
      const fault = faults[Math.floor(random() * faults.length)] ?? 'none';
      const name = `fault-${i}`;
      if (fault === 'provider-429') hetzner.failOn('POST', '/v1/servers', 429, 429);
      if (fault === 'provider-5xx') hetzner.failOn('POST', '/v1/servers', ...Array(10).fill(503));
      if (fault === 'lost-answer') hetzner.loseAnswerOn('POST', '/v1/servers', 504);
      if (fault === 'never-online' || fault === 'cancelled') silent.add(name);
      const created = await api(
        'POST',
        `/v1/tenants/${owner.tenantId}/servers`,
        {
          name,
          provider: 'hetzner',
          region: 'fsn1',
          size: 'cx22',
          stack: {
            webServer: fault === 'bootstrap-fails' ? 'caddy' : 'nginx',
            redis: fault === 'health-fails',
          },
        },
        owner.token,
      );
      if (created.status !== 202)
        throw new Error(`run ${i}: ${created.status} ${JSON.stringify(created.json)}`);
      runs.push({ fault, path: created.location, serverId: created.json.id });
      if (fault === 'cancelled') {
        // cancel while the workflow waits for an agent that never comes
        for (let polls = 0; polls < 600; polls += 1) {
          const { json } = await api('GET', created.location, undefined, owner.token);
          const waitForAgent = json.steps.find((s: { name: string }) => s.name === 'waitForAgent');
          if (waitForAgent?.status === 'running') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const cancel = await api('POST', `${created.location}/cancel`, undefined, owner.token);
        const decommission = await ended(api, cancel.location, owner.token);
        const key = `cancelled -> decommission ${decommission.status}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        continue;
      }
      const operation = await ended(api, created.location, owner.token);
      hetzner.clearFaults();
      const key = `${fault} -> ${operation.status}${operation.error ? ` (${operation.error.code})` : ''}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    // Decommission every active server, each with one provider 5xx on its delete.
    let decommissioned = 0;
    for (const run of runs) {
      const server = await api(
        'GET',
        `/v1/tenants/${owner.tenantId}/servers/${run.serverId}`,
        undefined,
        owner.token,
      );
      if (server.json.status !== 'active' || random() < 0.5) continue;
      const deleted = await api(
        'DELETE',
        `/v1/tenants/${owner.tenantId}/servers/${run.serverId}`,
        undefined,
        owner.token,
      );
      const machineId = [...hetzner.machines.values()].find((m) => m.name === server.json.name)?.id;
      if (machineId) hetzner.failOn('DELETE', `/v1/servers/${machineId}`, 503);
      const operation = await ended(api, deleted.location, owner.token);
      if (operation.status === 'succeeded') decommissioned += 1;
    }

    // What is left must be exactly what the remaining active servers own.
    const platform = await getPlatform();
    const items = await platform.store.query<ServerItem>({
      pk: serverKeys.item(owner.tenantId, '').pk,
      skPrefix: serverKeys.prefix,
      limit: 1000,
      tenantId: owner.tenantId,
      scope: 'bench',
    });
    const active = items.items.filter((s) => s.status === 'active');
    const holding = items.items.filter((s) => s.status === 'active' || s.status === 'provisioning');
    const counters = await platform.store.get<StoredItem>(counterKeys.item(owner.tenantId), true);
    const inventory = runtime.ssm.inventory();
    const activeInstances = new Set(active.map((s) => s.instanceId));
    const activeActivations = new Set(active.map((s) => s.activationId));
    const activeHosts = new Set(active.map((s) => s.hostId));
    const leaks = {
      vms: [...hetzner.machines.keys()].filter((id) => !activeHosts.has(id)).length,
      localHosts: runtime.hosts.list().length - active.length,
      managedInstances: inventory.instances.filter((id) => !activeInstances.has(id)).length,
      activations: inventory.activations.filter((id) => !activeActivations.has(id)).length,
      quotaUnits: Number(counters?.used_servers ?? 0) - holding.length,
    };
    const lines = [
      `Fault injection: ${FAULT_RUNS} provisionings at a fake Hetzner Cloud, a fault at a random step each; then ${decommissioned} active servers decommissioned with a provider 503 on each delete`,
      ...[...outcomes].sort().map(([k, n]) => `  ${k}: ${n}`),
      `  left: ${active.length} active servers, ${hetzner.machines.size} VMs, ${inventory.instances.length} managed instances, ${inventory.activations.length} activations, ${Number(counters?.used_servers ?? 0)} quota units`,
      `  leaked (not owned by an active server): VMs ${leaks.vms}, local hosts ${leaks.localHosts}, managed instances ${leaks.managedInstances}, activations ${leaks.activations}, quota units ${leaks.quotaUnits} (target: all 0)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await runtime.stop();
    await hetzner.stop();
  }
}

/** One part per process: each starts its own local runtime, and a process holds one. */
async function main() {
  const part = process.argv[2];
  if (part === 'timing') await timedRuns();
  else if (part === 'faults') await faultInjection();
  else throw new Error('Say which part: timing or faults');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
