import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import pLimit from 'p-limit';
import { gauges } from '../../layers/model/gauges';
import { type RollupItem, rollupKeys } from '../../layers/model/rollups';
import { type LatestSample, type LatestWrite, setLatestSamples } from '../../layers/model/servers';
import { logger, metrics } from '../../layers/observability/logger';
import { getPlatform, type Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import { evaluateAlerts } from '../alerts/evaluation';
import { observationOf } from '../alerts/observation';
import { mergeIntoRollup } from './rollup';
import { gaugeOf, MAX_SAMPLE_BYTES, minuteOf, type Sample, sampleSchema } from './sample';

const MAX_ATTEMPTS = 5;
/** DynamoDB requests in flight at once (the SDK's HTTP agent keeps 50 sockets) */
const REQUESTS_AT_ONCE = 48;

interface Parsed {
  sample: Sample;
  sequenceNumber: string;
}

/**
 * One record as a sample, or undefined for one that is too large, not JSON or not a sample of
 * either version: counted, logged and skipped, so one bad host never stalls its shard.
 */
export function parse(record: KinesisStreamRecord): Sample | undefined {
  const data = Buffer.from(record.kinesis.data, 'base64');
  if (data.length > MAX_SAMPLE_BYTES) {
    logger.warn('Dropping an oversized metrics record', {
      sequenceNumber: record.kinesis.sequenceNumber,
      bytes: data.length,
    });
    metrics.addMetric('OversizedSamples', 'Count', 1);
    return undefined;
  }
  try {
    const result = sampleSchema.safeParse(JSON.parse(data.toString('utf8')));
    if (result.success) return result.data;
    logger.warn('Dropping an invalid metrics sample', {
      sequenceNumber: record.kinesis.sequenceNumber,
      issues: result.error.issues,
    });
  } catch {
    logger.warn('Dropping a metrics record that is not JSON', {
      sequenceNumber: record.kinesis.sequenceNumber,
    });
  }
  metrics.addMetric('InvalidSamples', 'Count', 1);
  return undefined;
}

/** Samples for a minute already folded into its hour and day: later than the grace allows. */
function late(key: { pk: string; sk: string }, samples: number) {
  logger.warn('Late metrics samples for a closed minute', { key, samples });
  metrics.addMetric('LateSamples', 'Count', samples);
}

/**
 * One group's minute read, merged and written alone, with optimistic locking: a concurrent
 * writer makes it read again. For the groups whose batched write did not hold.
 */
async function applyToRollup(platform: Platform, samples: Sample[]): Promise<RollupItem | undefined> {
  const first = samples[0];
  if (!first) return undefined;
  const key = rollupKeys.item(first.tenantId, first.serverId, minuteOf(first.at));
  for (let attempt = 1; ; attempt += 1) {
    const existing = await platform.store.get<RollupItem>(key, true);
    if (existing?.foldedAt) {
      late(key, samples.length);
      return undefined;
    }
    const merged = mergeIntoRollup(existing, samples, platform.config.METRICS_RETENTION_MINUTE_DAYS);
    if (!merged) return existing;
    try {
      await platform.store.putIfVersion(merged, existing ? (existing.version ?? 1) : undefined);
      return merged;
    } catch (error) {
      if (!(error instanceof ConditionFailedError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/**
 * Turns a batch of metrics samples into 1-minute rollups and each server's latest sample.
 * Writes are idempotent, so when a group fails the batch reports the lowest sequence number
 * it did not finish and Lambda redelivers from there (ReportBatchItemFailures).
 */
export async function handler(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
  const platform = await getPlatform();
  const parsed: Parsed[] = [];
  for (const record of event.Records) {
    const sample = parse(record);
    if (sample) parsed.push({ sample, sequenceNumber: record.kinesis.sequenceNumber });
  }
  const groups = new Map<string, Parsed[]>();
  const newest = new Map<string, Parsed>();
  // a minute past its retention reads as gone (TTL): a sample that old (an agent's clock, a
  // stream kept longer) is counted and skipped rather than fought over
  const oldest =
    platform.clock.now().getTime() - platform.config.METRICS_RETENTION_MINUTE_DAYS * 86_400_000 + 60_000;
  for (const entry of parsed) {
    const { sample } = entry;
    if (Date.parse(sample.at) < oldest) {
      metrics.addMetric('ExpiredSamples', 'Count', 1);
      continue;
    }
    const groupKey = `${sample.tenantId}/${sample.serverId}/${minuteOf(sample.at)}`;
    groups.set(groupKey, [...(groups.get(groupKey) ?? []), entry]);
    const serverKey = `${sample.tenantId}/${sample.serverId}`;
    const current = newest.get(serverKey);
    if (!current || current.sample.at < sample.at) newest.set(serverKey, entry);
  }
  const failed: string[] = [];
  /** each server's minute of its newest sample, as written */
  const minutes = new Map<string, RollupItem>();
  // a 30 s batch holds a few thousand groups: a bounded number of requests in flight at once
  const limit = pLimit(REQUESTS_AT_ONCE);
  // every group's minute as it is, a hundred to a request (consistent, as the writes are conditional on it)
  const keys = [...groups.values()].map((entries) => {
    const { sample } = entries[0] as Parsed;
    return rollupKeys.item(sample.tenantId, sample.serverId, minuteOf(sample.at));
  });
  const current = new Map<string, RollupItem>();
  await Promise.all(
    Array.from({ length: Math.ceil(keys.length / 100) }, (_, i) =>
      limit(async () => {
        try {
          const items = await platform.store.batchGet<RollupItem>(keys.slice(i * 100, i * 100 + 100), true);
          for (const item of items) current.set(`${item.pk}/${item.sk}`, item);
        } catch (error) {
          // the groups read nothing ahead: their conditional writes fail and read again alone
          logger.warn('Could not read minutes ahead', { error: error as Error });
        }
      }),
    ),
  );
  /** a group's minute as it now stands: kept when it is its server's newest sample's */
  const written = (entries: Parsed[], rollup: RollupItem) => {
    const { sample } = entries[0] as Parsed;
    const serverKey = `${sample.tenantId}/${sample.serverId}`;
    const newestOfServer = newest.get(serverKey)?.sample;
    if (newestOfServer && minuteOf(newestOfServer.at) === rollup.minute) minutes.set(serverKey, rollup);
  };
  // every group merged into its minute as read, then all written together, each only while its
  // minute is still as read (25 to a request, each on its own condition)
  const merges: { entries: Parsed[]; read: RollupItem | undefined; merged: RollupItem }[] = [];
  const alone: Parsed[][] = [];
  for (const entries of groups.values()) {
    const { sample } = entries[0] as Parsed;
    const key = rollupKeys.item(sample.tenantId, sample.serverId, minuteOf(sample.at));
    const read = current.get(`${key.pk}/${key.sk}`);
    if (read?.foldedAt) {
      late(key, entries.length);
      continue;
    }
    try {
      const merged = mergeIntoRollup(
        read,
        entries.map((e) => e.sample),
        platform.config.METRICS_RETENTION_MINUTE_DAYS,
      );
      if (merged) merges.push({ entries, read, merged });
      else if (read) written(entries, read);
    } catch (error) {
      logger.error('Rollup merge failed', { error: error as Error });
      failed.push(...entries.map((e) => e.sequenceNumber));
    }
  }
  const outcomes = await platform.store.putAllIfVersion(
    merges.map(({ merged, read }) => ({ item: merged, read })),
    REQUESTS_AT_ONCE,
  );
  merges.forEach(({ entries, merged }, i) => {
    if (outcomes[i] === 'written') written(entries, merged);
    else alone.push(entries);
  });
  // a minute changed since it was read (or a write DynamoDB refused): read and written alone
  await Promise.allSettled(
    alone.map((entries) =>
      limit(async () => {
        try {
          const rollup = await applyToRollup(
            platform,
            entries.map((e) => e.sample),
          );
          if (rollup) written(entries, rollup);
        } catch (error) {
          logger.error('Rollup write failed', { error: error as Error });
          failed.push(...entries.map((e) => e.sequenceNumber));
        }
      }),
    ),
  );
  // alert rules, on each server's newest sample (and its minute's percentiles)
  try {
    await evaluateAlerts(
      platform,
      [...newest.entries()].map(([serverKey, { sample }]) => ({
        tenantId: sample.tenantId,
        serverId: sample.serverId,
        observe: (watched) => observationOf(sample, minutes.get(serverKey), watched),
      })),
    );
  } catch (error) {
    logger.error('Alert evaluation failed', { error: error as Error });
    failed.push(...[...newest.values()].map((e) => e.sequenceNumber));
  }
  // each server's newest sample, 25 servers to a request; a write DynamoDB refused (not its
  // condition: that is an older sample or an unknown server) is tried once more, then redelivered
  const latest = [...newest.values()];
  const latestWrites = latest.map(({ sample }) => ({
    tenantId: sample.tenantId,
    serverId: sample.serverId,
    latest: {
      at: sample.at,
      ...Object.fromEntries(
        gauges.flatMap((g) => (gaugeOf(sample, g) === undefined ? [] : [[g, gaugeOf(sample, g)]])),
      ),
      ...(sample.version === 2 ? { disks: sample.disks, services: sample.services } : {}),
    } as LatestSample,
  }));
  let refused = (await setLatestSamples(platform.store, latestWrites, REQUESTS_AT_ONCE)).flatMap(
    (outcome, i) => (outcome === 'failed' ? [i] : []),
  );
  if (refused.length > 0) {
    const again = await setLatestSamples(
      platform.store,
      refused.map((i) => latestWrites[i] as LatestWrite),
      REQUESTS_AT_ONCE,
    );
    refused = refused.filter((_, j) => again[j] === 'failed');
  }
  for (const i of refused) {
    logger.error('Latest sample write failed', { serverId: latestWrites[i]?.serverId });
    failed.push((latest[i] as Parsed).sequenceNumber);
  }
  metrics.addMetric('SamplesAggregated', 'Count', parsed.length);
  metrics.publishStoredMetrics();
  if (failed.length === 0) return { batchItemFailures: [] };
  const lowest = failed.reduce((a, b) => (BigInt(a) <= BigInt(b) ? a : b));
  return { batchItemFailures: [{ itemIdentifier: lowest }] };
}
