import { ROLLUP_RETENTION_SECONDS, type RollupItem, rollupKeys, type Stat } from '../../layers/model/rollups';
import { type Gauge, gaugeOf, gauges, minuteOf, type Sample } from './sample';

const addTo = (stat: Stat | undefined, value: number, newest: boolean): Stat =>
  stat
    ? {
        count: stat.count + 1,
        sum: stat.sum + value,
        min: Math.min(stat.min, value),
        max: Math.max(stat.max, value),
        last: newest ? value : stat.last,
      }
    : { count: 1, sum: value, min: value, max: value, last: value };

/**
 * Folds samples of one server and minute into its rollup. Samples already counted (by
 * sampleId) are ignored, so a redelivered Kinesis record changes nothing; `last` follows the
 * newest sample time, not arrival order. Returns undefined when nothing changed.
 */
export function mergeIntoRollup(existing: RollupItem | undefined, samples: Sample[]): RollupItem | undefined {
  const first = samples[0];
  if (!first) return undefined;
  const seen = new Set(existing?.sampleIds ?? []);
  const fresh = samples.filter((s) => {
    if (seen.has(s.sampleId)) return false;
    seen.add(s.sampleId);
    return true;
  });
  if (fresh.length === 0) return undefined;
  const minute = minuteOf(first.at);
  let lastAt = existing?.lastAt ?? '';
  const stats = { ...(existing?.stats ?? {}) } as Partial<Record<Gauge, Stat>>;
  for (const sample of fresh) {
    const newest = sample.at >= lastAt;
    for (const gauge of gauges) {
      const value = gaugeOf(sample, gauge);
      // a version 1 sample has no swap nor inodes: those gauges count only the samples that do
      if (value !== undefined) stats[gauge] = addTo(stats[gauge], value, newest);
    }
    if (newest) lastAt = sample.at;
  }
  return {
    ...rollupKeys.item(first.tenantId, first.serverId, minute),
    entity: 'rollup',
    tenantId: first.tenantId,
    serverId: first.serverId,
    minute,
    count: (existing?.count ?? 0) + fresh.length,
    lastAt,
    sampleIds: [...seen],
    stats,
    version: (existing?.version ?? 0) + 1,
    expiresAt: Math.floor(Date.parse(`${minute}:00Z`) / 1000) + ROLLUP_RETENTION_SECONDS,
  };
}

/** A rollup as the API shows it: each gauge with its average. */
export function toPoint(item: RollupItem) {
  return {
    minute: item.minute,
    count: item.count,
    metrics: Object.fromEntries(
      gauges.flatMap((gauge) => {
        const stat = item.stats[gauge];
        return stat ? [[gauge, { ...stat, avg: stat.count > 0 ? stat.sum / stat.count : 0 }]] : [];
      }),
    ),
  };
}
