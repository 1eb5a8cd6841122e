import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecrets } from '../../layers/auth/secrets';
import { makeTokenSigner } from '../../layers/auth/tokens';
import { totpCode } from '../../layers/auth/totp';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import type { Store } from '../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { LOCKOUT, lockSeconds, makeLogin, makeSignup } from './service';
import { makeConfirmTotpEnrollment, makeStartTotpEnrollment } from './two-factor';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let now = new Date('2026-11-27T10:00:00Z');
const clock: Clock = { now: () => now };
let login: ReturnType<typeof makeLogin>;
let store: Store;
const ids = ulidIds();
const password = 'the right password';
const thresholds = { pair: 3, address: 6, account: 10 };

const signUp = (email: string) =>
  makeSignup({ store, clock, ids })({ email, password, name: 'O', tenantName: 'T', kind: 'customer' });

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  const signer = await makeTokenSigner(
    await generateSecrets(now),
    { issuer: 'https://issuer.test', audience: 'vip', accessTokenTtlSeconds: 900 },
    clock,
  );
  // lower thresholds than LOCKOUT's, so a spread attack takes a few attempts, not fifty hashes
  login = makeLogin({ store, clock, ids, signer, refreshTokenTtlSeconds: 3600, lockout: thresholds });
});

afterAll(async () => {
  await dynamo?.stop();
});

const attempt = (email: string, secret: string, sourceIp: string, otp?: string) =>
  login({ email, password: secret, sourceIp, ...(otp ? { otp } : {}) }).then(
    () => ({ status: 200, detail: '', retryAfter: 0 }),
    (error: { status: number; detail: string; headers: Record<string, string> }) => ({
      status: error.status,
      detail: error.detail,
      retryAfter: Number(error.headers['Retry-After'] ?? 0),
    }),
  );
const later = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};

describe('Service: login brute-force protection', () => {
  it('slows an address down after its failures on an email, and the owner still signs in from elsewhere', async () => {
    await signUp('owner@example.com');
    const attacker = '203.0.113.7';
    for (let i = 0; i < thresholds.pair; i += 1) {
      expect((await attempt('owner@example.com', 'wrong', attacker)).status).toBe(401);
    }
    const held = await attempt('owner@example.com', password, attacker);
    expect(held.status).toBe(429);
    expect(held.retryAfter).toBe(LOCKOUT.firstLockSeconds);
    // the owner, elsewhere, is not held back at all
    expect((await attempt('owner@example.com', password, '198.51.100.2')).status).toBe(200);
    // after the slow-down, each further failure from the attacker doubles it
    later(LOCKOUT.firstLockSeconds + 1);
    expect((await attempt('owner@example.com', 'wrong', attacker)).status).toBe(401);
    expect((await attempt('owner@example.com', password, attacker)).retryAfter).toBe(
      LOCKOUT.firstLockSeconds * 2,
    );
    expect(lockSeconds(thresholds.pair + 20, thresholds.pair)).toBe(LOCKOUT.windowSeconds);
  });

  it('holds back an address that tries many emails, whatever the emails', async () => {
    const sprayer = '203.0.113.8';
    for (let i = 0; i < thresholds.address; i += 1) {
      expect((await attempt(`guess-${i}@example.com`, 'wrong', sprayer)).status).toBe(401);
    }
    expect((await attempt('another-guess@example.com', 'wrong', sprayer)).status).toBe(429);
    expect((await attempt('another-guess@example.com', 'wrong', '203.0.113.9')).status).toBe(401);
  });

  it("meets a spread attack by holding back the addresses that failed, never the owner's new one", async () => {
    await signUp('spread@example.com');
    later(60);
    // a botnet: each address stays under its own limits, and together they pass the email's
    for (let i = 0; i < thresholds.account; i += 1) {
      expect((await attempt('spread@example.com', 'wrong', `192.0.2.${i}`)).status).toBe(401);
    }
    // an address that failed for the email is held back now, the right password or not
    const bot = await attempt('spread@example.com', password, '192.0.2.3');
    expect(bot.status).toBe(429);
    // a new address gets one guess, which counts, and is then held back too
    expect((await attempt('spread@example.com', 'wrong', '192.0.2.200')).status).toBe(401);
    expect((await attempt('spread@example.com', 'wrong', '192.0.2.200')).status).toBe(429);
    // the owner, from an address that never failed, signs in with the right password
    expect((await attempt('spread@example.com', password, '198.51.100.30')).status).toBe(200);
  });

  it('lets a held-back address through with a valid second factor, and counts every wrong code', async () => {
    const { user } = await signUp('target@example.com');
    const principal = { tenantId: user.tenantId, userId: user.id, role: 'owner' as const, twoFactor: false };
    const started = await makeStartTotpEnrollment({ store, clock })(principal);
    const secret = Secret.fromBase32(started.secret);
    await makeConfirmTotpEnrollment({ store, clock })(principal, totpCode(secret, now));
    later(60);
    for (let i = 0; i < thresholds.account; i += 1) {
      expect((await attempt('target@example.com', 'wrong', `192.0.3.${i}`)).status).toBe(401);
    }
    const held = await attempt('target@example.com', password, '192.0.3.1');
    expect(held.status).toBe(429);
    expect(held.detail).toMatch(/second-factor code/);
    expect((await attempt('target@example.com', password, '192.0.3.1', totpCode(secret, now))).status).toBe(
      200,
    );
    // the owner elsewhere: the right password, then the second factor as always; a wrong code
    // counts as a failure of that address, which the spread attack then holds back
    const owner = '198.51.100.31';
    const asked = await attempt('target@example.com', password, owner);
    expect(asked.status).toBe(401);
    expect(asked.detail).toMatch(/two-factor/);
    expect((await attempt('target@example.com', password, owner, '000000')).status).toBe(401);
    expect((await attempt('target@example.com', password, owner, '000000')).status).toBe(429);
  });

  it('slows an unknown email down exactly as a known one, so it reveals nothing', async () => {
    const from = '203.0.113.10';
    for (let i = 0; i < thresholds.pair; i += 1) {
      expect((await attempt('ghost@example.com', 'wrong', from)).status).toBe(401);
    }
    expect(await attempt('ghost@example.com', 'wrong', from)).toMatchObject({
      status: 429,
      retryAfter: LOCKOUT.firstLockSeconds,
    });
  });

  it('forgets failures older than the window, and a success clears its own address', async () => {
    await signUp('forgets@example.com');
    const from = '203.0.113.11';
    for (let i = 0; i < thresholds.pair - 1; i += 1) await attempt('forgets@example.com', 'wrong', from);
    later(LOCKOUT.windowSeconds + 1);
    expect((await attempt('forgets@example.com', 'wrong', from)).status).toBe(401);
    expect((await attempt('forgets@example.com', password, from)).status).toBe(200);
    for (let i = 0; i < thresholds.pair - 1; i += 1) await attempt('forgets@example.com', 'wrong', from);
    expect((await attempt('forgets@example.com', password, from)).status).toBe(200);
  });
});
