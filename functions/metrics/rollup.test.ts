import type { KinesisStreamRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleV1 } from '../../test/support/fixtures';
import { parse } from './aggregator';
import { mergeIntoRollup, toPoint } from './rollup';
import { MAX_SAMPLE_BYTES, sampleSchema } from './sample';

const base = sampleV1;

describe('Module: rollups', () => {
  it('folds samples into count, sum, min, max and last per gauge, keyed by minute', () => {
    const rollup = mergeIntoRollup(undefined, [
      base,
      { ...base, sampleId: 'sample-0000002', at: '2026-11-27T10:42:35.000Z', cpuPercent: 30 },
    ]);
    expect(rollup).toMatchObject({ sk: '2026-11-27T10:42', count: 2, version: 1 });
    expect(rollup?.stats.cpuPercent).toEqual({ count: 2, sum: 40, min: 10, max: 30, last: 30 });
    expect(toPoint(rollup!).metrics.cpuPercent?.avg).toBe(20);
  });

  it('changes nothing for a sample it has already counted', () => {
    const rollup = mergeIntoRollup(undefined, [base]);
    expect(mergeIntoRollup(rollup, [base])).toBeUndefined();
    expect(mergeIntoRollup(undefined, [base, base])?.count).toBe(1);
  });

  it('keeps last from the newest sample even when an older one arrives later', () => {
    const newer = mergeIntoRollup(undefined, [
      { ...base, sampleId: 'sample-new', at: '2026-11-27T10:42:50.000Z', cpuPercent: 90 },
    ]);
    const merged = mergeIntoRollup(newer, [
      { ...base, sampleId: 'sample-old', at: '2026-11-27T10:42:01.000Z', cpuPercent: 5 },
    ]);
    expect(merged?.stats.cpuPercent).toMatchObject({ last: 90, min: 5, max: 90, count: 2 });
    expect(merged?.version).toBe(2);
  });

  it('expires minutes by TTL 2 days after their minute, unless configured otherwise', () => {
    const rollup = mergeIntoRollup(undefined, [base]);
    expect(rollup?.expiresAt).toBe(Date.parse('2026-11-27T10:42:00Z') / 1000 + 2 * 24 * 3600);
    expect(mergeIntoRollup(undefined, [base], 7)?.expiresAt).toBe(
      Date.parse('2026-11-27T10:42:00Z') / 1000 + 7 * 24 * 3600,
    );
  });
});

/** A version 2 record as an upgraded agent sends it. */
const v2 = {
  v: 2,
  sampleId: 'sample-v2-0000001',
  tenantId: base.tenantId,
  serverId: base.serverId,
  at: '2026-11-27T10:42:15.000Z',
  cpuPercent: 42,
  load: { one: 0.5, five: 0.4, fifteen: 0.3 },
  memory: { usedBytes: 3 * 2 ** 30, totalBytes: 4 * 2 ** 30 },
  swap: { usedBytes: 2 ** 29, totalBytes: 2 ** 31 },
  disks: [
    { mount: '/', usedBytes: 10, totalBytes: 100, inodesUsed: 5, inodesTotal: 1000 },
    { mount: '/var', usedBytes: 90, totalBytes: 100, inodesUsed: 900, inodesTotal: 1000 },
  ],
  network: { rxBytesPerSecond: 1000, txBytesPerSecond: 2000 },
  services: { webServer: 'up', database: 'down' },
  sites: [
    {
      siteId: 'ste_01m8d8kezr00fxgsavj9esh8n6',
      requestsPerSecond: 12,
      errorRate5xx: 0.01,
      responseTimeMs: 85,
    },
  ],
};

const record = (data: unknown, sequenceNumber = '1'): KinesisStreamRecord =>
  ({
    kinesis: {
      data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64'),
      sequenceNumber,
    },
  }) as KinesisStreamRecord;

describe('Module: samples, version 1 and 2', () => {
  it('reads a version 2 sample into the gauges: the fullest mount, memory and swap as percentages', () => {
    const sample = sampleSchema.parse(v2);
    expect(sample).toMatchObject({
      version: 2,
      memoryUsedPercent: 75,
      swapUsedPercent: 25,
      diskUsedPercent: 90,
      diskTotalBytes: 200,
      inodesUsedPercent: 90,
      load1: 0.5,
      load15: 0.3,
      networkTxBytesPerSecond: 2000,
      services: { webServer: 'up', database: 'down' },
    });
    // a version 1 sample still counts, without the gauges it does not carry
    const rollup = mergeIntoRollup(undefined, [base, sample]);
    expect(rollup?.stats.cpuPercent?.count).toBe(2);
    expect(rollup?.stats.swapUsedPercent).toEqual({ count: 1, sum: 25, min: 25, max: 25, last: 25 });
    expect(toPoint(rollup!).metrics.swapUsedPercent?.avg).toBe(25);
    expect(toPoint(mergeIntoRollup(undefined, [base])!).metrics).not.toHaveProperty('swapUsedPercent');
  });

  it('refuses what no host could measure, naming the field', () => {
    for (const [bad, path] of [
      [{ ...v2, memory: { usedBytes: 5, totalBytes: 4 } }, 'memory'],
      [{ ...v2, disks: [] }, 'disks'],
      [{ ...v2, disks: [{ ...v2.disks[0], mount: 'var' }] }, 'disks'],
      [{ ...v2, services: { mailServer: 'up' } }, 'services'],
      [{ ...v2, sites: [{ ...v2.sites[0], errorRate5xx: 2 }] }, 'sites'],
      [{ ...v2, v: 3 }, 'v'],
    ] as [Record<string, unknown>, string][]) {
      const result = sampleSchema.safeParse(bad);
      expect(result.success, JSON.stringify(bad)).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(path);
    }
  });

  it('skips a poison record (not JSON, not a sample, oversized) and reads the rest', () => {
    expect(parse(record('{not json'))).toBeUndefined();
    expect(parse(record({ hello: 'world' }))).toBeUndefined();
    expect(parse(record({ ...v2, padding: 'x'.repeat(MAX_SAMPLE_BYTES) }))).toBeUndefined();
    expect(parse(record(v2))?.version).toBe(2);
    expect(parse(record({ ...base, version: undefined }))?.version).toBe(1);
  });

  it('reads any well-formed version 2 sample into gauges within their ranges', () => {
    const usage = fc
      .tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }))
      .map(([a, b]) => ({ usedBytes: Math.min(a, b), totalBytes: Math.max(a, b) }));
    const disk = fc
      .record({
        mount: fc.constantFrom('/', '/var', '/home', '/srv/data'),
        usage,
        inodes: fc.tuple(fc.nat(), fc.nat()),
      })
      .map(({ mount, usage: u, inodes: [a, b] }) => ({
        mount,
        ...u,
        inodesUsed: Math.min(a, b),
        inodesTotal: Math.max(a, b),
      }));
    fc.assert(
      fc.property(
        usage,
        usage,
        fc.array(disk, { minLength: 1, maxLength: 32 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (memory, swap, disks, cpuPercent) => {
          const sample = sampleSchema.parse({ ...v2, memory, swap, disks, cpuPercent });
          for (const gauge of [
            'memoryUsedPercent',
            'swapUsedPercent',
            'diskUsedPercent',
            'inodesUsedPercent',
          ] as const) {
            const value = sample.version === 2 ? sample[gauge] : -1;
            expect(value).toBeGreaterThanOrEqual(0);
            expect(value).toBeLessThanOrEqual(100);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
