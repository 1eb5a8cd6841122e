import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { kinesisClient } from './local/engines';

/**
 * Puts realistic host samples into the metrics stream, as a fleet's agents would: version 2
 * samples with a diurnal curve per host (each at its own phase), CPU spikes, hosts going silent
 * for a while, and records sent twice (an agent's retry). Deterministic for a seed.
 *
 *   npm run loadgen -- --hosts 1000 --interval 10s --duration 5m
 *
 * Against `npm start` by default (its stream, from .data/control-plane.lock), or --endpoint and
 * --stream. The samples belong to --tenant (default: a tenant of the generator's own).
 */

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A ULID-shaped id from a seed and a name: the same fleet for the same seed. */
export function idFor(prefix: string, seed: number, name: string): string {
  const hash = createHash('sha256').update(`${seed}/${name}`).digest();
  let id = '';
  for (let i = 0; i < 26; i += 1) id += ALPHABET[(hash[i] ?? 0) % 32];
  return `${prefix}_${id}`;
}

/** A small seeded generator (mulberry32): every run with a seed makes the same fleet and events. */
export function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface FleetOptions {
  hosts: number;
  seed: number;
  tenantId: string;
  /** the share of records sent twice */
  duplicates: number;
  /** the chance per tick that a host goes silent (for 3 to 30 ticks) */
  silence: number;
  /** the chance per tick that a host's CPU spikes (for 2 to 8 ticks) */
  spikes: number;
}

interface Host {
  serverId: string;
  phase: number;
  base: number;
  memoryTotal: number;
  diskTotal: number;
  disk: number;
  sites: string[];
  silentFor: number;
  spikeFor: number;
}

/** One sample a tick makes, and whether it goes out twice. */
export interface Generated {
  serverId: string;
  record: Record<string, unknown>;
  twice: boolean;
}

/** A fleet of hosts whose `tick(at)` makes each live host's sample for that moment. */
export function makeFleet(options: FleetOptions) {
  const rand = random(options.seed);
  const hosts: Host[] = Array.from({ length: options.hosts }, (_, i) => ({
    serverId: idFor('srv', options.seed, `host-${i}`),
    phase: rand(),
    base: 10 + rand() * 30,
    memoryTotal: ([2, 4, 8, 16, 32][Math.floor(rand() * 5)] as number) * 2 ** 30,
    diskTotal: ([40, 80, 160, 320][Math.floor(rand() * 4)] as number) * 2 ** 30,
    disk: 0.2 + rand() * 0.5,
    sites: Array.from({ length: Math.floor(rand() * 6) }, (_, s) =>
      idFor('ste', options.seed, `host-${i}-site-${s}`),
    ),
    silentFor: 0,
    spikeFor: 0,
  }));
  let sequence = 0;
  return {
    hosts,
    tick(at: Date): Generated[] {
      const out: Generated[] = [];
      const day = ((at.getTime() / 3_600_000) % 24) / 24;
      for (const host of hosts) {
        if (host.silentFor > 0) {
          host.silentFor -= 1;
          continue;
        }
        if (rand() < options.silence) {
          host.silentFor = 3 + Math.floor(rand() * 28);
          continue;
        }
        if (host.spikeFor > 0) host.spikeFor -= 1;
        else if (rand() < options.spikes) host.spikeFor = 2 + Math.floor(rand() * 7);
        // busiest in the host's own afternoon, quietest at its night
        const diurnal = (Math.sin(2 * Math.PI * (day + host.phase)) + 1) / 2;
        const cpu =
          host.spikeFor > 0 ? 90 + rand() * 10 : Math.min(100, host.base + 40 * diurnal + rand() * 8);
        const load = (cpu / 100) * 4 * (0.8 + rand() * 0.4);
        host.disk = Math.min(0.98, host.disk + rand() * 1e-5);
        sequence += 1;
        out.push({
          serverId: host.serverId,
          twice: rand() < options.duplicates,
          record: {
            v: 2,
            sampleId: `${host.serverId.slice(4, 14)}${at.getTime().toString(36)}${sequence.toString(36)}`,
            tenantId: options.tenantId,
            serverId: host.serverId,
            at: at.toISOString(),
            cpuPercent: Math.round(cpu * 100) / 100,
            load: { one: load, five: load * 0.9, fifteen: load * 0.8 },
            memory: {
              usedBytes: Math.floor(host.memoryTotal * (0.35 + 0.4 * diurnal)),
              totalBytes: host.memoryTotal,
            },
            swap: { usedBytes: Math.floor(2 ** 30 * 0.05 * diurnal), totalBytes: 2 ** 30 },
            disks: [
              {
                mount: '/',
                usedBytes: Math.floor(host.diskTotal * host.disk),
                totalBytes: host.diskTotal,
                inodesUsed: Math.floor(2_600_000 * host.disk),
                inodesTotal: 2_600_000,
              },
            ],
            network: {
              rxBytesPerSecond: Math.floor(2e6 * diurnal * (cpu / 50)),
              txBytesPerSecond: Math.floor(6e6 * diurnal * (cpu / 50)),
            },
            services: { webServer: 'up', phpFpm: 'up', database: host.spikeFor > 6 ? 'down' : 'up' },
            sites: host.sites.map((siteId) => ({
              siteId,
              requestsPerSecond: Math.round(50 * diurnal * (0.5 + rand())),
              errorRate5xx: host.spikeFor > 0 ? 0.05 * rand() : 0.002 * rand(),
              responseTimeMs: Math.round((host.spikeFor > 0 ? 900 : 80) * (0.7 + rand() * 0.6)),
            })),
          },
        });
      }
      return out;
    },
  };
}

