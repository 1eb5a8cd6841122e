import {
  deleteSecureParameter,
  putSecureParameter,
  readSecureParameter,
} from '../../layers/aws/secure-parameters';
import type { SiteItem } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';

/**
 * A site's secrets, each a SecureString parameter (KMS-encrypted in AWS) under the site's own
 * path, which the `site-environments` grant covers: its environment, its deploy key's private
 * half, its webhook's secret, its certificate's private key.
 */
export const siteSecrets = ['environment', 'deploy-key', 'webhook', 'tls-key'] as const;
export type SiteSecret = (typeof siteSecrets)[number];

export const siteSecretName = (stage: string, site: Pick<SiteItem, 'tenantId' | 'id'>, secret: SiteSecret) =>
  `/vip/${stage}/tenants/${site.tenantId}/sites/${site.id}/${secret}`;

/** Keeps a site's secret encrypted; answers the parameter's name. */
export async function putSiteSecret(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  secret: SiteSecret,
  value: string,
): Promise<string> {
  const name = siteSecretName(platform.config.STAGE, site, secret);
  await putSecureParameter(name, value, {
    description: `The ${secret} of site ${site.id} of tenant ${site.tenantId}`,
    kmsKeyId: platform.config.CREDENTIALS_KMS_KEY_ID,
    // an environment may reach the standard tier's 4 KB
    tier: 'Intelligent-Tiering',
  });
  return name;
}

/** A site's secret, decrypted; undefined when it has none. */
export const readSiteSecret = (
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  secret: SiteSecret,
): Promise<string | undefined> => readSecureParameter(siteSecretName(platform.config.STAGE, site, secret));

export const deleteSiteSecret = (
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  secret: SiteSecret,
): Promise<void> => deleteSecureParameter(siteSecretName(platform.config.STAGE, site, secret));
