import type { KinesisStreamEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../../functions/metrics/aggregator';
import { foldClosedMinutes } from '../../../functions/metrics/fold';
import { SKETCH_RELATIVE_ACCURACY, toPoint } from '../../../functions/metrics/rollup';
import { sampleSchema } from '../../../functions/metrics/sample';
import { gauges } from '../../../layers/model/gauges';
import { bucketOf, type Resolution, type RollupItem, rollupKeys } from '../../../layers/model/rollups';
import { getPlatform } from '../../../layers/runtime/platform';
import { makeFleet } from '../../../scripts/loadgen';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { startTestRuntime } from '../../support/runtime';

/**
 * Metrics at three resolutions, exact under Kinesis' at-least-once delivery: the same samples
 * delivered once in order, and delivered twice, bisected, reordered and split across
 * invocations while the fold sweep runs between batches, give the same minutes, hours and days,
 * and those agree with a computation straight from the raw samples.
 */
let runtime: LocalRuntime;
// three hours of two hosts, a sample every 10 s, within the minutes' retention (two days)
const start = Math.floor((Date.now() - 13.5 * 3_600_000) / 600_000) * 600_000 + 5_000;
const TICKS = 3 * 360;

beforeAll(async () => {
  // the fold sweep runs when the test says, on the test's clock
  runtime = await startTestRuntime({ scheduleIntervalMs: 3_600_000 });
});
afterAll(async () => runtime?.stop());

const fleetFor = (tenantId: string) => {
  // no silent hosts: a silence would stretch a batch of 20 over more time than the reordering may span
  const fleet = makeFleet({ hosts: 2, seed: 11, tenantId, duplicates: 0, silence: 0, spikes: 0.02 });
  return Array.from({ length: TICKS }, (_, tick) => fleet.tick(new Date(start + tick * 10_000)))
    .flat()
    .map(({ record }) => record);
};

const asRecords = (samples: Record<string, unknown>[], from = 0) =>
  samples.map((sample, i) => ({
    kinesis: {
      data: Buffer.from(JSON.stringify(sample)).toString('base64'),
      sequenceNumber: String(1_000_000 + from + i),
      partitionKey: String(sample.serverId),
    },
  })) as unknown as KinesisStreamEvent['Records'];

const deliver = async (records: KinesisStreamEvent['Records']) => {
  const answer = await handler({ Records: records } as KinesisStreamEvent);
  expect(answer.batchItemFailures).toEqual([]);
};

/**
 * `value` with each number that is within a relative 1e-9 of the same place in `like` replaced by
 * that number: sums of the same floats added in another order differ in their last bits, and
 * rounding both to some digits can still land on either side of a boundary.
 */
const alignedTo = (value: unknown, like: unknown): unknown => {
  if (typeof value === 'number' && typeof like === 'number') {
    return Math.abs(value - like) <= 1e-9 * Math.max(1, Math.abs(like)) ? like : value;
  }
  if (Array.isArray(value) && Array.isArray(like)) return value.map((v, i) => alignedTo(v, like[i]));
  if (value && like && typeof value === 'object' && typeof like === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, alignedTo(v, (like as Record<string, unknown>)[k])]),
    );
  }
  return value;
};

async function foldAt(at: number) {
  const platform = await getPlatform();
  return foldClosedMinutes({ ...platform, clock: { now: () => new Date(at) } });
}

async function rollups(tenantId: string, serverId: string, resolution: Resolution) {
  const platform = await getPlatform();
  const items: RollupItem[] = [];
  for await (const page of platform.store.pages<RollupItem>({
    pk: rollupKeys.partition(tenantId, serverId, resolution),
  })) {
    items.push(...page);
  }
  // what a bucket says, not how it was written
  return items.map((item) => ({
    minute: item.minute,
    count: item.count,
    lastAt: item.lastAt,
    stats: item.stats,
    minutes: item.minutes,
    point: toPoint(item),
  }));
}

