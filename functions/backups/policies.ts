import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { type BackupPolicyItem, backupKeys, backupScheduleIndex } from '../../layers/model/backups';
import type { Platform } from '../../layers/runtime/platform';
import { readUsage } from '../plans/quota';
import { retentionOverPlan } from './retention';
import { cronFor, nextRun, shortestGapMinutes } from './schedule';
import type { policyBody } from './spec';

/** A policy as the API answers it. */
export const toPolicy = (item: BackupPolicyItem) => ({
  siteId: item.siteId ?? null,
  serverId: item.serverId ?? null,
  retention: item.retention ?? null,
  schedule: item.schedule ? { cron: item.schedule.cron, frequency: item.schedule.frequency ?? null } : null,
  files: item.files,
  databaseIds: item.databaseIds ?? null,
  targetId: item.targetId ?? null,
  testRestore: item.testRestore ?? 'weekly',
  lastTestRestoreAt: item.lastTestRestoreAt ?? null,
  nextRunAt: item.nextRunAt ?? null,
  lastRunAt: item.lastRunAt ?? null,
  updatedAt: item.updatedAt,
});

export async function policyOf(platform: Platform, tenantId: string, siteOrServerId: string) {
  const policy = await platform.store.get<BackupPolicyItem>(backupKeys.policy(tenantId, siteOrServerId));
  if (!policy) throw errors.notFound('backup policy');
  return policy;
}

/**
 * Writes a site's or a server's policy whole: its schedule as a cron expression (a frequency at
 * a minute and hour of the site's or server's own) and its next run in the schedule index; the
 * last run and last test restore carry over.
 */
export async function putPolicy(
  platform: Platform,
  tenantId: string,
  subject: { siteId: string } | { serverId: string },
  body: Omit<z.output<typeof policyBody>, 'databaseIds'> & { databaseIds?: string[] | undefined },
) {
  const id = 'siteId' in subject ? subject.siteId : subject.serverId;
  if (body.targetId && !(await platform.store.get(backupKeys.target(tenantId, body.targetId)))) {
    throw errors.validation([{ path: 'body.targetId', message: 'No such backup target of the tenant' }]);
  }
  const maxDays = (await readUsage(platform.store, tenantId))?.quotas.backupRetentionDays.limit;
  if (body.retention && maxDays !== undefined && maxDays !== null) {
    const over = retentionOverPlan(body.retention, maxDays);
    if (over.length > 0) throw errors.validation(over);
  }
  const now = platform.clock.now();
  const schedule = body.schedule
    ? typeof body.schedule === 'string'
      ? { cron: cronFor(body.schedule, id), frequency: body.schedule }
      : { cron: body.schedule.cron }
    : undefined;
  if (schedule && !schedule.frequency && shortestGapMinutes(schedule.cron, now) < 15) {
    throw errors.validation([{ path: 'body.schedule.cron', message: 'At most one backup every 15 minutes' }]);
  }
  const previous = await platform.store.get<BackupPolicyItem>(backupKeys.policy(tenantId, id));
  const nextRunAt = schedule ? nextRun(schedule.cron, now) : undefined;
  const policy: BackupPolicyItem = {
    ...backupKeys.policy(tenantId, id),
    entity: 'backup-policy',
    tenantId,
    ...subject,
    ...(body.retention ? { retention: body.retention as NonNullable<BackupPolicyItem['retention']> } : {}),
    ...(schedule && nextRunAt
      ? { schedule, nextRunAt, ...backupScheduleIndex.keys(nextRunAt, tenantId, id) }
      : {}),
    files: body.files,
    ...(body.databaseIds ? { databaseIds: body.databaseIds } : {}),
    ...(body.targetId ? { targetId: body.targetId } : {}),
    testRestore: body.testRestore,
    ...(previous?.lastRunAt ? { lastRunAt: previous.lastRunAt } : {}),
    ...(previous?.lastTestRestoreAt ? { lastTestRestoreAt: previous.lastTestRestoreAt } : {}),
    updatedAt: now.toISOString(),
  };
  await platform.store.put(policy);
  return policy;
}