/** Sends records in PutRecords batches of 500, again for those the stream refused (throttled). */
export async function putAll(client: KinesisClient, streamName: string, entries: PutRecordsRequestEntry[]) {
  let failed = 0;
  let retried = 0;
  const batches: PutRecordsRequestEntry[][] = [];
  for (let i = 0; i < entries.length; i += 500) batches.push(entries.slice(i, i + 500));
  await Promise.all(
    batches.map(async (batch) => {
      let pending = batch;
      for (let attempt = 0; pending.length > 0 && attempt < 5; attempt += 1) {
        if (attempt > 0) {
          retried += pending.length;
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        }
        const answer = await client.send(new PutRecordsCommand({ StreamName: streamName, Records: pending }));
        pending = pending.filter((_, i) => answer.Records?.[i]?.ErrorCode);
      }
      failed += pending.length;
    }),
  );
  return { failed, retried };
}

/** `10s`, `5m`, `1h` or milliseconds. */
export const durationMs = (text: string): number => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`Not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
};

async function main() {
  const { values } = parseArgs({
    options: {
      hosts: { type: 'string', default: '1000' },
      interval: { type: 'string', default: '10s' },
      duration: { type: 'string', default: '5m' },
      seed: { type: 'string', default: '1' },
      tenant: { type: 'string' },
      duplicates: { type: 'string', default: '0.01' },
      silence: { type: 'string', default: '0.002' },
      spikes: { type: 'string', default: '0.003' },
      endpoint: { type: 'string' },
      stream: { type: 'string' },
    },
  });
  const lock = join(process.cwd(), '.data', 'control-plane.lock');
  const running = existsSync(lock)
    ? (JSON.parse(readFileSync(lock, 'utf8')) as { kinesis?: { endpoint: string; streamName: string } })
    : {};
  const endpoint = values.endpoint ?? running.kinesis?.endpoint;
  const streamName = values.stream ?? running.kinesis?.streamName;
  if (!endpoint || !streamName) {
    console.error('No stream: start the control plane (npm start), or give --endpoint and --stream');
    process.exit(2);
  }
  const seed = Number(values.seed);
  const fleet = makeFleet({
    hosts: Number(values.hosts),
    seed,
    tenantId: values.tenant ?? idFor('ten', seed, 'loadgen'),
    duplicates: Number(values.duplicates),
    silence: Number(values.silence),
    spikes: Number(values.spikes),
  });
  const client = kinesisClient(endpoint);
  const interval = durationMs(values.interval);
  const until = Date.now() + durationMs(values.duration);
  const totals = { records: 0, duplicates: 0, failed: 0, retried: 0, ticks: 0 };
  const started = Date.now();
  console.log(
    `${fleet.hosts.length} hosts every ${values.interval} for ${values.duration} into ${streamName} at ${endpoint}`,
  );
  while (Date.now() < until) {
    const tickStarted = Date.now();
    const generated = fleet.tick(new Date(tickStarted));
    const entries = generated.flatMap(({ serverId, record, twice }) => {
      const entry = { PartitionKey: serverId, Data: Buffer.from(JSON.stringify(record)) };
      return twice ? [entry, entry] : [entry];
    });
    const { failed, retried } = await putAll(client, streamName, entries);
    totals.ticks += 1;
    totals.records += entries.length;
    totals.duplicates += entries.length - generated.length;
    totals.failed += failed;
    totals.retried += retried;
    const silent = fleet.hosts.filter((h) => h.silentFor > 0).length;
    console.log(
      `${new Date(tickStarted).toISOString()} put ${entries.length} records (${entries.length - generated.length} twice, ${silent} hosts silent) in ${Date.now() - tickStarted} ms; ${failed} refused, ${retried} retried`,
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, interval - (Date.now() - tickStarted))));
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `Done: ${totals.records} records in ${totals.ticks} ticks (${(totals.records / seconds).toFixed(0)}/s), ${totals.duplicates} sent twice, ${totals.failed} refused after retries`,
  );
  client.destroy();
}

if (process.argv[1]?.endsWith('loadgen.ts')) await main();
