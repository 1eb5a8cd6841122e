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

/**
 * A systemd service of a site: a command run by the site's user with the site's environment,
 * restarted when it dies, its output appended to a log in the site's home.
 */
export function siteServiceUnit(
  { spec, layout }: RenderInput,
  service: {
    description: string;
    workingDirectory: string;
    environment?: string[];
    command: string;
    log: string;
  },
): string {
  return [
    `# ${managedHeader(layout, spec.domain)}`,
    '[Unit]',
    `Description=${service.description}`,
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${layout.user}`,
    `Group=${layout.user}`,
    `WorkingDirectory=${service.workingDirectory}`,
    ...(service.environment ?? []).map((assignment) => `Environment=${assignment}`),
    `EnvironmentFile=-${environmentPath(layout.home)}`,
    `ExecStart=/bin/bash -c ${systemdQuoted(service.command)}`,
    'Restart=always',
    'RestartSec=3',
    `StandardOutput=append:${service.log}`,
    `StandardError=append:${service.log}`,
    'NoNewPrivileges=true',
    'ProtectSystem=full',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** A daemon of the site (a queue worker, say): its command as the site's user, from its home. */
export const renderDaemonUnit = (input: RenderInput, daemon: SiteDaemon): string =>
  siteServiceUnit(input, {
    description: `${daemon.name} of ${input.spec.domain}`,
    workingDirectory: input.layout.home,
    command: daemon.command,
    log: daemonLogPath(input.layout.home, daemon.name),
  });

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
