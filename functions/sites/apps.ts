import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { serverOf } from '../../layers/model/servers';
import type { SiteApp, SiteItem, SiteSpec } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { noHostKey, runHostCommand, sealerOf } from './change';
import { layoutOf } from './render/layout';
import {
  crontabPath,
  daemonUnitName,
  daemonUnitPath,
  renderCrontab,
  renderDaemonUnit,
} from './render/settings';
import type { installAppBody } from './spec';

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
