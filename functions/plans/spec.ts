import * as z from 'zod';
import { route } from '../../layers/http/route';
import { type Quota, quotas } from '../../layers/model/plans';
import {
  listOf,
  pageQuery,
  prefixedId,
  problemSchema,
  tenantParams,
  tenantRouteProblems,
} from '../shared-schemas';

const limits = z.strictObject(
  Object.fromEntries(quotas.map((q) => [q, z.number().int().min(0).max(1_000_000_000_000_000)])) as Record<
    Quota,
    z.ZodNumber
  >,
);

export const createPlanBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    limits,
    requestsPerMinute: z.number().int().min(10).max(100_000).optional().meta({
      description: "API requests a minute for each of the customer's users and tokens (default 600)",
    }),
  })
  .meta({ id: 'CreatePlanRequest' });

export const updatePlanBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    limits: limits.optional(),
    requestsPerMinute: z.number().int().min(10).max(100_000).nullable().optional().meta({
      description: 'null goes back to the default (600)',
    }),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'Name at least one of name, limits, requestsPerMinute',
  })
  .meta({ id: 'UpdatePlanRequest' });

export const assignPlanBody = z
  .strictObject({ planId: prefixedId('plan') })
  .meta({ id: 'AssignPlanRequest' });

export const planSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    limits: z.record(z.string(), z.number()),
    requestsPerMinute: z.number().int().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Plan' });

export const usageSchema = z
  .object({
    planId: z.string().nullable(),
    quotas: z.record(z.string(), z.object({ limit: z.number().nullable(), used: z.number() })),
  })
  .meta({ id: 'Usage' });

const problems = tenantRouteProblems('plan');

export const planRoutes = [
  route({
    operationId: 'createPlan',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/plans',
    context: 'plans',
    auth: 'user',
    permission: 'plans:write',
    summary: 'Create a plan (a reseller sells plans to its customers)',
    tags: ['resellers'],
    params: tenantParams,
    body: createPlanBody,
    idempotent: true,
    responses: { 201: { description: 'The plan', schema: planSchema }, ...problems },
  }),
  route({
    operationId: 'listPlans',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/plans',
    context: 'plans',
    auth: 'user',
    permission: 'plans:read',
    summary: "A reseller's plans",
    tags: ['resellers'],
    params: tenantParams,
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'A page of plans', schema: listOf(planSchema) }, ...problems },
  }),
  route({
    operationId: 'updatePlan',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/plans/{planId}',
    context: 'plans',
    auth: 'user',
    permission: 'plans:write',
    summary: "Change a plan's name, limits or request rate; its customers get the new limits at once",
    tags: ['resellers'],
    params: tenantParams.extend({ planId: prefixedId('plan') }),
    body: updatePlanBody,
    responses: {
      200: { description: 'The plan', schema: planSchema },
      ...problems,
      412: { description: 'If-Match names another version', schema: problemSchema },
    },
  }),
  route({
    operationId: 'deletePlan',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/plans/{planId}',
    context: 'plans',
    auth: 'user',
    permission: 'plans:write',
    summary: 'Delete a plan that no customer is on',
    tags: ['resellers'],
    params: tenantParams.extend({ planId: prefixedId('plan') }),
    responses: {
      204: { description: 'Deleted' },
      ...problems,
      409: { description: 'Customers are on the plan', schema: problemSchema },
      412: { description: 'If-Match names another version', schema: problemSchema },
    },
  }),
  route({
    operationId: 'assignPlan',
    method: 'PUT',
    path: '/v1/tenants/{tenantId}/customers/{customerId}/plan',
    context: 'plans',
    auth: 'user',
    permission: 'plans:write',
    summary: "Put a customer on one of the reseller's plans; its limits apply from now on",
    tags: ['resellers'],
    params: tenantParams.extend({ customerId: prefixedId('ten') }),
    body: assignPlanBody,
    responses: {
      200: { description: "The customer's usage against the plan", schema: usageSchema },
      ...problems,
    },
  }),
  route({
    operationId: 'getUsage',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/usage',
    context: 'plans',
    auth: 'user',
    permission: 'tenant:read',
    summary: "A tenant's use of each quota against its plan (a reseller reads its customers')",
    tags: ['resellers'],
    params: tenantParams,
    responses: { 200: { description: 'Usage', schema: usageSchema }, ...problems },
  }),
] as const;
