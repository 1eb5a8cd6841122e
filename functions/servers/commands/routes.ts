import * as z from 'zod';
import { route } from '../../../layers/http/route';
import { operationSchema } from '../../operations/spec';
import { problems, serverParams } from '../spec';
import { restartableServices } from '../stack/service';

export const commandsRoutes = [
  route({
    operationId: 'restartService',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/services/{service}/restart',
    context: 'servers',
    idempotent: true,
    auth: 'user',
    permission: 'servers:write',
    summary:
      "Restart one of the server's services (its web server by name, php-fpm for every PHP version, database, redis); answers 202 with the operation, whose output is the command's",
    tags: ['servers'],
    params: serverParams.extend({ service: z.enum(restartableServices) }),
    responses: {
      202: { description: 'The restart started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active' },
    },
  }),
  route({
    operationId: 'runRecipe',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/recipe-runs',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Run a recipe (a bash script, as root) on the server; answers 202 with the operation, which captures its exit code, stdout and stderr',
    tags: ['servers'],
    params: serverParams,
    body: z
      .strictObject({ script: z.string().min(1).max(8000).meta({ description: 'The bash script to run' }) })
      .meta({ id: 'RecipeRunRequest' }),
    idempotent: true,
    responses: {
      202: { description: 'The recipe started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active' },
    },
  }),
] as const;
