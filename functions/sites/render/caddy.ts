import { domainsOf } from '../../../layers/model/sites';
import { quotedUrl, sitePath } from './escape';
import { managedHeader, type RenderInput, SUSPENDED_ROOT } from './layout';

export const caddySitePath = (user: string) => `/etc/caddy/sites/vip-${user}.caddy`;

const indent = (lines: string[], depth = 1) =>
  lines.map((line) => (line ? `${'    '.repeat(depth)}${line}` : line));

/**
 * One site's Caddyfile block. The addresses are `http://` (the host's `http_port` global
 * option picks the port); certificates are the SSL feature's to add.
 */
export function renderCaddy({ spec, suspended, layout }: RenderInput): string {
  const lines: string[] = [`log {`, `    output file ${layout.logs}/caddy-access.log`, '}'];
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
  return [
    `# ${managedHeader(layout, spec.domain)}`,
    `${domainsOf(spec)
      .map((domain) => `http://${domain}`)
      .join(', ')} {`,
    ...indent(lines),
    '}',
    '',
  ].join('\n');
}
