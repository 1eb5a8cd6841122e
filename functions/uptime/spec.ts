import * as z from 'zod';
import { route } from '../../layers/http/route';
import {
  listOf,
  pageQuery,
  prefixedId,
  problemSchema,
  tenantParams,
  tenantRouteProblems,
} from '../shared-schemas';

export const checkParams = tenantParams.extend({ checkId: prefixedId('upc') });
export const listQuery = z.strictObject({ ...pageQuery });

const checkFields = {
  name: z.string().trim().min(1).max(100),
  url: z.url({ protocol: /^https?$/ }).max(2048),
  method: z.enum(['GET', 'HEAD']),
  expectedStatus: z
    .strictObject({ min: z.number().int().min(100).max(599), max: z.number().int().min(100).max(599) })
    .refine((s) => s.min <= s.max, { path: ['max'], message: 'Must not be below min' }),
  keyword: z.string().min(1).max(200).nullable(),
  intervalSeconds: z.number().int().min(60).max(3600),
  timeoutSeconds: z.number().int().min(1).max(30),
  failuresToOpen: z.number().int().min(1).max(10),
  tlsExpiryDays: z.number().int().min(0).max(90),
  publish: z.boolean(),
  publicName: z.string().trim().min(1).max(100).nullable(),
  emails: z.array(z.email().max(254)).max(10),
  webhooks: z.array(z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) })).max(5),
  enabled: z.boolean(),
};

export const checkBody = z.strictObject({
  ...checkFields,
  method: checkFields.method.default('GET'),
  expectedStatus: checkFields.expectedStatus.default({ min: 200, max: 399 }),
  keyword: checkFields.keyword.optional(),
  intervalSeconds: checkFields.intervalSeconds.default(60),
  timeoutSeconds: checkFields.timeoutSeconds.default(10),
  failuresToOpen: checkFields.failuresToOpen.default(3),
  tlsExpiryDays: checkFields.tlsExpiryDays.default(14),
  publish: checkFields.publish.default(false),
  publicName: checkFields.publicName.optional(),
  emails: checkFields.emails.default([]),
  webhooks: checkFields.webhooks.default([]),
  enabled: checkFields.enabled.default(true),
});

export const checkPatch = z
  .strictObject(checkFields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: 'Give at least one field to change' });

const resultSchema = z.object({
  at: z.string(),
  ok: z.boolean(),
  statusCode: z.number().nullable(),
  latencyMs: z.number(),
  error: z.string().nullable().optional(),
  tlsExpiresAt: z.string().nullable().optional(),
});

export const checkSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    method: z.enum(['GET', 'HEAD']),
    expectedStatus: z.object({ min: z.number(), max: z.number() }),
    keyword: z.string().nullable(),
    intervalSeconds: z.number(),
    timeoutSeconds: z.number(),
    failuresToOpen: z.number(),
    tlsExpiryDays: z.number(),
    publish: z.boolean(),
    publicName: z.string().nullable(),
    emails: z.array(z.string()),
    webhooks: z.array(z.object({ url: z.string() })),
    enabled: z.boolean(),
    status: z.enum(['unknown', 'up', 'down']),
    consecutiveFailures: z.number(),
    lastResult: resultSchema.nullable(),
    openIncidentId: z.string().nullable(),
    nextCheckAt: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number(),
  })
  .meta({ id: 'UptimeCheck' });

export const createdCheckSchema = checkSchema
  .extend({
    webhookSecret: z.string().meta({ description: 'Signs the webhooks as alert rules do. Shown only now' }),
  })
  .meta({ id: 'CreatedUptimeCheck' });

export const incidentSchema = z
  .object({
    id: z.string(),
    checkId: z.string(),
    openedAt: z.string(),
    closedAt: z.string().nullable(),
    cause: z.string(),
    failures: z.number(),
  })
  .meta({ id: 'Incident' });

const problems = { ...tenantRouteProblems('uptime check') };
const common = { context: 'uptime' as const, auth: 'user' as const, tags: ['uptime'] };

export const uptimeRoutes = [
  route({
    ...common,
    operationId: 'listUptimeChecks',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/uptime-checks',
    permission: 'alerts:read',
    summary: "The tenant's uptime checks with their status and last result",
    params: tenantParams,
    query: listQuery,
    responses: { 200: { description: 'A page of checks', schema: listOf(checkSchema) }, ...problems },
  }),
  route({
    ...common,
    operationId: 'createUptimeCheck',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/uptime-checks',
    permission: 'alerts:write',
    summary:
      'Probe a URL every interval (status, latency, a keyword, the certificate not expiring soon); failures in a row open an incident, a success closes it; incidents are emailed and sent to signed webhooks. Only public addresses are probed',
    params: tenantParams,
    body: checkBody,
    idempotent: true,
    responses: { 201: { description: 'Made', schema: createdCheckSchema }, ...problems },
  }),
  route({
    ...common,
    operationId: 'getUptimeCheck',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/uptime-checks/{checkId}',
    permission: 'alerts:read',
    summary: 'One uptime check',
    params: checkParams,
    responses: { 200: { description: 'The check', schema: checkSchema }, ...problems },
  }),
  route({
    ...common,
    operationId: 'updateUptimeCheck',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/uptime-checks/{checkId}',
    permission: 'alerts:write',
    summary: 'Change an uptime check (If-Match with its ETag to change only the version read)',
    params: checkParams,
    body: checkPatch,
    responses: {
      200: { description: 'The check', schema: checkSchema },
      ...problems,
      412: { description: 'Changed since it was read', schema: problemSchema },
    },
  }),
  route({
    ...common,
    operationId: 'deleteUptimeCheck',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/uptime-checks/{checkId}',
    permission: 'alerts:write',
    summary: 'Stop and delete an uptime check; its incidents stay',
    params: checkParams,
    responses: { 204: { description: 'Deleted' }, ...problems },
  }),
  route({
    ...common,
    operationId: 'listUptimeResults',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/uptime-checks/{checkId}/results',
    permission: 'alerts:read',
    summary: "The check's probes, newest first (kept UPTIME_RESULT_DAYS, 7 by default)",
    params: checkParams,
    query: listQuery,
    responses: { 200: { description: 'A page of results', schema: listOf(resultSchema) }, ...problems },
  }),
  route({
    ...common,
    operationId: 'listIncidents',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/incidents',
    permission: 'alerts:read',
    summary: "The tenant's uptime incidents, newest first, open and closed",
    params: tenantParams,
    query: listQuery,
    responses: { 200: { description: 'A page of incidents', schema: listOf(incidentSchema) }, ...problems },
  }),
] as const;
