import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const password = 'a long enough password';

async function account(email: string, kind: 'reseller' | 'customer') {
  const signup = await api.call('POST', '/v1/auth/signup', {
    body: { email, password, name: 'Owner', tenantName: email, kind },
  });
  expect(signup.status).toBe(201);
  return logIn(email);
}

async function logIn(email: string) {
  const login = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  expect(login.status).toBe(200);
  return { tenantId: login.json.tenantId as string, token: login.json.accessToken as string };
}

async function createCustomer(parent: { tenantId: string; token: string }, email: string, kind = 'customer') {
  return api.call('POST', `/v1/tenants/${parent.tenantId}/customers`, {
    token: parent.token,
    body: { name: `Customer ${email}`, kind, owner: { email, name: 'Owner', password } },
  });
}

let reseller: Awaited<ReturnType<typeof account>>;
let otherReseller: Awaited<ReturnType<typeof account>>;
let customer: { tenantId: string; token: string };
let sibling: { tenantId: string; token: string };

beforeAll(async () => {
  // no status cache here, so a suspension is visible on the very next request
  process.env.TENANT_STATUS_CACHE_SECONDS = '0';
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  reseller = await account('reseller@example.com', 'reseller');
  otherReseller = await account('other-reseller@example.com', 'reseller');
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Feature: a reseller runs its customers', () => {
  it('creates a customer whose owner can log in', async () => {
    const created = await createCustomer(reseller, 'c1@example.com');
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ kind: 'customer', parentId: reseller.tenantId, status: 'active' });
    expect(created.headers.get('location')).toBe(
      `/v1/tenants/${reseller.tenantId}/customers/${created.json.id}`,
    );
    customer = await logIn('c1@example.com');
    expect(customer.tenantId).toBe(created.json.id);
    expect((await createCustomer(reseller, 'c2@example.com')).status).toBe(201);
    sibling = await logIn('c2@example.com');
  });

  it('lists its direct customers', async () => {
    const list = await api.call('GET', `/v1/tenants/${reseller.tenantId}/customers`, {
      token: reseller.token,
    });
    expect(list.json.items.map((c: { id: string }) => c.id).sort()).toEqual(
      [customer.tenantId, sibling.tenantId].sort(),
    );
  });

  it("acts on a customer's resources through the customer's own routes", async () => {
    const server = await api.call('POST', `/v1/tenants/${customer.tenantId}/servers`, {
      token: reseller.token,
      body: { name: 'made-by-reseller', provider: 'local' },
    });
    expect(server.status).toBe(202);
    const seenByCustomer = await api.call(
      'GET',
      `/v1/tenants/${customer.tenantId}/servers/${server.json.id}`,
      {
        token: customer.token,
      },
    );
    expect(seenByCustomer.status).toBe(200);
    expect(
      (await api.call('GET', `/v1/tenants/${customer.tenantId}`, { token: reseller.token })).status,
    ).toBe(200);
  });

  it("keeps one Idempotency-Key apart across the reseller's customers", async () => {
    const create = (tenantId: string) =>
      api.call('POST', `/v1/tenants/${tenantId}/servers`, {
        token: reseller.token,
        headers: { 'Idempotency-Key': 'same-key' },
        body: { name: 'same-body', provider: 'local' },
      });
    const first = await create(customer.tenantId);
    const second = await create(sibling.tenantId);
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(second.json.id).not.toBe(first.json.id);
  });

  it('renames a customer, conditional on its ETag', async () => {
    const path = `/v1/tenants/${reseller.tenantId}/customers/${customer.tenantId}`;
    const current = await api.call('GET', path, { token: reseller.token });
    const etag = current.headers.get('etag') ?? '';
    const renamed = await api.call('PATCH', path, {
      token: reseller.token,
      body: { name: 'Renamed' },
      headers: { 'If-Match': etag },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json.name).toBe('Renamed');
    expect(renamed.headers.get('etag')).not.toBe(etag);
    const stale = await api.call('PATCH', path, {
      token: reseller.token,
      body: { name: 'Lost update' },
      headers: { 'If-Match': etag },
    });
    expect(stale.status).toBe(412);
    const list = await api.call('GET', `/v1/tenants/${reseller.tenantId}/customers`, {
      token: reseller.token,
    });
    expect(list.json.items.find((c: { id: string }) => c.id === customer.tenantId).name).toBe('Renamed');
  });
});

