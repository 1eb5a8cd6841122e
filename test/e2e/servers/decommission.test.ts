import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, operationEnded, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const password = 'a long enough password';
let reseller: { tenantId: string; token: string };
let customer: { tenantId: string; token: string };

async function logIn(email: string) {
  const login = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  return { tenantId: login.json.tenantId as string, token: login.json.accessToken as string };
}

const ended = (path: string, token: string) => operationEnded(api, path, token);

const createServer = (name: string, webServer = 'nginx') =>
  api.call('POST', `/v1/tenants/${customer.tenantId}/servers`, {
    token: customer.token,
    body: { name, provider: 'local', stack: { webServer } },
  });

const usedServers = async () =>
  (await api.call('GET', `/v1/tenants/${customer.tenantId}/usage`, { token: customer.token })).json.quotas
    .servers;

beforeAll(async () => {
  // caddy is missing on the local hosts, so a caddy server fails its bootstrap
  runtime = await startTestRuntime({ unavailablePackages: ['caddy'] });
  api = apiClient(runtime.url);
  await api.call('POST', '/v1/auth/signup', {
    body: { email: 'decom-reseller@example.com', password, name: 'R', tenantName: 'R', kind: 'reseller' },
  });
  reseller = await logIn('decom-reseller@example.com');
  await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
    token: reseller.token,
    body: { name: 'Shop', owner: { email: 'decom-shop@example.com', name: 'S', password } },
  });
  customer = await logIn('decom-shop@example.com');
  const limits = {
    servers: 1,
    sites: 1,
    databases: 1,
    mailboxes: 1,
    dnsZones: 1,
    backupRetentionDays: 7,
    backupStorageBytes: 1,
  };
  const plan = await api.call('POST', `/v1/tenants/${reseller.tenantId}/plans`, {
    token: reseller.token,
    body: { name: 'One server', limits },
  });
  await api.call('PUT', `/v1/tenants/${reseller.tenantId}/customers/${customer.tenantId}/plan`, {
    token: reseller.token,
    body: { planId: plan.json.id },
  });
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Feature: decommissioning a server', () => {
  it('refuses while provisioning, then deletes the host, the agent and the server, and gives the quota back', async () => {
    const created = await createServer('web-1');
    expect(created.status).toBe(202);
    expect((await usedServers()).used).toBe(1);
    const serverPath = `/v1/tenants/${customer.tenantId}/servers/${created.json.id}`;
    const early = await api.call('DELETE', serverPath, { token: customer.token });
    expect(early.status).toBe(409);
    expect((await ended(created.headers.get('location') ?? '', customer.token)).status).toBe('succeeded');
    expect(runtime.hosts.list()).toHaveLength(1);
    expect(runtime.ssm.inventory().instances).toHaveLength(1);
    // the plan's one server is taken
    expect((await createServer('web-2')).status).toBe(409);

    const deleted = await api.call('DELETE', serverPath, { token: customer.token });
    expect(deleted.status).toBe(202);
    expect(deleted.json).toMatchObject({ status: 'deleting', operation: { kind: 'decommission-server' } });
    const again = await api.call('DELETE', serverPath, { token: customer.token });
    expect(again.status).toBe(409);
    const operation = await ended(deleted.headers.get('location') ?? '', customer.token);
    expect(operation).toMatchObject({
      status: 'succeeded',
      result: { serverId: created.json.id, status: 'deleted' },
    });
    expect(operation.steps.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['deleteHost', 'succeeded'],
      ['forgetAgent', 'succeeded'],
      ['removeServer', 'succeeded'],
    ]);
    expect(operation.steps[2].output).toMatchObject({ removed: true, quotaReturned: true });

    expect((await api.call('GET', serverPath, { token: customer.token })).status).toBe(404);
    expect(runtime.hosts.list()).toEqual([]);
    expect(runtime.ssm.inventory()).toEqual({ activations: [], instances: [] });
    expect((await usedServers()).used).toBe(0);
    const dashboard = await api.call('GET', `/v1/tenants/${customer.tenantId}/dashboard`, {
      token: customer.token,
    });
    expect(dashboard.json.counts).toMatchObject({ total: 0, active: 0 });
    // and the unit is there to use again
    expect((await createServer('web-3')).status).toBe(202);
  });

  it('removes a server whose provisioning failed without giving back the quota twice', async () => {
    // make room: the server from the test above goes first
    const list = await api.call('GET', `/v1/tenants/${customer.tenantId}/servers`, { token: customer.token });
    for (const server of list.json.items) {
      const path = `/v1/tenants/${customer.tenantId}/servers/${server.id}`;
      await ended(`/v1/tenants/${customer.tenantId}/operations/${server.lastOperationId}`, customer.token);
      const deleted = await api.call('DELETE', path, { token: customer.token });
      await ended(deleted.headers.get('location') ?? '', customer.token);
    }
    const failing = await createServer('caddy-1', 'caddy');
    expect((await ended(failing.headers.get('location') ?? '', customer.token)).status).toBe('failed');
    expect((await usedServers()).used).toBe(0);
    const deleted = await api.call('DELETE', `/v1/tenants/${customer.tenantId}/servers/${failing.json.id}`, {
      token: customer.token,
    });
    expect(deleted.status).toBe(202);
    const operation = await ended(deleted.headers.get('location') ?? '', customer.token);
    expect(operation.status).toBe('succeeded');
    expect(operation.steps[2].output).toMatchObject({ removed: true, quotaReturned: false });
    expect(await usedServers()).toMatchObject({ used: 0, limit: 1 });
  });

  it("answers 404 to another tenant's DELETE and leaves the server alone", async () => {
    const created = await createServer('mine');
    await ended(created.headers.get('location') ?? '', customer.token);
    const stranger = await api.call('POST', '/v1/auth/signup', {
      body: { email: 'decom-stranger@example.com', password, name: 'X', tenantName: 'X' },
    });
    expect(stranger.status).toBe(201);
    const other = await logIn('decom-stranger@example.com');
    const attempt = await api.call('DELETE', `/v1/tenants/${customer.tenantId}/servers/${created.json.id}`, {
      token: other.token,
    });
    expect(attempt.status).toBe(404);
    expect(
      (
        await api.call('GET', `/v1/tenants/${customer.tenantId}/servers/${created.json.id}`, {
          token: customer.token,
        })
      ).json.status,
    ).toBe('active');
  });
});

