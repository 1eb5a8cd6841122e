import type { StoredItem } from '../store/store';
import { tenantPartition, tenantSubPartition } from './keys';

export const siteTypes = ['php', 'node', 'static', 'proxy'] as const;
export type SiteType = (typeof siteTypes)[number];

export const siteStatuses = ['creating', 'active', 'updating', 'failed', 'deleting'] as const;
export type SiteStatus = (typeof siteStatuses)[number];

export const phpProcessManagers = ['ondemand', 'dynamic', 'static'] as const;

/** PHP's settings for one site, written into its own FPM pool. */
export interface SitePhp {
  version: string;
  memoryLimit: string;
  uploadMaxFilesize: string;
  maxExecutionTime: number;
  opcache: boolean;
  pool: { pm: (typeof phpProcessManagers)[number]; maxChildren: number };
}

export interface SiteRedirect {
  /** a path on the site, matched exactly */
  from: string;
  /** a path or an http(s) URL, already normalised and safe to quote */
  to: string;
  status: 301 | 302;
}

/**
 * What a site is, as every web server's renderer reads it. Everything here was checked at the
 * API; the renderers escape once more, so a value that slipped through stays inert.
 */
export interface SiteSpec {
  /** the primary domain, lower case, IDNs as punycode, `*.` allowed as the first label */
  domain: string;
  aliases: string[];
  type: SiteType;
  php?: SitePhp;
  node?: { version: string; startCommand: string; port: number };
  proxy?: { upstream: string };
  redirects: SiteRedirect[];
  /** a bcrypt hash, never the password */
  basicAuth?: { username: string; passwordHash: string };
  /** the customer's own lines inside the site's block, checked by the web server's validator */
  snippet?: string;
  /** the site user's crontab (none: empty) */
  cronJobs?: SiteCronJob[];
  /** long-running processes (queue workers and the like), each a systemd unit kept running */
  daemons?: SiteDaemon[];
  /** where deploys come from */
  repository?: SiteRepository;
}

export interface SiteRepository {
  /** https, ssh or scp-like (git@host:path); file:// on a local runtime */
  url: string;
  branch: string;
  /** the folder of the repository the site serves ('' for its root) */
  webRoot: string;
  /** paths kept across releases (uploads, storage, .env) */
  sharedPaths: string[];
  /** run in the new release as the site's user before it goes live */
  deployScript: string;
  keepReleases: number;
}

/** A release on the host: the operation that made it, and the commit it is. */
export interface SiteRelease {
  id: string;
  commit: string;
  deployedAt: string;
}

export interface SiteCronJob {
  /** five fields, or a nickname such as @daily, as cron reads them */
  expression: string;
  command: string;
}

export interface SiteDaemon {
  /** lower case, unique in the site: its unit is vip-<user>-<name> */
  name: string;
  command: string;
}

/** A site's environment variables, as its record knows them (the values are a SecureString, functions/sites/secrets.ts). */
export interface SiteEnvironment {
  names: string[];
  updatedAt: string;
}

/** A change on its way to the host: the spec the site has once its operation succeeds. */
export interface PendingSiteChange {
  operationId: string;
  spec: SiteSpec;
  suspended: boolean;
  /** a one-click app being installed */
  app?: SiteApp;
  /** whether the tenant was suspended when the change was rendered (its suspension page or not) */
  tenantSuspended?: boolean;
}

export const siteApps = ['wordpress', 'laravel', 'node-starter', 'static'] as const;
export type SiteApp = (typeof siteApps)[number];

