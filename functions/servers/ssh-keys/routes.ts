import * as z from 'zod';
import { route } from '../../../layers/http/route';
import { operationSchema } from '../../operations/spec';
import { listOf, pageQuery, prefixedId } from '../../shared-schemas';
import { problems, serverParams } from '../spec';
import { sshKeyBody, sshKeySchema } from './service';

export const sshKeysRoutes = [
  route({
    operationId: 'authorizeSshKey',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/ssh-keys',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Authorise an SSH public key for root on the server; answers 202 with the key and the operation',
    tags: ['servers'],
    params: serverParams,
    body: sshKeyBody,
    idempotent: true,
    responses: {
      202: { description: 'Authorising', schema: sshKeySchema.extend({ operation: operationSchema }) },
      ...problems,
      409: { description: 'The key is already on the server, or the server is not active' },
    },
  }),
  route({
    operationId: 'listSshKeys',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/ssh-keys',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary: 'The SSH keys authorised (or being authorised) on the server',
    tags: ['servers'],
    params: serverParams,
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'A page of keys', schema: listOf(sshKeySchema) }, ...problems },
  }),
  route({
    operationId: 'revokeSshKey',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/ssh-keys/{keyId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Remove an SSH key from the server; answers 202 with the operation',
    tags: ['servers'],
    params: serverParams.extend({ keyId: prefixedId('key') }),
    responses: {
      202: { description: 'Revoking', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active' },
    },
  }),
] as const;
