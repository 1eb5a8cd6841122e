import { domainsOf } from '../../../layers/model/sites';
import { quotedUrl, sitePath } from './escape';
import { ACME_CHALLENGE_ROOT, HSTS_VALUE, managedHeader, type RenderInput, SUSPENDED_ROOT } from './layout';

/** The host's listen directives (port 80 on a server; a loopback port on a local host), written by the bootstrap. */
export const NGINX_LISTEN_INCLUDE = '/etc/nginx/vip/listen-http.conf';

/** Where a site's vhost lives on an nginx host. */
export const nginxVhostPath = (user: string) => `/etc/nginx/sites-enabled/vip-${user}.conf`;

const indent = (lines: string[], depth = 1) =>
  lines.map((line) => (line ? `${'    '.repeat(depth)}${line}` : line));

/** The host's HTTPS listen directives (`listen 443 ssl;`), written by the bootstrap. */
export const NGINX_LISTEN_TLS_INCLUDE = '/etc/nginx/vip/listen-https.conf';

/**
 * One site's nginx server blocks: a pure function of the site. Suspended, it serves only the
 * suspension page (503); otherwise its redirects, basic auth, the customer's snippet, then what
 * its type serves (PHP through its own FPM pool, files, or a proxied upstream). ACME's
 * challenges are answered over plain HTTP whatever else the site does; with a certificate the
 * site is served over HTTPS too, plain HTTP redirecting there if the site asks.
 */
export function renderNginx(input: RenderInput): string {
  const { spec, suspended, layout, tls } = input;
  const common = [
    `server_name ${domainsOf(spec).join(' ')};`,
    `access_log ${layout.logs}/access.log;`,
    `error_log ${layout.logs}/error.log;`,
  ];
  const body = suspended ? suspendedBody() : siteBody(input);
  const challenge = [
    'location ^~ /.well-known/acme-challenge/ {',
    `    alias ${ACME_CHALLENGE_ROOT}/;`,
    '    default_type text/plain;',
    '    auth_basic off;',
    '    try_files $uri =404;',
    '}',
  ];
  const redirecting = tls === true && spec.https?.redirect === true;
  const blocks = [
    `# ${managedHeader(layout, spec.domain)}`,
    'server {',
    ...indent([`include ${NGINX_LISTEN_INCLUDE};`, ...common]),
    '',
    ...indent(challenge),
    ...indent(redirecting ? ['location / {', '    return 301 https://$host$request_uri;', '}'] : body),
    '}',
  ];
  if (tls) {
    blocks.push(
      'server {',
      ...indent([
        `include ${NGINX_LISTEN_TLS_INCLUDE};`,
        ...common,
        `ssl_certificate ${layout.tls.certificate};`,
        `ssl_certificate_key ${layout.tls.key};`,
        ...(spec.https?.hsts ? [`add_header Strict-Transport-Security "${HSTS_VALUE}" always;`] : []),
      ]),
      '',
      ...indent(body),
      '}',
    );
  }
  return `${blocks.join('\n')}\n`;
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
