import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { logger } from '../../layers/observability/logger';
import { getPlatform } from '../../layers/runtime/platform';

/**
 * The API Gateway TOKEN authorizer. It verifies the bearer JWT and hands the principal to
 * handlers in the request context. The policy allows every route of the stage, so API
 * Gateway can cache one answer per token; handlers still check tenancy on each request.
 * Throwing `Unauthorized` is how API Gateway is told to answer 401.
 */
export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(event.authorizationToken ?? '');
  if (!match?.[1]) throw new Error('Unauthorized');
  const { verifier } = await getPlatform();
  let principal: Awaited<ReturnType<typeof verifier.verify>>;
  try {
    principal = await verifier.verify(match[1]);
  } catch (error) {
    logger.info('Token rejected', { reason: error instanceof Error ? error.message : String(error) });
    throw new Error('Unauthorized');
  }
  const [arnPrefix, stage] = event.methodArn.split('/');
  return {
    principalId: principal.userId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: `${arnPrefix}/${stage}/*` }],
    },
    context: { tenantId: principal.tenantId, userId: principal.userId, role: principal.role },
  };
}