describe('Feature: the tenant tree keeps everyone else out', () => {
  it("answers 404 to another reseller on this reseller's customers", async () => {
    for (const path of [
      `/v1/tenants/${customer.tenantId}`,
      `/v1/tenants/${customer.tenantId}/servers`,
      `/v1/tenants/${reseller.tenantId}/customers`,
      `/v1/tenants/${reseller.tenantId}/customers/${customer.tenantId}`,
      `/v1/tenants/${otherReseller.tenantId}/customers/${customer.tenantId}`,
    ]) {
      const response = await api.call('GET', path, { token: otherReseller.token });
      expect(response.status, path).toBe(404);
    }
  });

  it('answers 404 to a customer on its sibling and on its reseller', async () => {
    expect(
      (await api.call('GET', `/v1/tenants/${sibling.tenantId}/servers`, { token: customer.token })).status,
    ).toBe(404);
    expect(
      (await api.call('GET', `/v1/tenants/${reseller.tenantId}`, { token: customer.token })).status,
    ).toBe(404);
  });

  it('rejects a customer-list cursor replayed by another reseller', async () => {
    const page = await api.call('GET', `/v1/tenants/${reseller.tenantId}/customers?limit=1`, {
      token: reseller.token,
    });
    const cursor = page.json.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const replay = await api.call('GET', `/v1/tenants/${otherReseller.tenantId}/customers?cursor=${cursor}`, {
      token: otherReseller.token,
    });
    expect(replay.status).toBe(400);
  });

  it('nests at most three levels deep', async () => {
    const sub = await createCustomer(reseller, 'sub@example.com', 'reseller');
    expect(sub.status).toBe(201);
    const subReseller = await logIn('sub@example.com');
    const subSub = await createCustomer(subReseller, 'subsub@example.com', 'reseller');
    expect(subSub.status).toBe(201);
    // the top reseller reaches two levels down
    expect((await api.call('GET', `/v1/tenants/${subSub.json.id}`, { token: reseller.token })).status).toBe(
      200,
    );
    const tooDeep = await createCustomer(await logIn('subsub@example.com'), 'deep@example.com');
    expect(tooDeep.status).toBe(409);
  });
});

