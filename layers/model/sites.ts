import { errors } from '../errors/app-error';
import type { Store, StoredItem } from '../store/store';
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
  /** what the site does over HTTPS once it has a certificate */
  https?: SiteHttps;
}

export interface SiteHttps {
  /** plain HTTP requests are redirected (301) to HTTPS (ACME's challenges excepted) */
  redirect: boolean;
  /** responses over HTTPS carry Strict-Transport-Security */
  hsts: boolean;
}

/** A staging site: made from a live site, and pushed live into it as a deploy. */
export interface SiteStaging {
  /** the live site */
  of: string;
  /** how its files come once it exists: copied on the same host, or the live site's commit deployed */
  from: { sourceUser: string; webRoot: string } | { commit: string };
  /** the deploy that brought them, started once the site was made */
  cloneOperationId?: string;
}

export const certificateSources = ['acme', 'custom'] as const;
export type CertificateSource = (typeof certificateSources)[number];

/**
 * A site's certificate as its record knows it: what it covers and until when, read from the
 * certificate itself. The PEM chain is public; the private key is a SecureString parameter
 * (functions/sites/secrets.ts) and goes to the host only sealed to the host's key.
 */
export interface SiteCertificate {
  source: CertificateSource;
  /** the names the certificate covers (its subjectAltName DNS entries) */
  domains: string[];
  issuer: string;
  serialNumber: string;
  fingerprint256: string;
  notBefore: string;
  notAfter: string;
  /** the leaf and its intermediates, leaf first, as the web server sends them */
  chainPem: string;
  installedAt: string;
  /** ACME: the directory it came from, so a renewal asks the same one */
  directoryUrl?: string;
}

/** What the site's record says of renewing and of expiry (ACME renewals, warnings for every certificate). */
export interface SiteCertificateState {
  /** the last renewal or issuance that failed, and why; cleared by the next success */
  lastFailure?: { at: string; operationId: string; message: string };
  /** the expiry warnings already given for the certificate installed (days before expiry: 21, 7) */
  warned?: number[];
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
  /** a Node.js app's time to answer on its port once restarted on a new release */
  startSeconds?: number;
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
  /** a certificate being installed (a new one, a renewal, or an upload) */
  certificate?: SiteCertificate;
  /** the site's certificate is being taken off */
  removeCertificate?: boolean;
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
  /** set on a staging site */
  staging?: SiteStaging;
  /** the certificate the host serves it with over HTTPS */
  certificate?: SiteCertificate;
  certificateState?: SiteCertificateState;
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
  /** where it serves HTTPS (the site answers there once it has a certificate) */
  httpsServedAt?: string;
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

/** A new claim on a domain for a site (written with putNew: it fails when anyone holds it). */
export const domainClaim = (site: { tenantId: string; id: string }, domain: string): DomainClaimItem => ({
  ...domainClaimKeys.item(domain),
  entity: 'domain-claim',
  domain,
  tenantId: site.tenantId,
  siteId: site.id,
});

/**
 * A site's certificate by its expiry: one item per installed certificate in one platform
 * partition sorted by expiry, so the renewal sweep reads those expiring soon with one Query
 * (no scan), whoever's they are. Written and removed with the site's certificate.
 */
export interface CertificateExpiryItem extends StoredItem {
  entity: 'certificate-expiry';
  tenantId: string;
  siteId: string;
  notAfter: string;
}

export const certificateExpiryKeys = {
  partition: 'CERTEXPIRY',
  item: (notAfter: string, tenantId: string, siteId: string) => ({
    pk: certificateExpiryKeys.partition,
    sk: `${notAfter}#${tenantId}#${siteId}`,
  }),
  /** the sort keys of every certificate expiring before `at` (ISO timestamps sort as they read) */
  until: (at: string): [string, string] => ['0', `${at}#`],
};

export const certificateExpiryItem = (
  site: Pick<SiteItem, 'tenantId' | 'id'>,
  certificate: Pick<SiteCertificate, 'notAfter'>,
): CertificateExpiryItem => ({
  ...certificateExpiryKeys.item(certificate.notAfter, site.tenantId, site.id),
  entity: 'certificate-expiry',
  tenantId: site.tenantId,
  siteId: site.id,
  notAfter: certificate.notAfter,
});

/**
 * The site that answers to a host name: the one claiming it, or the `*.` name one label up.
 * (A lookup by key, as DNS would resolve it: the local front door routes requests with it.)
 */
export async function siteAnswering(store: Store, host: string): Promise<SiteItem | undefined> {
  const dot = host.indexOf('.');
  for (const name of dot > 0 ? [host, `*.${host.slice(dot + 1)}`] : [host]) {
    const claim = await store.get<DomainClaimItem>(domainClaimKeys.item(name));
    if (claim) return store.get<SiteItem>(siteKeys.item(claim.tenantId, claim.siteId));
  }
  return undefined;
}

/** Every domain a site answers to: its primary domain, then its aliases. */
export const domainsOf = (spec: SiteSpec): string[] => [spec.domain, ...spec.aliases];

/** The system user of a site, from its id: `s` and the id's ULID (27 characters, under Linux's 32). */
export const systemUserOf = (siteId: string): string => `s${siteId.slice(siteId.indexOf('_') + 1)}`;

export const homeOf = (systemUser: string): string => `/home/${systemUser}`;

/** Days before a certificate's expiry at which its site warns (and ACME renews from the first). */
export const CERTIFICATE_WARNING_DAYS = [21, 7] as const;

/** A site's certificate as the API shows it: what it covers and until when; never its key. */
export function toCertificateSummary(item: Pick<SiteItem, 'certificate' | 'certificateState'>) {
  const certificate = item.certificate;
  if (!certificate) return null;
  const { chainPem: _chain, ...summary } = certificate;
  return {
    ...summary,
    lastFailure: item.certificateState?.lastFailure ?? null,
    warnings: item.certificateState?.warned ?? [],
  };
}

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
    https: spec.https ?? { redirect: false, hsts: false },
    certificate: item.certificate ? toCertificateSummary(item) : null,
    stagingOf: item.staging?.of ?? null,
    currentRelease: item.currentRelease ?? null,
    deployKey: item.deployKey?.publicKey ?? null,
    basicAuth: basicAuth ? { username: basicAuth.username } : null,
    systemUser: item.systemUser,
    home: homeOf(item.systemUser),
    servedAt: item.servedAt ?? null,
    httpsServedAt: item.certificate ? (item.httpsServedAt ?? null) : null,
    pendingOperationId: item.operationId ?? null,
    lastOperationId: item.lastOperationId,
    version: item.version ?? 1,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

/** A site of this tenant, or a 404: another tenant's id is not found, never theirs. */
export async function siteOf(
  platform: { store: Store },
  tenantId: string,
  siteId: string,
): Promise<SiteItem> {
  const site = await platform.store.get<SiteItem>(siteKeys.item(tenantId, siteId), true);
  if (!site) throw errors.notFound('site');
  return site;
}
