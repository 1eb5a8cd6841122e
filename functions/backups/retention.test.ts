import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackupPolicyItem } from '../../layers/model/backups';
import {
  isoWeekOf,
  type RetainedBackup,
  type Retention,
  retained,
  retentionOverPlan,
  testRestoreDue,
} from './retention';

/**
 * Retention over arbitrary histories of backups (hourly, daily, weekly schedules with gaps and
 * clock skew) and arbitrary rules: what is kept is exactly what each rule asks for, never less.
 */
const DAY = 86_400_000;
const start = Date.UTC(2026, 0, 1);

/** A history: backups at a schedule's ticks, some skipped, each a little late or early. */
const history = fc
  .record({
    everyMs: fc.constantFrom(3_600_000, DAY, 7 * DAY),
    count: fc.integer({ min: 0, max: 120 }),
    skipped: fc.array(fc.integer({ min: 0, max: 119 }), { maxLength: 20 }),
    jitterMs: fc.array(fc.integer({ min: -600_000, max: 600_000 }), { minLength: 120, maxLength: 120 }),
    unverified: fc.array(fc.integer({ min: 0, max: 119 }), { maxLength: 10 }),
  })
  .map(({ everyMs, count, skipped, jitterMs, unverified }) => {
    const backups: RetainedBackup[] = [];
    for (let i = 0; i < count; i += 1) {
      if (skipped.includes(i)) continue;
      backups.push({
        id: `bkp_${String(i).padStart(26, '0')}`,
        createdAt: new Date(start + i * everyMs + (jitterMs[i] ?? 0)).toISOString(),
        verified: !unverified.includes(i),
      });
    }
    const last = backups.at(-1);
    return { backups, now: new Date((last ? Date.parse(last.createdAt) : start) + 60_000) };
  });

const rule: fc.Arbitrary<Retention> = fc.record(
  {
    keepLast: fc.integer({ min: 0, max: 30 }),
    keepDays: fc.integer({ min: 0, max: 60 }),
    gfs: fc.record({
      daily: fc.integer({ min: 0, max: 14 }),
      weekly: fc.integer({ min: 0, max: 8 }),
      monthly: fc.integer({ min: 0, max: 12 }),
    }),
  },
  { requiredKeys: [] },
);

const newestFirst = (backups: readonly RetainedBackup[]) =>
  [...backups].sort((a, b) =>
    a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1,
  );

