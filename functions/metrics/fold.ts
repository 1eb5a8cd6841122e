import { bucketOf, type RollupItem, rollupFoldIndex, rollupKeys } from '../../layers/model/rollups';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { TransactionFailedError } from '../../layers/store/store';
import { putOverVersion, updateItem } from '../../layers/store/writes';
import { foldInto } from './rollup';
import { minuteOf } from './sample';

const MAX_ATTEMPTS = 5;

/**
 * Folds one closed minute into its hour and its day, exactly once: the minute is marked folded
 * (and leaves the fold index) in the same transaction that writes both, conditionally on the
 * minute as read (no sample merged meanwhile) and on each bucket's version (no other fold
 * meanwhile); a conflict reads again. A minute already folded is left alone.
 */
export async function foldMinute(
  platform: Platform,
  ref: { tenantId: string; serverId: string; minute: string },
): Promise<boolean> {
  const { config } = platform;
  const minuteKey = rollupKeys.item(ref.tenantId, ref.serverId, ref.minute);
  for (let attempt = 1; ; attempt += 1) {
    const minute = await platform.store.get<RollupItem>(minuteKey, true);
    if (!minute || minute.foldedAt) return false;
    const hourKey = rollupKeys.item(ref.tenantId, ref.serverId, bucketOf('1h', `${ref.minute}:00Z`), '1h');
    const dayKey = rollupKeys.item(ref.tenantId, ref.serverId, bucketOf('1d', `${ref.minute}:00Z`), '1d');
    const [hour, day] = await Promise.all([
      platform.store.get<RollupItem>(hourKey, true),
      platform.store.get<RollupItem>(dayKey, true),
    ]);
    try {
      await platform.store.transact([
        updateItem(
          minuteKey,
          { set: { foldedAt: platform.clock.now().toISOString(), gsi1pk: undefined, gsi1sk: undefined } },
          { absent: ['foldedAt'], equals: { version: minute.version } },
        ),
        putOverVersion(foldInto(hour, minute, '1h', config.METRICS_RETENTION_HOUR_DAYS), hour?.version),
        putOverVersion(foldInto(day, minute, '1d', config.METRICS_RETENTION_DAY_DAYS), day?.version),
      ]);
      return true;
    } catch (error) {
      if (!(error instanceof TransactionFailedError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

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
  for await (const page of platform.store.pages<RollupItem>({
    index: 'gsi1',
    pk: rollupFoldIndex.partition,
    skBetween: rollupFoldIndex.before(cutoff),
  })) {
    const byServer = new Map<string, RollupItem[]>();
    for (const entry of page) {
      const server = `${entry.tenantId}/${entry.serverId}`;
      byServer.set(server, [...(byServer.get(server) ?? []), entry]);
    }
    const queue = [...byServer.values()];
    await Promise.all(
      Array.from({ length: Math.min(SERVERS_AT_ONCE, queue.length) }, async () => {
        for (let minutes = queue.shift(); minutes; minutes = queue.shift()) {
          for (const entry of minutes) {
            if (await foldMinute(platform, entry)) folded += 1;
          }
        }
      }),
    );
  }
  if (folded > 0) logger.info('Folded closed minutes into hours and days', { folded });
  metrics.addMetric('MinutesFolded', 'Count', folded);
  return { folded };
}
