import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { monotonicFactory } from 'ulid';
import { jsonFile } from './json-file';
import { makeMachineSampler } from './machine-sampler';
import type { AgentDirectory, CommandResult, CommandToRun, LocalSsm } from './ssm';

const SHIM = join(dirname(fileURLToPath(import.meta.url)), 'host-shim.sh');
const SANDBOX_ENTER = join(dirname(fileURLToPath(import.meta.url)), 'sandbox-enter.sh');

/**
 * Whether hosts run their commands in a mount namespace of their own, where the real web
 * server and PHP-FPM serve the host's sites (sandbox-enter.sh): as root, which `unshare -m`
 * needs. Otherwise the host shim records what a daemon would do, as before.
 */
export const sandboxesServe = (): boolean =>
  process.getuid?.() === 0 && process.env.VIP_LOCAL_HOSTS_SERVE !== '0';

/** A command line run in a host's sandbox: its mount namespace when hosts serve, else as it is. */
const inSandbox = (root: string, command: string[]): [string, string[]] =>
  sandboxesServe()
    ? ['unshare', ['-m', '--propagation', 'private', SANDBOX_ENTER, root, ...command]]
    : [command[0] as string, command.slice(1)];
const METRICS_SERVICE = 'vip-metrics-agent';

interface HostRecord {
  id: string;
  name: string;
  region: string;
  size: string;
  labels: Record<string, string>;
  userData: string;
  status: 'creating' | 'running';
  ipv4: string;
  /** the loopback port its web server listens on */
  httpPort?: number;
  /** the loopback port its web server serves HTTPS on */
  httpsPort?: number;
  /** the loopback port its database engine listens on */
  databasePort?: number;
  instanceId?: string;
  createdAt: string;
}

export interface LocalHostsOptions {
  /** where sandboxes live; each host's root file system is a folder here */
  hostsDir: string;
  /** the host registry file; none keeps it in memory */
  registryPath?: string | undefined;
  ssm: LocalSsm;
  kinesis: KinesisClient;
  streamName: string;
  bootDelayMs: number;
  pingIntervalMs: number;
  metricsIntervalMs: number;
  /** packages the sandbox's package shim reports as missing, as apt would */
  unavailablePackages?: string[];
  /** units the sandbox's service shim reports as not active after they were enabled, as a crashed service is */
  crashingServices?: string[];
  /** the database engines a stack names run for real (false: recorded, as without the packages) */
  databaseEngines?: boolean;
  /** servers (by their `vip-server-id` label) whose reset the provider accepts and never carries out */
  resetsIgnoredFor?: string[];
  log: (message: string) => void;
}

interface Agent {
  timers: NodeJS.Timeout[];
  children: Set<ChildProcess>;
  /** the processes of each running command, so that a cancel stops exactly its own */
  commands: Map<string, Set<ChildProcess>>;
  /** commands cancelled before or while they ran; none of their steps start any more */
  cancelled: Set<string>;
  metrics?: NodeJS.Timeout;
  /** set while the host restarts: its agent is offline, and resolves once it is back */
  rebooting?: Promise<void> | undefined;
  /** set while the agent has lost its connection to SSM: commands wait, as SSM holds them Pending */
  disconnected?: { until: Promise<void>; reconnect: () => void } | undefined;
}

/**
 * Kills a command's script and everything it started (its process group), as the SSM agent
 * stops a command it cancels or times out; a script's children do not outlive it.
 */
