import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPasswordCost } from '../../layers/auth/passwords';
import { generateSecrets } from '../../layers/auth/secrets';
import { makeTokenSigner, type Principal } from '../../layers/auth/tokens';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import { tenantKeys } from '../../layers/model/tenants';
import type { Store } from '../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { refusal } from '../../test/support/refusal';
import {
  type AuthAudit,
  type AuthDeps,
  makeChangePassword,
  makeConfirmPasswordReset,
  makeLogin,
  makeLogout,
  makeRefresh,
  makeRequestPasswordReset,
  makeSignup,
  RESET_MAILS_PER_HOUR,
} from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let now = new Date('2026-12-01T09:00:00Z');
const clock: Clock = { now: () => now };
const ids = ulidIds();
let deps: AuthDeps;
const audited: Parameters<AuthAudit>[0][] = [];
const mails: { to: string; text: string }[] = [];
const password = 'a long enough password';

beforeAll(async () => {
  setPasswordCost(12);
  ({ dynamo, store } = await startTestStore(clock));
  const signer = await makeTokenSigner(
    await generateSecrets(now),
    { issuer: 'https://issuer.test', audience: 'vip', accessTokenTtlSeconds: 900 },
    clock,
  );
  deps = {
    store,
    clock,
    ids,
    signer,
    refreshTokenTtlSeconds: 3600,
    audit: async (event) => {
      audited.push(event);
    },
  };
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A new account and its first session. */
async function account(email: string) {
  const { tenant, user } = await makeSignup(deps)({
    email,
    password,
    name: 'O',
    tenantName: email,
    kind: 'customer',
  });
  const session = await makeLogin(deps)({ email, password, sourceIp: '198.51.100.1' });
  return { tenantId: tenant.id, userId: user.id, session };
}

const later = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};

describe('Service: sessions', () => {
  it('rotates a refresh token that works once; a replay revokes its whole family and is audited', async () => {
    const { tenantId, userId, session } = await account('family@example.com');
    const second = await makeRefresh(deps)({ refreshToken: session.refreshToken });
    const third = await makeRefresh(deps)({ refreshToken: second.refreshToken });
    expect(third.refreshToken).not.toBe(second.refreshToken);
    expect(await refusal(makeRefresh(deps)({ refreshToken: session.refreshToken }))).toMatchObject({
      status: 401,
    });
    // the newest token of the family dies with it
    expect((await refusal(makeRefresh(deps)({ refreshToken: third.refreshToken }))).status).toBe(401);
    expect(audited.filter((e) => e.action === 'auth.refresh.reused')).toEqual([
      { tenantId, userId, action: 'auth.refresh.reused', result: 'denied', status: 401 },
    ]);
    // a new login is a new family
    const again = await makeLogin(deps)({ email: 'family@example.com', password, sourceIp: '198.51.100.1' });
    expect((await makeRefresh(deps)({ refreshToken: again.refreshToken })).accessToken).toEqual(
      expect.any(String),
    );
    expect((await refusal(makeRefresh(deps)({ refreshToken: 'vrt_unknown' }))).status).toBe(401);
  });

  it('ends a session on logout, and accepts an unknown token silently', async () => {
    const { session } = await account('logout@example.com');
    await makeLogout(deps)({ refreshToken: session.refreshToken });
    expect((await refusal(makeRefresh(deps)({ refreshToken: session.refreshToken }))).status).toBe(401);
    await expect(makeLogout(deps)({ refreshToken: 'vrt_unknown' })).resolves.toBeUndefined();
  });

  it('refuses a refresh while the tenant is suspended, and signs in again once it is lifted', async () => {
    const { tenantId, session } = await account('suspended@example.com');
    await store.update(tenantKeys.item(tenantId), { status: 'suspended' });
    expect((await refusal(makeRefresh(deps)({ refreshToken: session.refreshToken }))).status).toBe(401);
    await store.update(tenantKeys.item(tenantId), { status: 'active' });
    const fresh = await makeLogin(deps)({
      email: 'suspended@example.com',
      password,
      sourceIp: '198.51.100.1',
    });
    expect((await makeRefresh(deps)({ refreshToken: fresh.refreshToken })).accessToken).toEqual(
      expect.any(String),
    );
  });

  it('resets a forgotten password by a mailed token, once, ending every session; unknown emails get nothing', async () => {
    const { session } = await account('forgot@example.com');
    const withMail = {
      ...deps,
      sendMail: async (mail: { to: string; text: string }) => mails.push(mail),
      urls: {},
    };
    await makeRequestPasswordReset(withMail)({ email: 'nobody@example.com' });
    expect(mails).toEqual([]);
    await makeRequestPasswordReset(withMail)({ email: 'forgot@example.com' });
    const token = /(vpr_[A-Za-z0-9_-]{43})/.exec(mails.at(-1)?.text ?? '')?.[1] ?? '';
    expect(token).not.toBe('');
    later(1);
    await makeConfirmPasswordReset(deps)({ token, password: 'a brand new password' });
    expect(
      await refusal(makeConfirmPasswordReset(deps)({ token, password: 'yet another one!' })),
    ).toMatchObject({
      status: 400,
      path: 'body.token',
    });
    expect((await refusal(makeRefresh(deps)({ refreshToken: session.refreshToken }))).status).toBe(401);
    expect(
      (await refusal(makeLogin(deps)({ email: 'forgot@example.com', password, sourceIp: '198.51.100.2' })))
        .status,
    ).toBe(401);
    const next = await makeLogin(deps)({
      email: 'forgot@example.com',
      password: 'a brand new password',
      sourceIp: '198.51.100.2',
    });
    expect(next.accessToken).toEqual(expect.any(String));
  });

  it('kills an older reset token once a newer one was used, and mails an address a few resets an hour', async () => {
    await account('twice@example.com');
    const sent: { to: string; text: string }[] = [];
    const withMail = {
      ...deps,
      sendMail: async (mail: { to: string; text: string }) => sent.push(mail),
      urls: {},
    };
    const tokenOf = (mail: { text: string } | undefined) =>
      /(vpr_[A-Za-z0-9_-]{43})/.exec(mail?.text ?? '')?.[1] ?? '';
    await makeRequestPasswordReset(withMail)({ email: 'twice@example.com' });
    later(1);
    await makeRequestPasswordReset(withMail)({ email: 'twice@example.com' });
    const [older, newer] = sent.map(tokenOf);
    later(1);
    await makeConfirmPasswordReset(deps)({ token: newer ?? '', password: 'the newer password' });
    expect(
      await refusal(makeConfirmPasswordReset(deps)({ token: older ?? '', password: 'the older one!!' })),
    ).toMatchObject({ status: 400, path: 'body.token' });
    // a flood of requests sends at most RESET_MAILS_PER_HOUR mails in the hour, and answers alike
    for (let i = 0; i < 20; i += 1) await makeRequestPasswordReset(withMail)({ email: 'twice@example.com' });
    expect(sent.filter((m) => m.to === 'twice@example.com')).toHaveLength(RESET_MAILS_PER_HOUR);
    later(3600);
    await makeRequestPasswordReset(withMail)({ email: 'twice@example.com' });
    expect(sent.filter((m) => m.to === 'twice@example.com')).toHaveLength(RESET_MAILS_PER_HOUR + 1);
  });

  it('changes a password with the current one, ending the other sessions and handing this one new tokens', async () => {
    const { tenantId, userId, session } = await account('change@example.com');
    const principal: Principal = { tenantId, userId, role: 'owner' };
    const change = makeChangePassword(deps);
    expect(
      await refusal(
        change(principal, { currentPassword: 'not the password', newPassword: 'a brand new password' }),
      ),
    ).toMatchObject({ status: 400, path: 'body.currentPassword' });
    later(1);
    const tokens = await change(principal, {
      currentPassword: password,
      newPassword: 'a brand new password',
    });
    expect((await refusal(makeRefresh(deps)({ refreshToken: session.refreshToken }))).status).toBe(401);
    later(1);
    expect((await makeRefresh(deps)({ refreshToken: tokens.refreshToken })).accessToken).toEqual(
      expect.any(String),
    );
  });
});
