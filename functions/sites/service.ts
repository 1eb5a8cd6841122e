import bcrypt from 'bcryptjs';
import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { countersChange } from '../../layers/model/counters';
import type { OperationItem } from '../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import {
  domainClaim,
  domainsOf,
  type PendingSiteChange,
  type SiteApp,
  type SiteCertificate,
  type SiteItem,
  type SiteRepository,
  type SiteSpec,
  type SiteStaging,
  type SiteStatus,
  siteKeys,
  systemUserOf,
} from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import {
  ConditionFailedError,
  refusedBy,
  type TransactItem,
  TransactionFailedError,
} from '../../layers/store/store';
import { named, putNew, updateItem } from '../../layers/store/writes';
import { quotaExceeded } from '../plans/quota';
import { runCommand } from '../servers/runs';
import { newDeployKey } from './deploy-key';
import { readDeployKey, readEnvironment, writeDeployKey, writeEnvironment } from './environment';
import { siteOperationKinds } from './operation-kinds';
import { applyBundle, removeBundle } from './render/bundle';
import { layoutOf } from './render/layout';
import { nodeUnitName } from './render/node';
import { sealFor } from './render/sealed';
import {
  crontabPath,
  daemonLogPath,
  daemonUnitName,
  daemonUnitPath,
  renderCrontab,
  renderDaemonUnit,
} from './render/settings';
import type { createSiteBody, installAppBody, repositoryBody, updateSiteBody } from './spec';

/** The site document's bundle parameter holds at most this many characters (its allowedPattern). */
const BUNDLE_LIMIT = 60_000;

/** bcrypt's cost for basic-auth passwords: what nginx, Apache and Caddy all verify. */
const BCRYPT_COST = 10;

type CreateBody = z.output<typeof createSiteBody>;
type UpdateBody = z.output<typeof updateSiteBody>;

/**
 * The spec a request asks for, checked against the server it is on: the type's own settings
 * present, a PHP version or Node.js major the server has, every domain once. Refusals name
 * the field.
 */
async function specFrom(
  server: ServerItem,
  fields: Pick<SiteSpec, 'domain' | 'aliases' | 'type' | 'redirects'> & {
    php?: SiteSpec['php'] | undefined;
    node?: SiteSpec['node'] | undefined;
    proxy?: SiteSpec['proxy'] | undefined;
    basicAuth: SiteSpec['basicAuth'] | { username: string; password: string } | null | undefined;
    snippet: string | null | undefined;
    cronJobs?: SiteSpec['cronJobs'] | undefined;
    daemons?: SiteSpec['daemons'] | undefined;
  },
): Promise<SiteSpec> {
  const problems: { path: string; message: string }[] = [];
  if (fields.snippet && server.stack.webServer === 'openlitespeed') {
    problems.push({ path: 'body.snippet', message: 'Sites on OpenLiteSpeed servers take no snippet' });
  }
  const domains = [fields.domain, ...fields.aliases];
  if (new Set(domains).size !== domains.length) {
    problems.push({ path: 'body.aliases', message: 'Each domain once, and not the primary domain again' });
  }
  if (fields.type === 'php') {
    if (!fields.php) problems.push({ path: 'body.php', message: 'A PHP site needs php.version' });
    else if (!server.stack.phpVersions.includes(fields.php.version as never)) {
      problems.push({
        path: 'body.php.version',
        message: `The server has PHP ${server.stack.phpVersions.join(', ') || 'not at all'}; add a version to its stack first`,
      });
    }
  }
  if (fields.type === 'node') {
    if (!fields.node) problems.push({ path: 'body.node', message: 'A Node.js site needs node.version' });
    else if (!server.stack.nodeVersions.includes(fields.node.version as never)) {
      problems.push({
        path: 'body.node.version',
        message: `The server has Node.js ${server.stack.nodeVersions.join(', ') || 'not at all'}; add a major to its stack first`,
      });
    }
  }
  if (fields.type === 'proxy' && !fields.proxy) {
    problems.push({ path: 'body.proxy', message: 'A proxy site needs proxy.upstream' });
  }
  for (const [key, type] of [
    ['php', 'php'],
    ['node', 'node'],
    ['proxy', 'proxy'],
  ] as const) {
    if (fields[key] !== undefined && fields.type !== type) {
      problems.push({ path: `body.${key}`, message: `Only a ${type} site takes ${key}` });
    }
  }
  if (problems.length > 0) throw errors.validation(problems);
  const auth = fields.basicAuth;
  return {
    domain: fields.domain,
    aliases: fields.aliases,
    type: fields.type,
    ...(fields.type === 'php' && fields.php ? { php: fields.php } : {}),
    ...(fields.type === 'node' && fields.node ? { node: fields.node } : {}),
    ...(fields.type === 'proxy' && fields.proxy ? { proxy: fields.proxy } : {}),
    redirects: fields.redirects,
    ...(auth
      ? {
          basicAuth:
            'passwordHash' in auth
              ? auth
              : { username: auth.username, passwordHash: await bcrypt.hash(auth.password, BCRYPT_COST) },
        }
      : {}),
    ...(fields.snippet ? { snippet: fields.snippet } : {}),
    cronJobs: fields.cronJobs ?? [],
    daemons: fields.daemons ?? [],
  };
}

