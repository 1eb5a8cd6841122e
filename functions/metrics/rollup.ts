import { DDSketch } from '@datadog/sketches-js';
import sketchProtos from '@datadog/sketches-js/dist/ddsketch/proto/compiled';
import { type Gauge, gauges } from '../../layers/model/gauges';
import {
  bucketOf,
  type Resolution,
  type RollupItem,
  rollupFoldIndex,
  rollupKeys,
  type SiteFigure,
  type SketchedGauge,
  type Stat,
  siteFigures,
  sketchedGauges,
} from '../../layers/model/rollups';
import { gaugeOf, minuteOf, type Sample } from './sample';

/** The sketches' relative accuracy: a quantile read back is within 1% of the true value. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

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

const openSketch = (encoded: string | undefined) =>
  encoded
    ? DDSketch.fromProto(Buffer.from(encoded, 'base64'))
    : new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });

interface ProtoStore {
  contiguousBinCounts?: number[];
  contiguousBinIndexOffset?: number;
}
interface ProtoSketch {
  mapping?: unknown;
  positiveValues?: ProtoStore;
  negativeValues?: ProtoStore;
  zeroCount?: number;
}
const ProtoDDSketch = (
  sketchProtos as unknown as {
    DDSketch: {
      encode(message: ProtoSketch): { finish(): Uint8Array };
    };
  }
).DDSketch;

/** A store's bins without the empty ones either side (the library keeps whole chunks of 128). */
function trimmed(store: ProtoStore): ProtoStore {
  const counts = store.contiguousBinCounts ?? [];
  let from = 0;
  let to = counts.length;
  while (from < to && counts[from] === 0) from += 1;
  while (to > from && counts[to - 1] === 0) to -= 1;
  store.contiguousBinCounts = counts.slice(from, to);
  store.contiguousBinIndexOffset = (store.contiguousBinIndexOffset ?? 0) + from;
  return store;
}

/**
 * A sketch as stored: DDSketch's protobuf with the empty bins either side of each store left out
 * (a minute's few values would otherwise carry a chunk of 128 zero counts), in base64.
 */
const sealSketch = (sketch: DDSketch) => {
  // the message DDSketch.toProto encodes, trimmed before it is encoded once
  const message: ProtoSketch = {
    mapping: sketch.mapping.toProto(),
    positiveValues: trimmed(sketch.store.toProto() as ProtoStore),
    negativeValues: trimmed(sketch.negativeStore.toProto() as ProtoStore),
    zeroCount: sketch.zeroCount,
  };
  return Buffer.from(ProtoDDSketch.encode(message).finish()).toString('base64');
};

/** The values (with their weights) a sample adds to a sketch. */
function sketchValues(sample: Sample, sketched: SketchedGauge): [number, number][] {
  if (sketched === 'responseTimeMs') {
    return (sample.version === 2 ? (sample.sites ?? []) : [])
      .filter((site) => site.requestsPerSecond > 0)
      .map((site) => [site.responseTimeMs, site.requestsPerSecond]);
  }
  const value = gaugeOf(sample, sketched);
  return value === undefined ? [] : [[value, 1]];
}

/** Two stats of the same figure as one: `newer` says whose `last` is the later. */
const mergeStats = (into: Stat | undefined, add: Stat, newer: boolean): Stat =>
  into
    ? {
        count: into.count + add.count,
        sum: into.sum + add.sum,
        min: Math.min(into.min, add.min),
        max: Math.max(into.max, add.max),
        last: newer ? add.last : into.last,
      }
    : { ...add };

/** When a bucket of a resolution expires, in epoch seconds, for that resolution's days kept. */
export const expiresAtOf = (bucket: string, keptDays: number) =>
  Math.floor(Date.parse(`${bucket}:00Z`) / 1000) + keptDays * 86_400;

/**
 * Folds samples of one server and minute into its rollup. Samples already counted (by
 * sampleId) are ignored, so a redelivered Kinesis record changes nothing; `last` follows the
 * newest sample time, not arrival order. A minute already folded into its hour and day is
 * closed: its samples are late and change nothing. A new minute enters the fold index. Returns
 * undefined when nothing changed.
 */
