import * as z from 'zod';
import { route } from '../../../layers/http/route';
import { operationSchema } from '../../operations/spec';
import { problems, serverParams } from '../spec';

export const rebootRoutes = [
  route({
    operationId: 'rebootServer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/reboot',
    context: 'servers',
    idempotent: true,
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Reboot the server, then check its health; answers 202 with the operation (steps reboot and healthCheck)',
    tags: ['servers'],
    params: serverParams,
    body: z
      .strictObject({
        mode: z.enum(['graceful', 'hard']).default('graceful').meta({
          description:
            'graceful: the operating system restarts through the agent, confirmed by a new boot id; hard: the provider resets the machine (for a host whose agent does not answer); custom servers have no provider to reset them',
        }),
      })
      .optional()
      .meta({ id: 'RebootRequest' }),
    responses: {
      202: { description: 'The reboot started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active, or is rebooting already' },
    },
  }),
] as const;
