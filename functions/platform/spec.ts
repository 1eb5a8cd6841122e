import * as z from 'zod';
import { route } from '../../layers/http/route';

export const platformRoutes = [
  route({
    operationId: 'health',
    method: 'GET',
    path: '/v1/health',
    context: 'platform',
    auth: 'none',
    summary: 'Liveness, with a check that the table answers',
    tags: ['platform'],
    responses: {
      200: {
        description: 'Healthy',
        schema: z.object({ status: z.literal('ok'), checks: z.record(z.string(), z.string()) }),
      },
      503: { description: 'A dependency is down' },
    },
  }),
  route({
    operationId: 'openapi',
    method: 'GET',
    path: '/v1/openapi.json',
    context: 'platform',
    auth: 'none',
    summary: 'This API as an OpenAPI 3.1 document, generated from the request schemas',
    tags: ['platform'],
    responses: { 200: { description: 'OpenAPI 3.1 document' } },
  }),
  route({
    operationId: 'jwks',
    method: 'GET',
    path: '/.well-known/jwks.json',
    context: 'platform',
    auth: 'none',
    summary: 'The public keys that verify access tokens (JWKS)',
    tags: ['platform'],
    responses: {
      200: {
        description: 'JSON Web Key Set',
        schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }),
      },
    },
  }),
] as const;