function siteParameters(
  site: Pick<SiteItem, 'id' | 'systemUser'>,
  action: 'apply' | 'remove' | 'logs',
  bundle: string,
) {
  if (bundle.length > BUNDLE_LIMIT) {
    throw errors.validation([
      {
        path: 'body.snippet',
        message: 'The site configuration is too large; shorten the snippet or the redirects',
      },
    ]);
  }
  return {
    subject: { siteId: site.id },
    parameters: { action, siteUser: site.systemUser, bundleBase64: bundle },
  };
}

export async function serverOf(platform: Platform, tenantId: string, serverId: string): Promise<ServerItem> {
  const server = await platform.store.get<ServerItem>(serverKeys.item(tenantId, serverId), true);
  if (!server) throw errors.notFound('server');
  return server;
}

/** A site of this tenant, or a 404: another tenant's id is not found, never theirs. */
export async function siteOf(platform: Platform, tenantId: string, siteId: string): Promise<SiteItem> {
  const site = await platform.store.get<SiteItem>(siteKeys.item(tenantId, siteId), true);
  if (!site) throw errors.notFound('site');
  return site;
}

/** A domain's claim as a transaction names it, so a refusal says which domain someone holds. */
const claimNamed = (site: Pick<SiteItem, 'tenantId' | 'id'>, domain: string) =>
  named(`domain ${domain}`, putNew(domainClaim(site, domain)));

/**
 * What a refused transaction meant, by the named write that failed: a domain someone holds, the
 * plan's limit, or else the server's or the site's state (a conflict from the server operations).
 */
async function explainRefusal(
  platform: Platform,
  tenantId: string,
  error: unknown,
  claimed: string[],
): Promise<never> {
  if (error instanceof TransactionFailedError) {
    for (const domain of claimed) {
      if (error.refusedBy(`domain ${domain}`)) {
        throw errors.conflict(`${domain} is already the domain of a site.`, 'body.domain');
      }
    }
    if (error.refusedBy('quota')) throw await quotaExceeded(platform.store, tenantId, 'sites');
    throw errors.conflict('The site changed meanwhile; read it again and retry.');
  }
  throw error;
}

/** Secrets go to a host only sealed to its own key, which its health check reports. */
export const sealerOf = (server: ServerItem) =>
  server.hostKey ? (plaintext: string) => sealFor(server.hostKey as string, plaintext) : undefined;

export const noHostKey = () =>
  errors.conflict(
    'The server has not reported its host key yet, which secrets for it are sealed to: reboot it once (its health check reports the key).',
  );

/** Runs another host document than the site document on a site, as a change of it. */
const runHostCommand = (
  platform: Platform,
  site: SiteItem,
  requestId: string,
  command: HostCommand,
  spec: SiteSpec = site.spec,
) =>
  startChange(platform, site, requestId, { spec, suspended: site.suspended }, undefined, undefined, command);

/** A site command run by another host document than the site document, or by another workflow. */
interface HostCommand {
  /** the kind, whose declaration names the host document it runs */
  kind: 'install-app' | 'deploy-site' | 'rollback-site' | 'issue-certificate';
  app?: SiteApp;
  parameters?: (server: ServerItem) => Record<string, string>;
  /** starts another workflow than run-command, writing `alongside` with its operation */
  start?: (
    server: ServerItem,
    alongside: (operationId: string) => TransactItem[],
  ) => Promise<{ operation: OperationItem }>;
}

