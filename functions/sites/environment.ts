import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { ssmClient } from '../../layers/aws/clients';
import type { SiteItem } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';

/** The SecureString parameter that holds a site's environment variables. */
export const environmentParameter = (stage: string, tenantId: string, siteId: string) =>
  `/vip/${stage}/tenants/${tenantId}/sites/${siteId}/environment`;

/** A site's environment variables, decrypted; undefined when it has none. */
export async function readEnvironment(
  site: Pick<SiteItem, 'environment'>,
): Promise<Record<string, string> | undefined> {
  if (!site.environment) return undefined;
  try {
    const { Parameter } = await ssmClient().send(
      new GetParameterCommand({ Name: site.environment.parameterName, WithDecryption: true }),
    );
    return Parameter?.Value ? (JSON.parse(Parameter.Value) as Record<string, string>) : undefined;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

/** Keeps a site's variables encrypted (KMS in AWS); an empty set removes the parameter. */
export async function writeEnvironment(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  variables: Record<string, string>,
): Promise<string> {
  const name = environmentParameter(platform.config.STAGE, site.tenantId, site.id);
  if (Object.keys(variables).length === 0) {
    try {
      await ssmClient().send(new DeleteParameterCommand({ Name: name }));
    } catch (error) {
      if (!(error instanceof ParameterNotFound)) throw error;
    }
    return name;
  }
  await ssmClient().send(
    new PutParameterCommand({
      Name: name,
      Value: JSON.stringify(variables),
      Type: 'SecureString',
      Overwrite: true,
      Description: `Environment of site ${site.id} of tenant ${site.tenantId}`,
      ...(platform.config.CREDENTIALS_KMS_KEY_ID ? { KeyId: platform.config.CREDENTIALS_KMS_KEY_ID } : {}),
      // one site's variables may reach the standard tier's 4 KB
      Tier: 'Intelligent-Tiering',
    }),
  );
  return name;
}

/** The SecureString parameter that holds a site's deploy key's private half. */
export const deployKeyParameter = (stage: string, tenantId: string, siteId: string) =>
  `/vip/${stage}/tenants/${tenantId}/sites/${siteId}/deploy-key`;

/** Keeps a site's deploy key's private half encrypted (KMS in AWS). */
export async function writeDeployKey(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  privateKey: string,
) {
  const name = deployKeyParameter(platform.config.STAGE, site.tenantId, site.id);
  await ssmClient().send(
    new PutParameterCommand({
      Name: name,
      Value: privateKey,
      Type: 'SecureString',
      Overwrite: true,
      Description: `Deploy key of site ${site.id} of tenant ${site.tenantId}`,
      ...(platform.config.CREDENTIALS_KMS_KEY_ID ? { KeyId: platform.config.CREDENTIALS_KMS_KEY_ID } : {}),
    }),
  );
  return name;
}

/** A site's deploy key's private half, decrypted; undefined when it has none. */
export async function readDeployKey(
  platform: Platform,
  site: Pick<SiteItem, 'tenantId' | 'id' | 'deployKey'>,
) {
  if (!site.deployKey) return undefined;
  try {
    const { Parameter } = await ssmClient().send(
      new GetParameterCommand({
        Name: deployKeyParameter(platform.config.STAGE, site.tenantId, site.id),
        WithDecryption: true,
      }),
    );
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}
