import * as z from 'zod';
import { route } from '../../layers/http/route';
import { cloudProviders, providers, serverStatuses } from '../../layers/model/servers';
import { operationSchema } from '../operations/spec';
import {
  isoTimestamp,
  listOf,
  pageQuery,
  prefixedId,
  tenantParams,
  tenantRouteProblems,
} from '../shared-schemas';
import { sshKeyBody, sshKeySchema } from './ssh-keys';
import { restartableServices, stackChangeSchema, stackSchema } from './stack';

const hostname = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'Use lowercase letters, digits and inner hyphens (a hostname label)',
  );

const tag = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9:._-]*$/, 'Lowercase letters, digits and : . _ -');

const tagList = z
  .array(tag)
  .max(20)
  .refine((tags) => new Set(tags).size === tags.length, 'Each tag once');

export const createServerBody = z
  .strictObject({
    name: hostname,
    provider: z.enum(providers),
    region: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .meta({ description: "The provider's region (local: local-1); required for cloud providers" }),
    size: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .meta({ description: "The provider's server size (local: small); required for cloud providers" }),
    stack: stackSchema.prefault({}).meta({ description: 'What the bootstrap installs' }),
    tags: tagList.default([]),
  })
  .meta({ id: 'CreateServerRequest' });

export const serverSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    provider: z.enum(providers),
    region: z.string(),
    size: z.string(),
    stack: stackSchema,
    status: z.enum(serverStatuses),
    tags: z.array(z.string()),
    suspended: z.boolean().meta({ description: 'true while the tenant, or a tenant above it, is suspended' }),
    rebooting: z.boolean().meta({ description: 'true while a reboot runs; commands wait for it' }),
    changingStack: z
      .boolean()
      .meta({ description: 'true while software is being added to the stack; commands wait for it' }),
    instanceId: z.string().nullable(),
    installCommand: z
      .string()
      .nullable()
      .meta({ description: 'custom servers: run this once as root on the machine; it registers the server' }),
    ipv4: z.string().nullable(),
    lastOperationId: z.string(),
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
  })
  .meta({ id: 'Server' });

export const serverParams = tenantParams.extend({ serverId: prefixedId('srv') });

export const updateServerBody = z
  .strictObject({
    name: hostname.optional(),
    tags: tagList.optional().meta({ description: 'Replaces the tags' }),
  })
  .refine((body) => body.name !== undefined || body.tags !== undefined, {
    message: 'Give name or tags',
    path: ['name'],
  })
  .meta({ id: 'UpdateServerRequest' });

export const listServersQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(serverStatuses).optional(),
  provider: z.enum(providers).optional(),
  tag: tag.optional(),
});

export const credentialsParams = tenantParams.extend({ provider: z.enum(cloudProviders) });

export const credentialsBody = z
  .strictObject({
    token: z
      .string()
      .trim()
      .min(8)
      .max(512)
      .optional()
      .meta({ description: "The provider's API token (hetzner, digitalocean, vultr)" }),
    accessKeyId: z
      .string()
      .regex(/^AKIA[A-Z0-9]{16}$/, 'An IAM access key id (AKIA followed by 16 characters)')
      .optional()
      .meta({ description: 'aws: an IAM user access key id, allowed EC2 in the regions it uses' }),
    secretAccessKey: z
      .string()
      .regex(/^[A-Za-z0-9/+=]{40}$/, 'A 40-character secret access key')
      .optional()
      .meta({ description: 'aws: the secret of that access key' }),
    roleArn: z
      .string()
      .regex(
        /^arn:aws:iam::\d{12}:role\/vip-hosting-[\w+=,.@-]{1,52}$/,
        'An IAM role ARN whose name starts with vip-hosting- (no path)',
      )
      .optional()
      .meta({
        description:
          'aws, instead of an access key: a role in your account that lets the platform assume it with your tenant id as external id (GET .../provider-credentials/aws/trust-policy)',
      }),
  })
  .meta({ id: 'ProviderCredentialsRequest' });

export const providerChoiceSchema = z
  .object({
    id: z.string().meta({ description: 'What to send as region or size when creating a server' }),
    description: z.string(),
  })
  .meta({ id: 'ProviderChoice' });

const choiceParams = tenantParams.extend({ provider: z.enum(['local', ...cloudProviders]) });

export const trustPolicySchema = z
  .object({
    principal: z.string().meta({ description: 'The AWS account the platform assumes your role from' }),
    externalId: z.string().meta({ description: 'The external id it sends: your tenant id' }),
    roleNamePrefix: z.string(),
    trustPolicy: z
      .record(z.string(), z.unknown())
      .meta({ description: "The role's trust policy document, ready to paste" }),
  })
  .meta({ id: 'AwsRoleTrust' });

export const credentialsSchema = z
  .object({
    provider: z.enum(cloudProviders),
    tokenHint: z
      .string()
      .meta({ description: 'The last four characters; the token itself is never shown again' }),
    validatedAt: isoTimestamp,
    createdAt: isoTimestamp,
  })
  .meta({ id: 'ProviderCredentials' });

const problems = tenantRouteProblems('server');

