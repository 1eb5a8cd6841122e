import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../scripts/local/runtime';
import { apiClient, eventually, operationEnded, planLimits, startTestRuntime } from '../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const password = 'a long enough password';
const limits = planLimits;

type Account = { tenantId: string; token: string; refreshToken: string; userId: string };

async function logIn(email: string): Promise<Account> {
  const login = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  return {
    tenantId: login.json.tenantId,
    token: login.json.accessToken,
    refreshToken: login.json.refreshToken,
    userId: login.json.userId,
  };
}

async function account(email: string, kind: 'reseller' | 'customer' = 'customer') {
  const signup = await api.call('POST', '/v1/auth/signup', {
    body: { email, password, name: 'Owner', tenantName: email, kind },
  });
  expect(signup.status).toBe(201);
  return logIn(email);
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Feature: a tenant-wide list of operations', () => {
  it('lists every operation of a tenant newest first, filtered by status, kind or target, with cursors', async () => {
    const owner = await account('ops@example.com');
    const servers = [];
    for (const name of ['ops-1', 'ops-2']) {
      const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
        token: owner.token,
        body: { name, provider: 'local' },
      });
      expect(created.status).toBe(202);
      servers.push(created.json);
      await operationEnded(api, created.headers.get('location') ?? '', owner.token);
    }
    const restart = await api.call(
      'POST',
      `/v1/tenants/${owner.tenantId}/servers/${servers[0].id}/services/nginx/restart`,
      { token: owner.token },
    );
    await operationEnded(api, restart.headers.get('location') ?? '', owner.token);
    const base = `/v1/tenants/${owner.tenantId}/operations`;

    const all = await api.call('GET', base, { token: owner.token });
    expect(all.status).toBe(200);
    expect(all.json.items.map((o: { kind: string }) => o.kind)).toEqual([
      'restart-service',
      'provision-server',
      'provision-server',
    ]);
    const provisions = await api.call('GET', `${base}?kind=provision-server&status=succeeded`, {
      token: owner.token,
    });
    expect(provisions.json.items.map((o: { target: { id: string } }) => o.target.id)).toEqual([
      servers[1].id,
      servers[0].id,
    ]);
    const ofFirst = await api.call('GET', `${base}?targetId=${servers[0].id}`, { token: owner.token });
    expect(ofFirst.json.items.map((o: { kind: string }) => o.kind)).toEqual([
      'restart-service',
      'provision-server',
    ]);
    expect((await api.call('GET', `${base}?status=failed`, { token: owner.token })).json.items).toEqual([]);

    const first = await api.call('GET', `${base}?limit=2`, { token: owner.token });
    expect(first.json.items).toHaveLength(2);
    const second = await api.call('GET', `${base}?limit=2&cursor=${first.json.nextCursor}`, {
      token: owner.token,
    });
    expect(second.json.items).toHaveLength(1);
    expect(second.json.nextCursor).toBeNull();
    // a cursor belongs to the filters it was made with
    const mixed = await api.call('GET', `${base}?limit=2&status=succeeded&cursor=${first.json.nextCursor}`, {
      token: owner.token,
    });
    expect(mixed.status).toBe(400);
    const bad = await api.call('GET', `${base}?status=done&targetId=x`, { token: owner.token });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'query.status',
      'query.targetId',
    ]);
  });
});