describe('Backup retention', () => {
  it('keeps exactly the newest N, the last D days, one per GFS period and the newest verified', () => {
    fc.assert(
      fc.property(history, rule, ({ backups, now }, retention) => {
        const kept = retained(backups, retention, now);
        const sorted = newestFirst(backups);
        const expected = new Set<string>();
        if (retention.keepLast !== undefined)
          for (const b of sorted.slice(0, retention.keepLast)) expected.add(b.id);
        if (retention.keepDays !== undefined) {
          for (const b of sorted)
            if (now.getTime() - Date.parse(b.createdAt) <= retention.keepDays * DAY) expected.add(b.id);
        }
        if (retention.gfs) {
          const buckets: [number, (b: RetainedBackup) => string][] = [
            [retention.gfs.daily, (b) => b.createdAt.slice(0, 10)],
            [retention.gfs.weekly, (b) => isoWeekOf(new Date(b.createdAt))],
            [retention.gfs.monthly, (b) => b.createdAt.slice(0, 7)],
          ];
          for (const [count, label] of buckets) {
            const periods = [...new Set(sorted.map(label))].slice(0, count);
            for (const period of periods)
              expected.add((sorted.find((b) => label(b) === period) as RetainedBackup).id);
          }
        }
        const verified = sorted.find((b) => b.verified);
        if (verified) expected.add(verified.id);
        expect([...kept].sort()).toEqual([...expected].sort());
        // pruning again changes nothing: what was kept is kept
        const again = retained(
          backups.filter((b) => kept.has(b.id)),
          retention,
          now,
        );
        expect([...again].sort()).toEqual([...kept].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('never prunes a site down to no good backup', () => {
    fc.assert(
      fc.property(history, ({ backups, now }) => {
        const kept = retained(backups, { keepLast: 0, keepDays: 0 }, now);
        const verified = newestFirst(backups).find((b) => b.verified);
        expect(kept.size).toBe(verified ? 1 : 0);
      }),
    );
  });

  it('numbers ISO weeks as ISO 8601 does across year ends', () => {
    expect(isoWeekOf(new Date('2026-12-31T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeekOf(new Date('2027-01-03T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeekOf(new Date('2027-01-04T00:00:00Z'))).toBe('2027-W01');
    expect(isoWeekOf(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeekOf(new Date('2026-06-15T00:00:00Z'))).toBe('2026-W25');
  });
});

describe('Test restores on a schedule', () => {
  const policy = (testRestore: BackupPolicyItem['testRestore'], lastTestRestoreAt?: string) =>
    ({ testRestore, ...(lastTestRestoreAt ? { lastTestRestoreAt } : {}) }) as BackupPolicyItem;
  const now = new Date('2026-12-03T03:17:00Z');

  it('tests the first scheduled backup, then one per interval, weekly unless told', () => {
    expect(testRestoreDue(policy(undefined), now)).toBe(true);
    expect(testRestoreDue(policy('off'), now)).toBe(false);
    expect(testRestoreDue(policy(undefined, '2026-11-27T03:17:00Z'), now)).toBe(false);
    expect(testRestoreDue(policy(undefined, '2026-11-26T03:17:00Z'), now)).toBe(true);
    // a daily backup a little earlier than yesterday's is still tested daily
    expect(testRestoreDue(policy('daily', '2026-12-02T03:40:00Z'), now)).toBe(true);
    expect(testRestoreDue(policy('daily', '2026-12-03T01:00:00Z'), now)).toBe(false);
    expect(testRestoreDue(policy('monthly', '2026-11-05T03:17:00Z'), now)).toBe(false);
    expect(testRestoreDue(policy('monthly', '2026-11-03T03:17:00Z'), now)).toBe(true);
  });
});

describe("Retention: the plan's backupRetentionDays", () => {
  const day = (n: number, verified = true): RetainedBackup => ({
    id: `bkp_${String(n).padStart(26, '0')}`,
    createdAt: new Date(start + n * DAY).toISOString(),
    verified,
  });
  const now = new Date(start + 40 * DAY);

  it('keeps nothing older than the plan allows, whatever the rules, but the newest verified backup', () => {
    const backups = Array.from({ length: 40 }, (_, i) => day(i, i !== 39));
    const keep = retained(backups, { keepLast: 40, gfs: { daily: 0, weekly: 0, monthly: 12 } }, now, 7);
    // the 7 days before now are days 33 to 39; day 38 is the newest verified one
    expect([...keep].sort()).toEqual([33, 34, 35, 36, 37, 38, 39].map((n) => day(n).id));
    expect(retained(backups, { keepLast: 40 }, now, null).size).toBe(40);
    // with the cap over everything but an unverified newest, the newest verified stays
    const old = [day(1), day(2, false)];
    expect([...retained(old, { keepLast: 5 }, now, 7)]).toEqual([day(1).id]);
  });

  it('names the fields of a policy that asks for more days than the plan allows', () => {
    expect(retentionOverPlan({ keepDays: 30, gfs: { daily: 7, weekly: 5, monthly: 1 } }, 30)).toEqual([
      { path: 'body.retention.gfs.weekly', message: 'The plan keeps backups at most 30 days' },
      { path: 'body.retention.gfs.monthly', message: 'The plan keeps backups at most 30 days' },
    ]);
    expect(retentionOverPlan({ keepDays: 31, keepLast: 1000 }, 30).map((e) => e.path)).toEqual([
      'body.retention.keepDays',
    ]);
    expect(retentionOverPlan({ keepLast: 1000, gfs: { daily: 30, weekly: 4, monthly: 0 } }, 30)).toEqual([]);
  });
});
