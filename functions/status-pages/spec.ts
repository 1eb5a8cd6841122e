import * as z from 'zod';
import { route } from '../../layers/http/route';
import { problemSchema, tenantParams } from '../shared-schemas';

const uptime = z
  .number()
  .nullable()
  .meta({ description: 'Percent of probes that succeeded (null: none yet)' });

export const statusPageSchema = z
  .object({
    tenantId: z.string(),
    status: z.enum(['operational', 'degraded', 'unknown']),
    checks: z.array(
      z.object({
        name: z.string(),
        status: z.enum(['unknown', 'up', 'down']),
        lastCheckedAt: z.string().nullable(),
        latencyMs: z.number().nullable(),
        uptime: z.object({ day: uptime, week: uptime, month: uptime }),
      }),
    ),
    incidents: z.array(
      z.object({ check: z.string(), openedAt: z.string(), closedAt: z.string().nullable() }),
    ),
    generatedAt: z.string(),
  })
  .meta({ id: 'StatusPage' });

export const statusPagesRoutes = [
  route({
    operationId: 'getStatusPage',
    method: 'GET',
    path: '/v1/status-pages/{tenantId}',
    context: 'status-pages',
    auth: 'none',
    summary:
      "A tenant's public status page: only the uptime checks it chose to publish (under their public names), their uptime over a day, a week and a month, and their recent incidents. No sign-in; cacheable for 30 s",
    tags: ['uptime'],
    params: tenantParams,
    responses: {
      200: { description: 'The status page', schema: statusPageSchema },
      400: { description: 'Invalid tenant id', schema: problemSchema },
      404: { description: 'No such status page', schema: problemSchema },
    },
  }),
] as const;
