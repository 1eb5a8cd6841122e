import bcrypt from 'bcryptjs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SiteSpec, systemUserOf } from '../../../layers/model/sites';
import { makeSandbox, type Sandbox } from '../../../scripts/local/sandbox';
import { createSiteBody } from '../spec';
import { webServerRenderers } from './bundle';
import { layoutOf } from './layout';
import {
  renderOpenLiteSpeed,
  renderOpenLiteSpeedMap,
  renderOpenLiteSpeedRegistration,
} from './openlitespeed';
import {
  mapFormat,
  OlsFormatError,
  parseOls,
  registrationFormat,
  vhostDomains,
  vhostFormat,
} from './openlitespeed-format';
import { phpPoolPath, renderPhpPool } from './php-fpm';

/** the web servers Debian packages, whose own validators check what is rendered for them */
const webServers = ['nginx', 'apache', 'caddy'] as const;
type Validated = (typeof webServers)[number];
const sandboxes = {} as Record<Validated, Sandbox>;
/** the users of sites placed since the last validation, made in one go before it */
const unmadeUsers: Record<Validated, string[]> = { nginx: [], apache: [], caddy: [] };
const hash = bcrypt.hashSync('a secret password', 4);

let sequence = 0;
/** A site identity of its own for each rendering, so many sites share one sandbox. */
function identity() {
  sequence += 1;
  const id = `ste_${String(sequence).padStart(26, '0')}`;
  return { id, systemUser: systemUserOf(id) };
}

const php = {
  version: '8.2',
  memoryLimit: '256M',
  uploadMaxFilesize: '64M',
  maxExecutionTime: 60,
  opcache: true,
  pool: { pm: 'ondemand' as const, maxChildren: 5 },
};

/** The matrix: every type, with and without each option. */
const matrix: { name: string; spec: SiteSpec; suspended?: boolean }[] = [
  { name: 'php', spec: { domain: 'php.example.com', aliases: [], type: 'php', php, redirects: [] } },
  {
    name: 'php with everything',
    spec: {
      domain: 'full.example.com',
      aliases: ['www.full.example.com', '*.shop.example.com', 'xn--bcher-kva.example'],
      type: 'php',
      php: { ...php, pool: { pm: 'dynamic', maxChildren: 12 }, opcache: false },
      redirects: [
        { from: '/old', to: 'https://full.example.com/new?a=1&b=%20x', status: 301 },
        { from: '/tmp.html', to: '/elsewhere', status: 302 },
      ],
      basicAuth: { username: 'team', passwordHash: hash },
    },
  },
  {
    name: 'php static pool',
    spec: {
      domain: 'pool.example.com',
      aliases: [],
      type: 'php',
      php: { ...php, pool: { pm: 'static', maxChildren: 3 } },
      redirects: [],
    },
  },
  {
    name: 'static',
    spec: {
      domain: 'static.example.com',
      aliases: ['www.static.example.com'],
      type: 'static',
      redirects: [],
    },
  },
  {
    name: 'proxy',
    spec: {
      domain: 'proxy.example.com',
      aliases: [],
      type: 'proxy',
      proxy: { upstream: 'http://10.0.0.5:8080/app' },
      redirects: [],
    },
  },
  {
    name: 'node',
    spec: {
      domain: 'node.example.com',
      aliases: [],
      type: 'node',
      node: { version: '20', startCommand: 'npm start', port: 3000 },
      redirects: [{ from: '/a', to: '/b', status: 301 }],
    },
  },
  {
    name: 'suspended',
    spec: { domain: 'suspended.example.com', aliases: [], type: 'php', php, redirects: [] },
    suspended: true,
  },
];

/** Snippets each web server takes inside a site's block. */
const snippets: Record<Validated, string> = {
  nginx: 'add_header X-Frame-Options "SAMEORIGIN";\nclient_max_body_size 64m;',
  apache: 'Header always set X-Frame-Options "SAMEORIGIN"',
  caddy: 'header X-Frame-Options "SAMEORIGIN"',
};

beforeAll(() => {
  for (const web of webServers) {
    sandboxes[web] = makeSandbox();
    sandboxes[web].install(web, ['8.2']);
  }
});

afterAll(() => {
  for (const web of webServers) sandboxes[web]?.remove();
});

/** Writes one site's vhost (and PHP pool) into the web server's sandbox. */
function place(web: Validated, spec: SiteSpec, suspended = false) {
  const site = identity();
  const layout = layoutOf(site);
  const sandbox = sandboxes[web];
  unmadeUsers[web].push(layout.user);
  const renderer = webServerRenderers[web];
  const text = renderer.render({ spec, suspended, layout });
  sandbox.write(renderer.path(layout.user).slice(1), text);
  if (spec.basicAuth)
    sandbox.write(layout.htpasswd.slice(1), `${spec.basicAuth.username}:${spec.basicAuth.passwordHash}\n`);
  if (spec.type === 'php')
    sandbox.write(phpPoolPath('8.2', layout.user).slice(1), renderPhpPool({ spec, suspended, layout }));
  return { layout, text };
}