/** A certificate change that goes with a site's change: a checked one to install, or none any more. */
type CertificateChange = { certificate: SiteCertificate; sealedKey: string } | 'remove';

/**
 * Creates a site: its record (creating), its domains' claims and a unit of the plan's `sites`
 * quota in one transaction with the operation that puts it on the host, so two tenants cannot
 * both win a domain and concurrent creates cannot overshoot the plan.
 */
export async function createSite(
  platform: Platform,
  ref: { tenantId: string; serverId: string; requestId: string },
  body: CreateBody,
  /** what a staging site takes from its live site besides the body */
  extras: { repository?: SiteRepository | undefined; staging?: SiteStaging } = {},
) {
  const server = await serverOf(platform, ref.tenantId, ref.serverId);
  const spec: SiteSpec = {
    ...(await specFrom(server, { ...body, basicAuth: body.basicAuth, snippet: body.snippet })),
    ...(extras.repository ? { repository: extras.repository } : {}),
  };
  const siteId = platform.ids.next('ste');
  const now = platform.clock.now().toISOString();
  const identity = { id: siteId, systemUser: systemUserOf(siteId), tenantId: ref.tenantId };
  const domains = domainsOf(spec);
  let site: SiteItem | undefined;
  try {
    const { operation } = await runCommand(platform)(ref.tenantId, ref.serverId, ref.requestId, {
      kind: siteOperationKinds['apply-site'],
      ...siteParameters(identity, 'apply', applyBundle(identity, spec, false, server.stack)),
      // the server counts its sites, so it cannot be deleted from under them
      serverAdd: { siteCount: 1 },
      alongside: (operationId): TransactItem[] => {
        site = {
          ...siteKeys.item(ref.tenantId, siteId),
          ...siteKeys.onServer(ref.tenantId, ref.serverId, siteId),
          entity: 'site',
          ...identity,
          serverId: ref.serverId,
          status: 'creating',
          spec,
          ...(extras.staging ? { staging: extras.staging } : {}),
          suspended: false,
          operationId,
          pending: { operationId, spec, suspended: false },
          lastOperationId: operationId,
          createdAt: now,
          updatedAt: now,
        };
        return [
          putNew(site),
          ...domains.map((domain) => claimNamed(identity, domain)),
          named('quota', countersChange(ref.tenantId, { takeQuota: 'sites', sites: { to: 'creating' } })),
        ];
      },
    });
    return { site: site as SiteItem, operation };
  } catch (error) {
    return explainRefusal(platform, ref.tenantId, error, domains);
  }
}

/** A site ready for a change: not deleting, and no change of its own on the way. */
function changeable(site: SiteItem) {
  if (site.status === 'deleting') throw errors.conflict('The site is being deleted.');
  if (site.operationId) {
    throw errors.conflict(
      `A change to this site is on its way to the server (operation ${site.operationId}); try again once it has ended.`,
    );
  }
}

/**
 * Starts a change of a site: the new spec (and suspension) goes to the host as a whole new
 * configuration, checked there before it is reloaded; the site takes it once it succeeded.
 * `expectedVersion` (If-Match) makes it conditional on the version the caller read.
 */
