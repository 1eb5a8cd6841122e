import { errors } from '../../layers/errors/app-error';
import { countersChange } from '../../layers/model/counters';
import { serverOf } from '../../layers/model/servers';
import { type SiteItem, siteKeys } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { updateItem } from '../../layers/store/writes';
import { runCommand } from '../servers/runs';
import { changeable, explainRefusal, siteParameters, startChange } from './change';
import { readEnvironment, writeEnvironment } from './environment';
import { siteOperationKinds } from './operation-kinds';
import { removeBundle } from './render/bundle';
import { layoutOf } from './render/layout';
import { daemonLogPath } from './render/settings';

export async function setSuspended(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  suspended: boolean,
) {
  if (site.suspended === suspended && !site.operationId) {
    throw errors.conflict(suspended ? 'The site is already suspended.' : 'The site is not suspended.');
  }
  return startChange(platform, site, { requestId, spec: site.spec, suspended });
}

/** Starts taking a site off its host; its record, claims and quota unit go once the host is clean. */
export async function deleteSite(platform: Platform, site: SiteItem, requestId: string) {
  changeable(site);
  const server = await serverOf(platform, site.tenantId, site.serverId);
  const ref = siteKeys.item(site.tenantId, site.id);
  const now = platform.clock.now().toISOString();
  try {
    const { operation } = await runCommand(platform)(site.tenantId, site.serverId, requestId, {
      kind: siteOperationKinds['remove-site'],
      ...siteParameters(site, 'remove', removeBundle(site, site.spec, server.stack)),
      alongside: (operationId) => [
        updateItem(
          ref,
          { set: { status: 'deleting', operationId, lastOperationId: operationId, updatedAt: now } },
          { exists: true, absent: ['operationId'] },
        ),
        countersChange(site.tenantId, { sites: { from: site.status, to: 'deleting' } }),
      ],
    });
    return operation;
  } catch (error) {
    return explainRefusal(platform, site.tenantId, error, []);
  }
}

/**
 * Puts a site's configuration on its host again as it is, after its tenant's suspension
 * changed: the suspension page while the tenant is suspended, the site itself once it is not.
 */
export async function reapplySite(platform: Platform, site: SiteItem, requestId: string) {
  return startChange(platform, site, { requestId, spec: site.spec, suspended: site.suspended });
}

/**
 * Replaces a site's environment variables: kept encrypted first, then written to the site's
 * host (its apps, cron jobs and daemons read them) by a change like any other.
 */
export async function setEnvironment(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  variables: Record<string, string>,
) {
  changeable(site);
  const previous = (await readEnvironment(platform, site)) ?? {};
  await writeEnvironment(platform, site, variables);
  const names = Object.keys(variables).sort();
  const record = names.length > 0 ? { names, updatedAt: platform.clock.now().toISOString() } : undefined;
  try {
    return await startChange(platform, site, {
      requestId,
      spec: site.spec,
      suspended: site.suspended,
      environment: { variables, record },
    });
  } catch (error) {
    // nothing reached the host: the stored variables stay what the site has
    await writeEnvironment(platform, site, previous);
    throw error;
  }
}

/** Starts reading the end of a daemon's log on the host; the operation's output is the log. */
export async function daemonLogs(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  daemon: string,
  lines: number,
) {
  if (!(site.spec.daemons ?? []).some((d) => d.name === daemon)) throw errors.notFound('daemon');
  const path = daemonLogPath(layoutOf(site).home, daemon);
  const bundle = Buffer.from(`tail ${path} ${lines}\n`, 'utf8').toString('base64');
  const { operation } = await runCommand(platform)(site.tenantId, site.serverId, requestId, {
    kind: siteOperationKinds['site-logs'],
    ...siteParameters(site, 'logs', bundle),
  });
  return operation;
}
