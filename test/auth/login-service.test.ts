import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCKOUT, makeLogin, makeSignup } from '../../functions/auth/service';
import { generateSecrets } from '../../layers/auth/secrets';
import { makeTokenSigner } from '../../layers/auth/tokens';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import { makeCursorCodec } from '../../layers/store/cursor';
import { makeStore } from '../../layers/store/store';
import { startDynamoDbLocal } from '../support/dynamodb';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let now = new Date('2026-11-27T10:00:00Z');
const clock: Clock = { now: () => now };
let login: ReturnType<typeof makeLogin>;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal();
  const store = makeStore({
    client: dynamo.documentClient,
    tableName: dynamo.tableName,
    clock,
    cursors: makeCursorCodec('a-test-secret-that-is-long-enough-0123456789'),
  });
  const signer = await makeTokenSigner(
    await generateSecrets(now),
    { issuer: 'https://issuer.test', audience: 'vip', accessTokenTtlSeconds: 900 },
    clock,
  );
  const ids = ulidIds();
  await makeSignup({ store, clock, ids })({
    email: 'o@example.com',
    password: 'the right password',
    name: 'O',
    tenantName: 'T',
    kind: 'customer',
  });
  login = makeLogin({ store, clock, ids, signer, refreshTokenTtlSeconds: 3600 });
});

afterAll(async () => {
  await dynamo?.stop();
});

const attempt = (password: string) =>
  login({ email: 'o@example.com', password }).then(
    () => 200,
    (error: { status: number }) => error.status,
  );

describe('Service: login lockout', () => {
  it('lifts the lock when its 15 minutes have passed', async () => {
    for (let i = 0; i < LOCKOUT.maxFailures; i += 1) expect(await attempt('wrong')).toBe(401);
    expect(await attempt('the right password')).toBe(429);
    now = new Date(now.getTime() + (LOCKOUT.windowSeconds - 1) * 1000);
    expect(await attempt('the right password')).toBe(429);
    now = new Date(now.getTime() + 2000);
    expect(await attempt('the right password')).toBe(200);
  });

  it('forgets failures older than the window', async () => {
    for (let i = 0; i < LOCKOUT.maxFailures - 1; i += 1) expect(await attempt('wrong')).toBe(401);
    now = new Date(now.getTime() + (LOCKOUT.windowSeconds + 1) * 1000);
    expect(await attempt('wrong')).toBe(401);
    expect(await attempt('the right password')).toBe(200);
  });
});