export async function startChange(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  next: { spec: SiteSpec; suspended: boolean; certificate?: CertificateChange },
  expectedVersion: number | undefined,
  /** a new set of environment variables, already stored, with its record */
  environment?: { variables: Record<string, string>; record: SiteItem['environment'] },
  /** another document than the site document: a one-click app's install, a deploy, a rollback */
  hostCommand?: HostCommand,
): Promise<{ site: SiteItem; operation: OperationItem }> {
  changeable(site);
  const server = await serverOf(platform, site.tenantId, site.serverId);
  const variables = environment ? environment.variables : await readEnvironment(platform, site);
  const hasVariables = variables !== undefined && Object.keys(variables).length > 0;
  if (hasVariables && !server.hostKey) throw noHostKey();
  const now = platform.clock.now().toISOString();
  const added = domainsOf(next.spec).filter((d) => !domainsOf(site.spec).includes(d));
  const ref = siteKeys.item(site.tenantId, site.id);
  const status: SiteStatus = site.status === 'failed' ? 'creating' : 'updating';
  let changed: SiteItem = site;
  try {
    const certificate = next.certificate;
    const command = hostCommand
      ? {
          kind: siteOperationKinds[hostCommand.kind],
          subject: { siteId: site.id },
          parameters: hostCommand.parameters?.(server) ?? {},
        }
      : {
          kind: siteOperationKinds['apply-site'],
          ...siteParameters(
            site,
            'apply',
            applyBundle(
              site,
              next.spec,
              next.suspended || site.tenantSuspendedAt !== undefined,
              server.stack,
              {
                environment: hasVariables ? variables : undefined,
                seal: sealerOf(server),
                previousDaemons: (site.spec.daemons ?? []).map((d) => d.name),
                tls:
                  certificate === 'remove'
                    ? 'none'
                    : certificate
                      ? { chainPem: certificate.certificate.chainPem, sealedKey: certificate.sealedKey }
                      : site.certificate
                        ? 'installed'
                        : 'none',
              },
            ),
          ),
        };
    const alongside = (operationId: string) => {
      const pending: PendingSiteChange = {
        operationId,
        spec: next.spec,
        suspended: next.suspended,
        tenantSuspended: site.tenantSuspendedAt !== undefined,
        ...(hostCommand?.app ? { app: hostCommand.app } : {}),
        ...(certificate === 'remove'
          ? { removeCertificate: true }
          : certificate
            ? { certificate: certificate.certificate }
            : {}),
      };
      changed = { ...site, status, operationId, pending, lastOperationId: operationId, updatedAt: now };
      return [
        named(
          'site',
          updateItem(
            ref,
            {
              set: {
                status,
                operationId,
                pending,
                lastOperationId: operationId,
                updatedAt: now,
                ...(environment ? { environment: environment.record } : {}),
              },
            },
            {
              exists: true,
              absent: ['operationId'],
              equals: { version: expectedVersion ?? site.version ?? 1 },
            },
          ),
        ),
        ...added.map((domain) => claimNamed(site, domain)),
        ...(site.status === status
          ? []
          : [countersChange(site.tenantId, { sites: { from: site.status, to: status } })]),
      ];
    };
    const { operation } = hostCommand?.start
      ? await hostCommand.start(server, alongside)
      : await runCommand(platform)(site.tenantId, site.serverId, requestId, { ...command, alongside });
    return { site: changed, operation };
  } catch (error) {
    if (refusedBy(error, 'site') && expectedVersion !== undefined) throw errors.preconditionFailed();
    if (refusedBy(error, 'site')) {
      // another change started first: it is the one to wait for
      const now = await platform.store.get<SiteItem>(ref, true);
      if (now) changeable(now);
    }
    return explainRefusal(platform, site.tenantId, error, added);
  }
}

export async function updateSite(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  body: UpdateBody,
  expectedVersion: number | undefined,
) {
  const server = await serverOf(platform, site.tenantId, site.serverId);
  const current = site.spec;
  const spec = await specFrom(server, {
    domain: current.domain,
    type: current.type,
    aliases: body.aliases ?? current.aliases,
    php: body.php ?? current.php,
    node: body.node ?? current.node,
    proxy: body.proxy ?? current.proxy,
    redirects: body.redirects ?? current.redirects,
    basicAuth: body.basicAuth === undefined ? current.basicAuth : body.basicAuth,
    snippet: body.snippet === undefined ? current.snippet : body.snippet,
    cronJobs: body.cronJobs ?? current.cronJobs,
    daemons: body.daemons ?? current.daemons,
  });
  const https = body.https ?? current.https;
  if (https?.hsts && server.stack.webServer === 'openlitespeed') {
    throw errors.validation([
      { path: 'body.https.hsts', message: 'Sites on OpenLiteSpeed servers take no HSTS yet' },
    ]);
  }
  return startChange(
    platform,
    site,
    requestId,
    {
      // what the request does not name stays as it is: the repository, the HTTPS options
      spec: {
        ...spec,
        ...(current.repository ? { repository: current.repository } : {}),
        ...(https ? { https } : {}),
      },
      suspended: site.suspended,
    },
    expectedVersion,
  );
}

export async function setSuspended(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  suspended: boolean,
) {
  if (site.suspended === suspended && !site.operationId) {
    throw errors.conflict(suspended ? 'The site is already suspended.' : 'The site is not suspended.');
  }
  return startChange(platform, site, requestId, { spec: site.spec, suspended }, undefined);
}