describe('Feature: naming, tagging and finding servers', () => {
  it('renames and retags conditionally on the ETag, and filters lists by status, provider and tag', async () => {
    // the plan allows one server: the one the test above left goes first
    const list = await api.call('GET', `/v1/tenants/${customer.tenantId}/servers`, { token: customer.token });
    for (const existing of list.json.items) {
      const gone = await api.call('DELETE', `/v1/tenants/${customer.tenantId}/servers/${existing.id}`, {
        token: customer.token,
      });
      await ended(gone.headers.get('location') ?? '', customer.token);
    }
    const server = await api.call('POST', `/v1/tenants/${customer.tenantId}/servers`, {
      token: customer.token,
      body: { name: 'tagged', provider: 'local', tags: ['shop', 'eu'] },
    });
    expect(server.status).toBe(202);
    expect(server.json.tags).toEqual(['shop', 'eu']);
    await ended(server.headers.get('location') ?? '', customer.token);
    const path = `/v1/tenants/${customer.tenantId}/servers/${server.json.id}`;
    const read = await api.call('GET', path, { token: customer.token });
    const stale = await api.call('PATCH', path, {
      token: customer.token,
      headers: { 'if-match': '"v1"' },
      body: { name: 'renamed' },
    });
    expect(stale.status).toBe(412);
    const renamed = await api.call('PATCH', path, {
      token: customer.token,
      headers: { 'if-match': read.headers.get('etag') ?? '' },
      body: { name: 'renamed', tags: ['shop', 'production'] },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ name: 'renamed', tags: ['shop', 'production'] });
    const bad = await api.call('PATCH', path, { token: customer.token, body: { tags: ['Shop!'] } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe('body.tags.0');

    const filtered = (query: string) =>
      api.call('GET', `/v1/tenants/${customer.tenantId}/servers?${query}`, { token: customer.token });
    const ids = async (query: string) => (await filtered(query)).json.items.map((s: { id: string }) => s.id);
    expect(await ids('tag=production')).toEqual([server.json.id]);
    expect(await ids('tag=eu')).toEqual([]);
    expect(await ids('status=active&provider=local')).toEqual([server.json.id]);
    expect(await ids('status=failed')).toEqual([]);
    expect((await filtered('status=sleeping')).json.errors[0].path).toBe('query.status');

    // DELETE honours If-Match too
    const staleDelete = await api.call('DELETE', path, {
      token: customer.token,
      headers: { 'if-match': '"v1"' },
    });
    expect(staleDelete.status).toBe(412);
    expect((await api.call('GET', path, { token: customer.token })).json.status).toBe('active');
  });
});
