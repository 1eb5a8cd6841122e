import type { BackupPolicyItem } from '../../layers/model/backups';
/**
 * Which backups a retention rule keeps. Rules add up: a backup is kept when any of them keeps
 * it, and the newest verified backup is always kept (a rule never leaves a site without a good
 * backup). Only finished backups are considered; a running one is never pruned.
 */
export interface Retention {
  /** the newest N */
  keepLast?: number | undefined;
  /** every backup younger than N days */
  keepDays?: number | undefined;
  /** grandfather-father-son: the newest of each of the last N days, ISO weeks and months (UTC) */
  gfs?: { daily: number; weekly: number; monthly: number } | undefined;
}

export interface RetainedBackup {
  id: string;
  /** when it was made (ISO 8601) */
  createdAt: string;
  verified: boolean;
}

const DAY_MS = 86_400_000;

/** The UTC day, ISO week and month a moment falls in, as sortable labels. */
function periods(at: Date) {
  const day = at.toISOString().slice(0, 10);
  const month = day.slice(0, 7);
  // ISO week: the week's Thursday decides its year
  const thursday = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 4 - (thursday.getUTCDay() || 7));
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((thursday.getTime() - yearStart) / DAY_MS + 1) / 7);
  return { day, week: `${thursday.getUTCFullYear()}-W${String(week).padStart(2, '0')}`, month };
}

/** The newest backup in each of the last `count` periods that have one. */
function newestPerPeriod(
  sorted: readonly RetainedBackup[],
  count: number,
  label: (b: RetainedBackup) => string,
) {
  const kept: string[] = [];
  const seen = new Set<string>();
  for (const backup of sorted) {
    const period = label(backup);
    if (seen.has(period)) continue;
    if (seen.size === count) break;
    seen.add(period);
    kept.push(backup.id);
  }
  return kept;
}

/**
 * The ids the rule keeps, of the backups given (any order), at `now`. A plan's
 * `backupRetentionDays` (`maxDays`) caps every rule: nothing older is kept but the newest
 * verified backup.
 */
export function retained(
  backups: readonly RetainedBackup[],
  retention: Retention,
  now: Date,
  maxDays?: number | null,
): Set<string> {
  // newest first; ids are ULIDs, so they break ties in time order
  const sorted = [...backups].sort((a, b) =>
    a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
  );
  const keep = new Set<string>();
  if (retention.keepLast !== undefined) for (const b of sorted.slice(0, retention.keepLast)) keep.add(b.id);
  if (retention.keepDays !== undefined) {
    const since = now.getTime() - retention.keepDays * DAY_MS;
    for (const b of sorted) if (Date.parse(b.createdAt) >= since) keep.add(b.id);
  }
  if (retention.gfs) {
    const at = (b: RetainedBackup) => periods(new Date(b.createdAt));
    for (const id of newestPerPeriod(sorted, retention.gfs.daily, (b) => at(b).day)) keep.add(id);
    for (const id of newestPerPeriod(sorted, retention.gfs.weekly, (b) => at(b).week)) keep.add(id);
    for (const id of newestPerPeriod(sorted, retention.gfs.monthly, (b) => at(b).month)) keep.add(id);
  }
  if (maxDays !== undefined && maxDays !== null) {
    const cutoff = now.getTime() - maxDays * DAY_MS;
    for (const b of sorted) if (Date.parse(b.createdAt) < cutoff) keep.delete(b.id);
  }
  const newestVerified = sorted.find((b) => b.verified);
  if (newestVerified) keep.add(newestVerified.id);
  return keep;
}

export const isoWeekOf = (at: Date) => periods(at).week;

const testRestoreDays = { daily: 1, weekly: 7, monthly: 30 } as const;

/**
 * Whether a scheduled backup should also be test-restored: its policy's interval (weekly unless
 * it says otherwise) has passed since the last test restore (with an hour's slack, so a daily
 * backup at the same hour each day qualifies every day).
 */
export function testRestoreDue(policy: BackupPolicyItem, now: Date): boolean {
  const frequency = policy.testRestore ?? 'weekly';
  if (frequency === 'off') return false;
  if (!policy.lastTestRestoreAt) return true;
  const interval = testRestoreDays[frequency] * 24 * 3600_000 - 3600_000;
  return now.getTime() - new Date(policy.lastTestRestoreAt).getTime() >= interval;
}

/**
 * Where a retention asks to keep backups longer than the plan's `backupRetentionDays` allows, the
 * fields that ask it (a week of gfs counts 7 days, a month 31).
 */
export function retentionOverPlan(
  retention: Retention,
  maxDays: number,
): { path: string; message: string }[] {
  const over = (days: number) => days > maxDays;
  const message = `The plan keeps backups at most ${maxDays} days`;
  return [
    ...(retention.keepDays !== undefined && over(retention.keepDays)
      ? [{ path: 'body.retention.keepDays', message }]
      : []),
    ...(retention.gfs && over(retention.gfs.daily) ? [{ path: 'body.retention.gfs.daily', message }] : []),
    ...(retention.gfs && over(retention.gfs.weekly * 7)
      ? [{ path: 'body.retention.gfs.weekly', message }]
      : []),
    ...(retention.gfs && over(retention.gfs.monthly * 31)
      ? [{ path: 'body.retention.gfs.monthly', message }]
      : []),
  ];
}
