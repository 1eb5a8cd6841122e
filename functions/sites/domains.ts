import { getDomain, getPublicSuffix } from 'tldts';
import { errors } from '../../layers/errors/app-error';
import { type DomainClaimItem, domainClaimKeys } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';

/**
 * The platform's own domains, which no site may take or cover: those set in PLATFORM_DOMAINS,
 * and the registrable domains of the web app's and the API's addresses.
 */
export function platformDomains(config: Platform['config']): string[] {
  const named = (config.PLATFORM_DOMAINS ?? '')
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  const hosts = [config.APP_URL, config.API_URL]
    .filter((url): url is string => !!url)
    .map((url) => getDomain(new URL(url).hostname))
    .filter((d): d is string => !!d);
  return [...new Set([...named, ...hosts])];
}

const under = (domain: string, parent: string) => domain === parent || domain.endsWith(`.${parent}`);

const WILDCARD_REFUSED =
  "A wildcard only over a domain that is yours to cover: not a public suffix, not the platform's, not a name another site holds";

/**
 * Refuses the domains no site of this tenant may take, naming the field: the platform's own
 * (and anything under them), and a wildcard over a public suffix (`*.com`, `*.co.uk`,
 * `*.github.io`), over the platform's domains, or over a name another tenant's site holds. A
 * wildcard's refusal says the same whatever the reason, and reads the claim either way, so it
 * never tells whether another tenant holds the name.
 */
export async function refuseDomains(
  platform: Pick<Platform, 'store' | 'config'>,
  tenantId: string,
  domains: { path: string; domain: string }[],
): Promise<void> {
  const platformOwn = platformDomains(platform.config);
  const problems: { path: string; message: string }[] = [];
  for (const { path, domain } of domains) {
    const wildcard = domain.startsWith('*.');
    const base = wildcard ? domain.slice(2) : domain;
    if (!wildcard) {
      if (platformOwn.some((own) => under(base, own))) {
        problems.push({ path, message: 'A domain of the platform itself' });
      }
      continue;
    }
    const claim = await platform.store.get<DomainClaimItem>(domainClaimKeys.item(base), true);
    const publicSuffix =
      getPublicSuffix(base, { allowPrivateDomains: true }) === base ||
      getDomain(base, { allowPrivateDomains: true }) === null;
    const heldByAnother = claim !== undefined && claim.tenantId !== tenantId;
    if (publicSuffix || heldByAnother || platformOwn.some((own) => under(base, own) || under(own, base))) {
      problems.push({ path, message: WILDCARD_REFUSED });
    }
  }
  if (problems.length > 0) throw errors.validation(problems);
}
