import type { SiteItem, SiteSpec } from '../../../layers/model/sites';
import type { ServerStack } from '../../../layers/model/stack';
import { apacheVhostPath, renderApache } from './apache';
import { caddySitePath, renderCaddy } from './caddy';
import { ACME_CHALLENGE_ROOT, layoutOf, type RenderInput, SUSPENDED_ROOT } from './layout';
import { nginxVhostPath, renderNginx } from './nginx';
import { nodeUnitName, nodeUnitPath, renderNodeUnit } from './node';
import {
  olsMapPath,
  olsRegistrationPath,
  olsVhostPath,
  renderOpenLiteSpeed,
  renderOpenLiteSpeedMap,
  renderOpenLiteSpeedRegistration,
} from './openlitespeed';
import { phpPoolPath, renderPhpPool } from './php-fpm';
import {
  crontabPath,
  daemonUnitName,
  daemonUnitPath,
  environmentPath,
  renderCrontab,
  renderDaemonUnit,
  renderEnvironment,
} from './settings';

/** The web servers whose vhosts the panel renders, each with its file, validator unit and renderer. */
interface WebServerRenderer {
  /** the unit whose validator checks it and that reloads it */
  unit: string;
  path: (user: string) => string;
  render: (input: RenderInput) => string;
  /** more files of the site at server level (OpenLiteSpeed's registration and listener map) */
  extra?: { path: (user: string) => string; render: (input: RenderInput) => string }[];
  /** PHP runs in PHP-FPM pools (false: the web server runs PHP itself, as OpenLiteSpeed's LSAPI does) */
  phpFpm: boolean;
}

export const webServerRenderers = {
  nginx: { unit: 'nginx', path: nginxVhostPath, render: renderNginx, phpFpm: true },
  apache: { unit: 'apache2', path: apacheVhostPath, render: renderApache, phpFpm: true },
  caddy: { unit: 'caddy', path: caddySitePath, render: renderCaddy, phpFpm: true },
  openlitespeed: {
    unit: 'lshttpd',
    path: olsVhostPath,
    render: renderOpenLiteSpeed,
    extra: [
      { path: olsRegistrationPath, render: renderOpenLiteSpeedRegistration },
      { path: olsMapPath, render: renderOpenLiteSpeedMap },
    ],
    phpFpm: false,
  },
} as const satisfies Record<string, WebServerRenderer>;

export type RenderedWebServer = keyof typeof webServerRenderers;

export const isRendered = (webServer: string): webServer is RenderedWebServer =>
  webServer in webServerRenderers;

/** Who owns a file: `user:group`, where `site` names the site's own user or group. */
type Ownership = 'root:root' | 'root:www-data' | 'root:site' | 'site:crontab';

type Instruction =
  | { verb: 'file'; path: string; mode: string; owner: Ownership; content: string }
  /** a file whose content is a secret, already sealed to the host's key */
  | { verb: 'sealed'; path: string; mode: string; owner: Ownership; token: string }
  | { verb: 'seed'; path: string; mode: string; content: string }
  | { verb: 'absent'; path: string }
  /** a link in the site's home to a folder beside it, made only if missing (a deploy moves it) */
  | { verb: 'link'; path: string; target: string }
  | { verb: 'check' | 'reload' | 'stop'; unit: string };

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** The bundle's text, one instruction per line, as the site document reads it. */
export function encodeBundle(instructions: Instruction[]): string {
  const lines = instructions.map((i) => {
    switch (i.verb) {
      case 'file':
        return `file ${i.path} ${i.mode} ${i.owner} ${b64(i.content)}`;
      case 'sealed':
        return `sealed ${i.path} ${i.mode} ${i.owner} ${i.token}`;
      case 'seed':
        return `seed ${i.path} ${i.mode} ${b64(i.content)}`;
      case 'absent':
        return `absent ${i.path}`;
      case 'link':
        return `link ${i.path} ${i.target}`;
      default:
        return `${i.verb} ${i.unit}`;
    }
  });
  return b64(`${lines.join('\n')}\n`);
}