function killTree(child: ChildProcess) {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** SSM's exit code for "reboot the host, then run this script again". */
const REBOOT_EXIT_CODE = 194;

/**
 * Local hosts: a provider API that "creates servers" as sandboxed root folders on this
 * machine, and for each one an agent that boots it from its cloud-init user data (SSM
 * registration), pings, runs Run Command scripts under bash and, once the bootstrap has
 * enabled the metrics agent, streams samples of this machine into Kinesis.
 */
export function makeLocalHosts(options: LocalHostsOptions) {
  const registry = jsonFile(options.registryPath, { hosts: {} as Record<string, HostRecord> });
  const agents = new Map<string, Agent>();
  const ulid = monotonicFactory();
  const hostDir = (id: string) => join(options.hostsDir, id);
  const rootOf = (id: string) => join(hostDir(id), 'root');

  function boot(host: HostRecord) {
    const agent: Agent = { timers: [], children: new Set(), commands: new Map(), cancelled: new Set() };
    agents.set(host.id, agent);
    const start = () => {
      if (!registry.data.hosts[host.id]) return;
      if (!host.instanceId) {
        const registration = /-code "([^"]+)" -id "([^"]+)"/.exec(host.userData);
        if (!registration?.[1] || !registration[2]) {
          options.log(`host ${host.id}: user data has no SSM registration; the agent stays unregistered`);
          return;
        }
        try {
          host.instanceId = options.ssm.register(registration[1], registration[2], {
            computerName: host.name,
            ip: host.ipv4,
          }).InstanceId;
        } catch (error) {
          options.log(`host ${host.id}: registration failed: ${(error as Error).message}`);
          return;
        }
        host.status = 'running';
        registry.save();
      }
      const instanceId = host.instanceId;
      newBootId(host.id);
      daemons(host, 'boot');
      options.ssm.ping(instanceId);
      agent.timers.push(setInterval(() => options.ssm.ping(instanceId), options.pingIntervalMs));
      maybeStartMetrics(host);
    };
    agent.timers.push(setTimeout(start, options.bootDelayMs));
  }

  /** What every script on a host runs with: its root, its shim, its web server's address. */
  function hostEnvironment(host: HostRecord): NodeJS.ProcessEnv {
    return {
      PATH: `${join(hostDir(host.id), 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: rootOf(host.id),
      LANG: 'C.UTF-8',
      VIP_HOST_ROOT: rootOf(host.id),
      VIP_SANDBOXED: sandboxesServe() ? '1' : '',
      VIP_HTTP_ADDRESS: '127.0.0.1',
      VIP_HTTP_PORT: String(host.httpPort ?? 0),
      VIP_HTTPS_PORT: String(host.httpsPort ?? 0),
      VIP_DATABASE_PORT: String(host.databasePort ?? 0),
      // PostgreSQL's clients find the host's own engine by its port (the socket's name)
      ...(host.databasePort ? { PGPORT: String(host.databasePort) } : {}),
      VIP_UNAVAILABLE_PACKAGES: (options.unavailablePackages ?? []).join(' '),
      VIP_CRASHING_SERVICES: (options.crashingServices ?? []).join(' '),
      VIP_DATABASE_ENGINES: options.databaseEngines === false ? '' : '1',
    };
  }

  /** Starts (`boot`) or stops (`shutdown`) the host's real daemons, as systemd does when a machine starts or stops. */
  function daemons(host: HostRecord, action: 'boot' | 'shutdown') {
    if (!sandboxesServe() || !existsSync(rootOf(host.id))) return;
    const [program, args] = inSandbox(rootOf(host.id), [join(hostDir(host.id), 'bin', 'vip-host'), action]);
    const result = spawnSync(program, args, {
      env: hostEnvironment(host),
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (result.status !== 0) options.log(`host ${host.id}: ${action} failed: ${result.stderr}`);
  }

  /** Each boot of a host has its own id, where Linux keeps it (relative to the sandbox's root). */
  function newBootId(id: string) {
    const file = join(rootOf(id), 'proc/sys/kernel/random/boot_id');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomUUID()}\n`);
  }

  /** Restarts a host as a machine would: its agent goes offline, boots again after the boot delay, pings again. */
  function reboot(host: HostRecord, agent: Agent): Promise<void> {
    agent.rebooting ??= restart(host, agent).finally(() => {
      agent.rebooting = undefined;
    });
    return agent.rebooting;
  }

  async function restart(host: HostRecord, agent: Agent) {
    options.log(`host ${host.id}: rebooting`);
    for (const timer of agent.timers) clearTimeout(timer);
    agent.timers = [];
    if (agent.metrics) clearInterval(agent.metrics);
    delete agent.metrics;
    daemons(host, 'shutdown');
    await new Promise((resolve) => setTimeout(resolve, options.bootDelayMs));
    if (!agents.has(host.id) || !host.instanceId) return;
    const instanceId = host.instanceId;
    newBootId(host.id);
    daemons(host, 'boot');
    options.ssm.ping(instanceId);
    agent.timers.push(setInterval(() => options.ssm.ping(instanceId), options.pingIntervalMs));
    maybeStartMetrics(host);
  }

  /** The provider's reset button: what runs is killed, and the host boots again. */
  function hardReset(host: HostRecord) {
    const agent = agents.get(host.id);
    if (!agent) return;
    if (options.resetsIgnoredFor?.includes(host.labels['vip-server-id'] ?? '')) {
      options.log(`host ${host.id}: reset accepted and not carried out`);
      return;
    }
    for (const child of agent.children) killTree(child);
    void reboot(host, agent);
  }

  function servicesOf(id: string): string[] {
    const file = join(rootOf(id), 'var/lib/vip/services');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  }

  function maybeStartMetrics(host: HostRecord) {
    const agent = agents.get(host.id);
    const instance = host.instanceId ? options.ssm.instance(host.instanceId) : undefined;
    if (!agent || agent.metrics || !instance || !servicesOf(host.id).includes(METRICS_SERVICE)) return;
    const tenantId = instance.tags['vip:tenantId'];
    const serverId = instance.tags['vip:serverId'];
    if (!tenantId || !serverId) return;
    const sample = makeMachineSampler(rootOf(host.id));
    const send = async () => {
      const record = { sampleId: ulid(), tenantId, serverId, at: new Date().toISOString(), ...sample() };
      try {
        await options.kinesis.send(
          new PutRecordCommand({
            StreamName: options.streamName,
            PartitionKey: serverId,
            Data: Buffer.from(JSON.stringify(record)),
          }),
        );
      } catch (error) {
        options.log(`host ${host.id}: metrics not sent: ${(error as Error).message}`);
      }
    };
    // The first sample goes out after one interval, so CPU and network rates cover a whole one.
    agent.metrics = setInterval(send, options.metricsIntervalMs);
  }

  function runStep(
    host: HostRecord,
    agent: Agent,
    command: CommandToRun,
    step: CommandToRun['steps'][number],
  ) {
    const workDir = join(hostDir(host.id), 'commands', command.commandId);
    mkdirSync(workDir, { recursive: true });
    const script = join(workDir, `${step.name}.sh`);
    writeFileSync(script, step.script, { mode: 0o700 });
    return new Promise<CommandResult>((resolve) => {
      const [program, args] = inSandbox(rootOf(host.id), ['bash', script]);
      const child = spawn(program, args, {
        // its own process group, so that a cancel or a timeout stops what it started too
        detached: true,
        cwd: rootOf(host.id),
        env: {
          ...hostEnvironment(host),
          AWS_SSM_INSTANCE_ID: host.instanceId ?? '',
          AWS_SSM_REGION_NAME: host.region,
        },
      });
      agent.children.add(child);
      const ofCommand = agent.commands.get(command.commandId) ?? new Set<ChildProcess>();
      agent.commands.set(command.commandId, ofCommand.add(child));
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        command.output?.(step.name, 'stdout', chunk.toString());
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        command.output?.(step.name, 'stderr', chunk.toString());
      });
      const timer = setTimeout(() => {
        timedOut = true;
        killTree(child);
      }, step.timeoutSeconds * 1000);
      child.on('close', (code) => {
        clearTimeout(timer);
        agent.children.delete(child);
        ofCommand.delete(child);
        const exitCode = timedOut ? -1 : (code ?? -1);
        resolve({
          status: timedOut ? 'TimedOut' : exitCode === 0 ? 'Success' : 'Failed',
          exitCode,
          stdout,
          stderr,
        });
      });
    });
  }

  const agentOf = (instanceId: string) => {
    const host = Object.values(registry.data.hosts).find((h) => h.instanceId === instanceId);
    return host ? agents.get(host.id) : undefined;
  };

  const directory: AgentDirectory = {
    cancel(instanceId, commandId) {
      const agent = agentOf(instanceId);
      if (!agent) return;
      // as the SSM agent does: the command's processes are killed, and what has not started never does
      agent.cancelled.add(commandId);
      for (const child of agent.commands.get(commandId) ?? []) killTree(child);
    },
    isOnline(instanceId) {
      return Object.values(registry.data.hosts).some(
        (h) =>
          h.instanceId === instanceId &&
          agents.has(h.id) &&
          !agents.get(h.id)?.rebooting &&
          !agents.get(h.id)?.disconnected,
      );
    },
    run(instanceId, command) {
      const host = Object.values(registry.data.hosts).find((h) => h.instanceId === instanceId);
      const agent = host ? agents.get(host.id) : undefined;
      if (!host || !agent) return undefined;
      return (async () => {
        // a command sent while the host restarts (or its agent is cut off) reaches the agent once
        // it is back, as SSM delivers it
        while (agent.rebooting || agent.disconnected) {
          await agent.rebooting;
          await agent.disconnected?.until;
        }
        options.log(`host ${host.id}: running command ${command.commandId} (${command.comment})`);
        const combined: CommandResult = { status: 'Success', exitCode: 0, stdout: '', stderr: '' };
        for (const step of command.steps) {
          if (agent.cancelled.has(command.commandId)) break;
          let result = await runStep(host, agent, command, step);
          // as the SSM agent does: reboot, then run the same script again (it finds its own marker)
          for (let reboots = 0; result.exitCode === REBOOT_EXIT_CODE && reboots < 5; reboots++) {
            combined.stdout += result.stdout;
            combined.stderr += result.stderr;
            await reboot(host, agent);
            if (!agents.has(host.id)) break;
            result = await runStep(host, agent, command, step);
          }
          combined.stdout += result.stdout;
          combined.stderr += result.stderr;
          combined.exitCode = result.exitCode;
          combined.status = result.status;
          if (result.status !== 'Success') break;
        }
        agent.commands.delete(command.commandId);
        agent.cancelled.delete(command.commandId);
        maybeStartMetrics(host);
        return combined;
      })();
    },
  };
  options.ssm.attachAgents(directory);

  function stopAgent(id: string) {
    const agent = agents.get(id);
    if (!agent) return;
    for (const timer of agent.timers) clearTimeout(timer);
    if (agent.metrics) clearInterval(agent.metrics);
    for (const child of agent.children) killTree(child);
    agents.delete(id);
    const host = registry.data.hosts[id];
    if (host) daemons(host, 'shutdown');
  }

  // Hosts kept from an earlier run start again, as machines would after a reboot.
  for (const host of Object.values(registry.data.hosts)) boot(host);

  return {
    /** The provider API: POST /v1/hosts, GET /v1/hosts?label=k=v, GET and DELETE /v1/hosts/{id}, POST /v1/hosts/{id}/reboot (a reset). */
    handle(method: string, url: string, body: unknown): { status: number; body?: unknown } {
      const [path = '', query = ''] = url.split('?');
      const match = /^\/v1\/hosts(?:\/([A-Za-z0-9_-]+))?(\/reboot)?$/.exec(path);
      if (!match) return { status: 404, body: { error: { code: 'not_found', message: 'No such route' } } };
      const id = match[1];
      if (!id && method === 'GET') {
        const label = new URLSearchParams(query).get('label') ?? '';
        const [key = '', value = ''] = label.split(/=(.*)/s);
        const hosts = Object.values(registry.data.hosts).filter((h) => !key || h.labels[key] === value);
        return { status: 200, body: { hosts: hosts.map(view) } };
      }
      if (!id && method === 'POST') {
        const input = (body ?? {}) as Partial<HostRecord>;
        if (typeof input.name !== 'string' || typeof input.userData !== 'string') {
          return {
            status: 422,
            body: { error: { code: 'invalid_input', message: 'name and userData are required' } },
          };
        }
        const host: HostRecord = {
          id: `host_${randomBytes(8).toString('hex')}`,
          name: input.name,
          region: String(input.region ?? 'local-1'),
          size: String(input.size ?? 'small'),
          labels: input.labels ?? {},
          userData: input.userData,
          status: 'creating',
          ipv4: '127.0.0.1',
          httpPort: freeLoopbackPort(Object.values(registry.data.hosts)),
          createdAt: new Date().toISOString(),
        };
        mkdirSync(rootOf(host.id), { recursive: true });
        mkdirSync(join(hostDir(host.id), 'bin'), { recursive: true });
        copyFileSync(SHIM, join(hostDir(host.id), 'bin', 'vip-host'));
        chmodSync(join(hostDir(host.id), 'bin', 'vip-host'), 0o755);
        host.httpsPort = freeLoopbackPort([...Object.values(registry.data.hosts), host]);
        host.databasePort = freeLoopbackPort([...Object.values(registry.data.hosts), host]);
        registry.data.hosts[host.id] = host;
        registry.save();
        boot(host);
        options.log(`host ${host.id}: created for ${host.name}`);
        return { status: 201, body: { host: view(host) } };
      }
      const host = id ? registry.data.hosts[id] : undefined;
      if (!host)
        return { status: 404, body: { error: { code: 'not_found', message: `Host ${id ?? ''} not found` } } };
      if (match[2]) {
        if (method !== 'POST')
          return { status: 405, body: { error: { code: 'method_not_allowed', message: method } } };
        hardReset(host);
        return { status: 202, body: { host: view(host) } };
      }
      if (method === 'GET') return { status: 200, body: { host: view(host) } };
      if (method === 'DELETE') {
        stopAgent(host.id);
        rmSync(hostDir(host.id), { recursive: true, force: true });
        delete registry.data.hosts[host.id];
        registry.save();
        options.log(`host ${host.id}: deleted`);
        return { status: 204 };
      }
      return { status: 405, body: { error: { code: 'method_not_allowed', message: method } } };
    },
    /** Cuts a host's agent off from SSM (a network fault): it stops answering, and commands wait. */
    disconnect(id: string) {
      const agent = agents.get(id);
      if (!agent || agent.disconnected) return;
      let reconnect = () => {};
      const until = new Promise<void>((resolve) => {
        reconnect = resolve;
      });
      agent.disconnected = { until, reconnect };
    },
    /** Connects it again: commands SSM held for it run now. */
    reconnect(id: string) {
      const agent = agents.get(id);
      const disconnected = agent?.disconnected;
      if (!agent || !disconnected) return;
      agent.disconnected = undefined;
      disconnected.reconnect();
    },
    /** The hosts that exist now (for fault-injection counts and tests). */
    list: () => Object.values(registry.data.hosts).map(view),
    rootOf,
    stop() {
      for (const id of [...agents.keys()]) stopAgent(id);
    },
  };
}

/**
 * A loopback port for a new host's web server: one no other host has, in a range kept clear
 * of ephemeral ports (Linux hands those out from 32768).
 */
function freeLoopbackPort(hosts: HostRecord[]): number {
  const taken = new Set(hosts.flatMap((h) => [h.httpPort, h.httpsPort, h.databasePort]));
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!taken.has(port)) return port;
  }
}

const view = (host: HostRecord) => ({
  id: host.id,
  name: host.name,
  status: host.status,
  ipv4: host.ipv4,
  httpPort: host.httpPort ?? null,
  httpsPort: host.httpsPort ?? null,
  databasePort: host.databasePort ?? null,
  instanceId: host.instanceId ?? null,
  labels: host.labels,
  createdAt: host.createdAt,
});

export type LocalHosts = ReturnType<typeof makeLocalHosts>;
