import { domainsOf } from '../../../layers/model/sites';
import { quotedUrl, sitePath } from './escape';
import { managedHeader, type RenderInput, SUSPENDED_ROOT } from './layout';

/** The host's listen directives (port 80 on a server; a loopback port on a local host), written by the bootstrap. */
export const NGINX_LISTEN_INCLUDE = '/etc/nginx/vip/listen-http.conf';

/** Where a site's vhost lives on an nginx host. */
export const nginxVhostPath = (user: string) => `/etc/nginx/sites-enabled/vip-${user}.conf`;

const indent = (lines: string[], depth = 1) =>
  lines.map((line) => (line ? `${'    '.repeat(depth)}${line}` : line));

/**
 * One site's nginx server block: a pure function of the site. Suspended, it serves only the
 * suspension page (503); otherwise its redirects, basic auth, the customer's snippet, then what
 * its type serves (PHP through its own FPM pool, files, or a proxied upstream).
 */
export function renderNginx({ spec, suspended, layout }: RenderInput): string {
  const head = [
    `include ${NGINX_LISTEN_INCLUDE};`,
    `server_name ${domainsOf(spec).join(' ')};`,
    `access_log ${layout.logs}/access.log;`,
    `error_log ${layout.logs}/error.log;`,
  ];
  const body = suspended ? suspendedBody() : siteBody({ spec, suspended, layout });
  return [
    `# ${managedHeader(layout, spec.domain)}`,
    'server {',
    ...indent(head),
    '',
    ...indent(body),
    '}',
    '',
  ].join('\n');
}

function suspendedBody(): string[] {
  return [
    `root ${SUSPENDED_ROOT};`,
    'error_page 503 /index.html;',
    'location = /index.html {',
    '    internal;',
    '}',
    'location / {',
    '    return 503;',
    '}',
  ];
}

function siteBody({ spec, layout }: RenderInput): string[] {
  const lines: string[] = [
    `root ${layout.docroot};`,
    'index index.php index.html index.htm;',
    'charset utf-8;',
  ];
  if (spec.basicAuth) {
    lines.push('auth_basic "Restricted";', `auth_basic_user_file ${layout.htpasswd};`);
  }
  for (const redirect of spec.redirects) {
    lines.push(
      `location = ${sitePath(redirect.from)} {`,
      `    return ${redirect.status} ${quotedUrl(redirect.to)};`,
      '}',
    );
  }
  lines.push('location ~ /\\.(?!well-known) {', '    deny all;', '}');
  if (spec.snippet) {
    lines.push(
      "# the site's own configuration",
      ...spec.snippet.split('\n'),
      "# end of the site's own configuration",
    );
  }
  switch (spec.type) {
    case 'php':
      lines.push(
        'location / {',
        '    try_files $uri $uri/ /index.php?$query_string;',
        '}',
        'location ~ \\.php$ {',
        '    try_files $uri =404;',
        '    include fastcgi_params;',
        // the real path: a deploy switches the site's folder to a new release atomically, and
        // PHP (and its opcache) must see the release, not the link
        '    fastcgi_param SCRIPT_FILENAME $realpath_root$fastcgi_script_name;',
        '    fastcgi_param DOCUMENT_ROOT $realpath_root;',
        `    fastcgi_pass unix:${layout.phpSocket(spec.php?.version ?? '')};`,
        '}',
      );
      break;
    case 'static':
      lines.push('location / {', '    try_files $uri $uri/ =404;', '}');
      break;
    case 'node':
    case 'proxy': {
      const upstream =
        spec.type === 'node' ? `http://127.0.0.1:${spec.node?.port ?? 3000}` : (spec.proxy?.upstream ?? '');
      lines.push(
        'location / {',
        `    proxy_pass ${quotedUrl(upstream)};`,
        '    proxy_http_version 1.1;',
        '    proxy_set_header Host $host;',
        '    proxy_set_header X-Real-IP $remote_addr;',
        '    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
        '    proxy_set_header X-Forwarded-Proto $scheme;',
        '    proxy_set_header Upgrade $http_upgrade;',
        '    proxy_set_header Connection "upgrade";',
        '}',
      );
      break;
    }
  }
  return lines;
}
