import * as z from 'zod';
import { route } from '../../layers/http/route';
import { listOf, pageQuery, tenantParams, tenantRouteProblems } from '../shared-schemas';

export const auditEntrySchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actor: z.object({
      userId: z.string().nullable(),
      tenantId: z.string().nullable(),
      role: z.string().optional(),
      tokenId: z.string().optional(),
      impersonatedBy: z
        .object({ userId: z.string(), tenantId: z.string() })
        .optional()
        .meta({ description: 'set on entries caused by a login-as session: who really acted' }),
    }),
    action: z.string(),
    target: z.string().nullable(),
    result: z.enum(['succeeded', 'failed', 'denied']),
    status: z.number().int(),
    ip: z.string(),
    userAgent: z.string(),
    requestId: z.string(),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'AuditEntry' });

export const auditQuery = z
  .strictObject({
    ...pageQuery,
    actor: z.string().min(1).max(64).optional(),
    action: z.string().min(1).max(64).optional(),
    target: z.string().min(1).max(512).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    path: ['from'],
    message: 'Must not be after to',
  });

export const auditRoutes = [
  route({
    operationId: 'listAuditLog',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/audit-log',
    context: 'audit',
    auth: 'user',
    permission: 'audit:read',
    summary:
      "The tenant's audit log, newest first, filtered by actor (user id), action, target (prefix) and time",
    tags: ['audit'],
    params: tenantParams,
    query: auditQuery,
    responses: {
      200: { description: 'A page of entries', schema: listOf(auditEntrySchema) },
      ...tenantRouteProblems('tenant'),
    },
  }),
] as const;
