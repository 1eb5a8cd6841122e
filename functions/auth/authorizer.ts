import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { Principal } from '../../layers/auth/tokens';
import { standardUsageKey } from '../../layers/config/resources';
import { logger } from '../../layers/observability/logger';
import { getPlatform } from '../../layers/runtime/platform';
import { TOKEN_PREFIX } from '../tokens/entity';
import { verifyApiToken } from '../tokens/service';

const bearer = (headers: APIGatewayRequestAuthorizerEvent['headers']): string | undefined => {
  const value = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  return /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(value ?? '')?.[1];
};

/**
 * The API Gateway REQUEST authorizer: a user's JWT, or an API token (`vhp_…`) checked for
 * revocation, expiry and its IP allow-list. API Gateway caches the answer per token and
 * source IP (60 s); handlers still check tenancy and permissions on every request. Throwing
 * `Unauthorized` is how API Gateway is told to answer 401.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = bearer(event.headers);
  if (!token) throw new Error('Unauthorized');
  const platform = await getPlatform();
  const sourceIp = event.requestContext?.identity?.sourceIp ?? '';
  let principal: (Principal & { usageKey?: string }) | undefined;
  try {
    principal = token.startsWith(TOKEN_PREFIX)
      ? await verifyApiToken(
          { ...platform, auditRetentionDays: platform.config.AUDIT_RETENTION_DAYS },
          token,
          {
            sourceIp,
            userAgent: event.requestContext?.identity?.userAgent ?? '',
            requestId: event.requestContext?.requestId ?? '',
          },
        )
      : await platform.verifier.verify(token);
  } catch (error) {
    logger.info('Token rejected', { reason: error instanceof Error ? error.message : String(error) });
  }
  if (!principal) throw new Error('Unauthorized');
  const [arnPrefix, stage] = event.methodArn.split('/');
  return {
    principalId: principal.tokenId ?? principal.userId,
    // API Gateway's usage plans: a reseller's tokens count against its own key, everyone else the standard one.
    usageIdentifierKey: principal.usageKey ?? standardUsageKey(platform.config.STAGE),
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${arnPrefix}/${stage}/*` }],
    },
    context: {
      tenantId: principal.tenantId,
      userId: principal.userId,
      role: principal.role,
      twoFactor: principal.twoFactor ? 'true' : 'false',
      ...(principal.tokenId
        ? { tokenId: principal.tokenId, scopes: (principal.scopes ?? []).join(',') }
        : {}),
      ...(principal.actor
        ? { actorUserId: principal.actor.userId, actorTenantId: principal.actor.tenantId }
        : {}),
    },
  };
}
