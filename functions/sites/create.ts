import type * as z from 'zod';
import { countersChange } from '../../layers/model/counters';
import { serverOf } from '../../layers/model/servers';
import {
  domainsOf,
  type SiteItem,
  type SiteRepository,
  type SiteSpec,
  type SiteStaging,
  siteKeys,
  systemUserOf,
} from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import type { TransactItem } from '../../layers/store/store';
import { named, putNew } from '../../layers/store/writes';
import { runCommand } from '../servers/runs';
import { claimNamed, explainRefusal, siteParameters } from './change';
import { refuseDomains } from './domains';
import { siteOperationKinds } from './operation-kinds';
import { applyBundle } from './render/bundle';
import { specFrom } from './site-spec';
import type { createSiteBody } from './spec';

type CreateBody = z.output<typeof createSiteBody>;

/**
 * Creates a site: its record (creating), its domains' claims and a unit of the plan's `sites`
 * quota in one transaction with the operation that puts it on the host, so two tenants cannot
 * both win a domain and concurrent creates cannot overshoot the plan.
 */
export async function createSite(
  platform: Platform,
  ref: { tenantId: string; serverId: string; requestId: string },
  body: CreateBody,
  /** what a staging site takes from its live site besides the body */
  extras: { repository?: SiteRepository | undefined; staging?: SiteStaging } = {},
) {
  const server = await serverOf(platform, ref.tenantId, ref.serverId);
  const spec: SiteSpec = {
    ...(await specFrom(server, { ...body, basicAuth: body.basicAuth, snippet: body.snippet })),
    ...(extras.repository ? { repository: extras.repository } : {}),
  };
  await refuseDomains(platform, ref.tenantId, [
    { path: 'body.domain', domain: spec.domain },
    ...spec.aliases.map((domain, i) => ({ path: `body.aliases.${i}`, domain })),
  ]);
  const siteId = platform.ids.next('ste');
  const now = platform.clock.now().toISOString();
  const identity = { id: siteId, systemUser: systemUserOf(siteId), tenantId: ref.tenantId };
  const domains = domainsOf(spec);
  let site: SiteItem | undefined;
  try {
    const { operation } = await runCommand(platform)(ref.tenantId, ref.serverId, ref.requestId, {
      kind: siteOperationKinds['apply-site'],
      ...siteParameters(identity, 'apply', applyBundle(identity, spec, false, server.stack)),
      // the server counts its sites, so it cannot be deleted from under them
      serverAdd: { siteCount: 1 },
      alongside: (operationId): TransactItem[] => {
        site = {
          ...siteKeys.item(ref.tenantId, siteId),
          ...siteKeys.onServer(ref.tenantId, ref.serverId, siteId),
          entity: 'site',
          ...identity,
          serverId: ref.serverId,
          status: 'creating',
          spec,
          ...(extras.staging ? { staging: extras.staging } : {}),
          suspended: false,
          operationId,
          pending: { operationId, spec, suspended: false },
          lastOperationId: operationId,
          createdAt: now,
          updatedAt: now,
        };
        return [
          putNew(site),
          ...domains.map((domain) => claimNamed(identity, domain)),
          named('quota', countersChange(ref.tenantId, { takeQuota: 'sites', sites: { to: 'creating' } })),
        ];
      },
    });
    return { site: site as SiteItem, operation };
  } catch (error) {
    return explainRefusal(platform, ref.tenantId, error, domains);
  }
}
