import * as z from 'zod';
import type { Gauge } from '../../layers/model/gauges';

/** The services a host reports up or down (the stack's web server, PHP-FPM, database, Redis). */
export const managedServices = ['webServer', 'phpFpm', 'database', 'redis'] as const;

/** The most a record may hold; a larger one is counted, logged and skipped. */
export const MAX_SAMPLE_BYTES = 64 * 1024;

const nonNegative = z.number().finite().min(0);
const percent = nonNegative.max(100);
const ids = {
  sampleId: z.string().min(10).max(64),
  tenantId: z.string().regex(/^ten_[0-9a-z]{26}$/),
  serverId: z.string().regex(/^srv_[0-9a-z]{26}$/),
  at: z.iso.datetime(),
};

/** Version 1: one disk, memory as a percentage (still accepted from agents not yet upgraded). */
export const sampleV1Schema = z.strictObject({
  ...ids,
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

const usage = z
  .strictObject({ usedBytes: nonNegative, totalBytes: nonNegative })
  .refine((u) => u.usedBytes <= u.totalBytes, { message: 'usedBytes is more than totalBytes' });

/** Version 2: memory and swap, every mount with its inodes, services up or down, sites' traffic. */
export const sampleV2Schema = z.strictObject({
  v: z.literal(2),
  ...ids,
  cpuPercent: percent,
  load: z.strictObject({ one: nonNegative, five: nonNegative, fifteen: nonNegative }),
  memory: usage,
  swap: usage,
  disks: z
    .array(
      z
        .strictObject({
          mount: z.string().min(1).max(256).startsWith('/'),
          usedBytes: nonNegative,
          totalBytes: nonNegative,
          inodesUsed: nonNegative,
          inodesTotal: nonNegative,
        })
        .refine((d) => d.usedBytes <= d.totalBytes && d.inodesUsed <= d.inodesTotal, {
          message: 'used is more than total',
        }),
    )
    .min(1)
    .max(32),
  network: z.strictObject({ rxBytesPerSecond: nonNegative, txBytesPerSecond: nonNegative }),
  services: z.partialRecord(z.enum(managedServices), z.enum(['up', 'down'])).default({}),
  sites: z
    .array(
      z.strictObject({
        siteId: z.string().regex(/^ste_[0-9a-z]{26}$/),
        requestsPerSecond: nonNegative,
        errorRate5xx: z.number().min(0).max(1),
        responseTimeMs: nonNegative,
      }),
    )
    .max(500)
    .optional(),
});

const percentOf = (used: number, total: number) =>
  total > 0 ? Math.min(100, Math.round((used / total) * 10_000) / 100) : 0;

/**
 * A record in either version, as the aggregator works with it: the gauges (a disk gauge is the
 * fullest mount's, so a full /var is not hidden by an empty /), and what a v2 sample adds.
 */
export const sampleSchema = z.union([sampleV2Schema, sampleV1Schema]).transform((s) => {
  if (!('v' in s)) return { ...s, version: 1 as const };
  const fullest = s.disks.reduce((a, b) =>
    percentOf(b.usedBytes, b.totalBytes) > percentOf(a.usedBytes, a.totalBytes) ? b : a,
  );
  return {
    version: 2 as const,
    sampleId: s.sampleId,
    tenantId: s.tenantId,
    serverId: s.serverId,
    at: s.at,
    cpuPercent: s.cpuPercent,
    memoryUsedPercent: percentOf(s.memory.usedBytes, s.memory.totalBytes),
    memoryTotalBytes: s.memory.totalBytes,
    diskUsedPercent: percentOf(fullest.usedBytes, fullest.totalBytes),
    diskTotalBytes: s.disks.reduce((sum, d) => sum + d.totalBytes, 0),
    load1: s.load.one,
    load5: s.load.five,
    load15: s.load.fifteen,
    networkRxBytesPerSecond: s.network.rxBytesPerSecond,
    networkTxBytesPerSecond: s.network.txBytesPerSecond,
    swapUsedPercent: percentOf(s.swap.usedBytes, s.swap.totalBytes),
    inodesUsedPercent: Math.max(...s.disks.map((d) => percentOf(d.inodesUsed, d.inodesTotal))),
    disks: s.disks,
    services: s.services,
    ...(s.sites ? { sites: s.sites } : {}),
  };
});

export type Sample = z.output<typeof sampleSchema>;

/** A gauge's value in a sample, if the sample's version has it. */
export const gaugeOf = (sample: Sample, gauge: Gauge): number | undefined =>
  (sample as Partial<Record<Gauge, number>>)[gauge];

/** The UTC minute a sample falls in, as the rollup's sort key: `2026-11-27T10:42`. */
export const minuteOf = (iso: string): string => new Date(iso).toISOString().slice(0, 16);
