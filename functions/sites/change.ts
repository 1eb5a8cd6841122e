import { sealFor } from '../../layers/crypto/sealed';
import { errors } from '../../layers/errors/app-error';
import { countersChange } from '../../layers/model/counters';
import type { OperationItem } from '../../layers/model/operations';
import { type ServerItem, serverOf } from '../../layers/model/servers';
import {
  domainClaim,
  domainsOf,
  type PendingSiteChange,
  type SiteApp,
  type SiteCertificate,
  type SiteItem,
  type SiteSpec,
  type SiteStatus,
  siteKeys,
} from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { refusedBy, type TransactItem, TransactionFailedError } from '../../layers/store/store';
import { named, putNew, updateItem } from '../../layers/store/writes';
import { quotaExceeded } from '../plans/quota';
import { runCommand } from '../servers/runs';
import { readEnvironment } from './environment';
import { siteOperationKinds } from './operation-kinds';
import { applyBundle } from './render/bundle';

/** The site document's bundle parameter holds at most this many characters (its allowedPattern). */
const BUNDLE_LIMIT = 60_000;

export function siteParameters(
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

/** A domain's claim as a transaction names it, so a refusal says which domain someone holds. */
export const claimNamed = (site: Pick<SiteItem, 'tenantId' | 'id'>, domain: string) =>
  named(`domain ${domain}`, putNew(domainClaim(site, domain)));

/**
 * What a refused transaction meant, by the named write that failed: a domain someone holds, the
 * plan's limit, or else the server's or the site's state (a conflict from the server operations).
 */
export async function explainRefusal(
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

/** A site command run by another host document than the site document, or by another workflow. */
export interface HostCommand {
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
export type CertificateChange = { certificate: SiteCertificate; sealedKey: string } | 'remove';

/** Runs another host document than the site document on a site, as a change of it. */
export const runHostCommand = (
  platform: Platform,
  site: SiteItem,
  requestId: string,
  command: HostCommand,
  spec: SiteSpec = site.spec,
) => startChange(platform, site, { requestId, spec, suspended: site.suspended, hostCommand: command });

/** A site ready for a change: not deleting, and no change of its own on the way. */
export function changeable(site: SiteItem) {
  if (site.status === 'deleting') throw errors.conflict('The site is being deleted.');
  if (site.operationId) {
    throw errors.conflict(
      `A change to this site is on its way to the server (operation ${site.operationId}); try again once it has ended.`,
    );
  }
}

/** What a change of a site asks for, besides the site: an options object, every field named. */
export interface SiteChange {
  requestId: string;
  /** the spec the site is to have, and whether it is suspended */
  spec: SiteSpec;
  suspended: boolean;
  certificate?: CertificateChange;
  /** If-Match: the version the caller read, which the change is conditional on */
  expectedVersion?: number | undefined;
  /** a new set of environment variables, already stored, with its record */
  environment?: { variables: Record<string, string>; record: SiteItem['environment'] };
  /** another document than the site document: a one-click app's install, a deploy, a rollback */
  hostCommand?: HostCommand;
}

/**
 * Starts a change of a site: the new spec (and suspension) goes to the host as a whole new
 * configuration, checked there before it is reloaded; the site takes it once it succeeded.
 */
export async function startChange(
  platform: Platform,
  site: SiteItem,
  { requestId, expectedVersion, environment, hostCommand, ...next }: SiteChange,
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