/** Starts taking a site off its host; its record, claims and quota unit go once the host is clean. */
export async function deleteSite(platform: Platform, site: SiteItem, requestId: string) {
  changeable(site);
  const server = await serverOf(platform, site.tenantId, site.serverId);
  const ref = siteKeys.item(site.tenantId, site.id);
  const now = platform.clock.now().toISOString();
  try {
    const { operation } = await runCommand(platform)(site.tenantId, site.serverId, requestId, {
      kind: siteOperationKinds['remove-site'],
      ...siteParameters(site, 'remove', removeBundle(site, site.spec, server.stack)),
      alongside: (operationId) => [
        updateItem(
          ref,
          { set: { status: 'deleting', operationId, lastOperationId: operationId, updatedAt: now } },
          { exists: true, absent: ['operationId'] },
        ),
        countersChange(site.tenantId, { sites: { from: site.status, to: 'deleting' } }),
      ],
    });
    return operation;
  } catch (error) {
    return explainRefusal(platform, site.tenantId, error, []);
  }
}

/**
 * Puts a site's configuration on its host again as it is, after its tenant's suspension
 * changed: the suspension page while the tenant is suspended, the site itself once it is not.
 */
export async function reapplySite(platform: Platform, site: SiteItem, requestId: string) {
  return startChange(platform, site, requestId, { spec: site.spec, suspended: site.suspended }, undefined);
}

/**
 * Replaces a site's environment variables: kept encrypted first, then written to the site's
 * host (its apps, cron jobs and daemons read them) by a change like any other.
 */
export async function setEnvironment(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  variables: Record<string, string>,
) {
  changeable(site);
  const previous = (await readEnvironment(platform, site)) ?? {};
  await writeEnvironment(platform, site, variables);
  const names = Object.keys(variables).sort();
  const record = names.length > 0 ? { names, updatedAt: platform.clock.now().toISOString() } : undefined;
  try {
    return await startChange(
      platform,
      site,
      requestId,
      { spec: site.spec, suspended: site.suspended },
      undefined,
      {
        variables,
        record,
      },
    );
  } catch (error) {
    // nothing reached the host: the stored variables stay what the site has
    await writeEnvironment(platform, site, previous);
    throw error;
  }
}

/** Starts reading the end of a daemon's log on the host; the operation's output is the log. */
export async function daemonLogs(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  daemon: string,
  lines: number,
) {
  if (!(site.spec.daemons ?? []).some((d) => d.name === daemon)) throw errors.notFound('daemon');
  const path = daemonLogPath(layoutOf(site).home, daemon);
  const bundle = Buffer.from(`tail ${path} ${lines}\n`, 'utf8').toString('base64');
  const { operation } = await runCommand(platform)(site.tenantId, site.serverId, requestId, {
    kind: siteOperationKinds['site-logs'],
    ...siteParameters(site, 'logs', bundle),
  });
  return operation;
}

/** The Laravel scheduler and queue worker a Laravel install adds to the site (each once). */
function withLaravelJobs(spec: SiteSpec, home: string): SiteSpec {
  const scheduler = { expression: '* * * * *', command: `php ${home}/app/artisan schedule:run` };
  const worker = {
    name: 'queue',
    command: `php ${home}/app/artisan queue:work --sleep=3 --tries=3 --max-time=3600`,
  };
  const cronJobs = spec.cronJobs ?? [];
  const daemons = spec.daemons ?? [];
  return {
    ...spec,
    cronJobs: cronJobs.some((j) => j.command === scheduler.command) ? cronJobs : [...cronJobs, scheduler],
    daemons: daemons.some((d) => d.name === worker.name) ? daemons : [...daemons, worker],
  };
}

const appSiteTypes: Record<SiteApp, SiteSpec['type']> = {
  wordpress: 'php',
  laravel: 'php',
  'node-starter': 'node',
  static: 'static',
};

/**
 * Installs a one-click app into a site: the install-app document fetches its code, makes its
 * database and config with secrets made on the host, and puts in what it brings (Laravel's
 * scheduler and queue worker, as the site's own cron job and daemon).
 */
