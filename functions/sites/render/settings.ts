import type { SiteDaemon } from '../../../layers/model/sites';
import { isControl, systemdQuoted } from './escape';
import { managedHeader, type RenderInput } from './layout';

/** Where cron reads a user's crontab on Debian and Ubuntu. */
export const crontabPath = (user: string) => `/var/spool/cron/crontabs/${user}`;

/** A cron command: one line, and `%` (which cron turns into a newline) escaped. */
const cronCommand = (command: string) =>
  [...command]
    .map((c) => (isControl(c) ? ' ' : c))
    .join('')
    .replace(/%/g, '\\%');

/**
 * The site user's crontab: each job as cron reads it, run from the site's home with the site's
 * environment file sourced first (cron starts jobs with almost no environment).
 */
export function renderCrontab({ spec, layout }: RenderInput): string {
  return [
    `# ${managedHeader(layout, spec.domain)}`,
    'SHELL=/bin/bash',
    `HOME=${layout.home}`,
    'PATH=/usr/local/bin:/usr/bin:/bin',
    ...(spec.cronJobs ?? []).map(
      (job) =>
        `${job.expression} cd ${layout.home} && { [ -r ${environmentPath(layout.home)} ] && set -a && . ${environmentPath(layout.home)} && set +a; } ; ${cronCommand(job.command)} >>${layout.logs}/cron.log 2>&1`,
    ),
    '',
  ].join('\n');
}

export const daemonUnitName = (user: string, daemon: string) => `vip-${user}-${daemon}`;
export const daemonUnitPath = (user: string, daemon: string) =>
  `/etc/systemd/system/${daemonUnitName(user, daemon)}.service`;
export const daemonLogPath = (home: string, daemon: string) => `${home}/logs/daemon-${daemon}.log`;

/** A daemon of the site (a queue worker, say): its command as the site's user, restarted when it dies. */
export function renderDaemonUnit({ spec, layout }: RenderInput, daemon: SiteDaemon): string {
  return [
    `# ${managedHeader(layout, spec.domain)}`,
    '[Unit]',
    `Description=${daemon.name} of ${spec.domain}`,
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${layout.user}`,
    `Group=${layout.user}`,
    `WorkingDirectory=${layout.home}`,
    `EnvironmentFile=-${environmentPath(layout.home)}`,
    `ExecStart=/bin/bash -c ${systemdQuoted(daemon.command)}`,
    'Restart=always',
    'RestartSec=3',
    `StandardOutput=append:${daemonLogPath(layout.home, daemon.name)}`,
    `StandardError=append:${daemonLogPath(layout.home, daemon.name)}`,
    'NoNewPrivileges=true',
    'ProtectSystem=full',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Where a site's environment variables are written on its host, for its apps, cron jobs and daemons. */
export const environmentPath = (home: string) => `${home}/.vip/environment`;

/**
 * The environment file: `NAME="value"` lines as both systemd's EnvironmentFile and a shell's
 * `.` read them (backslash, quote, `$` and backtick escaped; names are checked at the API).
 */
export function renderEnvironment(variables: Record<string, string>): string {
  return Object.entries(variables)
    .map(
      ([name, value]) =>
        `${name}="${[...value]
          .filter((c) => !isControl(c))
          .join('')
          .replace(/[\\"$`]/g, '\\$&')}"`,
    )
    .join('\n')
    .concat('\n');
}
