import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditItem } from '../../layers/audit/audit';
import { allows } from '../../layers/auth/permissions';
import type { Principal } from '../../layers/auth/tokens';
import { AppError } from '../../layers/errors/app-error';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import { type ApiTokenItem, apiTokenKeys } from '../../layers/model/api-tokens';
import { auditKeys } from '../../layers/model/audit-log';
import { type UserItem, userKeys } from '../../layers/model/users';
import type { Store } from '../../layers/store/store';
import { putItem } from '../../layers/store/writes';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { checkApiToken, ipAllowed, makeCreateApiToken, makeRevokeApiToken, type TokenDeps } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let now = new Date('2026-12-01T09:00:00Z');
const clock: Clock = { now: () => now };
const ids = ulidIds();
let deps: TokenDeps;
const owner: Principal = {
  tenantId: 'ten_01jtokensowner0000000000000',
  userId: 'usr_01jtokensowner000000000000',
  role: 'owner',
};
const developer: Principal = { ...owner, userId: 'usr_01jtokensdeveloper00000000', role: 'developer' };

/** A member of the tenant as the members context keeps it (its password is never checked here). */
const member = (principal: Principal): UserItem => ({
  ...userKeys.item(principal.tenantId, principal.userId),
  entity: 'user',
  id: principal.userId,
  tenantId: principal.tenantId,
  email: `${principal.userId}@example.com`,
  name: principal.userId,
  role: principal.role,
  passwordHash: 'unused',
  createdAt: now.toISOString(),
  version: 1,
});

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  deps = { store, clock, ids };
  await store.transact([putItem(member(owner)), putItem(member(developer))]);
});

afterAll(async () => {
  await dynamo?.stop();
});

const create = (input: Partial<Parameters<ReturnType<typeof makeCreateApiToken>>[2]> = {}, creator = owner) =>
  makeCreateApiToken(deps)(creator.tenantId, creator, {
    name: 'sync',
    scopes: ['servers:read'],
    allowedCidrs: [],
    ...input,
  });

const check = (token: string, sourceIp = '198.51.100.7', userAgent = 'sync/1.0') =>
  checkApiToken({ store, clock, auditRetentionDays: 90 }, token, { sourceIp, userAgent });

