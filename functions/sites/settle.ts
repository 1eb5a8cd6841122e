import { AppError } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { countersChange } from '../../layers/model/counters';
import { serverKeys } from '../../layers/model/servers';
import {
  certificateExpiryItem,
  certificateExpiryKeys,
  domainClaimKeys,
  domainsOf,
  type SiteItem,
  siteKeys,
  siteOf,
} from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import type { Store, TransactItem } from '../../layers/store/store';
import { deleteItem, putItem, updateItem } from '../../layers/store/writes';
import { deleteSiteSecret, siteSecrets } from './secrets';

/** What a site command's ending tells the site: the command's ids and what the host printed. */
export interface EndedSiteCommand {
  tenantId: string;
  operationId: string;
  kind: string;
  siteId?: string;
}

/** A claim given back: only the site's own (the condition holds to it, whatever the key). */
export const releaseClaim = (site: Pick<SiteItem, 'tenantId' | 'id'>, domain: string): TransactItem =>
  deleteItem(domainClaimKeys.item(domain), { equals: { tenantId: site.tenantId, siteId: site.id } });

/**
 * What a deploy or a rollback leaves the site: the release the host switched to (its
 * `release: <id> <commit>` line), first among those kept after a deploy.
 */
function releasesAfter(
  site: SiteItem,
  kind: string,
  output: { stdout?: unknown } | undefined,
  at: string,
): Pick<SiteItem, 'releases' | 'currentRelease'> {
  if (kind !== 'deploy-site' && kind !== 'rollback-site') return {};
  const match = /^release: (\S+) (\S+)$/m.exec(typeof output?.stdout === 'string' ? output.stdout : '');
  if (!match?.[1] || !match[2]) return {};
  const kept = site.releases ?? [];
  const releases =
    kind === 'deploy-site'
      ? [{ id: match[1], commit: match[2], deployedAt: at }, ...kept].slice(
          0,
          site.spec.repository?.keepReleases ?? 5,
        )
      : kept;
  return { releases, currentRelease: match[1] };
}

/** Where the host said its web server listens (`served-at: http://…/` in the command's output). */
export const servedAtOf = (output: { stdout?: unknown } | undefined): string | undefined =>
  typeof output?.stdout === 'string' ? /^served-at: (\S+)$/m.exec(output.stdout)?.[1] : undefined;

/** Where the host said it serves HTTPS (`served-at-https: https://…/`). */
export const httpsServedAtOf = (output: { stdout?: unknown } | undefined): string | undefined =>
  typeof output?.stdout === 'string' ? /^served-at-https: (\S+)$/m.exec(output.stdout)?.[1] : undefined;

/**
 * A site follows its command's ending, once: an applied change becomes the site's spec and a
 * failed one is dropped (the host kept the previous config), each with the domain claims it
 * took or gave up; a removal that succeeded takes the site, its claims and its quota unit away.
 */
