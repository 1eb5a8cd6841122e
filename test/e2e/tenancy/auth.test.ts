import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSigningKey } from '../../../layers/auth/secrets';
import { makeTokenSigner } from '../../../layers/auth/tokens';
import { totpCode } from '../../../layers/auth/totp';
import { systemClock } from '../../../layers/ids/ids';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, signUp, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  // re-read signing keys on the first unknown key id, so rotation is visible at once here
  process.env.SIGNING_KEYS_RELOAD_THROTTLE_SECONDS = '0';
  // and see a tenant's settings on the very next request
  process.env.TENANT_STATUS_CACHE_SECONDS = '0';
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
});

afterAll(async () => {
  await runtime?.stop();
});

const login = (email: string, password: string) =>
  api.call('POST', '/v1/auth/login', { body: { email, password } });
const refresh = (refreshToken: string) => api.call('POST', '/v1/auth/refresh', { body: { refreshToken } });

describe('Feature: login slow-down', () => {
  it('holds back an address after 5 failures on an email, with Retry-After and RateLimit headers', async () => {
    const { password } = await signUp(api, 'locked@example.com');
    for (let i = 0; i < 5; i += 1) {
      const failed = await login('locked@example.com', 'wrong password!');
      expect(failed.status).toBe(401);
      expect(failed.headers.get('ratelimit-limit')).toEqual(expect.any(String));
    }
    const locked = await login('locked@example.com', password);
    expect(locked.status).toBe(429);
    expect(locked.json).toMatchObject({ status: 429, title: 'Too many attempts' });
    // 30 s from the last failure, whose second may already have passed
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect(locked.headers.get('ratelimit-remaining')).toEqual(expect.any(String));
  });
});

describe('Feature: logout', () => {
  it('ends the session on logout', async () => {
    const session = await signUp(api, 'logout@example.com');
    const logout = await api.call('POST', '/v1/auth/logout', {
      body: { refreshToken: session.refreshToken },
    });
    expect(logout.status).toBe(204);
    expect((await refresh(session.refreshToken)).status).toBe(401);
    expect(
      (await api.call('POST', '/v1/auth/logout', { body: { refreshToken: 'vrt_unknown' } })).status,
    ).toBe(204);
  });
});

describe('Feature: JWKS', () => {
  it('publishes the public keys that verify access tokens, and no private parts', async () => {
    const session = await signUp(api, 'jwks@example.com');
    const jwks = await api.call('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    for (const key of jwks.json.keys) {
      expect(key).toMatchObject({
        kty: 'EC',
        crv: 'P-256',
        alg: 'ES256',
        use: 'sig',
        kid: expect.any(String),
      });
      expect(key).not.toHaveProperty('d');
    }
    const { payload } = await jwtVerify(session.token, createLocalJWKSet(jwks.json));
    expect(payload.tid).toBe(session.tenantId);
  });
});

