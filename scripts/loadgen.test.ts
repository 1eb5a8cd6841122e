import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleSchema } from '../functions/metrics/sample';
import { startKinesisLocal } from '../test/support/kinesis';
import { durationMs, makeFleet, putAll } from './loadgen';

/** The load generator's fleet: valid samples, the events it promises, and records that reach the stream. */
const options = {
  hosts: 200,
  seed: 7,
  tenantId: 'ten_01m8d8kezr00fxgsavj9esh8n6',
  duplicates: 0.01,
  silence: 0.002,
  spikes: 0.003,
};
const start = Date.parse('2026-12-03T00:00:00Z');

let kinesis: Awaited<ReturnType<typeof startKinesisLocal>>;
beforeAll(async () => {
  kinesis = await startKinesisLocal();
});
afterAll(async () => kinesis?.stop());

describe('Load generator', () => {
  it('makes version 2 samples with spikes, silences, duplicates and a daily curve, the same for a seed', () => {
    const fleet = makeFleet(options);
    const again = makeFleet(options);
    let records = 0;
    let twice = 0;
    let spiking = 0;
    let mostSilent = 0;
    const cpuByHour = new Map<number, number[]>();
    const first = fleet.hosts[0]?.serverId;
    // a day at 10-minute ticks
    for (let tick = 0; tick < 144; tick += 1) {
      const at = new Date(start + tick * 600_000);
      const made = fleet.tick(at);
      expect(again.tick(at)).toEqual(made);
      for (const { record, twice: sentTwice } of made) {
        const sample = sampleSchema.parse(record);
        expect(sample.version).toBe(2);
        records += 1;
        if (sentTwice) twice += 1;
        if (sample.cpuPercent >= 90) spiking += 1;
        if (record.serverId === first) {
          const hour = at.getUTCHours();
          cpuByHour.set(hour, [...(cpuByHour.get(hour) ?? []), sample.cpuPercent]);
        }
      }
      mostSilent = Math.max(mostSilent, fleet.hosts.filter((h) => h.silentFor > 0).length);
      // a silent host sends nothing
      expect(made.length).toBeLessThanOrEqual(
        options.hosts - fleet.hosts.filter((h) => h.silentFor > 0).length,
      );
    }
    expect(twice / records).toBeGreaterThan(0.005);
    expect(twice / records).toBeLessThan(0.02);
    expect(spiking).toBeGreaterThan(0);
    expect(mostSilent).toBeGreaterThan(0);
    // one host's busiest hour is well above its quietest
    const averages = [...cpuByHour.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
    expect(Math.max(...averages) - Math.min(...averages)).toBeGreaterThan(20);
  });

  it('puts every record of a tick into the stream, duplicates included', async () => {
    const stream = `loadgen-${Date.now()}`;
    await kinesis.createStream(stream);
    const made = makeFleet({ ...options, hosts: 50, duplicates: 0.2 }).tick(new Date(start));
    const entries = made.flatMap(({ serverId, record, twice }) => {
      const entry = { PartitionKey: serverId, Data: Buffer.from(JSON.stringify(record)) };
      return twice ? [entry, entry] : [entry];
    });
    expect(entries.length).toBeGreaterThan(made.length);
    expect(await putAll(kinesis.client, stream, entries)).toEqual({ failed: 0, retried: 0 });
    const { ShardIterator } = await kinesis.client.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: 'shardId-000000000000',
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records } = await kinesis.client.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
    expect(Records?.length).toBe(entries.length);
  });

  it('reads durations as the command line gives them', () => {
    expect(durationMs('10s')).toBe(10_000);
    expect(durationMs('5m')).toBe(300_000);
    expect(durationMs('250ms')).toBe(250);
    expect(() => durationMs('soon')).toThrow();
  });
});
