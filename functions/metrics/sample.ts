import * as z from 'zod';

/** The gauges a host reports; every rollup keeps count, sum, min, max and last of each. */
export const gauges = [
  'cpuPercent',
  'memoryUsedPercent',
  'diskUsedPercent',
  'load1',
  'load5',
  'load15',
  'networkRxBytesPerSecond',
  'networkTxBytesPerSecond',
] as const;
export type Gauge = (typeof gauges)[number];

const nonNegative = z.number().finite().min(0);
const percent = nonNegative.max(100);

/** One metrics sample as a host agent writes it to the Kinesis stream (partition key: server id). */
export const sampleSchema = z.strictObject({
  sampleId: z.string().min(10).max(64),
  tenantId: z.string().regex(/^ten_[0-9a-z]{26}$/),
  serverId: z.string().regex(/^srv_[0-9a-z]{26}$/),
  at: z.iso.datetime(),
  cpuPercent: percent,
  memoryUsedPercent: percent,
  memoryTotalBytes: nonNegative,
  diskUsedPercent: percent,
  diskTotalBytes: nonNegative,
  load1: nonNegative,
  load5: nonNegative,
  load15: nonNegative,
  networkRxBytesPerSecond: nonNegative,
  networkTxBytesPerSecond: nonNegative,
});

export type Sample = z.infer<typeof sampleSchema>;

/** The UTC minute a sample falls in, as the rollup's sort key: `2026-11-27T10:42`. */
export const minuteOf = (iso: string): string => new Date(iso).toISOString().slice(0, 16);
