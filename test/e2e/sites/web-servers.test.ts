import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { certificateChain } from '../../support/certificates';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../../support/runtime';
import { getFromSite, getOverTls } from '../../support/site-http';

/** The same site on Apache and on Caddy, served for real on local hosts as nginx serves it. */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
const servers: Record<string, string> = {};

const ended = (path: string) => operationEnded(api, path, owner.token);

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'web-servers@example.com');
  await Promise.all(
    ['apache', 'caddy'].map(async (webServer) => {
      const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
        token: owner.token,
        body: { name: `${webServer}-1`, provider: 'local', stack: { webServer, phpVersions: ['8.2'] } },
      });
      expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
      servers[webServer] = created.json.id;
    }),
  );
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Sites on Apache and Caddy', () => {
  for (const webServer of ['apache', 'caddy']) {
    it(`${webServer}: serves a PHP site, its redirect and its suspension page`, async () => {
      const domain = `${webServer}.example.com`;
      const created = await api.call(
        'POST',
        `/v1/tenants/${owner.tenantId}/servers/${servers[webServer]}/sites`,
        {
          token: owner.token,
          body: { domain, type: 'php', php: { version: '8.2' }, redirects: [{ from: '/old', to: '/new' }] },
        },
      );
      expect(created.status, created.text).toBe(202);
      expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
      const path = `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`;
      const { servedAt } = (await api.call('GET', path, { token: owner.token })).json;
      const page = await getFromSite(servedAt, domain);
      expect(page.status).toBe(200);
      expect(page.body).toMatch(new RegExp(`^Hello from ${domain.replace(/\./g, '\\.')} on PHP 8\\.`));
      const moved = await getFromSite(servedAt, domain, '/old');
      expect(moved.status).toBe(301);
      expect(String(moved.headers.location)).toMatch(/\/new$/);
      const suspend = await api.call('POST', `${path}/suspend`, { token: owner.token });
      expect((await ended(suspend.headers.get('location') ?? '')).status).toBe('succeeded');
      const suspended = await getFromSite(servedAt, domain);
      expect(suspended.status).toBe(503);
      expect(suspended.body).toContain('This site is suspended');
    });
  }

  for (const webServer of ['apache', 'caddy']) {
    it(`${webServer}: serves a site over TLS with its certificate, redirecting plain HTTP and sending HSTS`, async () => {
      const domain = `tls-${webServer}.example.test`;
      const created = await api.call(
        'POST',
        `/v1/tenants/${owner.tenantId}/servers/${servers[webServer]}/sites`,
        { token: owner.token, body: { domain, type: 'static' } },
      );
      expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
      const path = `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`;
      const chain = await certificateChain({ domains: [domain] });
      const uploaded = await api.call('PUT', `${path}/certificate`, {
        token: owner.token,
        body: { certificate: chain.leaf, chain: chain.intermediate, privateKey: chain.key },
      });
      expect(uploaded.status, uploaded.text).toBe(202);
      expect((await ended(uploaded.headers.get('location') ?? '')).status).toBe('succeeded');
      const patched = await api.call('PATCH', path, {
        token: owner.token,
        body: { https: { redirect: true, hsts: true } },
      });
      const change = await ended(patched.headers.get('location') ?? '');
      expect(change.status, JSON.stringify(change.error)).toBe('succeeded');
      const site = (await api.call('GET', path, { token: owner.token })).json;
      const secure = await getOverTls(site.httpsServedAt, domain, chain.root);
      expect(secure.status).toBe(200);
      expect(secure.body).toContain(`Hello from ${domain}`);
      expect(secure.head).toMatch(/^Strict-Transport-Security: max-age=31536000$/im);
      const plain = await getFromSite(site.servedAt, domain, '/a?b=1');
      expect(plain.status).toBe(301);
      expect(plain.headers.location).toBe(`https://${domain}/a?b=1`);
      const challenge = await getFromSite(site.servedAt, domain, '/.well-known/acme-challenge/none');
      expect(challenge.status).toBe(404);
    });
  }
});