describe('Feature: suspension', () => {
  it("refuses a suspended customer's sessions, logins and refreshes at once, and lifts with unsuspend", async () => {
    const login = await api.call('POST', '/v1/auth/login', { body: { email: 'c2@example.com', password } });
    const base = `/v1/tenants/${reseller.tenantId}/customers/${sibling.tenantId}`;
    const suspended = await api.call('POST', `${base}/suspend`, {
      token: reseller.token,
      body: { reason: 'Unpaid invoice' },
    });
    expect(suspended.status).toBe(200);
    expect(suspended.json).toMatchObject({ status: 'suspended', suspension: { reason: 'Unpaid invoice' } });

    const read = await api.call('GET', `/v1/tenants/${sibling.tenantId}/servers`, {
      token: login.json.accessToken,
    });
    expect(read.status).toBe(403);
    expect(read.json.title).toBe('Account suspended');
    const write = await api.call('POST', `/v1/tenants/${sibling.tenantId}/servers`, {
      token: login.json.accessToken,
      body: { name: 'while-suspended', provider: 'local' },
    });
    expect(write.status).toBe(403);
    expect(
      (await api.call('POST', '/v1/auth/login', { body: { email: 'c2@example.com', password } })).status,
    ).toBe(401);
    expect(
      (await api.call('POST', '/v1/auth/refresh', { body: { refreshToken: login.json.refreshToken } }))
        .status,
    ).toBe(401);
    // the reseller still manages the suspended customer
    expect(
      (await api.call('GET', `/v1/tenants/${sibling.tenantId}/servers`, { token: reseller.token })).status,
    ).toBe(200);
    const list = await api.call('GET', `/v1/tenants/${reseller.tenantId}/customers`, {
      token: reseller.token,
    });
    expect(list.json.items.find((c: { id: string }) => c.id === sibling.tenantId).status).toBe('suspended');

    const lifted = await api.call('POST', `${base}/unsuspend`, { token: reseller.token });
    expect(lifted.json).toMatchObject({ status: 'active', suspension: null });
    expect(
      (await api.call('GET', `/v1/tenants/${sibling.tenantId}/servers`, { token: login.json.accessToken }))
        .status,
    ).toBe(200);
  });
  it("suspends a sub-reseller's whole subtree and marks every resource in it", async () => {
    const sub = await createCustomer(reseller, 'sub-reseller@example.com', 'reseller');
    expect(sub.status).toBe(201);
    const subReseller = await logIn('sub-reseller@example.com');
    expect((await createCustomer(subReseller, 'grandchild@example.com')).status).toBe(201);
    const grandchild = await logIn('grandchild@example.com');
    const server = await api.call('POST', `/v1/tenants/${grandchild.tenantId}/servers`, {
      token: grandchild.token,
      body: { name: 'shop', provider: 'local' },
    });
    expect(server.status).toBe(202);
    const serverPath = `/v1/tenants/${grandchild.tenantId}/servers/${server.json.id}`;
    expect((await api.call('GET', serverPath, { token: grandchild.token })).json.suspended).toBe(false);

    const base = `/v1/tenants/${reseller.tenantId}/customers/${subReseller.tenantId}`;
    const suspended = await api.call('POST', `${base}/suspend`, {
      token: reseller.token,
      body: { reason: 'Chargeback' },
    });
    expect(suspended.status).toBe(200);
    // the customer of the suspended sub-reseller is refused too, though its own status is unchanged
    expect((await api.call('GET', serverPath, { token: grandchild.token })).status).toBe(403);
    expect(
      (await api.call('POST', '/v1/auth/login', { body: { email: 'grandchild@example.com', password } }))
        .status,
    ).toBe(401);
    const seenByReseller = await api.call('GET', serverPath, { token: reseller.token });
    expect(seenByReseller.json).toMatchObject({ id: server.json.id, suspended: true });

    // lifting the sub-reseller lifts its whole subtree
    await api.call('POST', `${base}/unsuspend`, { token: reseller.token });
    expect((await api.call('GET', serverPath, { token: reseller.token })).json.suspended).toBe(false);
    const again = await logIn('grandchild@example.com');
    expect((await api.call('GET', serverPath, { token: again.token })).status).toBe(200);

    // a customer suspended on its own stays suspended when the tenant above it is lifted
    const own = `/v1/tenants/${subReseller.tenantId}/customers/${grandchild.tenantId}`;
    const subAgain = await logIn('sub-reseller@example.com');
    expect(
      (await api.call('POST', `${own}/suspend`, { token: subAgain.token, body: { reason: 'Own reasons' } }))
        .status,
    ).toBe(200);
    await api.call('POST', `${base}/suspend`, { token: reseller.token, body: { reason: 'Chargeback' } });
    await api.call('POST', `${base}/unsuspend`, { token: reseller.token });
    expect((await api.call('GET', serverPath, { token: reseller.token })).json.suspended).toBe(true);
    expect(
      (await api.call('POST', '/v1/auth/login', { body: { email: 'grandchild@example.com', password } }))
        .status,
    ).toBe(401);
    await api.call('POST', `${own}/unsuspend`, { token: subAgain.token });
    expect((await api.call('GET', serverPath, { token: reseller.token })).json.suspended).toBe(false);
  });
});

