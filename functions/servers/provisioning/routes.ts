import { route } from '../../../layers/http/route';
import { operationSchema } from '../../operations/spec';
import { listOf, tenantParams } from '../../shared-schemas';
import {
  createServerBody,
  listServersQuery,
  problems,
  serverParams,
  serverSchema,
  updateServerBody,
} from '../spec';

export const provisioningRoutes = [
  route({
    operationId: 'createServer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Provision a server; answers 202 with the provisioning operation',
    tags: ['servers'],
    params: tenantParams,
    body: createServerBody,
    idempotent: true,
    responses: {
      202: {
        description: 'Provisioning started',
        schema: serverSchema.extend({ operation: operationSchema }),
      },
      ...problems,
    },
  }),
  route({
    operationId: 'listServers',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary: 'List servers, filtered by status, provider or tag (a filtered page may hold fewer than limit)',
    tags: ['servers'],
    params: tenantParams,
    query: listServersQuery,
    responses: { 200: { description: 'A page of servers', schema: listOf(serverSchema) }, ...problems },
  }),
  route({
    operationId: 'getServer',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers/{serverId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary: 'Get a server',
    tags: ['servers'],
    params: serverParams,
    responses: {
      200: { description: 'The server', schema: serverSchema },
      ...problems,
    },
  }),
  route({
    operationId: 'updateServer',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/servers/{serverId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Rename a server or replace its tags (If-Match makes it conditional on the ETag)',
    tags: ['servers'],
    params: serverParams,
    body: updateServerBody,
    responses: {
      200: { description: 'The server', schema: serverSchema },
      ...problems,
      412: { description: 'If-Match does not match the current ETag' },
    },
  }),
] as const;
