import { describe, expect, it } from 'vitest';
import { mergeIntoRollup, toPoint } from '../../functions/metrics/rollup';
import type { Sample } from '../../functions/metrics/sample';

const base: Sample = {
  sampleId: 'sample-0000001',
  tenantId: 'ten_01m8d8kezr00fxgsavj9esh8n6',
  serverId: 'srv_01m8d8kg2kase3eedzaax30kff',
  at: '2026-11-27T10:42:05.000Z',
  cpuPercent: 10,
  memoryUsedPercent: 50,
  memoryTotalBytes: 1,
  diskUsedPercent: 70,
  diskTotalBytes: 1,
  load1: 1,
  load5: 1,
  load15: 1,
  networkRxBytesPerSecond: 100,
  networkTxBytesPerSecond: 200,
};

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

  it('expires rollups by TTL 35 days after their minute', () => {
    const rollup = mergeIntoRollup(undefined, [base]);
    expect(rollup?.expiresAt).toBe(Date.parse('2026-11-27T10:42:00Z') / 1000 + 35 * 24 * 3600);
  });
});
