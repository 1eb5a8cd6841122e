import { type IncomingHttpHeaders, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const password = 'a long enough password';

beforeAll(async () => {
  // the production default on sign-in routes, and a small default plan rate to reach quickly
  process.env.AUTH_RATE_LIMIT_PER_MINUTE = '10';
  process.env.AUTH_ACCOUNT_RATE_LIMIT_PER_MINUTE = '15';
  process.env.DEFAULT_REQUESTS_PER_MINUTE = '15';
  process.env.TENANT_STATUS_CACHE_SECONDS = '0';
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
});

afterAll(async () => {
  await runtime?.stop();
});

/** Seconds left in the current minute window, so a test never straddles two windows. */
async function startOfWindowWith(seconds: number) {
  const left = 60 - (Math.floor(Date.now() / 1000) % 60);
  if (left < seconds) await new Promise((r) => setTimeout(r, left * 1000 + 200));
}

/** A POST from a given loopback address, so each test has source addresses of its own. */
function postFrom(localAddress: string, path: string, body: unknown) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; json: any }>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      `${runtime.url}${path}`,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            json: text ? JSON.parse(text) : undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('Feature: rate limits on sign-in routes', () => {
  it('allows an email 15 attempts a minute from all addresses together, then answers 429 with Retry-After', async () => {
    await startOfWindowWith(15);
    const answers = [];
    for (let i = 0; i < 16; i += 1) {
      answers.push(
        await postFrom(`127.0.0.${10 + i}`, '/v1/auth/password-reset', { email: 'victim@example.com' }),
      );
    }
    expect(answers.slice(0, 15).map((a) => a.status)).toEqual(Array(15).fill(202));
    const last = answers[15];
    expect(last?.status).toBe(429);
    expect(last?.json).toMatchObject({ title: 'Too many requests', status: 429 });
    const retryAfter = Number(last?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(last?.headers['ratelimit-limit']).toBe('15');
    expect(last?.headers['ratelimit-remaining']).toBe('0');
    expect(last?.headers['ratelimit-policy']).toBe('10;w=60, 15;w=60');
    // the first answer's tightest limit is its address's own
    expect(answers[0]?.headers['ratelimit-remaining']).toBe('9');
  });

  it('allows 10 a minute per source address, whatever the accounts', async () => {
    await startOfWindowWith(15);
    const statuses = [];
    for (let i = 0; i < 11; i += 1) {
      statuses.push(
        (await postFrom('127.0.0.40', '/v1/auth/login', { email: `guess-${i}@example.com`, password }))
          .status,
      );
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    // another address is not held back
    expect(
      (await postFrom('127.0.0.41', '/v1/auth/login', { email: 'guess-0@example.com', password })).status,
    ).toBe(401);
  });
});

describe('Feature: rate limits per principal', () => {
  it("limits each user or token by its tenant's plan, and tells how much is left", async () => {
    await startOfWindowWith(20);
    const signup = await api.call('POST', '/v1/auth/signup', {
      body: { email: 'busy@example.com', password, name: 'Busy', tenantName: 'Busy' },
    });
    expect(signup.status).toBe(201);
    const login = await api.call('POST', '/v1/auth/login', { body: { email: 'busy@example.com', password } });
    const token = login.json.accessToken as string;
    const path = `/v1/tenants/${login.json.tenantId}/servers`;
    const first = await api.call('GET', path, { token });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('15');
    expect(first.headers.get('ratelimit-remaining')).toBe('14');
    const rest = [];
    for (let i = 0; i < 15; i += 1) rest.push((await api.call('GET', path, { token })).status);
    expect(rest.slice(0, 14)).toEqual(Array(14).fill(200));
    const limited = rest[14];
    expect(limited).toBe(429);
    // a mutation over the limit is refused before it does anything
    const create = await api.call('POST', path, { token, body: { name: 'late', provider: 'local' } });
    expect(create.status).toBe(429);
    expect(create.headers.get('retry-after')).toBeTruthy();
  });
});
