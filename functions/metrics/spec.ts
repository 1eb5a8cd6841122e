import * as z from 'zod';
import { route } from '../../layers/http/route';
import { gauges, v2Gauges } from '../../layers/model/gauges';
import { resolutions, siteFigures } from '../../layers/model/rollups';
import { fleetGauges, serverStatuses } from '../../layers/model/servers';
import { siteStatuses } from '../../layers/model/sites';
import { prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';
import { managedServices } from './sample';

const stat = z.object({
  count: z.number(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
  last: z.number(),
  avg: z.number(),
});

/** The longest range a query may ask for, at each resolution, in seconds. */
export const MAX_RANGE_SECONDS = { '1m': 24 * 3600, '1h': 90 * 86_400, '1d': 2 * 366 * 86_400 } as const;

/** The most points a graph gets when the resolution is chosen for it. */
export const MAX_AUTO_POINTS = 360;

export const metricsQuery = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    resolution: z.enum(['auto', '1m', '1h', '1d']).default('auto').meta({
      description:
        'auto: the finest with at most 360 points over the range (1m up to 6 hours, 1h up to 15 days, else 1d); hours and days hold the minutes closed so far',
    }),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    path: ['from'],
    message: 'Must not be after to',
  })
  .refine(
    (q) =>
      !q.from ||
      !q.to ||
      Date.parse(q.to) - Date.parse(q.from) <=
        MAX_RANGE_SECONDS[q.resolution === 'auto' ? '1d' : q.resolution] * 1000,
    {
      path: ['to'],
      message: 'The range is at most 24 hours at 1m, 90 days at 1h and 2 years at 1d',
    },
  );

/** What a metrics answer says of its range: the resolution chosen and the bounds. */
const rangeAnswered = {
  resolution: z.enum(resolutions),
  from: z.string(),
  to: z.string(),
};

export const metricsResponse = z
  .object({
    serverId: z.string(),
    ...rangeAnswered,
    points: z.array(
      z.object({
        minute: z.string(),
        count: z.number(),
        metrics: z.object(
          Object.fromEntries(
            gauges.map((g) => [g, (v2Gauges as readonly string[]).includes(g) ? stat.optional() : stat]),
          ),
        ),
        quantiles: z
          .object({
            cpuPercent: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }),
            responseTimeMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number() }),
          })
          .partial()
          .optional()
          .meta({
            description:
              "From the bucket's mergeable sketches, within 1% of the true value: CPU, and the response time of the server's sites (each site's figure weighted by its requests)",
          }),
      }),
    ),
  })
  .meta({ id: 'ServerMetrics' });

const latest = z
  .object({
    at: z.string(),
    ...Object.fromEntries(
      gauges.map((g) => [
        g,
        (v2Gauges as readonly string[]).includes(g) ? z.number().optional() : z.number(),
      ]),
    ),
    disks: z
      .array(
        z.object({
          mount: z.string(),
          usedBytes: z.number(),
          totalBytes: z.number(),
          inodesUsed: z.number(),
          inodesTotal: z.number(),
        }),
      )
      .optional()
      .meta({ description: 'Every mount (version 2 agents)' }),
    services: z
      .partialRecord(z.enum(managedServices), z.enum(['up', 'down']))
      .optional()
      .meta({ description: 'The managed services up or down (version 2 agents)' }),
  })
  .nullable();

export const dashboardResponse = z
  .object({
    counts: z.object({
      total: z.number(),
      ...Object.fromEntries(serverStatuses.map((s) => [s, z.number()])),
    }),
    siteCounts: z
      .object({ total: z.number(), ...Object.fromEntries(siteStatuses.map((s) => [s, z.number()])) })
      .meta({ description: "The tenant's sites by status" }),
    alerts: z
      .object({
        firing: z.number(),
        items: z.array(
          z.object({
            ruleId: z.string(),
            ruleName: z.string(),
            serverId: z.string(),
            severity: z.string(),
            since: z.string(),
            value: z.number(),
          }),
        ),
      })
      .meta({
        description: 'The alerts firing now, longest-firing first (at most 50 here; GET /alerts has all)',
      }),
    servers: z.array(z.object({ id: z.string(), name: z.string(), status: z.enum(serverStatuses), latest })),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'Dashboard' });

