import { allows } from '../../layers/auth/permissions';
import { errors } from '../../layers/errors/app-error';
import type { Implementations } from '../../layers/http/context-handler';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { accepted, etag, ok, versionFromIfMatch } from '../../layers/http/route';
import { type OperationItem, toOperation } from '../../layers/model/operations';
import { type ServerItem, serverKeys, serverOf } from '../../layers/model/servers';
import { type SiteItem, siteKeys, siteOf, toCertificateSummary, toSite } from '../../layers/model/sites';
import { installApp } from './apps';
import { orderSiteCertificate, removeSiteCertificate, uploadSiteCertificate } from './certificates/service';
import { sitesContext } from './context';
import { createSite } from './create';
import { deploySite, newSiteDeployKey, rollbackSite, setRepository } from './deploys';
import { readEnvironment } from './environment';
import type { sitesRoutes } from './routes';
import { daemonLogs, deleteSite, setEnvironment, setSuspended } from './service';
import { createStaging, promoteStaging } from './staging';
import { updateSite } from './update';
import { newWebhookSecret, receivePush, webhookPath } from './webhook';

const operationUrl = (tenantId: string, operationId: string) =>
  `/v1/tenants/${tenantId}/operations/${operationId}`;

/** 202 with the site as it is now and the operation changing it, located at the operation. */
const changeAccepted = (tenantId: string, changed: { site: SiteItem; operation: OperationItem }) =>
  accepted(
    { ...toSite(changed.site), operation: toOperation(changed.operation) },
    operationUrl(tenantId, changed.operation.id),
  );

export const sitesImplementations: Implementations<typeof sitesRoutes> = {
  createSite: async ({ params, body, requestId, platform }) => {
    return changeAccepted(params.tenantId, await createSite(platform, { ...params, requestId }, body));
  },
  listServerSites: async ({ params, query, platform }) => {
    const server = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!server) throw errors.notFound('server');
    const page = await platform.store.query<SiteItem>({
      index: 'gsi1',
      pk: siteKeys.serverPartition(params.tenantId, params.serverId),
      skPrefix: siteKeys.prefix,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: `server-sites:${params.serverId}`,
    });
    return ok({ items: page.items.map(toSite), nextCursor: page.nextCursor });
  },
  listSites: async ({ params, query, platform }) => {
    return listPage<SiteItem, ReturnType<typeof toSite>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: siteKeys.prefix,
        scope: `sites?${query.status ?? ''}&${query.type ?? ''}&${query.serverId ?? ''}&${query.domain ?? ''}`,
        query,
        filter: {
          equals: { status: query.status, 'spec.type': query.type, serverId: query.serverId },
          startsWith: { 'spec.domain': query.domain },
        },
      },
      toSite,
    );
  },
  getSite: async ({ params, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    return ok(toSite(site), { ETag: etag(site.version) });
  },
  updateSite: async ({ params, body, headers, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const expected = versionFromIfMatch(headers('if-match'));
    if (expected !== undefined && expected !== (site.version ?? 1)) throw errors.preconditionFailed();
    const changed = await updateSite(platform, site, requestId, body, expected);
    return changeAccepted(params.tenantId, changed);
  },
  deleteSite: async ({ params, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const operation = await deleteSite(platform, site, requestId);
    return accepted(toOperation(operation), operationUrl(params.tenantId, operation.id));
  },
  suspendSite: async ({ params, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const changed = await setSuspended(platform, site, requestId, true);
    return changeAccepted(params.tenantId, changed);
  },
  unsuspendSite: async ({ params, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const changed = await setSuspended(platform, site, requestId, false);
    return changeAccepted(params.tenantId, changed);
  },
  getSiteEnvironment: async ({ params, principal, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const variables = (await readEnvironment(platform, site)) ?? {};
    const reveal = allows(principal, 'sites:secrets');
    return ok({
      variables: Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, reveal ? value : '********']),
      ),
      masked: !reveal,
      updatedAt: site.environment?.updatedAt ?? null,
    });
  },
  setSiteEnvironment: async ({ params, body, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const changed = await setEnvironment(platform, site, requestId, body.variables);
    return changeAccepted(params.tenantId, changed);
  },
  readDaemonLogs: async ({ params, query, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const operation = await daemonLogs(platform, site, requestId, params.daemon, query.lines);
    return accepted(toOperation(operation), operationUrl(params.tenantId, operation.id));
  },
  installSiteApp: async ({ params, body, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const changed = await installApp(platform, site, requestId, body);
    return changeAccepted(params.tenantId, changed);
  },
  setSiteRepository: async ({ params, body, headers, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const updated = await setRepository(platform, site, body, versionFromIfMatch(headers('if-match')));
    return ok(toSite(updated), { ETag: etag(updated.version) });
  },
  deploySite: async ({ params, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    return changeAccepted(params.tenantId, await deploySite(platform, site, requestId));
  },
  newSiteDeployKey: async ({ params, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const updated = await newSiteDeployKey(platform, site);
    return { status: 201, body: { publicKey: updated.deployKey?.publicKey } };
  },
  newSiteWebhook: async ({ params, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const secret = await newWebhookSecret(platform, site);
    return { status: 201, body: { url: `${platform.config.API_URL ?? ''}${webhookPath(site)}`, secret } };
  },
  receiveSitePush: async ({ params, headers, rawBody, requestId, platform }) =>
    receivePush(
      platform,
      await siteOf(platform, params.tenantId, params.siteId),
      { headers, rawBody },
      (site) => deploySite(platform, site, requestId),
    ),
  listSiteReleases: async ({ params, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    return ok({ current: site.currentRelease ?? null, items: site.releases ?? [] });
  },
  rollbackSite: async ({ params, body, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    return changeAccepted(params.tenantId, await rollbackSite(platform, site, requestId, body.releaseId));
  },
  createStagingSite: async ({ params, body, requestId, platform }) => {
    const live = await siteOf(platform, params.tenantId, params.siteId);
    return changeAccepted(params.tenantId, await createStaging(platform, live, requestId, body));
  },
  promoteStagingSite: async ({ params, requestId, platform }) => {
    const staging = await siteOf(platform, params.tenantId, params.siteId);
    return changeAccepted(params.tenantId, await promoteStaging(platform, staging, requestId));
  },
  getSiteCertificate: async ({ params, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const summary = toCertificateSummary(site);
    if (!summary || !site.certificate) throw errors.notFound('certificate');
    return ok({ ...summary, chainPem: site.certificate.chainPem });
  },
  orderSiteCertificate: async ({ params, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const server = await serverOf(platform, site.tenantId, site.serverId);
    return changeAccepted(params.tenantId, await orderSiteCertificate(platform, site, requestId, server));
  },
  uploadSiteCertificate: async ({ params, body, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    const server = await serverOf(platform, site.tenantId, site.serverId);
    return changeAccepted(
      params.tenantId,
      await uploadSiteCertificate(platform, site, requestId, server, body),
    );
  },
  removeSiteCertificate: async ({ params, requestId, platform }) => {
    const site = await siteOf(platform, params.tenantId, params.siteId);
    return changeAccepted(params.tenantId, await removeSiteCertificate(platform, site, requestId));
  },
};

/** The sites context. */
export const handler = makeContextHandler(sitesContext, sitesImplementations);
