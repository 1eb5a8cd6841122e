import * as z from 'zod';
import { siteStatuses, siteTypes } from '../../layers/model/sites';
import { isoTimestamp, pageQuery, prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';
import {
  basicAuth,
  cronJobs,
  daemons,
  domainName,
  hasControl,
  hasControlOrSpace,
  node,
  phpSettings,
  plainHost,
  redirect,
  snippetSchema,
  upstreamUrl,
} from './fields';

const siteFields = {
  aliases: z.array(domainName).max(50).default([]).meta({ description: 'More domains the site answers to' }),
  php: phpSettings.optional().meta({ description: 'type php: its PHP version and settings' }),
  node: node.optional().meta({ description: 'type node: the Node.js major, start command and port' }),
  proxy: z
    .strictObject({ upstream: upstreamUrl })
    .optional()
    .meta({ description: 'type proxy: the upstream' }),
  redirects: z.array(redirect).max(100).default([]),
  basicAuth: basicAuth
    .nullable()
    .optional()
    .meta({ description: 'Password-protects the whole site; null removes it' }),
  snippet: snippetSchema
    .nullable()
    .optional()
    .meta({ description: "Lines of the web server's config inside the site's block" }),
  cronJobs: cronJobs.default([]),
  daemons: daemons.default([]),
};

/** What the site does over HTTPS once it has a certificate. */
export const httpsOptions = z
  .strictObject({
    redirect: z.boolean().default(false).meta({ description: 'Redirect plain HTTP to HTTPS (301)' }),
    hsts: z
      .boolean()
      .default(false)
      .meta({ description: 'Send Strict-Transport-Security (one year) over HTTPS' }),
  })
  .meta({ id: 'SiteHttps' });

export const createSiteBody = z
  .strictObject({
    domain: domainName,
    type: z.enum(siteTypes),
    ...siteFields,
  })
  .meta({ id: 'CreateSiteRequest' });

export const updateSiteBody = z
  .strictObject({
    aliases: siteFields.aliases.unwrap().optional(),
    php: siteFields.php,
    node: siteFields.node,
    proxy: siteFields.proxy,
    redirects: siteFields.redirects.unwrap().optional(),
    basicAuth: siteFields.basicAuth,
    snippet: siteFields.snippet,
    cronJobs: cronJobs.optional(),
    daemons: daemons.optional(),
    https: httpsOptions.optional(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), {
    message: 'Give at least one field to change',
    path: ['aliases'],
  })
  .meta({ id: 'UpdateSiteRequest' });

export const siteSchema = z
  .object({
    id: z.string(),
    serverId: z.string(),
    status: z.enum(siteStatuses),
    suspended: z.boolean().meta({ description: 'Suspended by its own owner or reseller' }),
    tenantSuspended: z.boolean().meta({
      description: 'Its tenant, or a tenant above it, is suspended: it serves the suspension page too',
    }),
    domain: z.string(),
    aliases: z.array(z.string()),
    type: z.enum(siteTypes),
    php: z.unknown().nullable(),
    node: z.unknown().nullable(),
    proxy: z.object({ upstream: z.string() }).nullable(),
    redirects: z.array(z.object({ from: z.string(), to: z.string(), status: z.number() })),
    basicAuth: z.object({ username: z.string() }).nullable(),
    snippet: z.string().nullable(),
    cronJobs: z.array(z.object({ expression: z.string(), command: z.string() })),
    daemons: z.array(z.object({ name: z.string(), command: z.string() })),
    environmentNames: z.array(z.string()).meta({ description: 'The names of its environment variables' }),
    repository: z.unknown().nullable().meta({ description: 'Where deploys come from' }),
    https: z.object({ redirect: z.boolean(), hsts: z.boolean() }),
    certificate: z.unknown().nullable().meta({
      description:
        'The certificate it is served with over HTTPS: what it covers, its issuer and expiry, never its key',
    }),
    httpsServedAt: z.string().nullable().meta({ description: 'Where the host serves it over HTTPS' }),
    currentRelease: z.string().nullable(),
    deployKey: z
      .string()
      .nullable()
      .meta({ description: "The deploy key's public half, for the repository's deploy keys" }),
    app: z
      .object({ name: z.string(), installedAt: z.string() })
      .nullable()
      .meta({ description: 'The one-click app installed into it' }),
    systemUser: z.string().meta({ description: "The system user the site's files and PHP run as" }),
    home: z.string(),
    servedAt: z
      .string()
      .nullable()
      .meta({ description: 'Where the host said its web server listens (a local host: a loopback port)' }),
    pendingOperationId: z.string().nullable().meta({ description: 'The change on its way to the host' }),
    lastOperationId: z.string(),
    version: z.number().int(),
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
  })
  .meta({ id: 'Site' });

export const serverSitesParams = tenantParams.extend({ serverId: prefixedId('srv') });
export const siteParams = tenantParams.extend({ siteId: prefixedId('ste') });

export const listSitesQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(siteStatuses).optional(),
  type: z.enum(siteTypes).optional(),
  serverId: prefixedId('srv').optional(),
  domain: z
    .string()
    .max(253)
    .regex(/^[a-z0-9.*-]+$/, 'The start of a domain, lower case')
    .optional()
    .meta({ description: 'Sites whose primary domain starts with this' }),
});

