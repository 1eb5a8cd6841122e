import * as z from 'zod';
import { route } from '../../../layers/http/route';
import { listOf, pageQuery, tenantParams } from '../../shared-schemas';
import {
  choiceParams,
  credentialsBody,
  credentialsParams,
  credentialsSchema,
  problems,
  providerChoiceSchema,
  trustPolicySchema,
} from '../spec';

export const providersRoutes = [
  route({
    operationId: 'putProviderCredentials',
    method: 'PUT',
    path: '/v1/tenants/{tenantId}/provider-credentials/{provider}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary:
      "Save the tenant's API token for a provider, after the provider accepted it; stored encrypted and never shown again",
    tags: ['servers'],
    params: credentialsParams,
    body: credentialsBody,
    responses: {
      200: { description: 'Saved', schema: credentialsSchema },
      ...problems,
      503: { description: 'The provider could not be reached; nothing was saved' },
    },
  }),
  route({
    operationId: 'listProviderRegions',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/providers/{provider}/regions',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary:
      "The regions a provider offers, asked with the tenant's saved credentials (kept for five minutes)",
    tags: ['servers'],
    params: choiceParams,
    query: z.strictObject({ ...pageQuery }),
    responses: {
      200: { description: 'Regions', schema: listOf(providerChoiceSchema) },
      ...problems,
      503: { description: 'The provider could not be reached' },
    },
  }),
  route({
    operationId: 'listProviderSizes',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/providers/{provider}/sizes',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary:
      "The server sizes a provider offers (aws: in `region`, which it then requires), asked with the tenant's saved credentials",
    tags: ['servers'],
    params: choiceParams,
    query: z.strictObject({
      ...pageQuery,
      region: z
        .string()
        .regex(/^[a-z0-9-]{2,32}$/)
        .optional()
        .meta({ description: 'aws: the region whose instance types to list' }),
    }),
    responses: {
      200: { description: 'Sizes', schema: listOf(providerChoiceSchema) },
      ...problems,
      503: { description: 'The provider could not be reached' },
    },
  }),
  route({
    operationId: 'getAwsTrustPolicy',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/provider-credentials/{provider}/trust-policy',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary:
      'What a role in your AWS account must trust so the platform can manage EC2 there without a long-lived key: the principal, the external id and the trust policy',
    tags: ['servers'],
    params: tenantParams.extend({ provider: z.literal('aws') }),
    responses: { 200: { description: 'The trust policy', schema: trustPolicySchema }, ...problems },
  }),
  route({
    operationId: 'listProviderCredentials',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/provider-credentials',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary: 'The providers the tenant has saved credentials for (never the tokens)',
    tags: ['servers'],
    params: tenantParams,
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'Saved credentials', schema: listOf(credentialsSchema) }, ...problems },
  }),
  route({
    operationId: 'deleteProviderCredentials',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/provider-credentials/{provider}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: "Forget the tenant's token for a provider",
    tags: ['servers'],
    params: credentialsParams,
    responses: { 204: { description: 'Forgotten' }, ...problems },
  }),
] as const;