describe('Metrics at 1 minute, 1 hour and 1 day', () => {
  const clean = `ten_${ulid().toLowerCase()}`;
  const messy = `ten_${ulid().toLowerCase()}`;
  const cleanSamples = fleetFor(clean);
  const messySamples = fleetFor(messy);
  const servers = [...new Set(cleanSamples.map((s) => String(s.serverId)))];

  it('folds the same hours and days from a messy delivery as from a clean one', async () => {
    // clean: in order, once, in batches of 500; folded once at the end
    for (let i = 0; i < cleanSamples.length; i += 500) {
      await deliver(asRecords(cleanSamples.slice(i, i + 500), i));
    }
    // messy: batches of 20 (100 s of two hosts) each delivered twice (the second time bisected,
    // the halves swapped), reversed within the batch, each next batch sent before the one it
    // follows, with a poison record in each; the fold sweep runs between batches on the
    // delivery's own clock, so records come out of order by less than the fold's grace (5 min)
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < messySamples.length; i += 20) batches.push(messySamples.slice(i, i + 20));
    for (let b = 0; b < batches.length; b += 2) {
      for (const batch of [batches[b + 1], batches[b]]) {
        if (!batch) continue;
        const reversed = [...batch].reverse();
        const poison = {
          kinesis: { data: Buffer.from('{"not":"a sample"}').toString('base64'), sequenceNumber: '1' },
        };
        await deliver([...asRecords(reversed), poison] as KinesisStreamEvent['Records']);
        const half = Math.floor(reversed.length / 2);
        await deliver(asRecords(reversed.slice(half)));
        await deliver(asRecords(reversed.slice(0, half)));
        const newest = Math.max(...batch.map((s) => Date.parse(String(s.at))));
        await foldAt(newest);
      }
    }
    const end = start + TICKS * 10_000 + 600_000;
    expect((await foldAt(end)).folded).toBeGreaterThan(0);
    await foldAt(end);
    // a sweep again folds nothing: every minute once
    expect((await foldAt(end + 3_600_000)).folded).toBe(0);

    for (const serverId of servers) {
      const messyServer = serverId;
      for (const resolution of ['1m', '1h', '1d'] as const) {
        const a = await rollups(clean, serverId, resolution);
        const b = await rollups(messy, messyServer, resolution);
        // sums of floats added in another order differ in their last bits, nothing more
        expect(alignedTo(b, a), `${resolution} ${serverId}`).toEqual(a);
      }
    }
  });

  it("agrees with a computation from the raw samples, quantiles within the sketch's accuracy", async () => {
    for (const serverId of servers) {
      const raw = cleanSamples.filter((s) => s.serverId === serverId).map((s) => sampleSchema.parse(s));
      for (const resolution of ['1h', '1d'] as const) {
        const stored = await rollups(clean, serverId, resolution);
        const buckets = [...new Set(raw.map((s) => bucketOf(resolution, s.at)))];
        expect(stored.map((s) => s.minute)).toEqual(buckets);
        for (const bucket of stored) {
          const inside = raw.filter((s) => bucketOf(resolution, s.at) === bucket.minute);
          expect(bucket.count).toBe(inside.length);
          for (const gauge of gauges) {
            const values = inside.map((s) => (s as unknown as Record<string, number>)[gauge] as number);
            const stat = bucket.stats[gauge];
            expect(stat?.count).toBe(values.length);
            expect(stat?.sum).toBeCloseTo(
              values.reduce((x, y) => x + y, 0),
              6,
            );
            expect(stat?.min).toBe(Math.min(...values));
            expect(stat?.max).toBe(Math.max(...values));
            const newest = inside.reduce((x, y) => (y.at >= x.at ? y : x));
            expect(stat?.last).toBe((newest as unknown as Record<string, number>)[gauge]);
          }
          const cpu = inside.map((s) => s.cpuPercent).sort((x, y) => x - y);
          for (const [q, key] of [
            [0.5, 'p50'],
            [0.95, 'p95'],
            [0.99, 'p99'],
          ] as const) {
            const rank = q * (cpu.length - 1);
            const low = cpu[Math.floor(rank)] as number;
            const high = cpu[Math.ceil(rank)] as number;
            const estimate = bucket.point.quantiles?.cpuPercent?.[key] as number;
            expect(estimate).toBeGreaterThanOrEqual(low * (1 - SKETCH_RELATIVE_ACCURACY) - 0.01);
            expect(estimate).toBeLessThanOrEqual(high * (1 + SKETCH_RELATIVE_ACCURACY) + 0.01);
          }
        }
      }
    }
  });

  it('keeps a closed minute closed: a late sample changes neither it nor its hour', async () => {
    const serverId = servers[0] as string;
    const hourBefore = await rollups(clean, serverId, '1h');
    const minuteBefore = await rollups(clean, serverId, '1m');
    const late = { ...cleanSamples[0], sampleId: `late-${ulid()}`, cpuPercent: 99.5 };
    await deliver(asRecords([late]));
    expect(await rollups(clean, serverId, '1h')).toEqual(hourBefore);
    expect(await rollups(clean, serverId, '1m')).toEqual(minuteBefore);
  });

  it('skips a sample older than minutes are kept, which would read as gone', async () => {
    const tenantId = `ten_${ulid().toLowerCase()}`;
    const first = fleetFor(tenantId)[0] as Record<string, unknown>;
    const old = { ...first, at: new Date(Date.now() - 3 * 86_400_000).toISOString() };
    await deliver(asRecords([old]));
    expect(await rollups(tenantId, String(first.serverId), '1m')).toEqual([]);
  });

  it('counts every sample once when a minute changes between the batch reading and writing it', async () => {
    const tenantId = `ten_${ulid().toLowerCase()}`;
    const samples = fleetFor(tenantId).slice(0, 12); // two hosts, six ticks: one minute each
    const [first, meanwhile] = [samples.slice(0, 8), samples.slice(8)];
    const { documentClient } = await import('../../../layers/aws/dynamodb');
    let raced = false;
    // another invocation writes the same minutes just before this batch's writes go out
    documentClient().middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'BatchExecuteStatementCommand' && !raced) {
          raced = true;
          await deliver(asRecords(meanwhile, 100));
        }
        return next(args);
      },
      { step: 'initialize', name: 'raceAggregator' },
    );
    try {
      await deliver(asRecords(first));
    } finally {
      documentClient().middlewareStack.remove('raceAggregator');
    }
    expect(raced).toBe(true);
    for (const serverId of servers) {
      const ofServer = samples.filter((s) => s.serverId === serverId);
      const minutes = await rollups(tenantId, serverId, '1m');
      expect(minutes.reduce((n, m) => n + m.count, 0)).toBe(ofServer.length);
      expect(minutes.reduce((n, m) => n + (m.stats.cpuPercent?.sum ?? 0), 0)).toBeCloseTo(
        ofServer.reduce((n, s) => n + Number(s.cpuPercent), 0),
        9,
      );
    }
  });
});
