import * as z from 'zod';
import { route } from '../../layers/http/route';
import { operationSchema } from '../operations/spec';
import {
  isoTimestamp,
  listOf,
  pageQuery,
  prefixedId,
  tenantParams,
  tenantRouteProblems,
} from '../shared-schemas';
import { providers, serverStatuses, webServers } from './entity';

const hostname = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'Use lowercase letters, digits and inner hyphens (a hostname label)',
  );

export const createServerBody = z
  .strictObject({
    name: hostname,
    provider: z.enum(providers),
    region: z.string().min(1).max(32).default('local-1'),
    size: z.string().min(1).max(32).default('small'),
    webServer: z.enum(webServers).default('nginx'),
  })
  .meta({ id: 'CreateServerRequest' });

export const serverSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    provider: z.enum(providers),
    region: z.string(),
    size: z.string(),
    webServer: z.enum(webServers),
    status: z.enum(serverStatuses),
    suspended: z.boolean().meta({ description: 'true while the tenant, or a tenant above it, is suspended' }),
    instanceId: z.string().nullable(),
    ipv4: z.string().nullable(),
    lastOperationId: z.string(),
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
  })
  .meta({ id: 'Server' });

export const serverParams = tenantParams.extend({ serverId: prefixedId('srv') });

const problems = tenantRouteProblems('server');

export const serverRoutes = [
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
    summary: 'List servers',
    tags: ['servers'],
    params: tenantParams,
    query: z.strictObject({ ...pageQuery }),
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
    responses: { 200: { description: 'The server', schema: serverSchema }, ...problems },
  }),
  route({
    operationId: 'deleteServer',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/servers/{serverId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Decommission a server: deletes its host at the provider, forgets its agent and gives its quota back; answers 202 with the operation',
    tags: ['servers'],
    params: serverParams,
    responses: {
      202: {
        description: 'Decommissioning started',
        schema: serverSchema.extend({ operation: operationSchema }),
      },
      ...problems,
      409: { description: 'The server is still being provisioned, or already being deleted' },
    },
  }),
] as const;
