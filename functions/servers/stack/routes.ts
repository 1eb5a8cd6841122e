import { route } from '../../../layers/http/route';
import { operationSchema } from '../../operations/spec';
import { problems, serverParams } from '../spec';
import { stackChangeSchema } from './service';

export const stackRoutes = [
  route({
    operationId: 'changeStack',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/stack',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary:
      "Add software to the server's stack (PHP versions, Node.js majors, Redis): the bootstrap runs again for the grown stack, alone on the server, and the server shows the new stack once it succeeded; answers 202 with the operation",
    tags: ['servers'],
    params: serverParams,
    body: stackChangeSchema,
    responses: {
      202: { description: 'The change started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active, or is rebooting or changing its stack already' },
    },
  }),
] as const;
