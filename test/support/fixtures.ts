import type { Sample } from '../../functions/metrics/sample';

/** A plan's limits for tests: three servers, and room for everything else. */
export const planLimits = {
  servers: 3,
  sites: 10,
  databases: 5,
  mailboxes: 20,
  dnsZones: 5,
  backupRetentionDays: 14,
  backupStorageBytes: 10_737_418_240,
};

/** A version 1 metrics sample of one server at 10:42:05 on 27 November 2026. */
export const sampleV1: Sample = {
  version: 1,
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
