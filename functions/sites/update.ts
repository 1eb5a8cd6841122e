import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { serverOf } from '../../layers/model/servers';
import type { SiteItem } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { startChange } from './change';
import { refuseDomains } from './domains';
import { specFrom } from './site-spec';
import type { updateSiteBody } from './spec';

type UpdateBody = z.output<typeof updateSiteBody>;

export async function updateSite(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  body: UpdateBody,
  expectedVersion: number | undefined,
) {
  const server = await serverOf(platform, site.tenantId, site.serverId);
  const current = site.spec;
  const spec = await specFrom(server, {
    domain: current.domain,
    type: current.type,
    aliases: body.aliases ?? current.aliases,
    php: body.php ?? current.php,
    node: body.node ?? current.node,
    proxy: body.proxy ?? current.proxy,
    redirects: body.redirects ?? current.redirects,
    basicAuth: body.basicAuth === undefined ? current.basicAuth : body.basicAuth,
    snippet: body.snippet === undefined ? current.snippet : body.snippet,
    cronJobs: body.cronJobs ?? current.cronJobs,
    daemons: body.daemons ?? current.daemons,
  });
  const added = spec.aliases.filter((alias) => !current.aliases.includes(alias));
  await refuseDomains(
    platform,
    site.tenantId,
    added.map((domain) => ({ path: `body.aliases.${spec.aliases.indexOf(domain)}`, domain })),
  );
  const https = body.https ?? current.https;
  if (https?.hsts && server.stack.webServer === 'openlitespeed') {
    throw errors.validation([
      { path: 'body.https.hsts', message: 'Sites on OpenLiteSpeed servers take no HSTS yet' },
    ]);
  }
  return startChange(platform, site, {
    requestId,
    // what the request does not name stays as it is: the repository, the HTTPS options
    spec: {
      ...spec,
      ...(current.repository ? { repository: current.repository } : {}),
      ...(https ? { https } : {}),
    },
    suspended: site.suspended,
    expectedVersion,
  });
}