describe('Feature: audit log', () => {
  const auditLog = (tenantId: string, token: string, query = '') =>
    api.call('GET', `/v1/tenants/${tenantId}/audit-log${query}`, { token });

  it("records the reseller's mutations and the customer's logins in the customer's log, newest first", async () => {
    await api.call('POST', '/v1/auth/login', {
      body: { email: 'c1@example.com', password: 'not the password' },
    });
    const log = await auditLog(customer.tenantId, customer.token);
    expect(log.status).toBe(200);
    const actions = log.json.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['createServer', 'auth.login.succeeded', 'auth.login.failed']),
    );
    const times = log.json.items.map((e: { at: string }) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    const created = log.json.items.find((e: { action: string }) => e.action === 'createServer');
    expect(created).toMatchObject({
      actor: { tenantId: reseller.tenantId, role: 'owner' },
      result: 'succeeded',
      status: 202,
      target: expect.stringContaining(`/v1/tenants/${customer.tenantId}/operations/op_`),
      ip: expect.any(String),
      requestId: expect.any(String),
    });
  });

  it("lets the reseller read its customer's log and nobody else", async () => {
    expect((await auditLog(customer.tenantId, reseller.token)).status).toBe(200);
    expect((await auditLog(customer.tenantId, otherReseller.token)).status).toBe(404);
    expect((await auditLog(reseller.tenantId, customer.token)).status).toBe(404);
  });

  it('filters by action and records refused mutations as denied', async () => {
    // a customer has no customers of its own: refused, and the refusal recorded
    expect((await createCustomer(customer, 'refused@example.com')).status).toBe(403);
    const refused = await auditLog(customer.tenantId, customer.token, '?action=createCustomer');
    expect(refused.json.items).toHaveLength(1);
    for (const entry of refused.json.items) {
      expect(entry).toMatchObject({ action: 'createCustomer', result: 'denied', status: 403 });
    }
    const logins = await auditLog(customer.tenantId, customer.token, '?action=auth.login.failed');
    expect(logins.json.items.every((e: { action: string }) => e.action === 'auth.login.failed')).toBe(true);
  });

  it('has no route that changes or deletes entries', async () => {
    for (const method of ['DELETE', 'PATCH']) {
      const answer = await api.call(method, `/v1/tenants/${customer.tenantId}/audit-log`, {
        token: customer.token,
      });
      expect(answer.status).toBe(405);
      expect(answer.headers.get('allow')).toBe('GET, OPTIONS');
    }
  });
});

