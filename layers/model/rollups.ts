import type { StoredItem } from '../store/store';
import type { Gauge } from './gauges';
import { tenantSubPartition } from './keys';

export interface Stat {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

/** The resolutions rollups are kept at. */
export const resolutions = ['1m', '1h', '1d'] as const;
export type Resolution = (typeof resolutions)[number];

/**
 * The sketches a rollup keeps (mergeable quantiles, DDSketch protobuf in base64): CPU, and the
 * response time of the server's sites, each site's figure weighted by its requests.
 */
export const sketchedGauges = ['cpuPercent', 'responseTimeMs'] as const;
export type SketchedGauge = (typeof sketchedGauges)[number];

/** What a rollup keeps of each site on the server, from the agents' per-site figures. */
export const siteFigures = ['requestsPerSecond', 'errorRate5xx', 'responseTimeMs'] as const;
export type SiteFigure = (typeof siteFigures)[number];

export interface RollupItem extends StoredItem {
  entity: 'rollup';
  tenantId: string;
  serverId: string;
  /** the bucket's start, `2026-11-27T10:42` (an hour's ends in `:00`, a day's in `T00:00`) */
  minute: string;
  /** absent on minutes written before resolutions existed: 1m */
  resolution?: Resolution;
  count: number;
  /** the time of the sample `last` comes from, so out-of-order delivery keeps the newest */
  lastAt: string;
  /** a minute's samples already counted: a redelivered record changes nothing (at most a few) */
  sampleIds?: string[];
  /** per gauge; one no sample of the bucket carried (swap and inodes in version 1) is absent */
  stats: Partial<Record<Gauge, Stat>>;
  /** each site's figures, by site id (version 2 samples that carry sites) */
  sites?: Record<string, Partial<Record<SiteFigure, Stat>>>;
  /** quantile sketches, mergeable from minutes to hours to days */
  sketches?: Partial<Record<SketchedGauge, string>>;
  /** a minute folded into its hour and day: closed, later samples for it are late */
  foldedAt?: string;
  /** an hour's or day's number of minutes folded into it */
  minutes?: number;
  /** a minute's place in the fold index until it is folded */
  gsi2pk?: string;
  gsi2sk?: string;
}

/**
 * Rollups: one partition per server and resolution, sorted by bucket; each resolution kept for
 * its own time by TTL. A minute not yet folded into its hour and day is in the fold index.
 */
export const rollupKeys = {
  partition: (tenantId: string, serverId: string, resolution: Resolution = '1m') =>
    tenantSubPartition(tenantId, 'SERVER', serverId, { '1m': 'M1', '1h': 'H1', '1d': 'D1' }[resolution]),
  item: (tenantId: string, serverId: string, bucket: string, resolution: Resolution = '1m') => ({
    pk: rollupKeys.partition(tenantId, serverId, resolution),
    sk: bucket,
  }),
};

/** The bucket a time falls in at a resolution: `2026-11-27T10:42`, `2026-11-27T10:00`, `2026-11-27T00:00`. */
export function bucketOf(resolution: Resolution, iso: string): string {
  const minute = new Date(iso).toISOString().slice(0, 16);
  if (resolution === '1m') return minute;
  if (resolution === '1h') return `${minute.slice(0, 13)}:00`;
  return `${minute.slice(0, 10)}T00:00`;
}

/**
 * Minutes waiting to be folded, across tenants, in gsi2 by minute: the fold sweep reads those
 * closed (a grace after their end) and takes each out as it folds it. gsi2 projects a few small
 * attributes a minute does not have, so the minute's rewrites (one a batch) write nothing to the
 * index: its entry is written once, when the minute is made, and removed once, when it folds.
 */
export const rollupFoldIndex = {
  partition: 'ROLLUPFOLD',
  keys: (minute: string, tenantId: string, serverId: string) => ({
    gsi2pk: 'ROLLUPFOLD',
    gsi2sk: `${minute}#${tenantId}#${serverId}`,
  }),
  /** the minute an index entry stands for, from its sort key */
  entryOf: (sortKey: string) => {
    const [minute = '', tenantId = '', serverId = ''] = sortKey.split('#');
    return { minute, tenantId, serverId };
  },
  /** the sort keys of every minute before `minute` */
  before: (minute: string): [string, string] => ['0', minute],
};
