import type { SitePhp } from '../../../layers/model/sites';
import { iniValue } from './escape';
import { managedHeader, type RenderInput } from './layout';

/** Where a site's pool lives for its PHP version. */
export const phpPoolPath = (version: string, user: string) =>
  `/etc/php/${version}/fpm/pool.d/vip-${user}.conf`;

/** The PHP functions no site may call: they run programs outside PHP's own limits. */
const DISABLED_FUNCTIONS = 'exec,passthru,shell_exec,system,proc_open,popen,pcntl_exec';

/**
 * One site's PHP-FPM pool: its own processes, running as the site's user, reaching only the
 * site's home (`open_basedir`), with the site's own PHP settings as admin values its code
 * cannot raise.
 */
export function renderPhpPool({ spec, layout }: RenderInput): string {
  const php = spec.php as SitePhp;
  const pool = php.pool;
  const children = Math.max(1, pool.maxChildren);
  const manager =
    pool.pm === 'dynamic'
      ? [
          'pm = dynamic',
          `pm.max_children = ${children}`,
          `pm.start_servers = ${Math.min(2, children)}`,
          'pm.min_spare_servers = 1',
          `pm.max_spare_servers = ${Math.min(3, children)}`,
        ]
      : pool.pm === 'static'
        ? ['pm = static', `pm.max_children = ${children}`]
        : ['pm = ondemand', `pm.max_children = ${children}`, 'pm.process_idle_timeout = 10s'];
  return [
    `; ${managedHeader(layout, spec.domain)}`,
    `[${layout.user}]`,
    `user = ${layout.user}`,
    `group = ${layout.user}`,
    `listen = ${layout.phpSocket(php.version)}`,
    'listen.owner = www-data',
    'listen.group = www-data',
    'listen.mode = 0660',
    ...manager,
    'pm.max_requests = 500',
    `chdir = ${layout.home}`,
    `php_admin_value[open_basedir] = ${layout.home}/`,
    `php_admin_value[upload_tmp_dir] = ${layout.tmp}`,
    `php_admin_value[sys_temp_dir] = ${layout.tmp}`,
    `php_admin_value[session.save_path] = ${layout.tmp}`,
    `php_admin_value[error_log] = ${layout.logs}/php-error.log`,
    'php_admin_flag[log_errors] = on',
    `php_admin_value[disable_functions] = ${DISABLED_FUNCTIONS}`,
    `php_admin_value[memory_limit] = ${iniValue(php.memoryLimit)}`,
    `php_admin_value[upload_max_filesize] = ${iniValue(php.uploadMaxFilesize)}`,
    `php_admin_value[post_max_size] = ${iniValue(php.uploadMaxFilesize)}`,
    `php_admin_value[max_execution_time] = ${iniValue(php.maxExecutionTime)}`,
    `php_admin_flag[opcache.enable] = ${php.opcache ? 'on' : 'off'}`,
    '',
  ].join('\n');
}