describe('Feature: login-as', () => {
  const impersonate = (as: { tenantId: string; token: string }, customerId: string, reason = 'Ticket 4711') =>
    api.call('POST', `/v1/tenants/${as.tenantId}/customers/${customerId}/impersonate`, {
      token: as.token,
      body: { reason },
    });

  it('gives the reseller a short-lived admin token for its customer that every audit entry names', async () => {
    const issued = await impersonate(reseller, customer.tenantId);
    expect(issued.status).toBe(200);
    expect(issued.json).toMatchObject({
      tokenType: 'Bearer',
      tenantId: customer.tenantId,
      role: 'admin',
      expiresIn: 900,
      actor: { tenantId: reseller.tenantId },
    });
    expect(issued.json.refreshToken).toBeUndefined();
    const token = issued.json.accessToken as string;

    const created = await api.call('POST', `/v1/tenants/${customer.tenantId}/servers`, {
      token,
      body: { name: 'fixed-by-support', provider: 'local' },
    });
    expect(created.status).toBe(202);
    const log = await api.call('GET', `/v1/tenants/${customer.tenantId}/audit-log`, {
      token: customer.token,
    });
    const byAction = (action: string) => log.json.items.find((e: { action: string }) => e.action === action);
    expect(byAction('auth.impersonation.started')).toMatchObject({
      actor: { impersonatedBy: issued.json.actor },
      detail: { reason: 'Ticket 4711' },
    });
    expect(byAction('createServer')).toMatchObject({
      actor: { tenantId: customer.tenantId, impersonatedBy: issued.json.actor },
      status: 202,
    });
    // and the reseller's own log keeps who logged in as whom
    const own = await api.call(
      'GET',
      `/v1/tenants/${reseller.tenantId}/audit-log?action=impersonateCustomer`,
      {
        token: reseller.token,
      },
    );
    expect(own.json.items[0]).toMatchObject({ result: 'succeeded', status: 200 });
  });

  it('cannot reach sign-in settings, API tokens or any other tenant', async () => {
    const token = (await impersonate(reseller, customer.tenantId)).json.accessToken as string;
    const tokens = await api.call('POST', `/v1/tenants/${customer.tenantId}/api-tokens`, {
      token,
      body: { name: 'backdoor', scopes: ['servers:read'] },
    });
    expect(tokens.status).toBe(403);
    expect((await api.call('POST', '/v1/auth/2fa/totp', { token })).status).toBe(403);
    expect((await api.call('GET', `/v1/tenants/${sibling.tenantId}/servers`, { token })).status).toBe(404);
    expect((await api.call('GET', `/v1/tenants/${reseller.tenantId}/customers`, { token })).status).toBe(404);
  });

  it("needs its own scope, and a session minted by a token keeps the token's scopes, addresses and expiry", async () => {
    const mint = (body: Record<string, unknown>) =>
      api.call('POST', `/v1/tenants/${reseller.tenantId}/api-tokens`, { token: reseller.token, body });
    const customersOnly = await mint({ name: 'crm', scopes: ['customers:write', 'customers:read'] });
    const refused = await impersonate({ ...reseller, token: customersOnly.json.token }, customer.tenantId);
    expect(refused.status).toBe(403);
    expect(refused.json.detail).toMatch(/customers:impersonate/);

    const support = await mint({
      name: 'support desk',
      scopes: ['customers:impersonate', 'servers:read'],
      allowedCidrs: ['127.0.0.0/8'],
      expiresAt: new Date(Date.now() + 120_000).toISOString(),
    });
    const issued = await impersonate({ ...reseller, token: support.json.token }, customer.tenantId);
    expect(issued.status).toBe(200);
    expect(issued.json.expiresIn).toBeLessThanOrEqual(120);
    expect(issued.json.actor).toEqual({
      userId: expect.any(String),
      tenantId: reseller.tenantId,
      tokenId: support.json.id,
    });
    const session = issued.json.accessToken as string;
    const claims = JSON.parse(Buffer.from(session.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({
      scope: 'customers:impersonate servers:read',
      cidr: ['127.0.0.0/8'],
      act: { tok: support.json.id },
    });
    expect(claims.exp).toBeLessThanOrEqual(Math.ceil(Date.parse(support.json.expiresAt) / 1000));
    const servers = `/v1/tenants/${customer.tenantId}/servers`;
    expect((await api.call('GET', servers, { token: session })).status).toBe(200);
    const write = await api.call('POST', servers, { token: session, body: { name: 'x', provider: 'local' } });
    expect(write.status).toBe(403);
    const log = await api.call('GET', `/v1/tenants/${customer.tenantId}/audit-log`, {
      token: customer.token,
    });
    expect(
      log.json.items.find((e: { action: string }) => e.action === 'auth.impersonation.started'),
    ).toMatchObject({
      detail: { tokenId: support.json.id, scopes: ['customers:impersonate', 'servers:read'] },
    });
    // the session ends with the token that minted it
    await api.call('DELETE', `/v1/tenants/${reseller.tenantId}/api-tokens/${support.json.id}`, {
      token: reseller.token,
    });
    expect((await api.call('GET', servers, { token: session })).status).toBe(401);
  });

  it("is refused to anyone but the customer's resellers, and for a suspended customer", async () => {
    expect((await impersonate(otherReseller, customer.tenantId)).status).toBe(404);
    expect((await impersonate(customer, sibling.tenantId)).status).toBe(404);
    const bad = await impersonate(reseller, customer.tenantId, '');
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe('body.reason');
    const base = `/v1/tenants/${reseller.tenantId}/customers/${sibling.tenantId}`;
    await api.call('POST', `${base}/suspend`, { token: reseller.token, body: { reason: 'Abuse' } });
    expect((await impersonate(reseller, sibling.tenantId)).status).toBe(409);
    await api.call('POST', `${base}/unsuspend`, { token: reseller.token });
  });
});