describe("Feature: a reseller's plans and customers", () => {
  it('changes a plan, whose customers get its new limits, and deletes it once nobody is on it', async () => {
    const reseller = await account('plans-reseller@example.com', 'reseller');
    const plans = `/v1/tenants/${reseller.tenantId}/plans`;
    const starter = await api.call('POST', plans, {
      token: reseller.token,
      body: { name: 'Starter', limits },
    });
    const bigger = await api.call('POST', plans, { token: reseller.token, body: { name: 'Bigger', limits } });
    const customer = await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
      token: reseller.token,
      body: { name: 'Shop', kind: 'customer', owner: { email: 'shop@example.com', name: 'Shop', password } },
    });
    const planOf = `/v1/tenants/${reseller.tenantId}/customers/${customer.json.id}/plan`;
    await api.call('PUT', planOf, { token: reseller.token, body: { planId: starter.json.id } });

    const changed = await api.call('PATCH', `${plans}/${starter.json.id}`, {
      token: reseller.token,
      body: { name: 'Starter+', limits: { ...limits, servers: 5 }, requestsPerMinute: 300 },
    });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ name: 'Starter+', limits: { servers: 5 }, requestsPerMinute: 300 });
    const usage = await api.call('GET', `/v1/tenants/${customer.json.id}/usage`, { token: reseller.token });
    expect(usage.json.quotas.servers.limit).toBe(5);

    const refused = await api.call('DELETE', `${plans}/${starter.json.id}`, { token: reseller.token });
    expect(refused.status).toBe(409);
    await api.call('PUT', planOf, { token: reseller.token, body: { planId: bigger.json.id } });
    expect((await api.call('DELETE', `${plans}/${starter.json.id}`, { token: reseller.token })).status).toBe(
      204,
    );
    const left = await api.call('GET', plans, { token: reseller.token });
    expect(left.json.items.map((p: { id: string }) => p.id)).toEqual([bigger.json.id]);
    const empty = await api.call('PATCH', `${plans}/${bigger.json.id}`, { token: reseller.token, body: {} });
    expect(empty.status).toBe(400);
  });

  it('deletes a customer with its members and tokens, and refuses while it has servers', async () => {
    const reseller = await account('deleting-reseller@example.com', 'reseller');
    const created = await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
      token: reseller.token,
      body: { name: 'Gone', kind: 'customer', owner: { email: 'gone@example.com', name: 'Gone', password } },
    });
    const customerPath = `/v1/tenants/${reseller.tenantId}/customers/${created.json.id}`;
    const customer = await logIn('gone@example.com');
    const token = await api.call('POST', `/v1/tenants/${customer.tenantId}/api-tokens`, {
      token: customer.token,
      body: { name: 'ci', scopes: ['servers:read'] },
    });
    expect(token.status).toBe(201);
    const server = await api.call('POST', `/v1/tenants/${customer.tenantId}/servers`, {
      token: customer.token,
      body: { name: 'in-the-way', provider: 'local' },
    });
    await operationEnded(api, server.headers.get('location') ?? '', customer.token);

    const refused = await api.call('DELETE', customerPath, { token: reseller.token });
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toContain('servers');
    const decommission = await api.call(
      'DELETE',
      `/v1/tenants/${customer.tenantId}/servers/${server.json.id}`,
      {
        token: customer.token,
      },
    );
    await operationEnded(api, decommission.headers.get('location') ?? '', customer.token);

    expect(
      (await api.call('DELETE', customerPath, { token: reseller.token, headers: { 'if-match': '"v99"' } }))
        .status,
    ).toBe(412);
    expect((await api.call('DELETE', customerPath, { token: reseller.token })).status).toBe(204);
    expect((await api.call('GET', customerPath, { token: reseller.token })).status).toBe(404);
    const list = await api.call('GET', `/v1/tenants/${reseller.tenantId}/customers`, {
      token: reseller.token,
    });
    expect(list.json.items).toEqual([]);
    // its people and tokens are gone: no sign-in, no token, and the email is free again
    expect(
      (await api.call('POST', '/v1/auth/login', { body: { email: 'gone@example.com', password } })).status,
    ).toBe(401);
    expect(
      (await api.call('GET', `/v1/tenants/${customer.tenantId}/servers`, { token: token.json.token })).status,
    ).toBe(401);
    // a session already signed in stops once the tenant's standing is read again (within seconds)
    await eventually(
      async () =>
        (await api.call('GET', `/v1/tenants/${customer.tenantId}/servers`, { token: customer.token }))
          .status === 403
          ? true
          : undefined,
      10_000,
      "the deleted customer's session to stop",
    );
    await account('gone@example.com');
  });
});