const problems = tenantRouteProblems('server');

export const siteMetricsResponse = z
  .object({
    siteId: z.string(),
    serverId: z.string(),
    ...rangeAnswered,
    points: z.array(
      z.object({
        minute: z.string(),
        metrics: z.object(Object.fromEntries(siteFigures.map((f) => [f, stat.optional()]))),
      }),
    ),
  })
  .meta({ id: 'SiteMetrics' });

export const fleetQuery = z.strictObject({
  gauge: z.enum(fleetGauges).default('cpuPercent'),
  top: z.coerce.number().int().min(1).max(100).default(10),
  order: z
    .enum(['desc', 'asc'])
    .default('desc')
    .meta({ description: 'desc: the highest first; asc: the lowest' }),
  tag: z.string().trim().min(1).max(64).optional().meta({ description: 'Only the servers with this tag' }),
});

export const fleetResponse = z
  .object({
    gauge: z.enum(fleetGauges),
    order: z.enum(['desc', 'asc']),
    tag: z.string().nullable(),
    servers: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        status: z.enum(serverStatuses),
        tags: z.array(z.string()),
        value: z.number(),
        at: z.string(),
        gauges: z.object(Object.fromEntries(fleetGauges.map((g) => [g, z.number().optional()]))),
      }),
    ),
    reporting: z.number().meta({
      description:
        'How many servers were read and ranked: every one with a sample (and the tag), or for the top by CPU the first N',
    }),
  })
  .meta({ id: 'Fleet' });

export const metricsRoutes = [
  route({
    operationId: 'getServerMetrics',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/metrics',
    context: 'metrics',
    auth: 'user',
    permission: 'metrics:read',
    summary: '1-minute rollups of a server (default: the last hour; at most 24 hours)',
    tags: ['metrics'],
    params: tenantParams.extend({ serverId: prefixedId('srv') }),
    query: metricsQuery,
    responses: { 200: { description: 'Rollups', schema: metricsResponse }, ...problems },
  }),
  route({
    operationId: 'getDashboard',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/dashboard',
    context: 'metrics',
    auth: 'user',
    permission: 'metrics:read',
    summary: 'Server counts by status and each server with its latest sample',
    tags: ['metrics'],
    params: tenantParams,
    query: z.strictObject({
      limit: z.coerce.number().int().min(1).max(100).default(100),
      cursor: z.string().min(1).max(2048).optional(),
    }),
    responses: { 200: { description: 'The dashboard', schema: dashboardResponse }, ...problems },
  }),
  route({
    operationId: 'getSiteMetrics',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/sites/{siteId}/metrics',
    context: 'metrics',
    auth: 'user',
    permission: 'metrics:read',
    summary:
      "A site's requests per second, 5xx rate and response time as its server's agent reports them, at the resolution chosen as for a server's metrics",
    tags: ['metrics'],
    params: tenantParams.extend({ siteId: prefixedId('ste') }),
    query: metricsQuery,
    responses: {
      200: { description: 'Rollups', schema: siteMetricsResponse },
      ...tenantRouteProblems('site'),
    },
  }),
  route({
    operationId: 'getFleet',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/fleet',
    context: 'metrics',
    auth: 'user',
    permission: 'metrics:read',
    summary:
      "The tenant's servers ranked by a gauge of their newest sample, or those with a tag: the top N by CPU in one request, any other ranking in one request per 5,000 servers",
    tags: ['metrics'],
    params: tenantParams,
    query: fleetQuery,
    responses: { 200: { description: 'The ranking', schema: fleetResponse }, ...problems },
  }),
] as const;
