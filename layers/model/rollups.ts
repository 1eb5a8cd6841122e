import type { Gauge } from '../../functions/metrics/sample';
import type { StoredItem } from '../store/store';
import { tenantSubPartition } from './keys';

export interface Stat {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

export interface RollupItem extends StoredItem {
  entity: 'rollup';
  tenantId: string;
  serverId: string;
  minute: string;
  count: number;
  /** the time of the sample `last` comes from, so out-of-order delivery keeps the newest */
  lastAt: string;
  /** samples already counted in this minute: a redelivered record changes nothing */
  sampleIds: string[];
  /** per gauge; one no sample of the minute carried (swap and inodes in version 1) is absent */
  stats: Partial<Record<Gauge, Stat>>;
}

/** Rollups: one partition per server, sorted by minute; kept 35 days by TTL. */
export const rollupKeys = {
  partition: (tenantId: string, serverId: string) => tenantSubPartition(tenantId, 'SERVER', serverId, 'M1'),
  item: (tenantId: string, serverId: string, minute: string) => ({
    pk: rollupKeys.partition(tenantId, serverId),
    sk: minute,
  }),
};

export const ROLLUP_RETENTION_SECONDS = 35 * 24 * 3600;
