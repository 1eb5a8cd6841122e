/**
 * The gauges a host reports; every rollup keeps count, sum, min, max and last of each. Swap and
 * inodes come with version 2 samples only (a version 1 sample leaves them out of its minute).
 */
export const gauges = [
  'cpuPercent',
  'memoryUsedPercent',
  'diskUsedPercent',
  'load1',
  'load5',
  'load15',
  'networkRxBytesPerSecond',
  'networkTxBytesPerSecond',
  'swapUsedPercent',
  'inodesUsedPercent',
] as const;
export type Gauge = (typeof gauges)[number];

/** The gauges only a version 2 sample carries. */
export const v2Gauges = ['swapUsedPercent', 'inodesUsedPercent'] as const satisfies readonly Gauge[];
