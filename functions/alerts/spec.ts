import * as z from 'zod';
import { route } from '../../layers/http/route';
import { alertComparisons, alertSeverities, alertTransitions } from '../../layers/model/alerts';
import { listOf, pageQuery, prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';
import { alertMetrics } from './observation';

export const ruleParams = tenantParams.extend({ ruleId: prefixedId('alr') });
export const silenceParams = tenantParams.extend({ silenceId: prefixedId('sil') });
export const listQuery = z.strictObject({ ...pageQuery });

const scope = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('all') }),
  z.strictObject({ kind: z.literal('server'), serverId: prefixedId('srv') }),
  z.strictObject({ kind: z.literal('tag'), tag: z.string().trim().min(1).max(64) }),
]);

const ruleFields = {
  name: z.string().trim().min(1).max(100),
  metric: z.enum(alertMetrics).meta({
    description:
      "A gauge of the server's newest sample, a percentile of the current minute (cpuPercent.p95), or a service (service.phpFpm: 1 up, 0 down)",
  }),
  comparison: z.enum(alertComparisons),
  threshold: z.number().finite(),
  forSeconds: z
    .number()
    .int()
    .min(0)
    .max(86_400)
    .meta({ description: 'How long the condition must hold before the alert fires (0: at once)' }),
  recoverSeconds: z.number().int().min(0).max(86_400).meta({
    description:
      'How long the condition must stop holding before a firing alert resolves (a flapping value stays firing)',
  }),
  severity: z.enum(alertSeverities),
  scope,
  enabled: z.boolean(),
  emails: z.array(z.email().max(254)).max(10),
  webhooks: z.array(z.strictObject({ url: z.url({ protocol: /^https?$/ }).max(2048) })).max(5),
};

export const ruleBody = z.strictObject({
  ...ruleFields,
  forSeconds: ruleFields.forSeconds.default(300),
  recoverSeconds: ruleFields.recoverSeconds.default(0),
  severity: ruleFields.severity.default('warning'),
  scope: scope.default({ kind: 'all' }),
  enabled: ruleFields.enabled.default(true),
  emails: ruleFields.emails.default([]),
  webhooks: ruleFields.webhooks.default([]),
});

export const rulePatch = z
  .strictObject(ruleFields)
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: 'Give at least one field to change' });

export const ruleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    metric: z.string(),
    comparison: z.enum(alertComparisons),
    threshold: z.number(),
    forSeconds: z.number(),
    recoverSeconds: z.number(),
    severity: z.enum(alertSeverities),
    scope,
    enabled: z.boolean(),
    emails: z.array(z.string()),
    webhooks: z.array(z.object({ url: z.string() })),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number(),
  })
  .meta({ id: 'AlertRule' });

export const createdRuleSchema = ruleSchema
  .extend({
    webhookSecret: z.string().meta({
      description:
        'Signs the webhooks: X-VIP-Signature is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">. Shown only now',
    }),
  })
  .meta({ id: 'CreatedAlertRule' });

export const alertEventSchema = z
  .object({
    id: z.string(),
    ruleId: z.string(),
    serverId: z.string(),
    serverName: z.string(),
    transition: z.enum(alertTransitions),
    severity: z.enum(alertSeverities),
    value: z.number(),
    threshold: z.number(),
    at: z.string(),
    silenced: z.boolean(),
  })
  .meta({ id: 'AlertEvent' });

export const firingSchema = z
  .object({
    items: z.array(
      z.object({
        ruleId: z.string(),
        ruleName: z.string(),
        serverId: z.string(),
        severity: z.enum(alertSeverities),
        since: z.string(),
        value: z.number(),
      }),
    ),
  })
  .meta({ id: 'FiringAlerts' });

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Must be HH:MM (UTC)');

export const silenceBody = z
  .strictObject({
    comment: z.string().trim().min(1).max(500),
    match: z
      .strictObject({
        ruleId: prefixedId('alr').optional(),
        serverId: prefixedId('srv').optional(),
        tag: z.string().trim().min(1).max(64).optional(),
      })
      .default({}),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }).optional(),
    repeat: z
      .strictObject({
        weekdays: z.array(z.number().int().min(0).max(6)).min(1).max(7),
        start: hhmm,
        durationMinutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 1440),
      })
      .optional()
      .meta({
        description: 'A maintenance window: weekly on these days (0 is Sunday), from start (UTC), this long',
      }),
  })
  .refine((s) => !s.startsAt || !s.endsAt || Date.parse(s.endsAt) > Date.parse(s.startsAt), {
    path: ['endsAt'],
    message: 'Must be after startsAt',
  })
  .refine((s) => s.repeat || s.endsAt, {
    path: ['endsAt'],
    message: 'A silence that does not repeat needs an end',
  });