describe('Feature: two-factor authentication (TOTP)', () => {
  it('enrolls with an otpauth URI, confirms with a code, then requires a second factor at login', async () => {
    const session = await signUp(api, 'totp@example.com');
    const started = await api.call('POST', '/v1/auth/2fa/totp', { token: session.token });
    expect(started.status).toBe(200);
    expect(new URL(started.json.otpauthUri).searchParams.get('secret')).toBe(started.json.secret);
    const secret = Secret.fromBase32(started.json.secret);

    const wrong = await api.call('POST', '/v1/auth/2fa/totp/confirm', {
      token: session.token,
      body: { code: '000000' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json.errors[0].path).toBe('body.code');
    // the code of the previous time step is accepted for clock drift; the current one is kept for login
    const confirmCode = totpCode(secret, new Date(Date.now() - 30_000));
    const confirmed = await api.call('POST', '/v1/auth/2fa/totp/confirm', {
      token: session.token,
      body: { code: confirmCode },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.json.recoveryCodes).toHaveLength(10);

    const withoutCode = await login('totp@example.com', session.password);
    expect(withoutCode.status).toBe(401);
    expect(withoutCode.json).toMatchObject({
      title: 'Second factor required',
      errors: [{ path: 'body.otp' }],
    });

    const code = totpCode(secret, new Date());
    const withCode = await api.call('POST', '/v1/auth/login', {
      body: { email: 'totp@example.com', password: session.password, otp: code },
    });
    expect(withCode.status).toBe(200);
    const replayed = await api.call('POST', '/v1/auth/login', {
      body: { email: 'totp@example.com', password: session.password, otp: code },
    });
    expect(replayed.status).toBe(401);

    const recoveryCode = confirmed.json.recoveryCodes[0];
    const withRecovery = await api.call('POST', '/v1/auth/login', {
      body: { email: 'totp@example.com', password: session.password, otp: recoveryCode },
    });
    expect(withRecovery.status).toBe(200);
    const recoveryAgain = await api.call('POST', '/v1/auth/login', {
      body: { email: 'totp@example.com', password: session.password, otp: recoveryCode },
    });
    expect(recoveryAgain.status).toBe(401);

    const disabled = await api.call('POST', '/v1/auth/2fa/totp/disable', {
      token: withRecovery.json.accessToken,
      body: { code: confirmed.json.recoveryCodes[1] },
    });
    expect(disabled.status).toBe(204);
    expect((await login('totp@example.com', session.password)).status).toBe(200);
  });
});

describe('Feature: a tenant that requires two-factor authentication', () => {
  it('lets a password-only session do nothing but enroll, until its user logs in with a code', async () => {
    const session = await signUp(api, 'strict@example.com');
    const tenantPath = `/v1/tenants/${session.tenantId}`;
    const before = await api.call('GET', tenantPath, { token: session.token });
    expect(before.json.requireTwoFactor).toBe(false);
    const stale = await api.call('PATCH', tenantPath, {
      token: session.token,
      body: { requireTwoFactor: true },
      headers: { 'if-match': '"v9"' },
    });
    expect(stale.status).toBe(412);
    const required = await api.call('PATCH', tenantPath, {
      token: session.token,
      body: { requireTwoFactor: true },
    });
    expect(required.status).toBe(200);
    expect(required.json.requireTwoFactor).toBe(true);

    const refused = await api.call('GET', `${tenantPath}/servers`, { token: session.token });
    expect(refused.status).toBe(403);
    expect(refused.json.type).toMatch(/two-factor-enrollment-required$/);
    // a refresh of the password-only session is just as limited
    const refreshed = await refresh(session.refreshToken);
    expect((await api.call('GET', tenantPath, { token: refreshed.json.accessToken })).status).toBe(403);

    const started = await api.call('POST', '/v1/auth/2fa/totp', { token: session.token });
    expect(started.status).toBe(200);
    const secret = Secret.fromBase32(started.json.secret);
    const confirmed = await api.call('POST', '/v1/auth/2fa/totp/confirm', {
      token: session.token,
      body: { code: totpCode(secret, new Date(Date.now() - 30_000)) },
    });
    expect(confirmed.status).toBe(200);
    const withCode = await api.call('POST', '/v1/auth/login', {
      body: { email: 'strict@example.com', password: session.password, otp: totpCode(secret, new Date()) },
    });
    expect(withCode.status).toBe(200);
    const allowed = await api.call('GET', `${tenantPath}/servers`, { token: withCode.json.accessToken });
    expect(allowed.status).toBe(200);
  });

  it("lets only a session signed in with a second factor lift the requirement, a reseller's staff's too", async () => {
    const reseller = await signUp(api, 'strict-reseller@example.com', 'reseller');
    const customer = await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
      token: reseller.token,
      body: {
        name: 'Strict customer',
        kind: 'customer',
        owner: { email: 'strict-customer@example.com', name: 'Owner', password: reseller.password },
      },
    });
    expect(customer.status, customer.text).toBe(201);
    const customerPath = `/v1/tenants/${customer.json.id}`;
    const set = await api.call('PATCH', customerPath, {
      token: reseller.token,
      body: { requireTwoFactor: true },
    });
    expect(set.status).toBe(200);
    const lifted = await api.call('PATCH', customerPath, {
      token: reseller.token,
      body: { requireTwoFactor: false },
    });
    expect(lifted.status).toBe(403);
    expect(lifted.json.detail).toMatch(/second factor/);
    expect((await api.call('GET', customerPath, { token: reseller.token })).json.requireTwoFactor).toBe(true);
  });

  it('names the field when the update is empty', async () => {
    const session = await signUp(api, 'empty-update@example.com');
    const empty = await api.call('PATCH', `/v1/tenants/${session.tenantId}`, {
      token: session.token,
      body: {},
    });
    expect(empty.status).toBe(400);
    expect(empty.json.errors[0].path).toBe('body.name');
  });
});

describe('Feature: passwords', () => {
  const resetTokenFor = (email: string) => {
    const mails = readFileSync(runtime.outboxPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const mail = mails.filter((m: { to: string[] }) => m.to.includes(email)).at(-1);
    return /(vpr_[A-Za-z0-9_-]{43})/.exec(mail?.text ?? '')?.[1] ?? '';
  };

  it('resets a forgotten password by emailed token, once, ending every session', async () => {
    const session = await signUp(api, 'forgot@example.com');
    const known = await api.call('POST', '/v1/auth/password-reset', {
      body: { email: 'forgot@example.com' },
    });
    const unknown = await api.call('POST', '/v1/auth/password-reset', {
      body: { email: 'nobody-here@example.com' },
    });
    expect([known.status, unknown.status]).toEqual([202, 202]);
    expect(known.text).toBe(unknown.text);
    const token = resetTokenFor('forgot@example.com');
    expect(token).toMatch(/^vpr_/);
    const confirmed = await api.call('POST', '/v1/auth/password-reset/confirm', {
      body: { token, password: 'a brand new password' },
    });
    expect(confirmed.status).toBe(204);
    const again = await api.call('POST', '/v1/auth/password-reset/confirm', {
      body: { token, password: 'yet another password' },
    });
    expect(again.status).toBe(400);
    expect(again.json.errors[0].path).toBe('body.token');
    expect((await refresh(session.refreshToken)).status).toBe(401);
    expect((await login('forgot@example.com', session.password)).status).toBe(401);
    expect((await login('forgot@example.com', 'a brand new password')).status).toBe(200);
  });

  it('changes the password with the current one, ending other sessions', async () => {
    const session = await signUp(api, 'change@example.com');
    const other = await login('change@example.com', session.password);
    const wrong = await api.call('POST', '/v1/auth/password', {
      token: session.token,
      body: { currentPassword: 'not the password', newPassword: 'a changed password' },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json.errors[0].path).toBe('body.currentPassword');
    const changed = await api.call('POST', '/v1/auth/password', {
      token: session.token,
      body: { currentPassword: session.password, newPassword: 'a changed password' },
    });
    expect(changed.status).toBe(200);
    expect((await refresh(other.json.refreshToken)).status).toBe(401);
    expect((await refresh(changed.json.refreshToken)).status).toBe(200);
  });
});

describe('Feature: signing key rotation', () => {
  it('rotates the signing key without logging anyone out', async () => {
    const session = await signUp(api, 'rotate@example.com');
    const rotated = await rotateSigningKey(runtime.clients.ssm, runtime.names.secretsParameter, {
      now: new Date(),
    });
    expect(rotated.signingKeys).toHaveLength(2);
    // a token of the old key still works
    expect((await api.call('GET', `/v1/tenants/${session.tenantId}`, { token: session.token })).status).toBe(
      200,
    );
    // a token of the new key works before this function has read the keys again
    const { getConfig } = await import('../../../layers/config/config');
    const config = getConfig();
    const signer = await makeTokenSigner(
      rotated,
      { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, accessTokenTtlSeconds: 60 },
      systemClock,
    );
    const { token } = await signer.sign({
      tenantId: session.tenantId,
      userId: session.userId,
      role: 'owner',
    });
    expect((await api.call('GET', `/v1/tenants/${session.tenantId}`, { token })).status).toBe(200);
    const jwks = await api.call('GET', '/.well-known/jwks.json');
    expect(jwks.json.keys.map((k: { kid: string }) => k.kid)).toEqual(rotated.signingKeys.map((k) => k.kid));
    // new logins are signed with the new key
    const fresh = await login('rotate@example.com', session.password);
    const [header] = fresh.json.accessToken.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString()).kid).toBe(rotated.signingKeys[0]?.kid);
  });
});
