import { isIP } from 'node:net';
import * as z from 'zod';
import { type Permission, tokenScopes } from '../../layers/auth/permissions';
import { route } from '../../layers/http/route';
import { apiTokenStatuses } from '../../layers/model/api-tokens';
import { listOf, pageQuery, prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';

const cidr = z.string().refine((value) => {
  const [network = '', prefix, extra] = value.split('/');
  const family = isIP(network);
  const bits = Number(prefix);
  return (
    family !== 0 &&
    extra === undefined &&
    Number.isInteger(bits) &&
    bits >= 0 &&
    bits <= (family === 6 ? 128 : 32)
  );
}, 'Must be a CIDR block such as 203.0.113.0/24');

export const createApiTokenBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(tokenScopes as [Permission, ...Permission[]])).min(1),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    allowedCidrs: z.array(cidr).max(20).default([]),
  })
  .refine((body) => !body.expiresAt || Date.parse(body.expiresAt) > Date.now(), {
    path: ['expiresAt'],
    message: 'Must be in the future',
  })
  .meta({ id: 'CreateApiTokenRequest' });

export const apiTokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    allowedCidrs: z.array(z.string()),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    lastUsedIp: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.object({ userId: z.string() }),
    status: z
      .enum(apiTokenStatuses)
      .describe(
        'Whether it works: `creator-removed` once the member who made it has left the tenant. ' +
          "A working token acts with its creator's current role, within its scopes.",
      ),
  })
  .meta({ id: 'ApiToken' });

const problems = tenantRouteProblems('token');

export const tokenRoutes = [
  route({
    operationId: 'createApiToken',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/api-tokens',
    context: 'tokens',
    auth: 'user',
    permission: 'tokens:write',
    summary: 'Create an API token; the token itself is in this answer only',
    tags: ['api-tokens'],
    params: tenantParams,
    body: createApiTokenBody,
    responses: {
      201: { description: 'The token', schema: apiTokenSchema.extend({ token: z.string() }) },
      ...problems,
    },
  }),
  route({
    operationId: 'listApiTokens',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/api-tokens',
    context: 'tokens',
    auth: 'user',
    permission: 'tokens:read',
    summary: "The tenant's API tokens, without their secrets",
    tags: ['api-tokens'],
    params: tenantParams,
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'A page of tokens', schema: listOf(apiTokenSchema) }, ...problems },
  }),
  route({
    operationId: 'revokeApiToken',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/api-tokens/{tokenId}',
    context: 'tokens',
    auth: 'user',
    permission: 'tokens:write',
    summary: 'Revoke an API token (it stops working within the authorizer cache time, 60 s)',
    tags: ['api-tokens'],
    params: tenantParams.extend({ tokenId: prefixedId('tok') }),
    responses: { 204: { description: 'Revoked' }, ...problems },
  }),
] as const;
