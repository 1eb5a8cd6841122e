import { route } from '../../../layers/http/route';
import { operationSchema } from '../../operations/spec';
import { problems, serverParams, serverSchema } from '../spec';

export const decommissionRoutes = [
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
      412: { description: 'If-Match does not match the current ETag' },
    },
  }),
] as const;
