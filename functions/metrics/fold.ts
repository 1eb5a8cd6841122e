import { bucketOf, type RollupItem, rollupFoldIndex, rollupKeys } from '../../layers/model/rollups';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { TransactionFailedError } from '../../layers/store/store';
import { putOverVersion, updateItem } from '../../layers/store/writes';
import { foldInto } from './rollup';
import { minuteOf } from './sample';

const MAX_ATTEMPTS = 5;

/** The most minutes one transaction folds: with the hour and the day, within DynamoDB's 100 items. */
const MINUTES_AT_ONCE = 60;

/**
 * Folds closed minutes of one server, all in the same hour, into that hour and its day, exactly
 * once: each minute is marked folded (and leaves the fold index) in the same transaction that
 * writes both, conditionally on each minute as read (no sample merged meanwhile) and on each
 * bucket's version (no other fold meanwhile); a conflict reads again. Minutes already folded are
 * left alone. Folding a few minutes at once writes the hour and the day once for all of them.
 * Answers how many minutes it folded.
 */
export async function foldMinutes(
  platform: Platform,
  ref: { tenantId: string; serverId: string; minutes: string[] },
): Promise<number> {
  const { config } = platform;
  const [first] = ref.minutes;
  if (!first) return 0;
  const hourKey = rollupKeys.item(ref.tenantId, ref.serverId, bucketOf('1h', `${first}:00Z`), '1h');
  const dayKey = rollupKeys.item(ref.tenantId, ref.serverId, bucketOf('1d', `${first}:00Z`), '1d');
  for (let attempt = 1; ; attempt += 1) {
    const read = await platform.store.batchGet<RollupItem>(
      [...ref.minutes.map((m) => rollupKeys.item(ref.tenantId, ref.serverId, m)), hourKey, dayKey],
      true,
    );
    const minutes = read
      .filter((item) => item.pk !== hourKey.pk && item.pk !== dayKey.pk && !item.foldedAt)
      .sort((a, b) => a.minute.localeCompare(b.minute));
    if (minutes.length === 0) return 0;
    const hour = read.find((item) => item.pk === hourKey.pk);
    const day = read.find((item) => item.pk === dayKey.pk);
    let hourAfter = hour;
    let dayAfter = day;
    for (const minute of minutes) {
      hourAfter = foldInto(hourAfter, minute, '1h', config.METRICS_RETENTION_HOUR_DAYS);
      dayAfter = foldInto(dayAfter, minute, '1d', config.METRICS_RETENTION_DAY_DAYS);
    }
    // one version step per write, whatever the number of minutes folded
    const written = (after: RollupItem, before: RollupItem | undefined) => ({
      ...after,
      version: (before?.version ?? 0) + 1,
    });
    try {
      await platform.store.transact([
        ...minutes.map((minute) =>
          updateItem(
            rollupKeys.item(ref.tenantId, ref.serverId, minute.minute),
            { set: { foldedAt: platform.clock.now().toISOString(), gsi2pk: undefined, gsi2sk: undefined } },
            { absent: ['foldedAt'], equals: { version: minute.version } },
          ),
        ),
        putOverVersion(written(hourAfter as RollupItem, hour), hour?.version),
        putOverVersion(written(dayAfter as RollupItem, day), day?.version),
      ]);
      return minutes.length;
    } catch (error) {
      if (!(error instanceof TransactionFailedError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** The most minutes one sweep reads from the fold index (a fleet of 10,000 hosts makes 50,000 in 5 minutes). */
const MOST_PER_SWEEP = 100_000;

/** Servers folded at once: each server's minutes one after another (they share hours and days). */
const SERVERS_AT_ONCE = 16;

/**
 * Folds every minute that closed (a grace after its end, METRICS_FOLD_GRACE_SECONDS) into its
 * hour and day, from the fold index (no scan): run every minute by EventBridge Scheduler (the
 * local timer). Hours and days never hold a set of sample ids: each minute is folded once, and
 * the minute's own ids (a handful) are what makes redelivery harmless. A server's minutes fold in
 * order, one at a time (they write the same hour and day); servers fold side by side.
 */
export async function foldClosedMinutes(platform: Platform) {
  const now = platform.clock.now();
  const cutoff = minuteOf(
    new Date(now.getTime() - platform.config.METRICS_FOLD_GRACE_SECONDS * 1000).toISOString(),
  );
  let folded = 0;
  // the index is sorted by minute: a server's minutes are read together before any is folded
  // (up to a bound; what is left is the next sweep's)
  const byServer = new Map<string, ReturnType<typeof rollupFoldIndex.entryOf>[]>();
  let read = 0;
  let cursor: string | undefined;
  do {
    // the index holds keys alone: a page of 1 MB is about 10,000 minutes
    const page = await platform.store.query<RollupItem>({
      index: 'gsi2',
      pk: rollupFoldIndex.partition,
      skBetween: rollupFoldIndex.before(cutoff),
      limit: 10_000,
      cursor,
      tenantId: '*',
      scope: 'rollup-fold',
    });
    for (const item of page.items) {
      const entry = rollupFoldIndex.entryOf(item.gsi2sk ?? '');
      const server = `${entry.tenantId}/${entry.serverId}`;
      byServer.set(server, [...(byServer.get(server) ?? []), entry]);
    }
    read += page.items.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor && read < MOST_PER_SWEEP);
  const queue = [...byServer.values()];
  await Promise.all(
    Array.from({ length: Math.min(SERVERS_AT_ONCE, queue.length) }, async () => {
      for (let entries = queue.shift(); entries; entries = queue.shift()) {
        // a server's minutes in order, those of one hour together
        const byHour = new Map<string, string[]>();
        for (const entry of entries.sort((a, b) => a.minute.localeCompare(b.minute))) {
          const hour = entry.minute.slice(0, 13);
          byHour.set(hour, [...(byHour.get(hour) ?? []), entry.minute]);
        }
        const { tenantId, serverId } = entries[0] as (typeof entries)[number];
        for (const minutes of byHour.values()) {
          for (let i = 0; i < minutes.length; i += MINUTES_AT_ONCE) {
            folded += await foldMinutes(platform, {
              tenantId,
              serverId,
              minutes: minutes.slice(i, i + MINUTES_AT_ONCE),
            });
          }
        }
      }
    }),
  );
  if (folded > 0) logger.info('Folded closed minutes into hours and days', { folded });
  metrics.addMetric('MinutesFolded', 'Count', folded);
  return { folded };
}
