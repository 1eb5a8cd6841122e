import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import type { SiteItem, SiteStaging } from '../../layers/model/sites';
import { siteOf } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { createSite } from './create';
import { deploySite } from './deploys';
import type { createSiteBody, createStagingBody } from './spec';

type CreateBody = z.output<typeof createSiteBody>;

const COMMIT = /^[0-9a-f]{40}$/;

/** The commit a site serves, when it serves a release deployed from its repository. */
const servedCommit = (site: SiteItem): string | undefined => {
  const commit = site.releases?.find((release) => release.id === site.currentRelease)?.commit;
  return commit && COMMIT.test(commit) ? commit : undefined;
};

/** The folder of a site's release it serves: its repository's web root, or the whole release. */
const servedFolder = (site: SiteItem) => (site.currentRelease ? (site.spec.repository?.webRoot ?? '') : '');

/**
 * Makes a staging site of a live one at its own domain, on the live site's server or another
 * of the tenant's: the same type and settings (its repository too), then the live site's files:
 * copied on the same host (the shared files with them), or, on another server, the commit the
 * live site serves deployed from its repository. Its environment is its own (none at first), so
 * staging never writes to what production uses.
 */
export async function createStaging(
  platform: Platform,
  live: SiteItem,
  requestId: string,
  body: z.output<typeof createStagingBody>,
) {
  if (live.staging) {
    throw errors.conflict('This is a staging site: make staging sites of the live site it was made from.');
  }
  if (live.status !== 'active')
    throw errors.conflict(`The site is ${live.status}; make staging of an active site.`);
  const serverId = body.serverId ?? live.serverId;
  const commit = servedCommit(live);
  let from: SiteStaging['from'];
  if (serverId === live.serverId) {
    from = { sourceUser: live.systemUser, webRoot: servedFolder(live) };
  } else if (live.spec.repository && commit) {
    from = { commit };
  } else {
    throw errors.conflict(
      "A staging site on another server is deployed from the live site's repository at the commit it serves: give the site a repository and deploy it first, or make staging on its own server.",
    );
  }
  const { spec } = live;
  return createSite(
    platform,
    { tenantId: live.tenantId, serverId, requestId },
    {
      domain: body.domain,
      type: spec.type,
      aliases: [],
      // the live site's own settings, checked once more against the staging site's server
      php: spec.php as CreateBody['php'],
      node: spec.node as CreateBody['node'],
      proxy: spec.proxy,
      redirects: spec.redirects,
      basicAuth: spec.basicAuth as never,
      snippet: spec.snippet,
      cronJobs: spec.cronJobs ?? [],
      daemons: spec.daemons ?? [],
    },
    { repository: spec.repository, staging: { of: live.id, from } },
  );
}

/**
 * Pushes a staging site live: a deploy of the live site with what staging serves (its files
 * copied on the same host, its commit from the repository on another), so the live site keeps
 * its shared files and environment, goes live without downtime, and can be rolled back.
 */
export async function promoteStaging(platform: Platform, staging: SiteItem, requestId: string) {
  if (!staging.staging) throw errors.conflict('This site is not a staging site.');
  const live = await siteOf(platform, staging.tenantId, staging.staging.of).catch(() => {
    throw errors.conflict('The live site this staging site was made from no longer exists.');
  });
  if (!staging.currentRelease) {
    throw errors.conflict('The staging site serves no release yet; wait for its files, or deploy it.');
  }
  if (live.serverId === staging.serverId) {
    return deploySite(platform, live, requestId, {
      copyFrom: { user: staging.systemUser, webRoot: servedFolder(staging), copyShared: false },
    });
  }
  const commit = servedCommit(staging);
  if (!commit || !live.spec.repository) {
    throw errors.conflict(
      'Staging on another server goes live as a deploy of the commit it serves: the live site needs a repository and staging a release deployed from it.',
    );
  }
  return deploySite(platform, live, requestId, { commit });
}