export async function installApp(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  body: z.output<typeof installAppBody>,
) {
  if (site.spec.type !== appSiteTypes[body.app]) {
    throw errors.validation([
      {
        path: 'body.app',
        message: `${body.app} installs into a ${appSiteTypes[body.app]} site; this one is ${site.spec.type}`,
      },
    ]);
  }
  const server = await serverOf(platform, site.tenantId, site.serverId);
  if (body.app === 'wordpress' && !['mariadb', 'mysql'].includes(server.stack.database ?? 'none')) {
    throw errors.conflict(
      'WordPress needs MariaDB or MySQL on the server; add one to its stack first.',
      'body.app',
    );
  }
  const layout = layoutOf(site);
  const spec = body.app === 'laravel' ? withLaravelJobs(site.spec, layout.home) : site.spec;
  const encode = (lines: string[]) =>
    Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8').toString('base64');
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const seal = sealerOf(server);
  if (body.app === 'wordpress' && !seal) throw noHostKey();
  const options =
    body.app === 'wordpress' && seal
      ? encode([
          `title ${b64(body.title)}`,
          `adminUser ${b64(body.adminUser)}`,
          `adminEmail ${b64(body.adminEmail)}`,
          `adminPassword ${seal(body.adminPassword)}`,
        ])
      : body.app === 'laravel' && body.appName
        ? encode([`appName ${b64(body.appName)}`])
        : '';
  const input = { spec, suspended: site.suspended, layout };
  const files =
    body.app === 'laravel'
      ? encode([
          `file ${crontabPath(layout.user)} 0600 site:crontab ${b64(renderCrontab(input))}`,
          ...(spec.daemons ?? []).flatMap((daemon) => [
            `file ${daemonUnitPath(layout.user, daemon.name)} 0644 root:root ${b64(renderDaemonUnit(input, daemon))}`,
            `reload ${daemonUnitName(layout.user, daemon.name)}`,
          ]),
        ])
      : '';
  return runHostCommand(
    platform,
    site,
    requestId,
    {
      kind: 'install-app',
      app: body.app,
      parameters: (current) => ({
        app: body.app,
        siteUser: site.systemUser,
        domain: site.spec.domain,
        database: current.stack.database ?? 'none',
        optionsBase64: options,
        filesBase64: files,
      }),
    },
    spec,
  );
}

/** A repository URL the platform deploys from: file:// only on a local runtime (it reads the host's own files). */
function checkRepositoryUrl(platform: Platform, url: string) {
  if ((url.startsWith('file://') || url.startsWith('http://')) && !platform.config.LOCAL_REPOSITORIES) {
    throw errors.validation([
      {
        path: 'body.url',
        message:
          'An https, ssh or git@host:path URL (file:// and http:// on loopback are for local runtimes)',
      },
    ]);
  }
}

/** Sets where a site deploys from; nothing changes on the host until a deploy. */
export async function setRepository(
  platform: Platform,
  site: SiteItem,
  body: z.output<typeof repositoryBody>,
  expectedVersion: number | undefined,
): Promise<SiteItem> {
  changeable(site);
  checkRepositoryUrl(platform, body.url);
  try {
    return await platform.store.update<SiteItem>(
      siteKeys.item(site.tenantId, site.id),
      {
        spec: {
          ...site.spec,
          repository: { ...body, deployScript: body.deployScript ?? defaultDeployScript(site.spec.type) },
        },
        updatedAt: platform.clock.now().toISOString(),
      },
      { expectedVersion: expectedVersion ?? site.version ?? 1, where: { absent: ['operationId'] } },
    );
  } catch (error) {
    if (error instanceof ConditionFailedError) {
      throw expectedVersion === undefined
        ? errors.conflict('The site changed meanwhile; read it again and retry.')
        : errors.preconditionFailed();
    }
    throw error;
  }
}

/** What a deploy runs when the site's owner gave no script: the usual build of its kind of app. */
export function defaultDeployScript(type: SiteSpec['type']): string {
  if (type === 'php') {
    return [
      'if [ -f composer.json ]; then composer install --no-dev --no-interaction --prefer-dist --optimize-autoloader; fi',
      'if [ -f artisan ]; then php artisan migrate --force && php artisan config:cache && php artisan route:cache; fi',
    ].join('\n');
  }
  if (type === 'node') return 'npm ci\nnpm run build --if-present';
  return '';
}

