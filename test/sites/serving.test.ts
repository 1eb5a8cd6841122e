import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../scripts/local/runtime';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let serverId: string;

const ended = (path: string) => operationEnded(api, path, owner.token);

/** A GET to where the host serves its sites, for one domain (the Host header picks the site). */
function get(servedAt: string, host: string, path = '/', headers: Record<string, string> = {}) {
  const url = new URL(path, servedAt);
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(url, { headers: { host, ...headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'sites@example.com');
  const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
    token: owner.token,
    body: { name: 'web-1', provider: 'local', stack: { phpVersions: ['8.2', '8.3'] } },
  });
  serverId = created.json.id;
  expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Sites served on a local host', () => {
  it('serves a new PHP site its own index.php through the real nginx and PHP-FPM', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${serverId}/sites`, {
      token: owner.token,
      body: { domain: 'shop.example.com', type: 'php', php: { version: '8.2' } },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(202);
    const operation = await ended(created.headers.get('location') ?? '');
    expect(operation.status, JSON.stringify(operation)).toBe('succeeded');
    const site = await api.call('GET', `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`, {
      token: owner.token,
    });
    expect(site.json.status).toBe('active');
    expect(site.json.servedAt).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(site.json.servedAt, 'shop.example.com');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/^Hello from shop\.example\.com on PHP 8\.\d/);
  });
});
