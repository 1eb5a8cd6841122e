import { describe, expect, it } from 'vitest';
import {
  before,
  problem,
  readRoute,
  usePipelineFixture,
  who,
  writeRoute,
} from '../../../test/support/pipeline';
import type { Principal } from '../../auth/tokens';
import { type ApiTokenItem, apiTokenKeys } from '../../model/api-tokens';
import { type RefreshFamilyItem, sessionKeys } from '../../model/sessions';
import { type UserItem, userKeys } from '../../model/users';
import { putItem } from '../../store/writes';
import { currency } from './currency';

/** The currency middleware alone, against DynamoDB Local: what a principal is worth at this moment. */
const fx = usePipelineFixture();

const memberOf = (tenantId: string, userId: string, role: UserItem['role']): UserItem => ({
  ...userKeys.item(tenantId, userId),
  entity: 'user',
  id: userId,
  tenantId,
  email: `${userId}@example.com`,
  name: userId,
  role,
  passwordHash: 'unused',
  createdAt: '2026-12-01T00:00:00.000Z',
  version: 1,
});

async function judged(principal: Principal, spec = readRoute) {
  const request = fx.requestFor(spec, { principal, tenantId: principal.tenantId });
  await before(currency(), request);
  return Promise.all(request.event.routed?.checks ?? []);
}

describe('Middleware: currency', () => {
  it("refuses a removed member's session, and judges a member by the role they have now", async () => {
    const userId = 'usr_01jcurrencydemoted00000000';
    await fx.store.transact([putItem(memberOf(fx.stranger.id, userId, 'admin'))]);
    const session = who(fx.stranger, { userId, role: 'admin', issuedAt: 1 });
    await expect(judged(session, writeRoute)).resolves.toBeDefined();
    await fx.store.update(userKeys.item(fx.stranger.id, userId), { role: 'read-only' });
    // the token still says admin; the role now says no
    await expect(judged(session, writeRoute)).rejects.toEqual(problem(403));
    await expect(judged(session)).resolves.toBeDefined();
    await fx.store.remove(userKeys.item(fx.stranger.id, userId));
    await expect(judged(session)).rejects.toEqual(problem(401));
  });

  it('ends a session at once on a logout, a reuse or a password change', async () => {
    const userId = 'usr_01jcurrencysession00000000';
    await fx.store.transact([
      putItem(memberOf(fx.stranger.id, userId, 'developer')),
      putItem({
        ...sessionKeys.refreshFamily('rt_currency'),
        entity: 'refresh-family',
        tenantId: fx.stranger.id,
        userId,
        createdAt: '2026-12-01T00:00:00.000Z',
        expiresAt: 4_000_000_000,
      } satisfies RefreshFamilyItem),
    ]);
    const issuedAt = Math.floor(Date.parse('2026-12-01T10:00:00Z') / 1000);
    const session = who(fx.stranger, { userId, role: 'developer', sessionId: 'rt_currency', issuedAt });
    await expect(judged(session)).resolves.toBeDefined();
    await fx.store.update(sessionKeys.refreshFamily('rt_currency'), { revokedAt: '2026-12-01T10:01:00Z' });
    await expect(judged(session)).rejects.toEqual(problem(401));
    const other = { ...session, sessionId: 'rt_unknown' };
    await expect(judged(other)).rejects.toEqual(problem(401));
    const { sessionId: _none, ...withoutSession } = session;
    await expect(judged(withoutSession)).resolves.toBeDefined();
    await fx.store.update(userKeys.item(fx.stranger.id, userId), {
      sessionsValidAfter: '2026-12-01T10:05:00Z',
    });
    await expect(judged(withoutSession)).rejects.toEqual(problem(401));
    await expect(judged({ ...withoutSession, issuedAt: issuedAt + 600 })).resolves.toBeDefined();
  });

  it('refuses a revoked or expired API token, and a login-as session once its token is revoked', async () => {
    const userId = 'usr_01jcurrencytokens000000000';
    const tokenId = 'tok_01jcurrencytoken0000000000';
    await fx.store.transact([
      putItem(memberOf(fx.reseller.id, userId, 'admin')),
      putItem({
        ...apiTokenKeys.item(tokenId),
        entity: 'api-token',
        id: tokenId,
        tenantId: fx.reseller.id,
        name: 'support',
        secretHash: 'unused',
        scopes: ['servers:read', 'customers:impersonate'],
        createdBy: { userId, role: 'admin' },
        allowedCidrs: [],
        tokenExpiresAt: null,
        lastUsedAt: null,
        lastUsedIp: null,
        revokedAt: null,
        createdAt: '2026-12-01T00:00:00.000Z',
      } satisfies ApiTokenItem),
    ]);
    const token = who(fx.reseller, { userId, role: 'admin', tokenId, scopes: ['servers:read'] });
    const loginAs = who(fx.customer, {
      userId,
      role: 'admin',
      scopes: ['servers:read'],
      actor: { userId, tenantId: fx.reseller.id, tokenId },
    });
    await expect(judged(token)).resolves.toBeDefined();
    await expect(judged(loginAs)).resolves.toBeDefined();
    // the actor demoted below what may log in as a customer: the session ends
    await fx.store.update(userKeys.item(fx.reseller.id, userId), { role: 'developer' });
    await expect(judged(loginAs)).rejects.toEqual(problem(401));
    await fx.store.update(userKeys.item(fx.reseller.id, userId), { role: 'admin' });
    await fx.store.update(apiTokenKeys.item(tokenId), { tokenExpiresAt: '2026-12-01T09:00:00.000Z' });
    await expect(judged(token)).rejects.toEqual(problem(401));
    await fx.store.update(apiTokenKeys.item(tokenId), {
      tokenExpiresAt: null,
      revokedAt: '2026-12-01T10:00:00Z',
    });
    await expect(judged(token)).rejects.toEqual(problem(401));
    await expect(judged(loginAs)).rejects.toEqual(problem(401));
  });
});
