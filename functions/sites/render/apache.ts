import { quotedUrl, sitePath } from './escape';
import { ACME_CHALLENGE_ROOT, HSTS_VALUE, managedHeader, type RenderInput, SUSPENDED_ROOT } from './layout';

/** The host's HTTP port as an Apache variable (`Define VIP_HTTP_PORT 80`), written by the bootstrap. */
export const APACHE_PORT_VARIABLE = 'VIP_HTTP_PORT';

/** The host's HTTPS port as an Apache variable (`Define VIP_HTTPS_PORT 443`), written by the bootstrap. */
export const APACHE_TLS_PORT_VARIABLE = 'VIP_HTTPS_PORT';

/** ACME's challenges, answered from their own folder over plain HTTP whatever the site does. */
const CHALLENGE_LINES = [
  `Alias /.well-known/acme-challenge/ ${ACME_CHALLENGE_ROOT}/`,
  `<Directory ${ACME_CHALLENGE_ROOT}>`,
  '    Require all granted',
  '</Directory>',
];
const NOT_A_CHALLENGE = 'RewriteCond %{REQUEST_URI} !^/\\.well-known/acme-challenge/';

export const apacheVhostPath = (user: string) => `/etc/apache2/sites-enabled/vip-${user}.conf`;

const indent = (lines: string[], depth = 1) =>
  lines.map((line) => (line ? `${'    '.repeat(depth)}${line}` : line));

/**
 * One site's Apache virtual host, from the same model as the nginx block: PHP through the
 * site's FPM pool (mod_proxy_fcgi), files, or a proxied upstream (mod_proxy_http).
 */
export function renderApache({ spec, suspended, layout, tls }: RenderInput): string {
  const head: string[] = [`ServerName ${spec.domain}`];
  if (spec.aliases.length > 0) head.push(`ServerAlias ${spec.aliases.join(' ')}`);
  head.push(`ErrorLog ${layout.logs}/apache-error.log`, `CustomLog ${layout.logs}/access.log combined`);
  const body = apacheBody({ spec, suspended, layout });
  const redirecting = tls === true && spec.https?.redirect === true;
  const http = redirecting
    ? [
        ...CHALLENGE_LINES,
        'RewriteEngine On',
        NOT_A_CHALLENGE,
        'RewriteRule ^ https://%{HTTP_HOST}%{REQUEST_URI} [R=301,L]',
      ]
    : [...CHALLENGE_LINES, ...body];
  const blocks = [
    `# ${managedHeader(layout, spec.domain)}`,
    `<VirtualHost *:\${${APACHE_PORT_VARIABLE}}>`,
    ...indent([...head, ...http]),
    '</VirtualHost>',
  ];
  if (tls) {
    blocks.push(
      `<VirtualHost *:\${${APACHE_TLS_PORT_VARIABLE}}>`,
      ...indent([
        ...head,
        'SSLEngine on',
        `SSLCertificateFile ${layout.tls.certificate}`,
        `SSLCertificateKeyFile ${layout.tls.key}`,
        ...(spec.https?.hsts ? [`Header always set Strict-Transport-Security "${HSTS_VALUE}"`] : []),
        ...body,
      ]),
      '</VirtualHost>',
    );
  }
  return `${blocks.join('\n')}\n`;
}

function apacheBody({ spec, suspended, layout }: RenderInput): string[] {
  const lines: string[] = [];
  if (suspended) {
    lines.push(
      `DocumentRoot ${SUSPENDED_ROOT}`,
      `<Directory ${SUSPENDED_ROOT}>`,
      '    Require all granted',
      '</Directory>',
      'ErrorDocument 503 /index.html',
      'RewriteEngine On',
      'RewriteCond %{REQUEST_URI} !=/index.html',
      NOT_A_CHALLENGE,
      'RewriteRule ^ - [R=503,L]',
    );
  } else {
    lines.push(
      `DocumentRoot ${layout.docroot}`,
      `<Directory ${layout.docroot}>`,
      '    Options -Indexes +FollowSymLinks',
      '    AllowOverride All',
      ...(spec.basicAuth
        ? [
            '    AuthType Basic',
            '    AuthName "Restricted"',
            `    AuthUserFile ${layout.htpasswd}`,
            '    Require valid-user',
          ]
        : ['    Require all granted']),
      '</Directory>',
      '<FilesMatch "^\\.(?!well-known)">',
      '    Require all denied',
      '</FilesMatch>',
    );
    for (const redirect of spec.redirects) {
      lines.push(
        `RedirectMatch ${redirect.status} ^${sitePath(redirect.from).replace(/\./g, '\\.')}$ ${quotedUrl(redirect.to)}`,
      );
    }
    if (spec.snippet)
      lines.push(
        "# the site's own configuration",
        ...spec.snippet.split('\n'),
        "# end of the site's own configuration",
      );
    if (spec.type === 'php') {
      lines.push(
        'DirectoryIndex index.php index.html',
        '<FilesMatch "\\.php$">',
        `    SetHandler "proxy:unix:${layout.phpSocket(spec.php?.version ?? '')}|fcgi://localhost"`,
        '</FilesMatch>',
      );
    } else if (spec.type === 'node' || spec.type === 'proxy') {
      const upstream =
        spec.type === 'node' ? `http://127.0.0.1:${spec.node?.port ?? 3000}/` : (spec.proxy?.upstream ?? '');
      lines.push(
        'ProxyPreserveHost On',
        `ProxyPass / ${quotedUrl(upstream)}`,
        `ProxyPassReverse / ${quotedUrl(upstream)}`,
      );
    }
  }
  return lines;
}