describe('Service: API tokens', () => {
  it('hands out vhp_<id>_<secret> once and keeps only its hash, on the token and its tenant link', async () => {
    const { item, token } = await create({ scopes: ['servers:read', 'servers:read', 'sites:read'] });
    expect(token).toMatch(/^vhp_[0-9a-z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(item.scopes).toEqual(['servers:read', 'sites:read']);
    const secret = token.slice(-43);
    const stored = await store.get<ApiTokenItem>(apiTokenKeys.item(item.id), true);
    const link = await store.get<ApiTokenItem>(apiTokenKeys.link(owner.tenantId, item.id), true);
    expect(stored?.secretHash).toBeDefined();
    expect(JSON.stringify([stored, link])).not.toContain(secret);
    expect(link).not.toHaveProperty('secretHash');
    expect(link).toMatchObject({ name: 'sync', scopes: ['servers:read', 'sites:read'], revokedAt: null });
  });

  it("grants only scopes its creator's role allows, naming the field", async () => {
    const refused = await create({ scopes: ['servers:read', 'members:write'] }, developer).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).status).toBe(400);
    expect((refused as AppError).errors).toEqual([
      { path: 'body.scopes', message: 'Your role cannot grant members:write' },
    ]);
    expect((await create({ scopes: ['servers:read'] }, developer)).item.createdBy).toEqual({
      userId: developer.userId,
      role: 'developer',
    });
  });

  it("answers with its creator's role and scopes, and says why it refuses one", async () => {
    const { item, token } = await create();
    expect(await check(token)).toEqual({
      ok: true,
      principal: {
        tenantId: owner.tenantId,
        userId: owner.userId,
        role: 'owner',
        scopes: ['servers:read'],
        tokenId: item.id,
      },
    });
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await check(tampered)).toEqual({ ok: false, reason: 'invalid' });
    expect(await check('vhp_not-a-token')).toEqual({ ok: false, reason: 'invalid' });

    const expiring = await create({ expiresAt: new Date(now.getTime() + 60_000).toISOString() });
    expect((await check(expiring.token)).ok).toBe(true);
    now = new Date(now.getTime() + 61_000);
    expect(await check(expiring.token)).toEqual({ ok: false, reason: 'expired' });

    const office = await create({ allowedCidrs: ['198.51.100.0/24', '2001:db8::/32'] });
    expect((await check(office.token, '198.51.100.200')).ok).toBe(true);
    expect((await check(office.token, '2001:db8::1')).ok).toBe(true);
    expect(await check(office.token, '203.0.113.1')).toEqual({ ok: false, reason: 'address-not-allowed' });
  });

  it("acts with its creator's current role, and the least of that role and its scopes", async () => {
    const admin: Principal = { ...owner, userId: 'usr_01jtokensdemotedadmin00000', role: 'admin' };
    await store.transact([putItem(member(admin))]);
    const { token } = await create({ scopes: ['members:write', 'servers:read'] }, admin);
    expect(await check(token)).toMatchObject({ ok: true, principal: { role: 'admin' } });
    // demoted to read-only: the token is read-only too, and cannot write members any more
    await store.update(userKeys.item(admin.tenantId, admin.userId), { role: 'read-only' });
    const checked = await check(token);
    expect(checked).toMatchObject({ ok: true, principal: { role: 'read-only' } });
    const principal = (checked as { principal: Principal }).principal;
    expect(allows(principal, 'members:write')).toBe(false);
    expect(allows(principal, 'servers:read')).toBe(true);
  });

  it('stops working once its creator leaves the tenant, and says so', async () => {
    const leaver: Principal = { ...owner, userId: 'usr_01jtokensleaver000000000000', role: 'admin' };
    await store.transact([putItem(member(leaver))]);
    const { token } = await create({ scopes: ['backups:key'] }, leaver);
    expect((await check(token)).ok).toBe(true);
    await store.remove(userKeys.item(leaver.tenantId, leaver.userId));
    expect(await check(token)).toEqual({ ok: false, reason: 'creator-removed' });
  });

  it('stops working once revoked, and only its own tenant can revoke it', async () => {
    const { item, token } = await create();
    const revoke = makeRevokeApiToken(deps);
    const foreign = await revoke('ten_01janothertenant0000000000', item.id).catch((e: unknown) => e);
    expect((foreign as AppError).status).toBe(404);
    expect((await check(token)).ok).toBe(true);
    await revoke(owner.tenantId, item.id);
    expect(await check(token)).toEqual({ ok: false, reason: 'revoked' });
    const link = await store.get<ApiTokenItem>(apiTokenKeys.link(owner.tenantId, item.id), true);
    expect(link?.revokedAt).toBe(now.toISOString());
  });

  it('records when and where it was last used, and audits the first use from each new address', async () => {
    const { item, token } = await create();
    for (const ip of ['198.51.100.7', '198.51.100.7', '203.0.113.9', '198.51.100.7']) {
      expect((await check(token, ip)).ok).toBe(true);
    }
    const stored = await store.get<ApiTokenItem>(apiTokenKeys.item(item.id), true);
    expect(stored).toMatchObject({ lastUsedIp: '198.51.100.7', lastUsedAt: now.toISOString() });
    const audit = await store.query<AuditItem>({
      pk: auditKeys.partition(owner.tenantId),
      limit: 100,
      tenantId: owner.tenantId,
      scope: 'audit',
      consistent: true,
    });
    // both within the same second of the test's clock: in address order
    const entries = audit.items
      .filter((e) => e.target === `api-token:${item.id}`)
      .sort((a, b) => (a.ip ?? '').localeCompare(b.ip ?? ''));
    expect(entries.map((e) => [e.action, e.ip, e.detail])).toEqual([
      ['auth.token.new-ip', '198.51.100.7', { firstUse: true }],
      ['auth.token.new-ip', '203.0.113.9', { firstUse: false }],
    ]);
    expect(entries[0]).toMatchObject({
      actor: { tokenId: item.id, userId: owner.userId },
      userAgent: 'sync/1.0',
    });
  });

  it('checks addresses against IPv4 and IPv6 blocks, and lets anything through an empty list', () => {
    expect(ipAllowed('10.1.2.3', [])).toBe(true);
    expect(ipAllowed('10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(ipAllowed('11.1.2.3', ['10.0.0.0/8'])).toBe(false);
    expect(ipAllowed('2001:db8:1::5', ['2001:db8::/32'])).toBe(true);
    expect(ipAllowed('2001:db9::5', ['2001:db8::/32'])).toBe(false);
    expect(ipAllowed('not an address', ['0.0.0.0/0'])).toBe(false);
  });
});