export const serverRoutes = [
  route({
    operationId: 'createServer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Provision a server; answers 202 with the provisioning operation',
    tags: ['servers'],
    params: tenantParams,
    body: createServerBody,
    idempotent: true,
    responses: {
      202: {
        description: 'Provisioning started',
        schema: serverSchema.extend({ operation: operationSchema }),
      },
      ...problems,
    },
  }),
  route({
    operationId: 'listServers',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary: 'List servers, filtered by status, provider or tag (a filtered page may hold fewer than limit)',
    tags: ['servers'],
    params: tenantParams,
    query: listServersQuery,
    responses: { 200: { description: 'A page of servers', schema: listOf(serverSchema) }, ...problems },
  }),
  route({
    operationId: 'getServer',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers/{serverId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary: 'Get a server',
    tags: ['servers'],
    params: serverParams,
    responses: { 200: { description: 'The server', schema: serverSchema }, ...problems },
  }),
  route({
    operationId: 'updateServer',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/servers/{serverId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Rename a server or replace its tags (If-Match makes it conditional on the ETag)',
    tags: ['servers'],
    params: serverParams,
    body: updateServerBody,
    responses: {
      200: { description: 'The server', schema: serverSchema },
      ...problems,
      412: { description: 'If-Match does not match the current ETag' },
    },
  }),
  route({
    operationId: 'deleteServer',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/servers/{serverId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Decommission a server: deletes its host at the provider, forgets its agent and gives its quota back; answers 202 with the operation',
    tags: ['servers'],
    params: serverParams,
    responses: {
      202: {
        description: 'Decommissioning started',
        schema: serverSchema.extend({ operation: operationSchema }),
      },
      ...problems,
      409: { description: 'The server is still being provisioned, or already being deleted' },
      412: { description: 'If-Match does not match the current ETag' },
    },
  }),
  route({
    operationId: 'cancelOperation',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/operations/{operationId}/cancel',
    context: 'servers',
    idempotent: true,
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Cancel a provisioning (its workflow stops, the operation ends cancelled and the server is decommissioned: 202 with that operation) or a command (its workflow stops and its SSM command is cancelled on the host: 200 with the cancelled operation)',
    tags: ['operations'],
    params: tenantParams.extend({ operationId: prefixedId('op') }),
    responses: {
      200: { description: 'The command is cancelled', schema: operationSchema },
      202: {
        description: 'Cancelled; decommissioning started',
        schema: serverSchema.extend({ operation: operationSchema }),
      },
      ...problems,
      409: { description: 'The operation is a reboot or a decommissioning, or has ended' },
    },
  }),
  route({
    operationId: 'authorizeSshKey',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/ssh-keys',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Authorise an SSH public key for root on the server; answers 202 with the key and the operation',
    tags: ['servers'],
    params: serverParams,
    body: sshKeyBody,
    idempotent: true,
    responses: {
      202: { description: 'Authorising', schema: sshKeySchema.extend({ operation: operationSchema }) },
      ...problems,
      409: { description: 'The key is already on the server, or the server is not active' },
    },
  }),
  route({
    operationId: 'listSshKeys',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/ssh-keys',
    context: 'servers',
    auth: 'user',
    permission: 'servers:read',
    summary: 'The SSH keys authorised (or being authorised) on the server',
    tags: ['servers'],
    params: serverParams,
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'A page of keys', schema: listOf(sshKeySchema) }, ...problems },
  }),
  route({
    operationId: 'revokeSshKey',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/ssh-keys/{keyId}',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary: 'Remove an SSH key from the server; answers 202 with the operation',
    tags: ['servers'],
    params: serverParams.extend({ keyId: prefixedId('key') }),
    responses: {
      202: { description: 'Revoking', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active' },
    },
  }),
  route({
    operationId: 'restartService',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/services/{service}/restart',
    context: 'servers',
    idempotent: true,
    auth: 'user',
    permission: 'servers:write',
    summary:
      "Restart one of the server's services (its web server by name, php-fpm for every PHP version, database, redis); answers 202 with the operation, whose output is the command's",
    tags: ['servers'],
    params: serverParams.extend({ service: z.enum(restartableServices) }),
    responses: {
      202: { description: 'The restart started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active' },
    },
  }),
  route({
    operationId: 'changeStack',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/stack',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary:
      "Add software to the server's stack (PHP versions, Node.js majors, Redis): the bootstrap runs again for the grown stack, alone on the server, and the server shows the new stack once it succeeded; answers 202 with the operation",
    tags: ['servers'],
    params: serverParams,
    body: stackChangeSchema,
    responses: {
      202: { description: 'The change started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active, or is rebooting or changing its stack already' },
    },
  }),
  route({
    operationId: 'rebootServer',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/reboot',
    context: 'servers',
    idempotent: true,
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Reboot the server, then check its health; answers 202 with the operation (steps reboot and healthCheck)',
    tags: ['servers'],
    params: serverParams,
    body: z
      .strictObject({
        mode: z.enum(['graceful', 'hard']).default('graceful').meta({
          description:
            'graceful: the operating system restarts through the agent, confirmed by a new boot id; hard: the provider resets the machine (for a host whose agent does not answer); custom servers have no provider to reset them',
        }),
      })
      .optional()
      .meta({ id: 'RebootRequest' }),
    responses: {
      202: { description: 'The reboot started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active, or is rebooting already' },
    },
  }),
  route({
    operationId: 'runRecipe',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/recipe-runs',
    context: 'servers',
    auth: 'user',
    permission: 'servers:write',
    summary:
      'Run a recipe (a bash script, as root) on the server; answers 202 with the operation, which captures its exit code, stdout and stderr',
    tags: ['servers'],
    params: serverParams,
    body: z
      .strictObject({ script: z.string().min(1).max(8000).meta({ description: 'The bash script to run' }) })
      .meta({ id: 'RecipeRunRequest' }),
    idempotent: true,
    responses: {
      202: { description: 'The recipe started', schema: operationSchema },
      ...problems,
      409: { description: 'The server is not active' },
    },
  }),
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
