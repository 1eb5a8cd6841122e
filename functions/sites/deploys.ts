import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { serverOf } from '../../layers/model/servers';
import { type SiteItem, type SiteSpec, siteKeys } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import { changeable, noHostKey, runHostCommand, sealerOf } from './change';
import { newDeployKey } from './deploy-key';
import { readDeployKey, writeDeployKey } from './environment';
import { nodeUnitName } from './render/node';
import type { repositoryBody } from './spec';

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