const validate = (web: Validated) => {
  sandboxes[web].addSiteUsers(unmadeUsers[web].splice(0));
  const result = sandboxes[web].validate(webServerRenderers[web].unit);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
};

describe('Rendered configs pass the real validators', () => {
  for (const web of webServers) {
    it(`${web}: every site type and option`, () => {
      for (const { spec, suspended } of matrix) place(web, spec, suspended);
      place(web, { ...(matrix[0]?.spec as SiteSpec), domain: 'snippet.example.com', snippet: snippets[web] });
      const result = validate(web);
      expect(result.ok, result.output).toBe(true);
    });
  }

  it('php-fpm: every pool', () => {
    // the nginx sandbox holds a pool for each PHP site of the matrix
    sandboxes.nginx.addSiteUsers(unmadeUsers.nginx.splice(0));
    const result = sandboxes.nginx.validate('php8.2-fpm');
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('nginx: a broken snippet is caught by the validator, naming the directive', () => {
    const sandbox = makeSandbox();
    try {
      sandbox.install('nginx');
      const site = identity();
      const layout = layoutOf(site);
      sandbox.addSiteUsers([layout.user]);
      sandbox.write(
        webServerRenderers.nginx.path(layout.user).slice(1),
        webServerRenderers.nginx.render({
          spec: {
            domain: 'broken.example.com',
            aliases: [],
            type: 'static',
            redirects: [],
            snippet: 'no_such_directive on;',
          },
          suspended: false,
          layout,
        }),
      );
      const result = sandbox.validate('nginx');
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('unknown directive "no_such_directive"');
    } finally {
      sandbox.remove();
    }
  });
});

/** Strings made of what breaks config formats, with letters and dots so some are near-valid. */
const hostile = fc.string({
  unit: fc.constantFrom(
    'a',
    'b',
    'x',
    '.',
    '-',
    '/',
    ':',
    ';',
    '{',
    '}',
    '\n',
    '\r',
    '"',
    "'",
    '$',
    '\\',
    '\u0000',
    ' ',
    '#',
    '*',
    'ü',
    '%',
    '<',
    '|',
    '`',
    'http://',
    'https://',
    '.com',
  ),
  maxLength: 40,
});

/** A benign site of the same shape: what a hostile one must render like, line for line. */
const benign: SiteSpec = {
  domain: 'benign.example.com',
  aliases: ['www.benign.example.com'],
  type: 'proxy',
  proxy: { upstream: 'http://10.0.0.1:8080' },
  redirects: [{ from: '/a', to: 'https://benign.example.com/b', status: 301 }],
  basicAuth: { username: 'user', passwordHash: hash },
};

const benignWithPath: SiteSpec = { ...benign, proxy: { upstream: 'http://10.0.0.1:8080/app' } };

const shape = (text: string) => text.split('\n').map((line) => line.replace(/[^{}]/g, ''));

/** Everything of one site for OpenLiteSpeed, each file read by the strict parser. */
function parseAllOls(spec: SiteSpec, suspended = false) {
  const input = { spec, suspended, layout: layoutOf(identity()) };
  return {
    vhost: parseOls(renderOpenLiteSpeed(input), vhostFormat),
    registration: parseOls(renderOpenLiteSpeedRegistration(input), registrationFormat),
    map: parseOls(renderOpenLiteSpeedMap(input), mapFormat),
  };
}

describe('OpenLiteSpeed: rendered configs pass a strict parser of its documented format', () => {
  it('every site type and option', () => {
    for (const { spec, suspended } of matrix) {
      const { vhost, registration, map } = parseAllOls(spec, suspended);
      expect(vhostDomains(vhost)).toEqual([spec.domain, ...spec.aliases]);
      expect(registration.blocks.map((b) => b.name)).toEqual(['virtualhost']);
      expect(map.values.map?.[0]).toContain(spec.domain);
      const rules = vhost.blocks.find((b) => b.name === 'rewrite')?.values.rules?.[0] ?? '';
      if (suspended) expect(rules).toContain('[R=503,L]');
      for (const redirect of suspended ? [] : spec.redirects)
        expect(rules).toContain(`[R=${redirect.status},L]`);
      if (spec.type === 'php' && !suspended) {
        const processor = vhost.blocks.find((b) => b.name === 'extprocessor');
        expect(processor?.values.type).toEqual(['lsapi']);
      }
    }
  });

  it('refuses what OpenLiteSpeed would not read, naming the line', () => {
    const cases: [string, string][] = [
      ['docRoot /home/a/public/\nnoSuchKey 1\n', 'line 2: no key noSuchKey'],
      ['index {\n  useServer 0\n', 'line 1: index is never closed'],
      ['}\n', 'line 1: a } closes no block'],
      ['enableGzip yes\n', 'line 1: enableGzip takes 0 or 1'],
      ['docRoot /home/a/public\n', 'line 1: docRoot takes a folder ending in /'],
      ['rewrite {\n  rules <<<END_rules\nRewriteRule ^/a$ /b [R=301,L]\n}\n', 'line 2: END_rules never ends'],
      ['rewrite {\n  rules <<<END_rules\nDeny from all\nEND_rules\n}\n', 'line 3: not a rewrite rule'],
      ['extprocessor a b {\n}\n', "line 1: not a block's opening"],
      ['context / {\n  location /home/a/\n}\ncontext / {\n}\n', 'line 4: context / twice'],
      ['vhDomain a.example\nvhDomain b.example\n', 'line 2: vhDomain twice'],
    ];
    for (const [text, message] of cases) {
      expect(() => parseOls(text, vhostFormat), text).toThrow(OlsFormatError);
      expect(() => parseOls(text, vhostFormat), text).toThrow(message);
    }
  });
});

describe('Hostile input: refused by field, or rendered inert', () => {
  it('every field of arbitrary hostile strings either gets a field-level refusal or renders a config the validators accept with the same shape as a benign one', () => {
    const accepted: SiteSpec[] = [];
    const request = {
      domain: 'benign.example.com',
      aliases: ['www.benign.example.com'],
      type: 'proxy',
      proxy: { upstream: 'http://10.0.0.1:8080' },
      redirects: [{ from: '/a', to: 'https://benign.example.com/b' }],
      basicAuth: { username: 'user', password: 'a secret password' },
    };
    /** Each field in turn takes the hostile value; the others stay benign. */
    const withHostile: ((value: string) => Record<string, unknown>)[] = [
      (v) => ({ ...request, domain: v }),
      (v) => ({ ...request, aliases: [v] }),
      (v) => ({ ...request, proxy: { upstream: v } }),
      (v) => ({ ...request, proxy: { upstream: `http://10.0.0.1:8080/${v}` } }),
      (v) => ({ ...request, redirects: [{ from: v, to: '/b' }] }),
      (v) => ({ ...request, redirects: [{ from: `/${v}`, to: '/b' }] }),
      (v) => ({ ...request, redirects: [{ from: '/a', to: v }] }),
      (v) => ({ ...request, redirects: [{ from: '/a', to: `https://benign.example.com/${v}` }] }),
      (v) => ({ ...request, redirects: [{ from: '/a', to: `/${v}` }] }),
      (v) => ({ ...request, basicAuth: { username: v, password: 'a secret password' } }),
    ];
    fc.assert(
      fc.property(fc.nat({ max: withHostile.length - 1 }), hostile, (field, value) => {
        const parsed = createSiteBody.safeParse(
          (withHostile[field] as (v: string) => Record<string, unknown>)(value),
        );
        if (!parsed.success) {
          // each refusal names a field of the request
          for (const issue of parsed.error.issues) expect(issue.path.length).toBeGreaterThan(0);
          return;
        }
        const spec: SiteSpec = {
          ...benign,
          domain: parsed.data.domain,
          aliases: parsed.data.aliases,
          proxy: parsed.data.proxy ?? { upstream: 'http://10.0.0.1:8080' },
          redirects: parsed.data.redirects,
          basicAuth: { username: parsed.data.basicAuth?.username ?? 'user', passwordHash: hash },
        };
        if (new Set([spec.domain, ...spec.aliases]).size !== 1 + spec.aliases.length) return;
        // OpenLiteSpeed's files read as the same structure, with the site's own domains
        const ols = parseAllOls(spec);
        expect(vhostDomains(ols.vhost)).toEqual([spec.domain, ...spec.aliases]);
        for (const web of [...webServers, 'openlitespeed'] as const) {
          const layout = layoutOf(identity());
          const render = webServerRenderers[web].render;
          // the same lines and the same braces as the benign site: no value made a line or a block
          // (an upstream with a path renders like the benign one with a path)
          const likeIt = new URL(spec.proxy?.upstream ?? '').pathname.length > 1 ? benignWithPath : benign;
          expect(shape(render({ spec, suspended: false, layout })), web).toEqual(
            shape(render({ spec: likeIt, suspended: false, layout })),
          );
        }
        accepted.push(spec);
      }),
      { numRuns: 400, seed: 20261203 },
    );
    // and what was accepted, the real validators accept (nginx resolves an upstream's name when
    // it loads, and this machine resolves none: those with a name are checked by shape alone)
    const checkable = accepted.filter((spec) => /^https?:\/\/[0-9.]+[:/]/.test(`${spec.proxy?.upstream}/`));
    expect(checkable.length).toBeGreaterThan(20);
    for (const web of webServers) {
      // each site its own domains, as the platform's claims keep them
      const taken = new Set<string>();
      checkable.slice(0, 60).forEach((spec, i) => {
        const own = (domain: string) =>
          domain.endsWith('benign.example.com') ? domain.replace('benign', `s${i}`) : domain;
        const unique = { ...spec, domain: own(spec.domain), aliases: spec.aliases.map(own) };
        const domains = [unique.domain, ...unique.aliases];
        if (domains.some((d) => taken.has(d))) return;
        for (const d of domains) taken.add(d);
        place(web, unique);
      });
      const result = validate(web);
      expect(result.ok, result.output).toBe(true);
    }
  });
});