/**
 * Deploys the site's repository as a new release with zero downtime (the deploy-site
 * document): the previous release serves until the new one is switched in.
 */
export async function deploySite(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  /**
   * Where the release comes from, when not the newest commit of the site's branch: one commit of
   * it, or (on the same host) the files another site serves: a staging site's, or the live
   * site's a staging site is made from (then with its shared files too).
   */
  source: { commit?: string; copyFrom?: { user: string; webRoot: string; copyShared: boolean } } = {},
) {
  const repository = site.spec.repository;
  if (!repository && !source.copyFrom) {
    throw errors.conflict('The site has no repository to deploy; PUT its repository first.');
  }
  if (repository && !source.copyFrom) checkRepositoryUrl(platform, repository.url);
  // No PHP-FPM reload after the switch: nginx hands PHP the release's real path, so a new
  // release is new files to opcache, nothing stale to clear, and no request is cut off.
  const releaseId = platform.ids.next('rel');
  const server = await serverOf(platform, site.tenantId, site.serverId);
  const deployKey = source.copyFrom ? undefined : await readDeployKey(platform, site);
  const seal = sealerOf(server);
  if (deployKey && !seal) throw noHostKey();
  const copy = source.copyFrom;
  return runHostCommand(platform, site, requestId, {
    kind: 'deploy-site',
    parameters: () => ({
      siteUser: site.systemUser,
      releaseId,
      ...(copy
        ? {
            action: 'copy',
            sourceUser: copy.user,
            copyShared: copy.copyShared ? 'yes' : 'no',
            webRoot: copy.webRoot,
            // a copy is already built: no script runs
            scriptBase64: '',
          }
        : {
            action: 'deploy',
            repositoryBase64: Buffer.from(repository?.url ?? '', 'utf8').toString('base64'),
            branch: repository?.branch ?? 'main',
            commit: source.commit ?? '',
            webRoot: repository?.webRoot ?? '',
            scriptBase64: Buffer.from(repository?.deployScript ?? '', 'utf8').toString('base64'),
          }),
      sharedPaths: (repository?.sharedPaths ?? []).join(' '),
      keepReleases: String(repository?.keepReleases ?? 5),
      startSeconds: String(repository?.startSeconds ?? 30),
      deployKeySealed: deployKey && seal ? seal(deployKey) : '',
      restartUnit: site.spec.type === 'node' ? nodeUnitName(site.systemUser) : 'none',
      // a Node.js app must answer on its port once restarted on the new release
      healthUrl:
        site.spec.type === 'node' && site.spec.node ? `http://127.0.0.1:${site.spec.node.port}/` : 'none',
      // a PHP release's front page runs once before it goes live
      phpCli: site.spec.type === 'php' && site.spec.php ? `php${site.spec.php.version}` : 'none',
    }),
  });
}

/**
 * Gives the site a new ed25519 deploy key (replacing any it had): the public half is answered
 * for the repository's deploy keys, the private half is kept encrypted and reaches the host
 * only sealed, with each deploy.
 */
export async function newSiteDeployKey(platform: Platform, site: SiteItem): Promise<SiteItem> {
  const { publicKey, privateKey } = newDeployKey(`vip-${site.id}`);
  await writeDeployKey(platform, site, privateKey);
  return platform.store.update<SiteItem>(siteKeys.item(site.tenantId, site.id), {
    deployKey: { publicKey, createdAt: platform.clock.now().toISOString() },
  });
}

/** Switches the site back to a kept release (by default the one before the current). */
export async function rollbackSite(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  releaseId?: string,
) {
  const releases = site.releases ?? [];
  const current = releases.findIndex((r) => r.id === site.currentRelease);
  const target = releaseId ?? releases[current + 1]?.id;
  if (!target) throw errors.conflict('There is no earlier release to roll back to.');
  if (!releases.some((r) => r.id === target)) throw errors.notFound('release');
  if (target === site.currentRelease) throw errors.conflict('That release is the one serving.');
  const repository = site.spec.repository;
  return runHostCommand(platform, site, requestId, {
    kind: 'rollback-site',
    parameters: () => ({
      action: 'rollback',
      siteUser: site.systemUser,
      releaseId: target,
      webRoot: repository?.webRoot ?? '',
      restartUnit: site.spec.type === 'node' ? nodeUnitName(site.systemUser) : 'none',
    }),
  });
}