export const problems = {
  ...tenantRouteProblems('site'),
};

export const environmentBody = z
  .strictObject({
    variables: z
      .record(
        z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]{0,63}$/, 'Upper case letters, digits and _, not starting with a digit'),
        z
          .string()
          .max(4096)
          .refine((v) => !hasControl(v), 'One line, no control characters'),
      )
      .refine((v) => Object.keys(v).length <= 100, 'At most 100 variables')
      .meta({ description: 'Replaces every variable of the site; {} removes them all' }),
  })
  .meta({ id: 'SiteEnvironmentRequest' });

export const environmentSchema = z
  .object({
    variables: z.record(z.string(), z.string()),
    masked: z.boolean().meta({ description: 'true: values are hidden (the caller lacks sites:secrets)' }),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'SiteEnvironment' });

export const daemonLogsParams = siteParams.extend({
  daemon: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'A daemon name'),
});

export const daemonLogsQuery = z.strictObject({
  lines: z.coerce.number().int().min(1).max(1000).default(200),
});

export const installAppBody = z
  .discriminatedUnion('app', [
    z.strictObject({
      app: z.literal('wordpress'),
      title: z
        .string()
        .min(1)
        .max(200)
        .refine((v) => !hasControl(v), 'One line'),
      adminUser: z.string().regex(/^[A-Za-z0-9._-]{3,60}$/, 'Letters, digits and . _ - (3 to 60)'),
      adminEmail: z.email().max(254),
      adminPassword: z
        .string()
        .min(12)
        .max(128)
        .refine((v) => !hasControl(v), 'No line breaks or control characters'),
    }),
    z.strictObject({
      app: z.literal('laravel'),
      appName: z
        .string()
        .regex(/^[A-Za-z0-9 ._-]{1,50}$/, 'Letters, digits, spaces and . _ -')
        .optional(),
    }),
    z.strictObject({ app: z.literal('node-starter') }),
    z.strictObject({ app: z.literal('static') }),
  ])
  .meta({ id: 'InstallAppRequest' });

/** The hosts a local runtime's own git server answers on. */
export const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

/** A git repository URL: https, ssh://, scp-like git@host:path, or file:// and http:// on loopback (local runtimes only). */
const repositoryUrl = z
  .string()
  .max(1000)
  .refine((value) => {
    if (hasControlOrSpace(value) || value.startsWith('-')) return false;
    if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+$/.test(value)) return true;
    try {
      const url = new URL(value);
      if (url.protocol === 'file:') return /^\/[A-Za-z0-9._~/-]+$/.test(url.pathname) && url.host === '';
      // a local runtime's git server (plain http on loopback; refused unless the runtime is local)
      if (url.protocol === 'http:')
        return LOOPBACK.has(url.hostname) && url.password === '' && url.username === '';
      return (
        (url.protocol === 'https:' || url.protocol === 'ssh:') &&
        plainHost(url.hostname) &&
        url.password === ''
      );
    } catch {
      return false;
    }
  }, 'An https://, ssh:// or git@host:path repository URL, without a password');

