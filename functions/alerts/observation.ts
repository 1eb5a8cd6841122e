import { gauges } from '../../layers/model/gauges';
import { type RollupItem, sketchedGauges } from '../../layers/model/rollups';
import { quantilesOf } from '../metrics/rollup';
import { gaugeOf, managedServices, type Sample } from '../metrics/sample';
import type { Observation } from './evaluate';

const quantiles = ['p50', 'p95', 'p99'] as const;

/**
 * How long a server has sent no sample, in seconds: observed by the heartbeat sweep every minute
 * (functions/alerts/heartbeat.ts), never by a sample.
 */
export const SILENCE_METRIC = 'secondsSinceSample';

/**
 * Every metric a rule may watch: each gauge of the newest sample, each sketched gauge's
 * percentiles over the current minute (`cpuPercent.p95`), each managed service, 1 while up and
 * 0 while down (`service.phpFpm`), and how long the server has been silent.
 */
export const alertMetrics = [
  ...gauges,
  SILENCE_METRIC,
  ...sketchedGauges.flatMap((g) => quantiles.map((q) => `${g}.${q}`)),
  ...managedServices.map((s) => `service.${s}`),
] as const;

/**
 * One server's observation: its newest sample, with the minute that sample fell in. A sketched
 * gauge's percentiles (a sketch decoded) only when `watched`, the metrics its rules watch, names one.
 */
export function observationOf(
  sample: Sample,
  minute: RollupItem | undefined,
  watched: ReadonlySet<string>,
): Observation {
  const values: Record<string, number> = {};
  for (const gauge of gauges) {
    const value = gaugeOf(sample, gauge);
    if (value !== undefined) values[gauge] = value;
  }
  if (sample.version === 2) {
    for (const [service, status] of Object.entries(sample.services)) {
      values[`service.${service}`] = status === 'up' ? 1 : 0;
    }
  }
  for (const gauge of sketchedGauges) {
    if (!minute || !quantiles.some((name) => watched.has(`${gauge}.${name}`))) continue;
    const q = quantilesOf(minute, gauge);
    if (q) for (const name of quantiles) values[`${gauge}.${name}`] = q[name];
  }
  return { at: sample.at, values };
}
