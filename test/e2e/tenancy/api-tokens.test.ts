import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApiToken } from '../../../functions/tokens/service';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, joinAs, signUp, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let stranger: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  // a small reseller plan, so its throttle is reached with a few requests
  runtime = await startTestRuntime({ resellerThrottle: { rateLimit: 2, burstLimit: 10 } });
  api = apiClient(runtime.url);
  owner = await signUp(api, 'tokens@example.com');
  stranger = await signUp(api, 'stranger@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

const createToken = (body: Record<string, unknown>, as = owner) =>
  api.call('POST', `/v1/tenants/${as.tenantId}/api-tokens`, { token: as.token, body });

describe('Feature: API tokens', () => {
  it('hands out a prefixed token once and lists it without its secret', async () => {
    const created = await createToken({ name: 'billing sync', scopes: ['servers:read'] });
    expect(created.status).toBe(201);
    expect(created.json.token).toMatch(/^vhp_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/);
    const list = await api.call('GET', `/v1/tenants/${owner.tenantId}/api-tokens`, { token: owner.token });
    expect(list.json.items).toHaveLength(1);
    // the secret is base64url, so it may itself hold underscores: it is the last 43 characters
    const secret = created.json.token.slice(-43);
    expect(JSON.stringify(list.json)).not.toContain(secret);
    expect(list.json.items[0]).toMatchObject({
      name: 'billing sync',
      scopes: ['servers:read'],
      revokedAt: null,
    });
  });

  it('allows what its scopes allow and answers 403 to the rest', async () => {
    const { json } = await createToken({ name: 'reader', scopes: ['servers:read'] });
    const servers = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers`, { token: json.token });
    expect(servers.status).toBe(200);
    const write = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: json.token,
      body: { name: 'nope', provider: 'local' },
    });
    expect(write.status).toBe(403);
    const mint = await createToken(
      { name: 'escalate', scopes: ['servers:read'] },
      { ...owner, token: json.token },
    );
    expect(mint.status).toBe(403);
    const used = await api.call('GET', `/v1/tenants/${owner.tenantId}/api-tokens`, { token: owner.token });
    const reader = used.json.items.find((t: { name: string }) => t.name === 'reader');
    expect(reader.lastUsedAt).toEqual(expect.any(String));
    expect(reader.lastUsedIp).toBe('127.0.0.1');
  });

  it('refuses scopes that tokens cannot carry', async () => {
    const response = await createToken({ name: 'bad', scopes: ['tokens:write'] });
    expect(response.status).toBe(400);
    expect(response.json.errors[0].path).toBe('body.scopes.0');
  });

  it('holds its IP allow-list', async () => {
    const elsewhere = await createToken({
      name: 'office',
      scopes: ['servers:read'],
      allowedCidrs: ['198.51.100.0/24'],
    });
    expect(
      (await api.call('GET', `/v1/tenants/${owner.tenantId}/servers`, { token: elsewhere.json.token }))
        .status,
    ).toBe(401);
    const local = await createToken({
      name: 'local',
      scopes: ['servers:read'],
      allowedCidrs: ['127.0.0.0/8', '::1/128'],
    });
    expect(
      (await api.call('GET', `/v1/tenants/${owner.tenantId}/servers`, { token: local.json.token })).status,
    ).toBe(200);
    const invalid = await createToken({
      name: 'bad',
      scopes: ['servers:read'],
      allowedCidrs: ['10.0.0.0/33'],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.errors[0].path).toBe('body.allowedCidrs.0');
  });

  it('is revoked by its own tenant only, and a token with a wrong secret gets a 401', async () => {
    const { json } = await createToken({ name: 'short-lived', scopes: ['servers:read'] });
    const foreign = await api.call('DELETE', `/v1/tenants/${stranger.tenantId}/api-tokens/${json.id}`, {
      token: stranger.token,
    });
    expect(foreign.status).toBe(404);
    const revoked = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/api-tokens/${json.id}`, {
      token: owner.token,
    });
    expect(revoked.status).toBe(204);
    const list = await api.call('GET', `/v1/tenants/${owner.tenantId}/api-tokens`, { token: owner.token });
    expect(list.json.items.find((t: { id: string }) => t.id === json.id).revokedAt).toEqual(
      expect.any(String),
    );
    const tampered = `${json.token.slice(0, -1)}${json.token.endsWith('A') ? 'B' : 'A'}`;
    const refused = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers`, { token: tampered });
    expect(refused.status).toBe(401);
    expect(refused.json.detail).toEqual(expect.any(String));
  });
});

describe("Feature: a token holds no more than its creator's membership", () => {
  it("is demoted with its creator at once: a demoted admin's token cannot make them admin again", async () => {
    const admin = await joinAs(runtime, api, owner, 'demoted-admin@example.com', 'admin');
    const minted = await createToken(
      { name: 'members', scopes: ['members:write', 'members:read', 'servers:read'] },
      admin,
    );
    expect(minted.status).toBe(201);
    const token = minted.json.token as string;
    const member = `/v1/tenants/${owner.tenantId}/members/${admin.userId}`;
    // used once as an admin, so the gateway's authorizer has an answer cached for it
    expect((await api.call('GET', `/v1/tenants/${owner.tenantId}/members`, { token })).status).toBe(200);
    const demoted = await api.call('PATCH', member, { token: owner.token, body: { role: 'read-only' } });
    expect(demoted.status).toBe(200);
    const back = await api.call('PATCH', member, { token, body: { role: 'admin' } });
    expect(back.status).toBe(403);
    expect(back.json.detail).toMatch(/read-only/);
    // what the read-only role and the token's scopes both allow still works
    expect((await api.call('GET', `/v1/tenants/${owner.tenantId}/servers`, { token })).status).toBe(200);
    const list = await api.call('GET', `/v1/tenants/${owner.tenantId}/members`, { token: owner.token });
    expect(list.json.items.find((m: { id: string }) => m.id === admin.userId).role).toBe('read-only');
  });

  it('stops working the moment its creator is removed, and is listed as such', async () => {
    const leaver = await joinAs(runtime, api, owner, 'leaver@example.com', 'admin');
    const minted = await createToken(
      { name: 'keys', scopes: ['backups:key', 'members:write', 'sites:secrets'] },
      leaver,
    );
    const token = minted.json.token as string;
    const exportKey = (bearer: string) =>
      api.call('POST', `/v1/tenants/${owner.tenantId}/backup-data-key/export`, { token: bearer });
    const invite = (bearer: string) =>
      api.call('POST', `/v1/tenants/${owner.tenantId}/invitations`, {
        token: bearer,
        body: { email: 'second-admin@example.com', role: 'admin' },
      });
    // cached at the gateway as a working token before the removal
    expect((await api.call('GET', `/v1/tenants/${owner.tenantId}/members`, { token })).status).toBe(403);
    const removed = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/members/${leaver.userId}`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    for (const bearer of [token, leaver.token]) {
      const key = await exportKey(bearer);
      expect(key.status).toBe(401);
      expect(key.json.type).toEqual(expect.any(String));
      expect((await invite(bearer)).status).toBe(401);
    }
    const list = await api.call('GET', `/v1/tenants/${owner.tenantId}/api-tokens`, { token: owner.token });
    expect(list.json.items.find((t: { id: string }) => t.id === minted.json.id)).toMatchObject({
      status: 'creator-removed',
      createdBy: { userId: leaver.userId },
    });
  });
});

