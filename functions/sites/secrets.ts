import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { ssmClient } from '../../layers/aws/clients';
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
  await ssmClient().send(
    new PutParameterCommand({
      Name: name,
      Value: value,
      Type: 'SecureString',
      Overwrite: true,
      Description: `The ${secret} of site ${site.id} of tenant ${site.tenantId}`,
      ...(platform.config.CREDENTIALS_KMS_KEY_ID ? { KeyId: platform.config.CREDENTIALS_KMS_KEY_ID } : {}),
      // an environment may reach the standard tier's 4 KB
      Tier: 'Intelligent-Tiering',
    }),
  );
  return name;
}

/** A site's secret, decrypted; undefined when it has none. */
export async function readSiteSecret(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  secret: SiteSecret,
): Promise<string | undefined> {
  try {
    const { Parameter } = await ssmClient().send(
      new GetParameterCommand({
        Name: siteSecretName(platform.config.STAGE, site, secret),
        WithDecryption: true,
      }),
    );
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

export async function deleteSiteSecret(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  secret: SiteSecret,
): Promise<void> {
  try {
    await ssmClient().send(
      new DeleteParameterCommand({ Name: siteSecretName(platform.config.STAGE, site, secret) }),
    );
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
}
