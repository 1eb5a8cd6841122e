import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../scripts/local/runtime';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../support/runtime';
import { getFromSite } from '../support/site-http';

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
});