const withRetention = <P extends object>(platform: P) => ({ ...platform, auditRetentionDays: 90 });

describe('Feature: usage plans at the gateway', () => {
  it("puts a reseller's tokens on its own usage key in the resellers' plan, everyone else on the standard one", async () => {
    const reseller = await signUp(api, 'usage-reseller@example.com', 'reseller');
    const first = await createToken({ name: 'provisioning', scopes: ['servers:read'] }, reseller);
    const second = await createToken({ name: 'billing', scopes: ['servers:read'] }, reseller);
    expect([first.status, second.status]).toEqual([201, 201]);
    const { getPlatform } = await import('../../../layers/runtime/platform');
    const platform = withRetention(await getPlatform());
    const principals = await Promise.all(
      [first, second].map((t) => verifyApiToken(platform, t.json.token, { sourceIp: '127.0.0.1' })),
    );
    // one key per reseller, shared by its tokens
    expect(principals[0]?.usageKey).toBe(`vip-local-reseller-${reseller.tenantId}`);
    expect(principals[1]?.usageKey).toBe(principals[0]?.usageKey);
    expect(runtime.apiKeys.planOf(principals[0]?.usageKey ?? '')).toBe('resellers');
    // a customer's token carries none, so the authorizer names the standard key
    const customers = await createToken({ name: 'plain', scopes: ['servers:read'] });
    expect(
      (await verifyApiToken(platform, customers.json.token, { sourceIp: '127.0.0.1' }))?.usageKey,
    ).toBeUndefined();
    expect(runtime.apiKeys.planOf('vip-local-standard-usage')).toBe('standard');
  });

  it("throttles a reseller's tokens at its plan's burst, answering the gateway's 429", async () => {
    const reseller = await signUp(api, 'burst-reseller@example.com', 'reseller');
    const token = (await createToken({ name: 'burst', scopes: ['servers:read'] }, reseller)).json.token;
    const path = `/v1/tenants/${reseller.tenantId}/servers`;
    expect((await api.call('GET', path, { token })).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 30 }, () => api.call('GET', path, { token })));
    const throttled = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(9);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]?.json).toMatchObject({ title: 'Too many requests' });
    // the reseller's own user session is on the standard plan, untouched by its tokens' burst
    expect((await api.call('GET', path, { token: reseller.token })).status).toBe(200);
  });
});