export async function settleSite(
  store: Store,
  ended: EndedSiteCommand,
  succeeded: boolean,
  details: { output?: { stdout?: unknown } | undefined; at: string; platform?: Platform },
): Promise<void> {
  if (!ended.siteId) return;
  const ref = siteKeys.item(ended.tenantId, ended.siteId);
  const site = await store.get<SiteItem>(ref, true);
  if (!site || site.operationId !== ended.operationId) return;
  const mine = { equals: { operationId: ended.operationId } };
  const now = details.at;
  /** the expiry entry of the certificate the site had, gone with it */
  const oldExpiry = site.certificate
    ? [deleteItem(certificateExpiryKeys.item(site.certificate.notAfter, site.tenantId, site.id), {})]
    : [];
  if (ended.kind === 'remove-site') {
    if (succeeded) {
      await store.transact([
        deleteItem(ref, mine),
        ...oldExpiry,
        ...domainsOf(site.spec).map((domain) => releaseClaim(site, domain)),
        countersChange(site.tenantId, { sites: { from: site.status }, giveBackQuota: 'sites' }),
        updateItem(serverKeys.item(site.tenantId, site.serverId), {
          add: { siteCount: -1 },
          bumpVersion: false,
        }),
      ]);
      // its secrets go with it
      if (details.platform) {
        for (const secret of siteSecrets) await deleteSiteSecret(details.platform, site, secret);
      }
    } else {
      await store.transact([
        updateItem(ref, { set: { status: 'failed', operationId: undefined, updatedAt: now } }, mine),
        countersChange(site.tenantId, { sites: { from: site.status, to: 'failed' } }),
      ]);
    }
    return;
  }
  const pending = site.pending;
  const wanted = pending ? domainsOf(pending.spec) : [];
  const current = domainsOf(site.spec);
  const creating = site.status === 'creating';
  const to = succeeded ? 'active' : creating ? 'failed' : 'active';
  const writes: TransactItem[] = [];
  if (succeeded && pending) {
    const servedAt = servedAtOf(details.output) ?? site.servedAt;
    writes.push(
      updateItem(
        ref,
        {
          set: {
            spec: pending.spec,
            suspended: pending.suspended,
            status: to,
            operationId: undefined,
            pending: undefined,
            servedAt,
            updatedAt: now,
            ...(pending.app ? { app: { name: pending.app, installedAt: now } } : {}),
            ...(pending.certificate
              ? {
                  certificate: { ...pending.certificate, installedAt: now },
                  certificateState: { warned: [] },
                }
              : {}),
            ...(pending.removeCertificate ? { certificate: undefined, certificateState: undefined } : {}),
            ...(httpsServedAtOf(details.output) ? { httpsServedAt: httpsServedAtOf(details.output) } : {}),
            ...releasesAfter(site, ended.kind, details.output, now),
          },
        },
        mine,
      ),
      // the domains it no longer answers to are free again
      ...current.filter((d) => !wanted.includes(d)).map((domain) => releaseClaim(site, domain)),
      // a new certificate (or none) replaces the old one's place in the renewal sweep
      ...(pending.removeCertificate ||
      (pending.certificate && pending.certificate.notAfter !== site.certificate?.notAfter)
        ? oldExpiry
        : []),
      ...(pending.certificate ? [putItem(certificateExpiryItem(site, pending.certificate))] : []),
    );
  } else {
    writes.push(
      updateItem(
        ref,
        { set: { status: to, operationId: undefined, pending: undefined, updatedAt: now } },
        mine,
      ),
      // a failed creation keeps its domains (the site is there to be fixed or deleted); a failed
      // change gives back the domains only it had claimed
      ...(creating
        ? []
        : wanted.filter((d) => !current.includes(d)).map((domain) => releaseClaim(site, domain))),
    );
  }
  if (site.status !== to) writes.push(countersChange(site.tenantId, { sites: { from: site.status, to } }));
  await store.transact(writes);
  if (succeeded && pending?.removeCertificate && details.platform) {
    await deleteSiteSecret(details.platform, site, 'tls-key');
  }
  // A new staging site is on its host: its live site's files come next, as its first deploy.
  if (details.platform && creating && succeeded && site.staging && !site.staging.cloneOperationId) {
    const { cloneIntoStaging } = await import('./staging-clone');
    const settled = await siteOf(details.platform, site.tenantId, site.id);
    await ignoring(AppError, () =>
      cloneIntoStaging(details.platform as Platform, settled, `${ended.operationId}-clone`),
    );
  }
  // The tenant was suspended or unsuspended while this change was on its way (the suspension
  // could not start a change of its own then): the host gets the site as it should be now.
  const rendered = pending?.tenantSuspended ?? false;
  if (details.platform && to === 'active' && rendered !== (site.tenantSuspendedAt !== undefined)) {
    const { reapplySite } = await import('./service');
    const settled = await siteOf(details.platform, site.tenantId, site.id);
    await ignoring(AppError, () =>
      reapplySite(details.platform as Platform, settled, `${ended.operationId}-resync`),
    );
  }
}
