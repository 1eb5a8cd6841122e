import * as z from 'zod';
import { roles } from '../../layers/auth/tokens';
import { route } from '../../layers/http/route';
import { tenantKinds } from '../../layers/model/tenants';
import { tenantSchema } from '../auth/spec';
import { listOf, pageQuery, prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';

export const createCustomerBody = z
  .strictObject({
    name: z.string().trim().min(1).max(120),
    kind: z.enum(tenantKinds).default('customer'),
    owner: z.strictObject({
      email: z
        .email()
        .max(254)
        .transform((v) => v.toLowerCase()),
      name: z.string().trim().min(1).max(120),
      password: z.string().min(12, 'At least 12 characters').max(256),
    }),
  })
  .meta({ id: 'CreateCustomerRequest' });

export const updateCustomerBody = z
  .strictObject({ name: z.string().trim().min(1).max(120) })
  .meta({ id: 'UpdateCustomerRequest' });

export const suspendBody = z
  .strictObject({ reason: z.string().trim().min(1).max(500) })
  .meta({ id: 'SuspendRequest' });

export const impersonateBody = z
  .strictObject({ reason: z.string().trim().min(1).max(500) })
  .meta({ id: 'ImpersonateRequest' });

export const impersonationSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresIn: z.number().int(),
    tenantId: z.string(),
    role: z.enum(roles),
    actor: z.object({ userId: z.string(), tenantId: z.string(), tokenId: z.string().optional() }),
  })
  .meta({ id: 'Impersonation' });

export const customerSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(tenantKinds),
    status: z.enum(['active', 'suspended', 'deleting']),
    createdAt: z.string(),
  })
  .meta({ id: 'CustomerSummary' });

const customerParams = tenantParams.extend({ customerId: prefixedId('ten') });
const problems = tenantRouteProblems('customer');

export const tenantRoutes = [
  route({
    operationId: 'createCustomer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/customers',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:write',
    summary: "Create a customer (or a sub-reseller) under a reseller, with its owner's login",
    tags: ['resellers'],
    params: tenantParams,
    body: createCustomerBody,
    idempotent: true,
    responses: {
      201: { description: 'The customer tenant', schema: tenantSchema },
      ...problems,
      409: { description: 'The email is taken, or the tree would be too deep' },
    },
  }),
  route({
    operationId: 'listCustomers',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/customers',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:read',
    summary: "A reseller's direct customers",
    tags: ['resellers'],
    params: tenantParams,
    query: z.strictObject({ ...pageQuery }),
    responses: {
      200: { description: 'A page of customers', schema: listOf(customerSummarySchema) },
      ...problems,
    },
  }),
  route({
    operationId: 'getCustomer',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/customers/{customerId}',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:read',
    summary: 'One of the reseller’s customers',
    tags: ['resellers'],
    params: customerParams,
    responses: { 200: { description: 'The customer tenant', schema: tenantSchema }, ...problems },
  }),
  route({
    operationId: 'updateCustomer',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/customers/{customerId}',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:write',
    summary: 'Rename a customer (If-Match makes it conditional on the ETag)',
    tags: ['resellers'],
    params: customerParams,
    body: updateCustomerBody,
    responses: {
      200: { description: 'The customer tenant', schema: tenantSchema },
      ...problems,
      412: { description: 'If-Match does not match the current ETag' },
    },
  }),
  route({
    operationId: 'deleteCustomer',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/customers/{customerId}',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:write',
    summary:
      'Delete a customer with its members, tokens, invitations and operations (one with servers, customers or provider credentials answers 409)',
    tags: ['resellers'],
    params: customerParams,
    responses: {
      204: { description: 'Deleted' },
      ...problems,
      409: { description: 'It still has servers, customers or provider credentials' },
      412: { description: 'If-Match does not match the current ETag' },
    },
  }),
  route({
    operationId: 'suspendCustomer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/customers/{customerId}/suspend',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:write',
    summary: 'Suspend a customer: its logins, sessions and tokens are refused from the next request',
    tags: ['resellers'],
    params: customerParams,
    body: suspendBody,
    responses: { 200: { description: 'The customer tenant', schema: tenantSchema }, ...problems },
  }),
  route({
    operationId: 'unsuspendCustomer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/customers/{customerId}/unsuspend',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:write',
    summary: 'Lift a suspension',
    tags: ['resellers'],
    params: customerParams,
    responses: { 200: { description: 'The customer tenant', schema: tenantSchema }, ...problems },
  }),
  route({
    operationId: 'impersonateCustomer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/customers/{customerId}/impersonate',
    context: 'tenants',
    auth: 'user',
    permission: 'customers:impersonate',
    summary:
      "Log in as a customer: a short-lived admin token for the customer's tenant, that cannot be refreshed, " +
      'cannot touch sign-in settings or API tokens, and marks every audit entry it causes with who really acted; ' +
      "minted with an API token, it keeps the token's scopes, allowed addresses and expiry, and ends with the token",
    tags: ['resellers'],
    params: customerParams,
    body: impersonateBody,
    responses: {
      200: { description: 'An access token for the customer', schema: impersonationSchema },
      ...problems,
      409: { description: 'The customer is suspended' },
    },
  }),
] as const;
