import * as z from 'zod';
import { route } from '../../layers/http/route';
import { operationStatuses } from '../../layers/model/operations';
import {
  isoTimestamp,
  listOf,
  pageQuery,
  prefixedId,
  tenantParams,
  tenantRouteProblems,
} from '../shared-schemas';

const output = z.object({ head: z.string(), tail: z.string(), truncated: z.boolean() });
const errorSchema = z.object({ code: z.string(), message: z.string() });

export const operationSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    status: z.enum(operationStatuses),
    target: z.object({ type: z.string(), id: z.string() }),
    steps: z.array(
      z.object({
        name: z.string(),
        status: z.enum(['pending', 'running', 'succeeded', 'failed', 'cancelled', 'skipped']),
        startedAt: isoTimestamp.nullable(),
        endedAt: isoTimestamp.nullable(),
        output: z
          .object({
            exitCode: z.number().int().optional(),
            stdout: output.optional(),
            stderr: output.optional(),
          })
          .catchall(z.unknown())
          .optional(),
        error: errorSchema.optional(),
      }),
    ),
    error: errorSchema.nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
  })
  .meta({ id: 'Operation' });

const problems = tenantRouteProblems('operation');

export const operationRoutes = [
  route({
    operationId: 'getOperation',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/operations/{operationId}',
    context: 'operations',
    auth: 'user',
    permission: 'operations:read',
    summary: 'Get an operation with its steps',
    tags: ['operations'],
    params: tenantParams.extend({ operationId: prefixedId('op') }),
    responses: { 200: { description: 'The operation', schema: operationSchema }, ...problems },
  }),
  route({
    operationId: 'streamOperation',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/operations/{operationId}/events',
    context: 'operations',
    auth: 'user',
    permission: 'operations:read',
    summary:
      'Follow an operation as server-sent events: `operation` with the whole operation on every change, `end` once it has ended; reconnect with Last-Event-ID',
    tags: ['operations'],
    params: tenantParams.extend({ operationId: prefixedId('op') }),
    responses: {
      200: { description: 'A text/event-stream of the operation' },
      ...problems,
    },
  }),
  route({
    operationId: 'listOperations',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/operations',
    context: 'operations',
    auth: 'user',
    permission: 'operations:read',
    summary: "List a tenant's operations, newest first, filtered by status, kind or target",
    tags: ['operations'],
    params: tenantParams,
    query: z.strictObject({
      ...pageQuery,
      status: z.enum(operationStatuses).optional(),
      kind: z
        .string()
        .regex(/^[a-z][a-z-]{0,39}$/, 'An operation kind, such as provision-server')
        .optional(),
      targetId: z
        .string()
        .regex(/^[a-z]{2,5}_[0-9a-z]{26}$/, 'A resource id, such as srv_…')
        .optional(),
    }),
    responses: { 200: { description: 'A page of operations', schema: listOf(operationSchema) }, ...problems },
  }),
  route({
    operationId: 'listServerOperations',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/operations',
    context: 'operations',
    auth: 'user',
    permission: 'operations:read',
    summary: "List a server's operations, oldest first",
    tags: ['operations'],
    params: tenantParams.extend({ serverId: prefixedId('srv') }),
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'A page of operations', schema: listOf(operationSchema) }, ...problems },
  }),
] as const;
