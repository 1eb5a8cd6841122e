import * as z from 'zod';
import { cloudProviders, providers, serverStatuses } from '../../layers/model/servers';
import { isoTimestamp, pageQuery, prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';
import { stackSchema } from './stack/service';

export const hostname = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
    'Use lowercase letters, digits and inner hyphens (a hostname label)',
  );

export const tag = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9:._-]*$/, 'Lowercase letters, digits and : . _ -');

export const tagList = z
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
    siteCount: z
      .number()
      .int()
      .meta({ description: 'How many sites are on it; GET .../servers/{serverId}/sites lists them' }),
    databaseCount: z
      .number()
      .int()
      .meta({ description: 'How many databases are on it; GET .../servers/{serverId}/databases lists them' }),
    databaseEngine: z
      .object({ state: z.enum(['up', 'down']), version: z.string().nullable(), checkedAt: z.string() })
      .nullable()
      .meta({ description: 'The database engine as the last database command or refresh found it' }),
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

export const choiceParams = tenantParams.extend({ provider: z.enum(['local', ...cloudProviders]) });

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

/** The problems every server route may answer. */
export const problems = tenantRouteProblems('server');