export interface SiteItem extends StoredItem {
  entity: 'site';
  id: string;
  tenantId: string;
  serverId: string;
  status: SiteStatus;
  /** the spec the host serves (for a site being created: the one it will serve) */
  spec: SiteSpec;
  suspended: boolean;
  /** set while the tenant (or a tenant above it) is suspended: the site serves the suspension page too */
  tenantSuspendedAt?: string;
  environment?: SiteEnvironment;
  /** its push-to-deploy webhook (the secret is a SecureString parameter) */
  webhook?: { createdAt: string };
  /** the public half of its deploy key (the private half is a SecureString parameter) */
  deployKey?: { publicKey: string; createdAt: string };
  /** the releases kept on the host, newest first, and the one serving */
  releases?: SiteRelease[];
  currentRelease?: string;
  /** the one-click app installed into it, once its operation succeeded */
  app?: { name: SiteApp; installedAt: string };
  /** the system user the site's files and PHP run as; its home holds everything of the site */
  systemUser: string;
  /** the operation changing the site on its host, until it ends; one at a time */
  operationId?: string;
  pending?: PendingSiteChange;
  lastOperationId: string;
  /** what the host reported it serves the site on, from the last change that succeeded */
  servedAt?: string;
  createdAt: string;
  updatedAt: string;
}

/** Sites live in the tenant's partition; gsi1 lists a server's sites. */
export const siteKeys = {
  item: (tenantId: string, siteId: string) => ({ pk: tenantPartition(tenantId), sk: `SITE#${siteId}` }),
  onServer: (tenantId: string, serverId: string, siteId: string) => ({
    gsi1pk: siteKeys.serverPartition(tenantId, serverId),
    gsi1sk: `SITE#${siteId}`,
  }),
  serverPartition: (tenantId: string, serverId: string) =>
    tenantSubPartition(tenantId, 'SERVERSITES', serverId),
  /** a push delivery a site's webhook took, remembered for a while so a replay is ignored */
  hookDelivery: (tenantId: string, siteId: string, delivery: string) => ({
    pk: tenantPartition(tenantId),
    sk: `HOOK#${siteId}#${delivery}`,
  }),
  prefix: 'SITE#',
};

/**
 * A domain's claim: one item per domain on the whole platform, outside any tenant's partition,
 * written in the same transaction as the site that holds it, so two tenants cannot both win it.
 */
export interface DomainClaimItem extends StoredItem {
  entity: 'domain-claim';
  domain: string;
  tenantId: string;
  siteId: string;
}

export const domainClaimPartition = (domain: string) => `DOMAIN#${domain}`;

export const domainClaimKeys = {
  item: (domain: string) => ({ pk: domainClaimPartition(domain), sk: 'CLAIM' }),
};

/** Every domain a site answers to: its primary domain, then its aliases. */
export const domainsOf = (spec: SiteSpec): string[] => [spec.domain, ...spec.aliases];

/** The system user of a site, from its id: `s` and the id's ULID (27 characters, under Linux's 32). */
export const systemUserOf = (siteId: string): string => `s${siteId.slice(siteId.indexOf('_') + 1)}`;

export const homeOf = (systemUser: string): string => `/home/${systemUser}`;

export function toSite(item: SiteItem) {
  const { basicAuth, ...spec } = item.spec;
  return {
    id: item.id,
    serverId: item.serverId,
    status: item.status,
    suspended: item.suspended,
    tenantSuspended: item.tenantSuspendedAt !== undefined,
    ...spec,
    aliases: spec.aliases,
    redirects: spec.redirects,
    php: spec.php ?? null,
    node: spec.node ?? null,
    proxy: spec.proxy ?? null,
    snippet: spec.snippet ?? null,
    cronJobs: spec.cronJobs ?? [],
    daemons: spec.daemons ?? [],
    environmentNames: item.environment?.names ?? [],
    app: item.app ?? null,
    repository: spec.repository ?? null,
    currentRelease: item.currentRelease ?? null,
    deployKey: item.deployKey?.publicKey ?? null,
    basicAuth: basicAuth ? { username: basicAuth.username } : null,
    systemUser: item.systemUser,
    home: homeOf(item.systemUser),
    servedAt: item.servedAt ?? null,
    pendingOperationId: item.operationId ?? null,
    lastOperationId: item.lastOperationId,
    version: item.version ?? 1,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}
