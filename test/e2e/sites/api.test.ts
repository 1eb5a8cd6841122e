import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import {
  apiClient,
  eventually,
  operationEnded,
  planLimits,
  signUp,
  startTestRuntime,
} from '../../support/runtime';
import { getFromSite } from '../../support/site-http';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const password = 'a long enough password';

interface Tenant {
  tenantId: string;
  token: string;
  serverId: string;
}

let alice: Tenant;
let bob: Tenant;
/** a reseller's customer whose plan allows two sites */
let limited: Tenant;
let reseller: { tenantId: string; token: string };
let limitedId: string;
/** a tenant whose server runs OpenLiteSpeed */
let lite: Tenant;

async function withServer(account: { tenantId: string; token: string }, stack: Record<string, unknown> = {}) {
  const created = await api.call('POST', `/v1/tenants/${account.tenantId}/servers`, {
    token: account.token,
    body: { name: 'web-1', provider: 'local', stack: { phpVersions: ['8.2'], ...stack } },
  });
  expect(created.status, created.text).toBe(202);
  return {
    ...account,
    serverId: created.json.id as string,
    operation: created.headers.get('location') ?? '',
  };
}

const sites = (t: Tenant) => `/v1/tenants/${t.tenantId}/servers/${t.serverId}/sites`;
const site = (t: Tenant, id: string) => `/v1/tenants/${t.tenantId}/sites/${id}`;
const create = (t: Tenant, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  api.call('POST', sites(t), { token: t.token, body, headers });

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  reseller = await signUp(api, 'sites-reseller@example.com', 'reseller');
  const plan = await api.call('POST', `/v1/tenants/${reseller.tenantId}/plans`, {
    token: reseller.token,
    body: { name: 'Two sites', limits: { ...planLimits, sites: 2 } },
  });
  const customer = await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
    token: reseller.token,
    body: { name: 'Limited', owner: { email: 'sites-limited@example.com', name: 'L', password } },
  });
  limitedId = customer.json.id;
  await api.call('PUT', `/v1/tenants/${reseller.tenantId}/customers/${customer.json.id}/plan`, {
    token: reseller.token,
    body: { planId: plan.json.id },
  });
  const login = await api.call('POST', '/v1/auth/login', {
    body: { email: 'sites-limited@example.com', password },
  });
  const servers = await Promise.all([
    withServer(await signUp(api, 'sites-alice@example.com')),
    withServer(await signUp(api, 'sites-bob@example.com')),
    withServer({ tenantId: login.json.tenantId, token: login.json.accessToken }),
    withServer(await signUp(api, 'sites-lite@example.com'), { webServer: 'openlitespeed' }),
  ]);
  for (const s of servers) expect((await operationEnded(api, s.operation, s.token)).status).toBe('succeeded');
  [alice, bob, limited, lite] = servers as [Tenant, Tenant, Tenant, Tenant];
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Sites API', () => {
  it('refuses bad input with a 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ domain: 'exa mple.com', type: 'static' }, 'body.domain'],
      [{ domain: 'example.com;', type: 'static' }, 'body.domain'],
      [{ domain: 'a.*.example.com', type: 'static' }, 'body.domain'],
      [{ domain: 'example.com', type: 'cgi' }, 'body.type'],
      [{ domain: 'example.com', type: 'php' }, 'body.php'],
      [{ domain: 'example.com', type: 'php', php: { version: '8.4' } }, 'body.php.version'],
      [
        { domain: 'example.com', type: 'php', php: { version: '8.2', memoryLimit: '1G;' } },
        'body.php.memoryLimit',
      ],
      [
        { domain: 'example.com', type: 'static', redirects: [{ from: '/a b', to: '/b' }] },
        'body.redirects.0.from',
      ],
      [
        { domain: 'example.com', type: 'static', redirects: [{ from: '/a', to: 'javascript:alert(1)' }] },
        'body.redirects.0.to',
      ],
      [{ domain: 'example.com', type: 'static', snippet: 'location / { }}' }, 'body.snippet'],
      [
        // `#` inside a word is no comment to nginx: this closed the site's server block and opened another
        {
          domain: 'example.com',
          type: 'static',
          snippet: 'set $v a#; } server { server_name other.example;',
        },
        'body.snippet',
      ],
      [
        { domain: 'example.com', type: 'static', basicAuth: { username: 'a b', password: 'long enough' } },
        'body.basicAuth.username',
      ],
      [
        { domain: 'example.com', type: 'proxy', proxy: { upstream: 'http://user:pw@10.0.0.1' } },
        'body.proxy.upstream',
      ],
      [{ domain: 'example.com', type: 'node', node: { version: '20' } }, 'body.node.version'],
      [{ domain: 'example.com', type: 'static', aliases: ['example.com'] }, 'body.aliases'],
      [{ domain: 'example.com', type: 'static', php: { version: '8.2' } }, 'body.php'],
    ];
    for (const [body, field] of cases) {
      const response = await create(alice, body);
      expect(response.status, `${JSON.stringify(body)}: ${response.text}`).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(
        response.json.errors.map((e: { path: string }) => e.path),
        JSON.stringify(body),
      ).toContain(field);
    }
  });

  it('keeps IDNs as punycode and allows a wildcard alias', async () => {
    const created = await create(alice, {
      domain: 'Bücher.Example',
      aliases: ['*.bücher.example'],
      type: 'static',
    });
    expect(created.status, created.text).toBe(202);
    expect(created.json.domain).toBe('xn--bcher-kva.example');
    expect(created.json.aliases).toEqual(['*.xn--bcher-kva.example']);
    expect((await operationEnded(api, created.headers.get('location') ?? '', alice.token)).status).toBe(
      'succeeded',
    );
    // the same domain, written another way, is the same domain
    const again = await create(bob, { domain: 'xn--bcher-kva.example', type: 'static' });
    expect(again.status).toBe(409);
    expect(again.json.detail).toBe('xn--bcher-kva.example is already the domain of a site.');
  });

  it('gives a domain to exactly one of two tenants creating it at once', async () => {
    const [a, b] = await Promise.all([
      create(alice, { domain: 'contested.example.com', type: 'static' }),
      create(bob, { domain: 'contested.example.com', type: 'static' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.json.detail).toContain('contested.example.com is already the domain of a site');
    // the loser is left with nothing: no site, no quota unit
    const loserTenant = a.status === 409 ? alice : bob;
    const list = await api.call('GET', `/v1/tenants/${loserTenant.tenantId}/sites?domain=contested`, {
      token: loserTenant.token,
    });
    expect(list.json.items).toEqual([]);
  });

  it("enforces the plan's sites limit at create, and a deleted site gives its unit back", async () => {
    const first = await create(limited, { domain: 'one.limited.example', type: 'static' });
    const second = await create(limited, { domain: 'two.limited.example', type: 'static' });
    expect([first.status, second.status]).toEqual([202, 202]);
    const third = await create(limited, { domain: 'three.limited.example', type: 'static' });
    expect(third.status).toBe(409);
    expect(third.json.detail).toMatch(/sites/);
    await operationEnded(api, first.headers.get('location') ?? '', limited.token);
    const deleted = await api.call('DELETE', site(limited, first.json.id), { token: limited.token });
    expect(deleted.status).toBe(202);
    expect((await operationEnded(api, deleted.headers.get('location') ?? '', limited.token)).status).toBe(
      'succeeded',
    );
    // the domain is free again, and so is the unit
    expect((await create(limited, { domain: 'one.limited.example', type: 'static' })).status).toBe(202);
  });

  it("lists a tenant's sites with filters and cursors, and a server's sites", async () => {
    const made: string[] = [];
    for (const n of [1, 2, 3]) {
      const created = await create(bob, {
        domain: `list${n}.bob.example`,
        type: n === 3 ? 'php' : 'static',
        ...(n === 3 ? { php: { version: '8.2' } } : {}),
      });
      made.push(created.json.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.call(
        'GET',
        `/v1/tenants/${bob.tenantId}/sites?limit=1&domain=list${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        {
          token: bob.token,
        },
      );
      expect(page.status, page.text).toBe(200);
      seen.push(...page.json.items.map((s: { id: string }) => s.id));
      cursor = page.json.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual([...made].sort());
    const php = await api.call('GET', `/v1/tenants/${bob.tenantId}/sites?type=php&domain=list`, {
      token: bob.token,
    });
    expect(php.json.items.map((s: { id: string }) => s.id)).toEqual([made[2]]);
    const onServer = await api.call('GET', `${sites(bob)}?limit=100`, { token: bob.token });
    expect(onServer.json.items.map((s: { id: string }) => s.id)).toEqual(expect.arrayContaining(made));
  });

  it('takes one change at a time, and If-Match makes a change conditional', async () => {
    const created = await create(alice, { domain: 'busy.example.com', type: 'static' });
    const meanwhile = await api.call('PATCH', site(alice, created.json.id), {
      token: alice.token,
      body: { aliases: ['www.busy.example.com'] },
    });
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.json.detail).toContain(created.json.operation.id);
    await operationEnded(api, created.headers.get('location') ?? '', alice.token);
    const current = await api.call('GET', site(alice, created.json.id), { token: alice.token });
    expect(current.headers.get('etag')).toBe(`"v${current.json.version}"`);
    const stale = await api.call('PATCH', site(alice, created.json.id), {
      token: alice.token,
      body: { aliases: ['www.busy.example.com'] },
      headers: { 'if-match': `"v${current.json.version - 1}"` },
    });
    expect(stale.status).toBe(412);
    const fresh = await api.call('PATCH', site(alice, created.json.id), {
      token: alice.token,
      body: {
        aliases: ['www.busy.example.com'],
        basicAuth: { username: 'team', password: 'a secret password' },
      },
      headers: { 'if-match': current.headers.get('etag') ?? '' },
    });
    expect(fresh.status, fresh.text).toBe(202);
    expect((await operationEnded(api, fresh.headers.get('location') ?? '', alice.token)).status).toBe(
      'succeeded',
    );
    const changed = await api.call('GET', site(alice, created.json.id), { token: alice.token });
    expect(changed.json.aliases).toEqual(['www.busy.example.com']);
    // the password never comes back, only who may sign in
    expect(changed.json.basicAuth).toEqual({ username: 'team' });
    expect(changed.text).not.toContain('a secret password');
    expect(changed.text).not.toContain('$2');
  });

  it("serves a suspended customer's sites the suspension page, and the sites again once it is unsuspended", async () => {
    // the customer's site from the plan test above (its plan allows no third)
    const listed = await api.call('GET', `/v1/tenants/${limited.tenantId}/sites?domain=two.limited`, {
      token: limited.token,
    });
    const created = { json: listed.json.items[0] as { id: string; servedAt: string } };
    // that test does not wait for the site's creation to end: this one does
    const servedAt = await eventually(
      async () => {
        const now = await api.call('GET', site(limited, created.json.id), { token: limited.token });
        return now.json.pendingOperationId === null && now.json.servedAt
          ? (now.json.servedAt as string)
          : undefined;
      },
      30_000,
      'the site to be served',
    );
    const page = () => getFromSite(servedAt, 'two.limited.example');
    expect((await page()).status).toBe(200);
    /** the reseller follows its customer's site until its change has ended */
    const settled = async () => {
      for (;;) {
        const now = await api.call('GET', site(limited, created.json.id), { token: reseller.token });
        if (now.json.pendingOperationId === null) return now.json;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const customers = `/v1/tenants/${reseller.tenantId}/customers/${limitedId}`;
    const suspended = await api.call('POST', `${customers}/suspend`, {
      token: reseller.token,
      body: { reason: 'unpaid' },
    });
    expect(suspended.status, suspended.text).toBe(200);
    const after = await settled();
    expect(after.tenantSuspended).toBe(true);
    expect((await page()).status).toBe(503);
    expect((await api.call('POST', `${customers}/unsuspend`, { token: reseller.token })).status).toBe(200);
    expect((await settled()).tenantSuspended).toBe(false);
    expect((await page()).status).toBe(200);

    // suspended while a change of the site is on its way: that change was rendered before the
    // suspension, and its ending catches the host up
    const patched = await api.call('PATCH', site(limited, created.json.id), {
      token: limited.token,
      body: { redirects: [{ from: '/meanwhile', to: '/elsewhere' }] },
    });
    expect(patched.status).toBe(202);
    expect(
      (await api.call('POST', `${customers}/suspend`, { token: reseller.token, body: { reason: 'unpaid' } }))
        .status,
    ).toBe(200);
    await operationEnded(api, patched.headers.get('location') ?? '', reseller.token);
    const caughtUp = await settled();
    expect(caughtUp.tenantSuspended).toBe(true);
    expect(caughtUp.redirects).toEqual([{ from: '/meanwhile', to: '/elsewhere', status: 301 }]);
    expect((await page()).status).toBe(503);
    await api.call('POST', `${customers}/unsuspend`, { token: reseller.token });
    await settled();
  });

  it('puts an OpenLiteSpeed site on its host: vhost, registration and listener map', async () => {
    const snippet = await create(lite, { domain: 'lite.example.com', type: 'static', snippet: 'x 1' });
    expect(snippet.status).toBe(400);
    expect(snippet.json.errors[0].path).toBe('body.snippet');
    const created = await create(lite, { domain: 'lite.example.com', type: 'php', php: { version: '8.2' } });
    expect(created.status, created.text).toBe(202);
    const operation = await operationEnded(api, created.headers.get('location') ?? '', lite.token);
    expect(operation.status, JSON.stringify(operation)).toBe('succeeded');
    const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === lite.serverId);
    const root = runtime.hosts.rootOf(host?.id ?? '');
    const user = created.json.systemUser;
    const { readFileSync } = await import('node:fs');
    const vhost = readFileSync(`${root}/usr/local/lsws/conf/vhosts/vip-${user}/vhconf.conf`, 'utf8');
    expect(vhost).toContain('vhDomain lite.example.com');
    expect(readFileSync(`${root}/usr/local/lsws/conf/vip/maps/vip-${user}.conf`, 'utf8')).toBe(
      `map vip-${user} lite.example.com\n`,
    );
    // OpenLiteSpeed runs PHP itself (LSAPI): no PHP-FPM pool
    expect(() => readFileSync(`${root}/etc/php/8.2/fpm/pool.d/vip-${user}.conf`)).toThrow();
  });
});
