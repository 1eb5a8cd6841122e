import { domainsOf } from '../../../layers/model/sites';
import { quotedUrl, sitePath } from './escape';
import { ACME_CHALLENGE_ROOT, HSTS_VALUE, managedHeader, type RenderInput, SUSPENDED_ROOT } from './layout';

export const caddySitePath = (user: string) => `/etc/caddy/sites/vip-${user}.caddy`;

const indent = (lines: string[], depth = 1) =>
  lines.map((line) => (line ? `${'    '.repeat(depth)}${line}` : line));

/**
 * One site's Caddyfile blocks. The addresses are `http://` (the host's `http_port` global
 * option picks the port), and `https://` with the site's own certificate once it has one
 * (`https_port`); Caddy manages no certificate itself.
 */
export function renderCaddy({ spec, suspended, layout, tls }: RenderInput): string {
  const log = [`log {`, `    output file ${layout.logs}/caddy-access.log`, '}'];
  const body = caddyBody({ spec, suspended, layout });
  const redirecting = tls === true && spec.https?.redirect === true;
  const addresses = (scheme: string) =>
    domainsOf(spec)
      .map((domain) => `${scheme}://${domain}`)
      .join(', ');
  const blocks = [
    `# ${managedHeader(layout, spec.domain)}`,
    `${addresses('http')} {`,
    ...indent([
      ...log,
      // ACME's challenges, from their own folder over plain HTTP whatever the site does
      'handle /.well-known/acme-challenge/* {',
      `    root * ${ACME_CHALLENGE_ROOT}`,
      '    uri strip_prefix /.well-known/acme-challenge',
      '    file_server',
      '}',
      'handle {',
      ...indent(redirecting ? ['redir https://{host}{uri} 301'] : body),
      '}',
    ]),
    '}',
  ];
  if (tls) {
    blocks.push(
      `${addresses('https')} {`,
      ...indent([
        ...log,
        `tls ${layout.tls.certificate} ${layout.tls.key}`,
        ...(spec.https?.hsts ? [`header Strict-Transport-Security "${HSTS_VALUE}"`] : []),
        ...body,
      ]),
      '}',
    );
  }
  return `${blocks.join('\n')}\n`;
}

function caddyBody({ spec, suspended, layout }: RenderInput): string[] {
  const lines: string[] = [];
  if (suspended) {
    lines.push(`root * ${SUSPENDED_ROOT}`, 'rewrite * /index.html', 'file_server {', '    status 503', '}');
  } else {
    lines.push(
      `root * ${layout.docroot}`,
      '@hidden {',
      '    path_regexp /\\.',
      '    not path /.well-known/*',
      '}',
      'respond @hidden 403',
    );
    if (spec.basicAuth) {
      // Caddy takes the bcrypt hash base64-encoded
      const hash = Buffer.from(spec.basicAuth.passwordHash, 'utf8').toString('base64');
      lines.push('basicauth {', `    ${spec.basicAuth.username} ${hash}`, '}');
    }
    for (const redirect of spec.redirects) {
      lines.push(`redir ${sitePath(redirect.from)} ${quotedUrl(redirect.to)} ${redirect.status}`);
    }
    if (spec.snippet)
      lines.push(
        "# the site's own configuration",
        ...spec.snippet.split('\n'),
        "# end of the site's own configuration",
      );
    if (spec.type === 'php')
      lines.push(`php_fastcgi unix/${layout.phpSocket(spec.php?.version ?? '')}`, 'file_server');
    else if (spec.type === 'static') lines.push('file_server');
    else {
      const upstream = new URL(
        spec.type === 'node' ? `http://127.0.0.1:${spec.node?.port ?? 3000}` : (spec.proxy?.upstream ?? ''),
      );
      // Caddy proxies to scheme, host and port; an upstream's path goes in front of the request's
      const path = upstream.pathname.replace(/\/$/, '');
      if (path) lines.push(`rewrite * ${sitePath(path)}{uri}`);
      lines.push(`reverse_proxy ${quotedUrl(`${upstream.protocol}//${upstream.host}`)}`);
    }
  }
  return lines;
}
