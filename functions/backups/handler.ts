import type { Implementations } from '../../layers/http/context-handler';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { accepted, created, ok } from '../../layers/http/route';
import {
  type BackupDataKeyItem,
  type BackupItem,
  type BackupTargetItem,
  backupKeys,
  toBackup,
  toBackupTarget,
} from '../../layers/model/backups';
import { toOperation } from '../../layers/model/operations';
import { serverOf } from '../../layers/model/servers';
import { siteOf } from '../../layers/model/sites';
import { backupsContext } from './context';
import { policyOf, putPolicy, toPolicy } from './policies';
import { restoreBackup } from './restore';
import type { backupsRoutes } from './routes';
import { backUpNow, backupOf, databasesFor, deleteBackup, downloadLinks } from './service';
import { targetOf, tenantDataKey } from './storage';
import { createTarget, deleteTarget } from './targets';

export const backupsImplementations: Implementations<typeof backupsRoutes> = {
  getBackupPolicy: async ({ params, platform }) => {
    await siteOf(platform, params.tenantId, params.siteId);
    return ok(toPolicy(await policyOf(platform, params.tenantId, params.siteId)));
  },
  putBackupPolicy: async ({ params, body, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    if (body.databaseIds) await databasesFor(platform, site, body.databaseIds);
    return ok(toPolicy(await putPolicy(platform, params.tenantId, { siteId: site.id }, body)));
  },
  deleteBackupPolicy: async ({ params, platform }) => {
    await siteOf(platform, params.tenantId, params.siteId);
    await platform.store.remove(backupKeys.policy(params.tenantId, params.siteId));
    return { status: 204 };
  },
  getServerBackupPolicy: async ({ params, platform }) => {
    await serverOf(platform, params.tenantId, params.serverId);
    return ok(toPolicy(await policyOf(platform, params.tenantId, params.serverId)));
  },
  putServerBackupPolicy: async ({ params, body, platform }) => {
    const server = await serverOf(platform, params.tenantId, params.serverId);
    return ok(toPolicy(await putPolicy(platform, params.tenantId, { serverId: server.id }, body)));
  },
  deleteServerBackupPolicy: async ({ params, platform }) => {
    await serverOf(platform, params.tenantId, params.serverId);
    await platform.store.remove(backupKeys.policy(params.tenantId, params.serverId));
    return { status: 204 };
  },
  listBackupTargets: async ({ params, query, platform }) => {
    return listPage<BackupTargetItem, ReturnType<typeof toBackupTarget>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: backupKeys.targetPrefix,
        scope: 'backup-targets',
        query,
      },
      toBackupTarget,
    );
  },
  createBackupTarget: async ({ params, body, platform }) => {
    const target = await createTarget(platform, params.tenantId, body);
    return created(toBackupTarget(target), `/v1/tenants/${params.tenantId}/backup-targets/${target.id}`);
  },
  getBackupTarget: async ({ params, platform }) =>
    ok(toBackupTarget(await targetOf(platform, params.tenantId, params.targetId))),
  deleteBackupTarget: async ({ params, platform }) => {
    await deleteTarget(platform, params.tenantId, params.targetId);
    return { status: 204 };
  },
  exportBackupDataKey: async ({ params, platform }) => {
    const key = await tenantDataKey(platform, params.tenantId);
    const kept = await platform.store.get<BackupDataKeyItem>(backupKeys.dataKey(params.tenantId), true);
    return ok({
      algorithm: 'aes-256-gcm',
      format: 'VIPGCM1',
      key: key.toString('base64'),
      createdAt: kept?.createdAt ?? platform.clock.now().toISOString(),
    });
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
    return listPage<BackupItem, ReturnType<typeof toBackup>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: backupKeys.prefix(params.siteId),
        scope: `backups:${params.siteId}`,
        query,
      },
      toBackup,
    );
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