export const silenceSchema = z
  .object({
    id: z.string(),
    comment: z.string(),
    match: z.object({
      ruleId: z.string().optional(),
      serverId: z.string().optional(),
      tag: z.string().optional(),
    }),
    startsAt: z.string(),
    endsAt: z.string().nullable(),
    repeat: z
      .object({ weekdays: z.array(z.number()), start: z.string(), durationMinutes: z.number() })
      .nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Silence' });

const problems = { ...tenantRouteProblems('alert rule or silence') };
const common = { context: 'alerts' as const, auth: 'user' as const, tags: ['alerts'] };

export const alertsRoutes = [
  route({
    ...common,
    operationId: 'listAlertRules',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/alert-rules',
    permission: 'alerts:read',
    summary: "The tenant's alert rules",
    params: tenantParams,
    query: listQuery,
    responses: { 200: { description: 'A page of rules', schema: listOf(ruleSchema) }, ...problems },
  }),
  route({
    ...common,
    operationId: 'createAlertRule',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/alert-rules',
    permission: 'alerts:write',
    summary:
      'Alert when a metric crosses a threshold for a while, on a server, the servers with a tag, or all; evaluated as samples arrive; firing and resolved alerts are emailed and sent to signed webhooks',
    params: tenantParams,
    body: ruleBody,
    idempotent: true,
    responses: { 201: { description: 'Made', schema: createdRuleSchema }, ...problems },
  }),
  route({
    ...common,
    operationId: 'getAlertRule',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/alert-rules/{ruleId}',
    permission: 'alerts:read',
    summary: 'One alert rule',
    params: ruleParams,
    responses: { 200: { description: 'The rule', schema: ruleSchema }, ...problems },
  }),
  route({
    ...common,
    operationId: 'updateAlertRule',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/alert-rules/{ruleId}',
    permission: 'alerts:write',
    summary: 'Change an alert rule (If-Match with its ETag to change only the version read)',
    params: ruleParams,
    body: rulePatch,
    responses: {
      200: { description: 'The rule', schema: ruleSchema },
      ...problems,
      412: { description: 'Changed since it was read', schema: problems[400].schema },
    },
  }),
  route({
    ...common,
    operationId: 'deleteAlertRule',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/alert-rules/{ruleId}',
    permission: 'alerts:write',
    summary:
      'Delete an alert rule; its firing alerts end without a notification; its history stays until it expires',
    params: ruleParams,
    responses: { 204: { description: 'Deleted' }, ...problems },
  }),
  route({
    ...common,
    operationId: 'listAlertRuleHistory',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/alert-rules/{ruleId}/history',
    permission: 'alerts:read',
    summary: "The rule's transitions on every server, newest first (kept ALERT_HISTORY_DAYS, 90 by default)",
    params: ruleParams,
    query: listQuery,
    responses: {
      200: { description: 'A page of transitions', schema: listOf(alertEventSchema) },
      ...problems,
    },
  }),
  route({
    ...common,
    operationId: 'listFiringAlerts',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/alerts',
    permission: 'alerts:read',
    summary: 'The alerts firing now',
    params: tenantParams,
    responses: { 200: { description: 'The firing alerts', schema: firingSchema }, ...problems },
  }),
  route({
    ...common,
    operationId: 'listSilences',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/silences',
    permission: 'alerts:read',
    summary: 'Silences and maintenance windows',
    params: tenantParams,
    query: listQuery,
    responses: { 200: { description: 'A page of silences', schema: listOf(silenceSchema) }, ...problems },
  }),
  route({
    ...common,
    operationId: 'createSilence',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/silences',
    permission: 'alerts:write',
    summary:
      'Silence alerts (of a rule, a server, a tag, or all) for a time, or every week in a maintenance window: their transitions are kept in the history but notify no one',
    params: tenantParams,
    body: silenceBody,
    idempotent: true,
    responses: { 201: { description: 'Made', schema: silenceSchema }, ...problems },
  }),
  route({
    ...common,
    operationId: 'deleteSilence',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/silences/{silenceId}',
    permission: 'alerts:write',
    summary: 'End a silence or a maintenance window',
    params: silenceParams,
    responses: { 204: { description: 'Deleted' }, ...problems },
  }),
] as const;
