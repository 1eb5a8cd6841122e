import { domainsOf } from '../../../layers/model/sites';
import { sitePath, withoutControls } from './escape';
import { managedHeader, type RenderInput, SUSPENDED_ROOT } from './layout';

/** OpenLiteSpeed's own root, where its configuration lives. */
export const OLS_ROOT = '/usr/local/lsws';

/** Where a site's virtual host configuration lives on an OpenLiteSpeed host. */
export const olsVhostPath = (user: string) => `${OLS_ROOT}/conf/vhosts/vip-${user}/vhconf.conf`;

/** Where the site's `virtualhost` registration lives: httpd_config.conf includes this folder. */
export const olsRegistrationPath = (user: string) => `${OLS_ROOT}/conf/vip/vhosts/vip-${user}.conf`;

const indent = (lines: string[]) => lines.map((line) => (line ? `  ${line}` : line));

const block = (head: string, lines: string[]) => [`${head} {`, ...indent(lines), '}'];

/** A URL in a rewrite rule's target: one token, nothing OpenLiteSpeed's rewrite engine reads as syntax. */
const rewriteTarget = (url: string) =>
  withoutControls(url).replace(/[\s"'`;{}$\\<>|%[\]]/g, (c, offset: number, whole: string) =>
    c === '%' && /^%[0-9A-Fa-f]{2}/.test(whole.slice(offset))
      ? c
      : `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );

/**
 * One site's OpenLiteSpeed virtual host (vhconf.conf), from the same model as the other web
 * servers: PHP through an LSAPI processor running as the site's user, files, or a proxy
 * processor for a Node.js app or an upstream. Its format is checked by a parser written from
 * OpenLiteSpeed's documentation (Debian does not package OpenLiteSpeed).
 */
export function renderOpenLiteSpeed({ spec, suspended, layout }: RenderInput): string {
  const [domain, ...aliases] = domainsOf(spec);
  const lines: string[] = [
    `docRoot ${suspended ? SUSPENDED_ROOT : layout.docroot}/`,
    `vhDomain ${domain}`,
    ...(aliases.length > 0 ? [`vhAliases ${aliases.join(', ')}`] : []),
    'enableGzip 1',
    '',
    ...block(`errorlog ${layout.logs}/ols-error.log`, ['useServer 0', 'logLevel ERROR', 'rollingSize 10M']),
    ...block(`accesslog ${layout.logs}/access.log`, ['useServer 0', 'rollingSize 10M', 'keepDays 10']),
    ...block('index', ['useServer 0', `indexFiles ${spec.type === 'php' ? 'index.php, ' : ''}index.html`]),
  ];
  const rules: string[] = [];
  if (suspended) {
    rules.push('RewriteCond %{REQUEST_URI} !^/index\\.html$', 'RewriteRule .* - [R=503,L]');
    lines.push(...block('errorpage 503', ['url /index.html']));
  } else {
    for (const redirect of spec.redirects) {
      rules.push(
        `RewriteRule ^${sitePath(redirect.from).replace(/\./g, '\\.')}$ ${rewriteTarget(redirect.to)} [R=${redirect.status},L]`,
      );
    }
    rules.push('RewriteRule (^|/)\\.(?!well-known) - [F,L]');
    if (spec.type === 'php' && spec.php) {
      lines.push(
        ...block('scripthandler', [`add lsapi:${layout.user} php`]),
        ...block(`extprocessor ${layout.user}`, [
          'type lsapi',
          `address uds:/${layout.phpSocket(spec.php.version)}`,
          `maxConns ${spec.php.pool.maxChildren}`,
          `env LSAPI_CHILDREN=${spec.php.pool.maxChildren}`,
          'initTimeout 60',
          'retryTimeout 0',
          'persistConn 1',
          'autoStart 1',
          `path ${OLS_ROOT}/lsphp${spec.php.version.replace('.', '')}/bin/lsphp`,
          `extUser ${layout.user}`,
          `extGroup ${layout.user}`,
          `memSoftLimit ${spec.php.memoryLimit}`,
          'instances 1',
        ]),
        ...block('phpIniOverride', [
          `php_admin_value open_basedir "${layout.home}/"`,
          `php_admin_value memory_limit ${spec.php.memoryLimit}`,
          `php_admin_value upload_max_filesize ${spec.php.uploadMaxFilesize}`,
          `php_admin_value post_max_size ${spec.php.uploadMaxFilesize}`,
          `php_admin_value max_execution_time ${spec.php.maxExecutionTime}`,
          `php_admin_flag opcache.enable ${spec.php.opcache ? 'on' : 'off'}`,
        ]),
      );
    }
    if (spec.type === 'node' || spec.type === 'proxy') {
      const upstream = new URL(
        spec.type === 'node' ? `http://127.0.0.1:${spec.node?.port ?? 3000}` : (spec.proxy?.upstream ?? ''),
      );
      lines.push(
        ...block(`extprocessor ${layout.user}_upstream`, [
          'type proxy',
          `address ${upstream.hostname}:${upstream.port || (upstream.protocol === 'https:' ? '443' : '80')}`,
          'maxConns 100',
          'initTimeout 60',
          'retryTimeout 0',
          'respBuffer 0',
        ]),
        ...block('context /', ['type proxy', `handler ${layout.user}_upstream`, 'addDefaultCharset off']),
      );
    }
    if (spec.basicAuth) {
      lines.push(
        ...block(`realm ${layout.user}_auth`, [...block('userDB', [`location ${layout.htpasswd}`])]),
        ...(spec.type === 'node' || spec.type === 'proxy'
          ? []
          : block('context /', [
              `location ${layout.docroot}/`,
              'allowBrowse 1',
              `realm ${layout.user}_auth`,
            ])),
      );
    }
  }
  lines.push(
    ...block('rewrite', ['enable 1', 'autoLoadHtaccess 1', 'rules <<<END_rules', ...rules, 'END_rules']),
  );
  return [`# ${managedHeader(layout, spec.domain)}`, ...lines, ''].join('\n');
}

/** The site's registration with the server: its virtual host, which httpd_config.conf includes. */
export function renderOpenLiteSpeedRegistration({ spec, layout }: RenderInput): string {
  return [
    `# ${managedHeader(layout, spec.domain)}`,
    ...block(`virtualhost vip-${layout.user}`, [
      `vhRoot ${layout.home}/`,
      `configFile ${olsVhostPath(layout.user)}`,
      'allowSymbolLink 1',
      'enableScript 1',
      'restrained 1',
      'setUIDMode 2',
    ]),
    '',
  ].join('\n');
}

/** Where the site's listener map lives: the bootstrap's HTTP listener includes this folder. */
export const olsMapPath = (user: string) => `${OLS_ROOT}/conf/vip/maps/vip-${user}.conf`;

/** The HTTP listener's map of the site's domains to its virtual host. */
export const renderOpenLiteSpeedMap = ({ spec, layout }: RenderInput): string =>
  `map vip-${layout.user} ${domainsOf(spec).join(', ')}\n`;
