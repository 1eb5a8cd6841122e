import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { ssmClient } from '../../../layers/aws/ssm';
import { errors } from '../../../layers/errors/app-error';
import { type CredentialsItem, credentialsKeys } from '../../../layers/model/provider-credentials';
import type { CloudProviderName, ProviderName } from '../../../layers/model/servers';
import type { Platform } from '../../../layers/runtime/platform';
import type { Store } from '../../../layers/store/store';
import { type AwsRole, ROLE_NAME_PREFIX } from './aws';
import { cloudProviderClient, providerFor } from './index';
import { type HostProvider, ProviderAuthError, ProviderTransientError } from './provider';

/** A provider's secret as saved, with what it is: the field a rejection names follows from it. */
export type ProviderSecret = { secret: string; hint: string } & (
  | { kind: 'token' | 'access-key' }
  | { kind: 'role'; externalId: string }
);

/**
 * The secret a provider takes, from the credentials body: an API token, or for AWS an access
 * key id and secret, or a role to assume with the tenant's id as external id (kept as JSON).
 * The fields another provider (or the other AWS way) needs are refused.
 */
export function credentialsSecret(
  provider: CloudProviderName,
  body: {
    token?: string | undefined;
    accessKeyId?: string | undefined;
    secretAccessKey?: string | undefined;
    roleArn?: string | undefined;
  },
  tenantId: string,
): ProviderSecret {
  const byRole = provider === 'aws' && body.roleArn !== undefined;
  const needed =
    provider !== 'aws'
      ? (['token'] as const)
      : byRole
        ? (['roleArn'] as const)
        : (['accessKeyId', 'secretAccessKey'] as const);
  const problems = [
    ...needed
      .filter((field) => body[field] === undefined)
      .map((field) => ({
        path: `body.${field}`,
        message:
          provider === 'aws' ? 'Required for aws, unless roleArn is given' : `Required for ${provider}`,
      })),
    ...(['token', 'accessKeyId', 'secretAccessKey', 'roleArn'] as const)
      .filter((field) => body[field] !== undefined && !(needed as readonly string[]).includes(field))
      .map((field) => ({
        path: `body.${field}`,
        message: byRole ? 'Not used with roleArn' : `Not used by ${provider}`,
      })),
  ];
  if (problems.length > 0) throw errors.validation(problems);
  if (byRole) {
    const role: AwsRole = { roleArn: body.roleArn as string, externalId: tenantId };
    return {
      kind: 'role',
      secret: JSON.stringify(role),
      hint: `…${role.roleArn.slice(-4)}`,
      externalId: tenantId,
    };
  }
  if (provider === 'aws') {
    const key = { accessKeyId: body.accessKeyId as string, secretAccessKey: body.secretAccessKey as string };
    return { kind: 'access-key', secret: JSON.stringify(key), hint: `…${key.accessKeyId.slice(-4)}` };
  }
  const token = body.token as string;
  return { kind: 'token', secret: token, hint: `…${token.slice(-4)}` };
}

/** Where a tenant's token for a provider lives: an encrypted SecureString parameter. */
export const credentialsParameter = (stage: string, tenantId: string, provider: string) =>
  `/vip/${stage}/tenants/${tenantId}/providers/${provider}`;

export const toCredentials = (item: CredentialsItem) => ({
  provider: item.provider,
  tokenHint: item.tokenHint,
  validatedAt: item.validatedAt,
  createdAt: item.createdAt,
});

/**
 * Saves a tenant's token for a provider after the provider accepted it: the token goes to
 * Parameter Store as a SecureString, the table keeps only where it is and its last four
 * characters. A token the provider rejects answers 400 naming body.token; a provider that
 * cannot be reached answers 503, and nothing is saved in either case.
 */
