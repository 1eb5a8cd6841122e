import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { errors as errorsJose } from 'jose';
import { type Principal, principalCodec } from '../../layers/auth/tokens';
import { standardUsageKey } from '../../layers/config/resources';
import { TOKEN_PREFIX } from '../../layers/model/api-tokens';
import { logger } from '../../layers/observability/logger';
import { getPlatform } from '../../layers/runtime/platform';
import { type ApiTokenRefusal, checkApiToken, ipAllowed } from '../tokens/service';

const bearer = (headers: APIGatewayRequestAuthorizerEvent['headers']): string | undefined => {
  const value = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  return /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(value ?? '')?.[1];
};

/** What a refused caller is told: its own token's state, nothing about anyone else's. */
export const refusalDetails: Record<ApiTokenRefusal | 'jwt-expired', string> = {
  invalid: 'The bearer token is not valid.',
  revoked: 'This API token has been revoked.',
  expired: 'This API token has expired.',
  'address-not-allowed': "This API token may not be used from this address (see the token's allowedCidrs).",
  'creator-removed': "This API token's creator is no longer a member of the tenant.",
  'jwt-expired': 'The access token has expired; refresh it or sign in again.',
};

/**
 * The API Gateway REQUEST authorizer: a user's JWT, or an API token (`vhp_…`) checked for
 * revocation, expiry and its IP allow-list. API Gateway caches the answer per token and
 * source IP (60 s); handlers still check tenancy and permissions on every request. A refused
 * token gets a Deny carrying the reason in `detail`, which the ACCESS_DENIED gateway response
 * turns into a 401 problem (functions/gateway.ts).
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = bearer(event.headers);
  const [arnPrefix, stage] = event.methodArn.split('/');
  const resource = `${arnPrefix}/${stage}/*`;
  const deny = (detail: string): APIGatewayAuthorizerResult => ({
    principalId: 'anonymous',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: resource }],
    },
    context: { detail },
  });
  if (!token) return deny(refusalDetails.invalid);
  const platform = await getPlatform();
  const sourceIp = event.requestContext?.identity?.sourceIp ?? '';
  let principal: (Principal & { usageKey?: string }) | undefined;
  let refusal: keyof typeof refusalDetails = 'invalid';
  try {
    if (token.startsWith(TOKEN_PREFIX)) {
      const checked = await checkApiToken(
        { ...platform, auditRetentionDays: platform.config.AUDIT_RETENTION_DAYS },
        token,
        {
          sourceIp,
          userAgent: event.requestContext?.identity?.userAgent ?? '',
          requestId: event.requestContext?.requestId ?? '',
        },
      );
      if (checked.ok) principal = checked.principal;
      else refusal = checked.reason;
    } else {
      const verified = await platform.verifier.verify(token);
      // a login-as session minted by an address-limited API token keeps the token's limit
      if (verified.allowedCidrs && !ipAllowed(sourceIp, verified.allowedCidrs))
        refusal = 'address-not-allowed';
      else principal = verified;
    }
  } catch (error) {
    if (error instanceof errorsJose.JWTExpired) refusal = 'jwt-expired';
    logger.info('Token rejected', { reason: error instanceof Error ? error.message : String(error) });
  }
  if (!principal) return deny(refusalDetails[refusal]);
  return {
    principalId: principal.tokenId ?? principal.userId,
    // API Gateway's usage plans: a reseller's tokens count against its own key, everyone else the standard one.
    usageIdentifierKey: principal.usageKey ?? standardUsageKey(platform.config.STAGE),
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: resource }],
    },
    context: principalCodec.encode(principal),
  };
}