const relativePath = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'A relative path of letters, digits and . _ -')
  .refine((v) => !v.split('/').some((part) => part === '..' || part === '.'), 'No . or .. in the path');

export const repositoryBody = z
  .strictObject({
    url: repositoryUrl,
    branch: z
      .string()
      .regex(/^[A-Za-z0-9._/-]{1,200}$/, 'A branch name')
      .refine((v) => !v.startsWith('-') && !v.includes('..'), 'Not a branch name')
      .default('main'),
    webRoot: z
      .union([z.literal(''), relativePath])
      .default('')
      .meta({ description: "The folder the site serves ('' for the root)" }),
    sharedPaths: z
      .array(relativePath)
      .max(20)
      .default([])
      .meta({ description: 'Kept across releases (uploads, storage, .env)' }),
    deployScript: z
      .string()
      .max(8000)
      .refine((v) => !v.includes(String.fromCharCode(0)), 'No NUL characters')
      .optional()
      .meta({
        description:
          "Run in the new release as the site's user before it goes live; by default composer install and migrations for PHP (Laravel), npm ci and the build for Node.js",
      }),
    keepReleases: z.number().int().min(1).max(20).default(5),
    startSeconds: z.number().int().min(5).max(300).default(30).meta({
      description:
        "A Node.js app's time to answer once restarted on a new release, or the previous one is back",
    }),
  })
  .meta({ id: 'SiteRepositoryRequest' });

export const rollbackBody = z
  .strictObject({
    releaseId: prefixedId('rel')
      .optional()
      .meta({ description: 'Default: the release before the current one' }),
  })
  .meta({ id: 'RollbackRequest' });

export const releasesSchema = z
  .object({
    current: z.string().nullable(),
    items: z.array(z.object({ id: z.string(), commit: z.string(), deployedAt: z.string() })),
  })
  .meta({ id: 'SiteReleases' });

const pemText = (what: string) =>
  z
    .string()
    .min(64)
    .max(32_000)
    .refine((v) => !v.includes('\u0000'), 'No NUL characters')
    .meta({ description: what });

/** A certificate the customer brings: checked against its key, its chain and the site's domains. */
export const certificateUploadBody = z
  .strictObject({
    certificate: pemText('The certificate as PEM; its chain may follow it here or go in `chain`'),
    chain: pemText('The intermediate certificates as PEM, in any order').optional(),
    privateKey: pemText(
      "The certificate's private key as PEM (RSA of 2048 bits or more, or ECDSA P-256/P-384), unencrypted",
    ),
  })
  .meta({ id: 'SiteCertificateUpload' });

export const certificateSchema = z
  .object({
    source: z.enum(['acme', 'custom']),
    domains: z.array(z.string()),
    issuer: z.string(),
    serialNumber: z.string(),
    fingerprint256: z.string(),
    notBefore: isoTimestamp,
    notAfter: isoTimestamp,
    installedAt: isoTimestamp,
    directoryUrl: z.string().optional(),
    chainPem: z.string().meta({ description: 'The leaf and its intermediates as the web server sends them' }),
    lastFailure: z
      .object({ at: isoTimestamp, operationId: z.string(), message: z.string() })
      .nullable()
      .meta({ description: 'The last issuance or renewal that failed, until one succeeds' }),
    warnings: z.array(z.number()).meta({ description: 'Expiry warnings given (days before expiry)' }),
  })
  .meta({ id: 'SiteCertificate' });

/** A staging site of a live one: its own domain, on the live site's server unless named. */
export const createStagingBody = z
  .strictObject({
    domain: domainName,
    serverId: prefixedId('srv')
      .optional()
      .meta({ description: "Another of the tenant's servers (default: the live site's own)" }),
  })
  .meta({ id: 'CreateStagingRequest' });