export async function saveCredentials(
  platform: Platform,
  tenantId: string,
  provider: CloudProviderName,
  saved: ProviderSecret,
) {
  const { secret: token, hint } = saved;
  try {
    await cloudProviderClient(provider, token).checkCredentials();
  } catch (error) {
    if (error instanceof ProviderAuthError) {
      if (saved.kind === 'role') {
        const { principal } = awsTrustPolicy(platform.config.PLATFORM_ACCOUNT_ID, tenantId);
        throw errors.validation([
          {
            path: 'body.roleArn',
            message: `aws did not let ${principal} assume this role with external id ${saved.externalId}, or the role may not use EC2: ${error.message}`,
          },
        ]);
      }
      const path =
        saved.kind === 'token'
          ? 'body.token'
          : error.message.includes('SignatureDoesNotMatch')
            ? 'body.secretAccessKey'
            : 'body.accessKeyId';
      throw errors.validation([{ path, message: `${provider} rejected these credentials` }]);
    }
    if (error instanceof ProviderTransientError)
      throw errors.providerUnavailable(provider, error.retryAfterSeconds);
    throw error;
  }
  const { config } = platform;
  const parameterName = credentialsParameter(config.STAGE, tenantId, provider);
  await ssmClient().send(
    new PutParameterCommand({
      Name: parameterName,
      Value: token,
      Type: 'SecureString',
      Overwrite: true,
      Description: `${provider} credentials of tenant ${tenantId}`,
      ...(config.CREDENTIALS_KMS_KEY_ID ? { KeyId: config.CREDENTIALS_KMS_KEY_ID } : {}),
    }),
  );
  const now = platform.clock.now().toISOString();
  const existing = await platform.store.get<CredentialsItem>(credentialsKeys.item(tenantId, provider), true);
  const item: CredentialsItem = {
    ...credentialsKeys.item(tenantId, provider),
    entity: 'provider-credentials',
    provider,
    tokenHint: hint,
    parameterName,
    validatedAt: now,
    createdAt: existing?.createdAt ?? now,
    version: (existing?.version ?? 0) + 1,
  };
  await platform.store.put(item);
  return item;
}

/** A tenant's token for a provider, decrypted; undefined when none is saved. */
export async function readToken(
  store: Store,
  tenantId: string,
  provider: CloudProviderName,
): Promise<string | undefined> {
  const item = await store.get<CredentialsItem>(credentialsKeys.item(tenantId, provider), true);
  if (!item) return undefined;
  try {
    const { Parameter } = await ssmClient().send(
      new GetParameterCommand({ Name: item.parameterName, WithDecryption: true }),
    );
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

/** Forgets a tenant's token for a provider: the parameter and the table's record. */
export async function deleteCredentials(platform: Platform, tenantId: string, provider: CloudProviderName) {
  const item = await platform.store.get<CredentialsItem>(credentialsKeys.item(tenantId, provider), true);
  if (!item) throw errors.notFound('provider credentials');
  try {
    await ssmClient().send(new DeleteParameterCommand({ Name: item.parameterName }));
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  await platform.store.remove(credentialsKeys.item(tenantId, provider));
}

/**
 * The client for a server's provider, with the tenant's saved token for a cloud provider.
 * A token removed since the server was created fails the step, and its compensation says so.
 */
export async function providerOf(
  store: Store,
  server: { id: string; tenantId: string; provider: ProviderName; region?: string },
): Promise<HostProvider> {
  if (server.provider === 'local' || server.provider === 'custom') return providerFor(server);
  const token = await readToken(store, server.tenantId, server.provider);
  if (!token)
    throw new Error(`The tenant's ${server.provider} credentials are gone; save them again and retry`);
  return providerFor(server, token);
}

/**
 * What a role in a tenant's AWS account must trust so the platform may assume it: the
 * platform's account, and only with the tenant's id as external id (so no other tenant of the
 * platform can have it assumed for them). The role needs EC2 permissions in its own policy.
 */
export function awsTrustPolicy(platformAccountId: string, tenantId: string) {
  const principal = `arn:aws:iam::${platformAccountId}:root`;
  return {
    principal,
    externalId: tenantId,
    roleNamePrefix: ROLE_NAME_PREFIX,
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: principal },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': tenantId } },
        },
      ],
    },
  };
}
