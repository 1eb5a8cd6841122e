import bcrypt from 'bcryptjs';
import { errors } from '../../layers/errors/app-error';
import type { ServerItem } from '../../layers/model/servers';
import type { SiteSpec } from '../../layers/model/sites';
import { snippetRefusal } from './snippets';

/** bcrypt's cost for basic-auth passwords: what nginx, Apache and Caddy all verify. */
const BCRYPT_COST = 10;

/**
 * The spec a request asks for, checked against the server it is on: the type's own settings
 * present, a PHP version or Node.js major the server has, every domain once. Refusals name
 * the field.
 */
export async function specFrom(
  server: ServerItem,
  fields: Pick<SiteSpec, 'domain' | 'aliases' | 'type' | 'redirects'> & {
    php?: SiteSpec['php'] | undefined;
    node?: SiteSpec['node'] | undefined;
    proxy?: SiteSpec['proxy'] | undefined;
    basicAuth: SiteSpec['basicAuth'] | { username: string; password: string } | null | undefined;
    snippet: string | null | undefined;
    cronJobs?: SiteSpec['cronJobs'] | undefined;
    daemons?: SiteSpec['daemons'] | undefined;
  },
): Promise<SiteSpec> {
  const problems: { path: string; message: string }[] = [];
  if (fields.snippet && server.stack.webServer === 'openlitespeed') {
    problems.push({ path: 'body.snippet', message: 'Sites on OpenLiteSpeed servers take no snippet' });
  }
  const outside = fields.snippet ? snippetRefusal(server.stack.webServer, fields.snippet) : undefined;
  if (outside) problems.push({ path: 'body.snippet', message: outside });
  const domains = [fields.domain, ...fields.aliases];
  if (new Set(domains).size !== domains.length) {
    problems.push({ path: 'body.aliases', message: 'Each domain once, and not the primary domain again' });
  }
  if (fields.type === 'php') {
    if (!fields.php) problems.push({ path: 'body.php', message: 'A PHP site needs php.version' });
    else if (!server.stack.phpVersions.includes(fields.php.version as never)) {
      problems.push({
        path: 'body.php.version',
        message: `The server has PHP ${server.stack.phpVersions.join(', ') || 'not at all'}; add a version to its stack first`,
      });
    }
  }
  if (fields.type === 'node') {
    if (!fields.node) problems.push({ path: 'body.node', message: 'A Node.js site needs node.version' });
    else if (!server.stack.nodeVersions.includes(fields.node.version as never)) {
      problems.push({
        path: 'body.node.version',
        message: `The server has Node.js ${server.stack.nodeVersions.join(', ') || 'not at all'}; add a major to its stack first`,
      });
    }
  }
  if (fields.type === 'proxy' && !fields.proxy) {
    problems.push({ path: 'body.proxy', message: 'A proxy site needs proxy.upstream' });
  }
  for (const [key, type] of [
    ['php', 'php'],
    ['node', 'node'],
    ['proxy', 'proxy'],
  ] as const) {
    if (fields[key] !== undefined && fields.type !== type) {
      problems.push({ path: `body.${key}`, message: `Only a ${type} site takes ${key}` });
    }
  }
  if (problems.length > 0) throw errors.validation(problems);
  const auth = fields.basicAuth;
  return {
    domain: fields.domain,
    aliases: fields.aliases,
    type: fields.type,
    ...(fields.type === 'php' && fields.php ? { php: fields.php } : {}),
    ...(fields.type === 'node' && fields.node ? { node: fields.node } : {}),
    ...(fields.type === 'proxy' && fields.proxy ? { proxy: fields.proxy } : {}),
    redirects: fields.redirects,
    ...(auth
      ? {
          basicAuth:
            'passwordHash' in auth
              ? auth
              : { username: auth.username, passwordHash: await bcrypt.hash(auth.password, BCRYPT_COST) },
        }
      : {}),
    ...(fields.snippet ? { snippet: fields.snippet } : {}),
    cronJobs: fields.cronJobs ?? [],
    daemons: fields.daemons ?? [],
  };
}
