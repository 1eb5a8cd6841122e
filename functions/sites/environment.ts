import type { SiteItem } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { deleteSiteSecret, putSiteSecret, readSiteSecret } from './secrets';

/** A site's environment variables, decrypted; undefined when it has none. */
export async function readEnvironment(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id' | 'environment'>,
): Promise<Record<string, string> | undefined> {
  if (!site.environment) return undefined;
  const value = await readSiteSecret(platform, site, 'environment');
  return value ? (JSON.parse(value) as Record<string, string>) : undefined;
}

/** Keeps a site's variables encrypted (KMS in AWS); an empty set removes them. */
export async function writeEnvironment(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  variables: Record<string, string>,
): Promise<void> {
  if (Object.keys(variables).length === 0) await deleteSiteSecret(platform, site, 'environment');
  else await putSiteSecret(platform, site, 'environment', JSON.stringify(variables));
}

/** Keeps a site's deploy key's private half encrypted (KMS in AWS). */
export const writeDeployKey = (
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  privateKey: string,
) => putSiteSecret(platform, site, 'deploy-key', privateKey);

/** A site's deploy key's private half, decrypted; undefined when it has none. */
export const readDeployKey = (platform: Platform, site: Pick<SiteItem, 'tenantId' | 'id' | 'deployKey'>) =>
  site.deployKey ? readSiteSecret(platform, site, 'deploy-key') : Promise.resolve(undefined);