const htmlEscape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page a new site serves until its owner deploys: its own, so a request shows which site answered. */
function firstPage(spec: SiteSpec): { name: string; content: string } | undefined {
  if (spec.type === 'php') {
    return {
      name: 'index.php',
      content: `<?php\n// The first page of ${spec.domain}; deploy the site to replace it.\necho 'Hello from ' . ${JSON.stringify(spec.domain).replace(/"/g, "'")} . ' on PHP ' . PHP_VERSION . "\\n";\n`,
    };
  }
  if (spec.type === 'static') {
    return {
      name: 'index.html',
      content: `<!doctype html>\n<title>${htmlEscape(spec.domain)}</title>\n<p>Hello from ${htmlEscape(spec.domain)}</p>\n`,
    };
  }
  return undefined;
}

const SUSPENDED_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Site suspended</title></head>
<body><h1>This site is suspended</h1><p>Please contact the site's owner.</p></body></html>
`;

/**
 * Everything one site puts on its host, as the site document's `apply` takes it: the vhost
 * of the server's web server, its PHP pool (and no pool for any other version, so a version
 * switch moves it), its basic-auth file, its Node unit; each unit checked before any reloads.
 */
export function applyBundle(
  site: Pick<SiteItem, 'id' | 'systemUser'>,
  spec: SiteSpec,
  suspended: boolean,
  stack: ServerStack,
  settings: {
    /** the site's environment variables, decrypted; none: no environment file */
    environment?: Record<string, string> | undefined;
    /** seals a secret to the host's key; the environment file goes to the host only sealed */
    seal?: ((plaintext: string) => string) | undefined;
    /** the daemons the host runs now, so those the spec no longer has stop */
    previousDaemons?: readonly string[];
    /**
     * The site's certificate: `installed` (its files are on the host: the site is served over
     * HTTPS with them), a new one to write (its chain, and its key sealed to the host), or
     * `none` (any certificate of the site is taken off).
     */
    tls?: 'installed' | 'none' | { chainPem: string; sealedKey: string };
    /** ACME challenge files done with, removed with this change */
    doneChallenges?: readonly string[];
  } = {},
) {
  const layout = layoutOf(site);
  const tls = settings.tls ?? 'none';
  const input: RenderInput = { spec, suspended, layout, tls: tls !== 'none' };
  const web: WebServerRenderer = webServerRenderers[stack.webServer as RenderedWebServer];
  const instructions: Instruction[] = [
    { verb: 'seed', path: `${SUSPENDED_ROOT}/index.html`, mode: '0644', content: SUSPENDED_PAGE },
    {
      verb: 'file',
      path: web.path(layout.user),
      mode: '0644',
      owner: 'root:root',
      content: web.render(input),
    },
    ...(web.extra ?? []).map(
      (file): Instruction => ({
        verb: 'file',
        path: file.path(layout.user),
        mode: '0644',
        owner: 'root:root',
        content: file.render(input),
      }),
    ),
  ];
  if (typeof tls === 'object') {
    instructions.push(
      { verb: 'file', path: layout.tls.certificate, mode: '0644', owner: 'root:root', content: tls.chainPem },
      // the web servers read it as root (nginx, Apache) or in the www-data group (Caddy)
      { verb: 'sealed', path: layout.tls.key, mode: '0640', owner: 'root:www-data', token: tls.sealedKey },
    );
  } else if (tls === 'none') {
    instructions.push(
      { verb: 'absent', path: layout.tls.certificate },
      { verb: 'absent', path: layout.tls.key },
    );
  }
  for (const token of settings.doneChallenges ?? []) {
    instructions.push({ verb: 'absent', path: challengePath(token) });
  }
  const page = firstPage(spec);
  if (page)
    instructions.push({
      verb: 'seed',
      path: `${layout.docroot}/${page.name}`,
      mode: '0640',
      content: page.content,
    });
  const checks = new Set<string>([web.unit]);
  const reloads = new Set<string>();
  for (const version of stack.phpVersions) {
    const path = phpPoolPath(version, layout.user);
    if (web.phpFpm && spec.type === 'php' && spec.php?.version === version) {
      instructions.push({
        verb: 'file',
        path,
        mode: '0644',
        owner: 'root:root',
        content: renderPhpPool(input),
      });
      checks.add(`php${version}-fpm`);
    } else {
      instructions.push({ verb: 'absent', path });
    }
    reloads.add(`php${version}-fpm`);
  }
  if (spec.basicAuth) {
    instructions.push({
      verb: 'file',
      path: layout.htpasswd,
      mode: '0640',
      owner: 'root:www-data',
      content: `${spec.basicAuth.username}:${spec.basicAuth.passwordHash}\n`,
    });
  } else {
    instructions.push({ verb: 'absent', path: layout.htpasswd });
  }
  if (spec.type === 'node' && spec.node) {
    // the app runs from current: its app/ folder until a deploy points current at a release
    instructions.push({ verb: 'link', path: `${layout.home}/current`, target: 'app' });
    instructions.push({
      verb: 'file',
      path: nodeUnitPath(layout.user),
      mode: '0644',
      owner: 'root:root',
      content: renderNodeUnit(input),
    });
    reloads.add(nodeUnitName(layout.user));
  } else {
    instructions.push({ verb: 'absent', path: nodeUnitPath(layout.user) });
  }
  instructions.push(
    (spec.cronJobs ?? []).length > 0
      ? {
          verb: 'file',
          path: crontabPath(layout.user),
          mode: '0600',
          owner: 'site:crontab',
          content: renderCrontab(input),
        }
      : { verb: 'absent', path: crontabPath(layout.user) },
    settings.environment && settings.seal
      ? {
          verb: 'sealed',
          path: environmentPath(layout.home),
          mode: '0640',
          owner: 'root:site',
          token: settings.seal(renderEnvironment(settings.environment)),
        }
      : { verb: 'absent', path: environmentPath(layout.home) },
  );
  const daemons = spec.daemons ?? [];
  for (const gone of (settings.previousDaemons ?? []).filter(
    (name) => !daemons.some((d) => d.name === name),
  )) {
    instructions.push(
      { verb: 'stop', unit: daemonUnitName(layout.user, gone) },
      { verb: 'absent', path: daemonUnitPath(layout.user, gone) },
    );
  }
  for (const daemon of daemons) {
    instructions.push({
      verb: 'file',
      path: daemonUnitPath(layout.user, daemon.name),
      mode: '0644',
      owner: 'root:root',
      content: renderDaemonUnit(input, daemon),
    });
    reloads.add(daemonUnitName(layout.user, daemon.name));
  }
  // PHP first, so the web server reloads onto pools that already listen
  reloads.add(web.unit);
  for (const unit of checks) instructions.push({ verb: 'check', unit });
  for (const unit of reloads) instructions.push({ verb: 'reload', unit });
  return encodeBundle(instructions);
}

/** Where the host keeps an ACME HTTP-01 challenge's answer (the site's web server serves it). */
export const challengePath = (token: string) => `${ACME_CHALLENGE_ROOT}/${token}`;

/** ACME's HTTP-01 answers put on a host for its sites' web server to serve: nothing reloads. */
export function challengeBundle(challenges: readonly { token: string; keyAuthorization: string }[]) {
  return encodeBundle(
    challenges.map(
      (c): Instruction => ({
        verb: 'file',
        path: challengePath(c.token),
        mode: '0644',
        owner: 'root:root',
        content: c.keyAuthorization,
      }),
    ),
  );
}

/** Everything of a site taken off its host (its home and user go too, by the document's `remove`). */
export function removeBundle(site: Pick<SiteItem, 'id' | 'systemUser'>, spec: SiteSpec, stack: ServerStack) {
  const layout = layoutOf(site);
  const web: WebServerRenderer = webServerRenderers[stack.webServer as RenderedWebServer];
  const instructions: Instruction[] = [
    { verb: 'absent', path: web.path(layout.user) },
    ...(web.extra ?? []).map((file): Instruction => ({ verb: 'absent', path: file.path(layout.user) })),
    { verb: 'absent', path: layout.htpasswd },
    { verb: 'absent', path: layout.tls.certificate },
    { verb: 'absent', path: layout.tls.key },
    { verb: 'stop', unit: nodeUnitName(layout.user) },
    { verb: 'absent', path: nodeUnitPath(layout.user) },
    { verb: 'absent', path: crontabPath(layout.user) },
    ...(spec.daemons ?? []).flatMap((daemon): Instruction[] => [
      { verb: 'stop', unit: daemonUnitName(layout.user, daemon.name) },
      { verb: 'absent', path: daemonUnitPath(layout.user, daemon.name) },
    ]),
    ...stack.phpVersions.map(
      (version): Instruction => ({ verb: 'absent', path: phpPoolPath(version, layout.user) }),
    ),
    { verb: 'check', unit: web.unit },
    ...stack.phpVersions.map((version): Instruction => ({ verb: 'reload', unit: `php${version}-fpm` })),
    { verb: 'reload', unit: web.unit },
  ];
  return encodeBundle(instructions);
}
