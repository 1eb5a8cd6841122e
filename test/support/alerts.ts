import { createServer, type Server } from 'node:http';
import type { KinesisStreamEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { expect } from 'vitest';
import { handler as aggregate } from '../../functions/metrics/aggregator';
import { serverKeys } from '../../layers/model/servers';
import { getPlatform } from '../../layers/runtime/platform';
import type { LocalRuntime } from '../../scripts/local/runtime';

/** A webhook receiver whose answers a test scripts; it keeps what it received. */
export interface Receiver {
  url: string;
  received: { at: number; body: string; signature: string; eventId: string }[];
  answers: number[];
  server: Server;
}
const receivers: Receiver[] = [];

/** Closes every receiver made. */
export const closeReceivers = () => {
  for (const r of receivers.splice(0)) r.server.close();
};

export async function receiver(answers: number[] = []): Promise<Receiver> {
  const state: Omit<Receiver, 'url' | 'server'> = { received: [], answers: [...answers] };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      state.received.push({
        at: Date.now(),
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(request.headers['x-vip-signature'] ?? ''),
        eventId: String(request.headers['x-vip-event-id'] ?? ''),
      });
      response.writeHead(state.answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  const made = { ...state, url: `http://127.0.0.1:${address.port}/hook`, server } as Receiver;
  // the handler above writes to `state`; expose the same arrays
  made.received = state.received;
  made.answers = state.answers;
  receivers.push(made);
  return made;
}

/** A registered server of the tenant's (its host is not needed: the test sends its samples). */
export async function server(tenantId: string, name: string, tags: string[]) {
  const id = `srv_${ulid().toLowerCase()}`;
  const platform = await getPlatform();
  await platform.store.put({
    ...serverKeys.item(tenantId, id),
    entity: 'server',
    id,
    tenantId,
    name,
    provider: 'local',
    region: 'local',
    size: 'small',
    status: 'active',
    tags,
    lastOperationId: 'op_none',
    createdAt: new Date().toISOString(),
    version: 1,
  } as never);
  return id;
}

let sequence = 1_000_000;
/** when the scripted series begin: the start of an hour, three hours or so ago */
export const start = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000;
/** One v2 sample of a server `seconds` after the series' start, with its CPU and PHP-FPM's state. */
export const sample = (
  tenantId: string,
  serverId: string,
  seconds: number,
  cpu: number,
  options: {
    phpFpm?: 'up' | 'down';
    memoryUsedBytes?: number;
    sites?: { siteId: string; requestsPerSecond: number; errorRate5xx: number; responseTimeMs: number }[];
  } = {},
) => ({
  v: 2,
  sampleId: `smp-${serverId}-${seconds}`,
  tenantId,
  serverId,
  at: new Date(start + seconds * 1000).toISOString(),
  cpuPercent: cpu,
  load: { one: 0.5, five: 0.4, fifteen: 0.3 },
  memory: { usedBytes: options.memoryUsedBytes ?? 1e9, totalBytes: 4e9 },
  swap: { usedBytes: 0, totalBytes: 1e9 },
  disks: [{ mount: '/', usedBytes: 1e10, totalBytes: 4e10, inodesUsed: 1000, inodesTotal: 100000 }],
  network: { rxBytesPerSecond: 100, txBytesPerSecond: 100 },
  services: { webServer: 'up', phpFpm: options.phpFpm ?? 'up' },
  ...(options.sites ? { sites: options.sites } : {}),
});

/**
 * Delivers samples to the aggregator as Kinesis does, each a batch of its own (a host's samples
 * arrive 10 s apart), and waits for the bus's targets.
 */
export async function deliver(runtime: LocalRuntime, samples: ReturnType<typeof sample>[]) {
  for (const s of samples) {
    sequence += 1;
    const answer = await aggregate({
      Records: [
        {
          kinesis: {
            data: Buffer.from(JSON.stringify(s)).toString('base64'),
            sequenceNumber: String(sequence),
            partitionKey: s.serverId,
          },
        },
      ],
    } as unknown as KinesisStreamEvent);
    expect(answer.batchItemFailures).toEqual([]);
  }
  await runtime.eventBus.settle();
}
