import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { AppError } from '../../layers/errors/app-error';
import { type BackupPolicyItem, backupKeys, backupScheduleIndex } from '../../layers/model/backups';
import { type SiteItem, siteKeys } from '../../layers/model/sites';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import { testRestoreDue } from './retention';
import { backUpNow } from './service';

export type BackupFrequency = 'hourly' | 'daily' | 'weekly';

/**
 * A frequency as a cron expression (UTC) at a minute, hour and weekday of the site's own, taken
 * from its id, so a fleet's daily backups spread over the night rather than all starting at once.
 */
export function cronFor(frequency: BackupFrequency, siteId: string): string {
  const hash = createHash('sha256').update(siteId).digest();
  const minute = (hash[0] ?? 0) % 60;
  // between 01:00 and 05:59 UTC
  const hour = 1 + ((hash[1] ?? 0) % 5);
  const weekday = (hash[2] ?? 0) % 7;
  if (frequency === 'hourly') return `${minute} * * * *`;
  if (frequency === 'daily') return `${minute} ${hour} * * *`;
  return `${minute} ${hour} * * ${weekday}`;
}

/** The next time a cron expression fires after `after` (UTC), as an ISO timestamp. */
export function nextRun(expression: string, after: Date): string {
  const next = new Cron(expression, { paused: true, timezone: 'UTC' }).nextRun(after);
  if (!next) throw new Error(`The schedule ${expression} never fires again`);
  return next.toISOString();
}

/** The shortest gap between two runs of an expression, over its next few runs. */
export function shortestGapMinutes(expression: string, from: Date): number {
  const runs = new Cron(expression, { paused: true, timezone: 'UTC' }).nextRuns(50, from);
  let gap = Number.POSITIVE_INFINITY;
  for (let i = 1; i < runs.length; i += 1) {
    gap = Math.min(gap, ((runs[i] as Date).getTime() - (runs[i - 1] as Date).getTime()) / 60_000);
  }
  return gap;
}

/**
 * Starts every scheduled backup that is due (policies indexed by their next run, no scan): a
 * site's, or, for a server's, each of its sites without a schedule of its own. Each policy's
 * next run moves on before its backups start, conditionally on the run it found, so two sweeps
 * never start one run twice; a test restore due is taken then too. A site that cannot be backed
 * up now (a backup running, the site changing) is logged and waits for its next run.
 */
export async function sweepBackupSchedules(platform: Platform) {
  const now = platform.clock.now();
  const counts = { started: 0, skipped: 0 };
  for await (const page of platform.store.pages<BackupPolicyItem>({
    index: 'gsi1',
    pk: backupScheduleIndex.partition,
    skBetween: backupScheduleIndex.until(now.toISOString()),
  })) {
    for (const policy of page) {
      const id = policy.siteId ?? policy.serverId;
      if (!policy.schedule || !policy.nextRunAt || !id) continue;
      const due = policy.nextRunAt;
      const next = nextRun(policy.schedule.cron, now);
      const testRestore = testRestoreDue(policy, now);
      try {
        await platform.store.update(
          backupKeys.policy(policy.tenantId, id),
          {
            nextRunAt: next,
            ...backupScheduleIndex.keys(next, policy.tenantId, id),
            lastRunAt: due,
            ...(testRestore ? { lastTestRestoreAt: now.toISOString() } : {}),
          },
          { where: { equals: { nextRunAt: due } } },
        );
      } catch (error) {
        if (error instanceof ConditionFailedError) continue;
        throw error;
      }
      const siteIds = policy.siteId ? [policy.siteId] : await unscheduledSites(platform, policy);
      for (const siteId of siteIds) {
        const started = await startScheduled(platform, policy, siteId, due, testRestore);
        counts[started ? 'started' : 'skipped'] += 1;
      }
    }
  }
  return counts;
}

/** A server policy's sites: those on the server whose own policy has no schedule. */
async function unscheduledSites(platform: Platform, policy: BackupPolicyItem) {
  const ids: string[] = [];
  for await (const page of platform.store.pages<SiteItem>({
    index: 'gsi1',
    pk: siteKeys.serverPartition(policy.tenantId, policy.serverId as string),
    skPrefix: siteKeys.prefix,
  })) {
    for (const site of page) {
      const own = await platform.store.get<BackupPolicyItem>(backupKeys.policy(site.tenantId, site.id));
      if (!own?.schedule) ids.push(site.id);
    }
  }
  return ids;
}

async function startScheduled(
  platform: Platform,
  policy: BackupPolicyItem,
  siteId: string,
  due: string,
  testRestore: boolean,
) {
  try {
    await backUpNow(
      platform,
      { tenantId: policy.tenantId, siteId, requestId: `scheduled-${siteId}-${due}` },
      {
        files: policy.files,
        ...(policy.databaseIds ? { databaseIds: policy.databaseIds } : {}),
        ...(policy.targetId ? { targetId: policy.targetId } : {}),
        testRestore,
      },
    );
    return true;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    logger.warn('A scheduled backup could not start; the next run tries again', {
      siteId,
      due,
      reason: error.message,
    });
    metrics.addMetric('ScheduledBackupSkipped', 'Count', 1);
    return false;
  }
}
