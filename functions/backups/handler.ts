import { errors } from '../../layers/errors/app-error';
import type { Implementations } from '../../layers/http/context-handler';
import { makeContextHandler } from '../../layers/http/context-handler';
import { accepted, ok } from '../../layers/http/route';
import {
  type BackupItem,
  type BackupPolicyItem,
  backupKeys,
  backupScheduleIndex,
  toBackup,
} from '../../layers/model/backups';
import { tenantPartition } from '../../layers/model/keys';
import { toOperation } from '../../layers/model/operations';
import { siteOf } from '../sites/service';
import { backupsContext } from './context';
import type { backupsRoutes } from './routes';
import { cronFor, nextRun, shortestGapMinutes } from './schedule';
import { backUpNow, backupOf, databasesFor, deleteBackup, downloadLinks, restoreBackup } from './service';

const toPolicy = (item: BackupPolicyItem) => ({
  siteId: item.siteId,
  retention: item.retention ?? null,
  schedule: item.schedule ? { cron: item.schedule.cron, frequency: item.schedule.frequency ?? null } : null,
  files: item.files,
  databaseIds: item.databaseIds ?? null,
  testRestore: item.testRestore ?? 'weekly',
  lastTestRestoreAt: item.lastTestRestoreAt ?? null,
  nextRunAt: item.nextRunAt ?? null,
  lastRunAt: item.lastRunAt ?? null,
  updatedAt: item.updatedAt,
});

export const backupsImplementations: Implementations<typeof backupsRoutes> = {
  getBackupPolicy: async ({ params, platform }) => {
    await siteOf(platform, params.tenantId, params.siteId);
    const policy = await platform.store.get<BackupPolicyItem>(
      backupKeys.policy(params.tenantId, params.siteId),
    );
    if (!policy) throw errors.notFound('backup policy');
    return ok(toPolicy(policy));
  },
  putBackupPolicy: async ({ params, body, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    if (body.databaseIds) await databasesFor(platform, site, body.databaseIds);
    const now = platform.clock.now();
    const schedule = body.schedule
      ? typeof body.schedule === 'string'
        ? { cron: cronFor(body.schedule, site.id), frequency: body.schedule }
        : { cron: body.schedule.cron }
      : undefined;
    if (schedule && !schedule.frequency && shortestGapMinutes(schedule.cron, now) < 15) {
      throw errors.validation([
        { path: 'body.schedule.cron', message: 'At most one backup every 15 minutes' },
      ]);
    }
    const previous = await platform.store.get<BackupPolicyItem>(
      backupKeys.policy(params.tenantId, params.siteId),
    );
    const nextRunAt = schedule ? nextRun(schedule.cron, now) : undefined;
    const policy: BackupPolicyItem = {
      ...backupKeys.policy(params.tenantId, params.siteId),
      entity: 'backup-policy',
      tenantId: params.tenantId,
      siteId: params.siteId,
      ...(body.retention ? { retention: body.retention as NonNullable<BackupPolicyItem['retention']> } : {}),
      ...(schedule && nextRunAt
        ? { schedule, nextRunAt, ...backupScheduleIndex.keys(nextRunAt, params.tenantId, params.siteId) }
        : {}),
      files: body.files,
      ...(body.databaseIds ? { databaseIds: body.databaseIds } : {}),
      testRestore: body.testRestore,
      ...(previous?.lastRunAt ? { lastRunAt: previous.lastRunAt } : {}),
      ...(previous?.lastTestRestoreAt ? { lastTestRestoreAt: previous.lastTestRestoreAt } : {}),
      updatedAt: now.toISOString(),
    };
    await platform.store.put(policy);
    return ok(toPolicy(policy));
  },
  deleteBackupPolicy: async ({ params, platform }) => {
    await siteOf(platform, params.tenantId, params.siteId);
    await platform.store.remove(backupKeys.policy(params.tenantId, params.siteId));
    return { status: 204 };
  },
  backUpSite: async ({ params, body, requestId, platform }) => {
    const { backup, operation } = await backUpNow(platform, { ...params, requestId }, body);
    return accepted(
      { ...toBackup(backup), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  listSiteBackups: async ({ params, query, platform }) => {
    await siteOf(platform, params.tenantId, params.siteId);
    const page = await platform.store.query<BackupItem>({
      pk: tenantPartition(params.tenantId),
      skPrefix: backupKeys.prefix(params.siteId),
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: `backups:${params.siteId}`,
    });
    return ok({ items: page.items.map(toBackup), nextCursor: page.nextCursor });
  },
  getSiteBackup: async ({ params, platform }) =>
    ok(toBackup(await backupOf(platform, params.tenantId, params.siteId, params.backupId))),
  downloadSiteBackup: async ({ params, platform }) => {
    const backup = await backupOf(platform, params.tenantId, params.siteId, params.backupId);
    return ok({ objects: await downloadLinks(platform, backup) });
  },
  restoreSiteBackup: async ({ params, body, requestId, platform }) => {
    const backup = await backupOf(platform, params.tenantId, params.siteId, params.backupId);
    const operation = await restoreBackup(platform, backup, requestId, body);
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
  deleteSiteBackup: async ({ params, platform }) => {
    await deleteBackup(platform, await backupOf(platform, params.tenantId, params.siteId, params.backupId));
    return { status: 204 };
  },
};

/** The backups context. */
export const handler = makeContextHandler(backupsContext, backupsImplementations);