export function mergeIntoRollup(
  existing: RollupItem | undefined,
  samples: Sample[],
  keptDays = 2,
): RollupItem | undefined {
  const first = samples[0];
  if (!first || existing?.foldedAt) return undefined;
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
  const sketches = Object.fromEntries(
    sketchedGauges.map((g) => [g, openSketch(existing?.sketches?.[g])]),
  ) as Record<SketchedGauge, DDSketch>;
  const sites = structuredClone(existing?.sites ?? {});
  for (const sample of fresh) {
    const newest = sample.at >= lastAt;
    for (const gauge of gauges) {
      const value = gaugeOf(sample, gauge);
      // a version 1 sample has no swap nor inodes: those gauges count only the samples that do
      if (value !== undefined) stats[gauge] = addTo(stats[gauge], value, newest);
    }
    for (const sketched of sketchedGauges) {
      for (const [value, weight] of sketchValues(sample, sketched)) sketches[sketched].accept(value, weight);
    }
    for (const site of sample.version === 2 ? (sample.sites ?? []) : []) {
      const figures = sites[site.siteId] ?? {};
      for (const figure of siteFigures) figures[figure] = addTo(figures[figure], site[figure], newest);
      sites[site.siteId] = figures;
    }
    if (newest) lastAt = sample.at;
  }
  return {
    ...rollupKeys.item(first.tenantId, first.serverId, minute),
    ...(existing ? {} : rollupFoldIndex.keys(minute, first.tenantId, first.serverId)),
    ...(existing?.gsi2pk ? { gsi2pk: existing.gsi2pk, gsi2sk: existing.gsi2sk } : {}),
    entity: 'rollup',
    tenantId: first.tenantId,
    serverId: first.serverId,
    minute,
    resolution: '1m',
    count: (existing?.count ?? 0) + fresh.length,
    lastAt,
    sampleIds: [...seen],
    stats,
    ...(Object.keys(sites).length > 0 ? { sites } : {}),
    sketches: Object.fromEntries(sketchedGauges.map((g) => [g, sealSketch(sketches[g])])),
    version: (existing?.version ?? 0) + 1,
    expiresAt: expiresAtOf(minute, keptDays),
  };
}

/**
 * A closed minute folded into its hour's or day's rollup: counts and sums add, min and max
 * widen, `last` is the one sampled latest, sketches merge (so quantiles survive from minutes to
 * days within the sketch's relative accuracy).
 */
export function foldInto(
  target: RollupItem | undefined,
  minute: RollupItem,
  resolution: Exclude<Resolution, '1m'>,
  keptDays: number,
): RollupItem {
  const bucket = bucketOf(resolution, `${minute.minute}:00Z`);
  const newer = !target || minute.lastAt >= target.lastAt;
  const stats = { ...(target?.stats ?? {}) } as Partial<Record<Gauge, Stat>>;
  for (const gauge of gauges) {
    const add = minute.stats[gauge];
    if (add) stats[gauge] = mergeStats(stats[gauge], add, newer);
  }
  const sites = structuredClone(target?.sites ?? {});
  for (const [siteId, figures] of Object.entries(minute.sites ?? {})) {
    const into = sites[siteId] ?? {};
    for (const figure of siteFigures) {
      const add = figures[figure];
      if (add) into[figure] = mergeStats(into[figure], add, newer);
    }
    sites[siteId] = into;
  }
  const sketches: Partial<Record<SketchedGauge, string>> = {};
  for (const gauge of sketchedGauges) {
    const add = minute.sketches?.[gauge];
    const into = target?.sketches?.[gauge];
    if (!add) {
      if (into) sketches[gauge] = into;
      continue;
    }
    const merged = openSketch(into);
    merged.merge(openSketch(add));
    sketches[gauge] = sealSketch(merged);
  }
  return {
    ...rollupKeys.item(minute.tenantId, minute.serverId, bucket, resolution),
    entity: 'rollup',
    tenantId: minute.tenantId,
    serverId: minute.serverId,
    minute: bucket,
    resolution,
    count: (target?.count ?? 0) + minute.count,
    lastAt: newer ? minute.lastAt : (target?.lastAt ?? minute.lastAt),
    stats,
    ...(Object.keys(sites).length > 0 ? { sites } : {}),
    sketches,
    minutes: (target?.minutes ?? 0) + 1,
    version: (target?.version ?? 0) + 1,
    expiresAt: expiresAtOf(bucket, keptDays),
  };
}

/** One site's figures in a rollup as the API shows them (undefined when the site had none). */
export function toSitePoint(item: RollupItem, siteId: string) {
  const figures = item.sites?.[siteId];
  if (!figures) return undefined;
  return {
    minute: item.minute,
    metrics: Object.fromEntries(
      siteFigures.flatMap((figure: SiteFigure) => {
        const stat = figures[figure];
        return stat ? [[figure, { ...stat, avg: stat.count > 0 ? stat.sum / stat.count : 0 }]] : [];
      }),
    ),
  };
}

/**
 * A sketched gauge's p50, p95 and p99 in a rollup (to hundredths), or undefined when it has no
 * value (a server whose sites served nothing has an empty response time sketch).
 */
export function quantilesOf(item: RollupItem, gauge: SketchedGauge) {
  const encoded = item.sketches?.[gauge];
  if (!encoded) return undefined;
  const sketch = openSketch(encoded);
  if (sketch.count === 0) return undefined;
  const at = (q: number) => Math.round(sketch.getValueAtQuantile(q) * 100) / 100;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** A rollup as the API shows it: each gauge with its average, and p50/p95/p99 where sketched. */
export function toPoint(item: RollupItem) {
  const quantiles = Object.fromEntries(
    sketchedGauges.flatMap((gauge) => {
      const of = quantilesOf(item, gauge);
      return of ? [[gauge, of]] : [];
    }),
  );
  return {
    minute: item.minute,
    count: item.count,
    metrics: Object.fromEntries(
      gauges.flatMap((gauge) => {
        const stat = item.stats[gauge];
        return stat ? [[gauge, { ...stat, avg: stat.count > 0 ? stat.sum / stat.count : 0 }]] : [];
      }),
    ),
    ...(Object.keys(quantiles).length > 0 ? { quantiles } : {}),
  };
}
