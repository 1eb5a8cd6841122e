import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, eventually, planLimits, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const password = 'a long enough password';
const limits = planLimits;

async function logIn(email: string) {
  const login = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  return { tenantId: login.json.tenantId as string, token: login.json.accessToken as string };
}

let reseller: Awaited<ReturnType<typeof logIn>>;
let customer: Awaited<ReturnType<typeof logIn>>;
let planId: string;

beforeAll(async () => {
  runtime = await startTestRuntime({ unavailablePackages: ['caddy'] });
  api = apiClient(runtime.url);
  await api.call('POST', '/v1/auth/signup', {
    body: { email: 'plans@example.com', password, name: 'R', tenantName: 'Reseller', kind: 'reseller' },
  });
  reseller = await logIn('plans@example.com');
  await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
    token: reseller.token,
    body: { name: 'Quota customer', owner: { email: 'quota@example.com', name: 'Q', password } },
  });
  customer = await logIn('quota@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Feature: plans and quotas', () => {
  it('creates a plan and puts a customer on it', async () => {
    const plan = await api.call('POST', `/v1/tenants/${reseller.tenantId}/plans`, {
      token: reseller.token,
      body: { name: 'Starter', limits, requestsPerMinute: 120 },
    });
    expect(plan.status).toBe(201);
    expect(plan.json.requestsPerMinute).toBe(120);
    planId = plan.json.id;
    const assigned = await api.call(
      'PUT',
      `/v1/tenants/${reseller.tenantId}/customers/${customer.tenantId}/plan`,
      {
        token: reseller.token,
        body: { planId },
      },
    );
    expect(assigned.status).toBe(200);
    expect(assigned.json).toMatchObject({ planId, quotas: { servers: { limit: 3, used: 0 } } });
    // the plan's request rate applies to the customer's users and tokens (within the 2 s status cache)
    await eventually(async () => {
      const read = await api.call('GET', `/v1/tenants/${customer.tenantId}/usage`, { token: customer.token });
      return read.headers.get('ratelimit-limit') === '120' ? true : undefined;
    }, 5_000);
  });

  it('never overshoots a quota under concurrent creates, and names the quota when it refuses', async () => {
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.call('POST', `/v1/tenants/${customer.tenantId}/servers`, {
          token: customer.token,
          body: { name: `burst-${i}`, provider: 'local' },
        }),
      ),
    );
    const statuses = attempts.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(3);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const refused = attempts.find((a) => a.status === 409);
    expect(refused?.json).toMatchObject({ title: 'Quota exceeded', quota: 'servers', limit: 3, used: 3 });
    const list = await api.call('GET', `/v1/tenants/${customer.tenantId}/servers`, { token: customer.token });
    expect(list.json.items).toHaveLength(3);
    const usage = await api.call('GET', `/v1/tenants/${customer.tenantId}/usage`, { token: reseller.token });
    expect(usage.json.quotas.servers).toEqual({ limit: 3, used: 3 });
  });

  it('gives the unit back when provisioning fails', async () => {
    await api.call('PUT', `/v1/tenants/${reseller.tenantId}/customers/${customer.tenantId}/plan`, {
      token: reseller.token,
      body: { planId },
    });
    const raised = await api.call('POST', `/v1/tenants/${reseller.tenantId}/plans`, {
      token: reseller.token,
      body: { name: 'Bigger', limits: { ...limits, servers: 4 } },
    });
    await api.call('PUT', `/v1/tenants/${reseller.tenantId}/customers/${customer.tenantId}/plan`, {
      token: reseller.token,
      body: { planId: raised.json.id },
    });
    const failing = await api.call('POST', `/v1/tenants/${customer.tenantId}/servers`, {
      token: customer.token,
      body: { name: 'caddy-1', provider: 'local', stack: { webServer: 'caddy' } },
    });
    expect(failing.status).toBe(202);
    const path = failing.headers.get('location') ?? '';
    await eventually(
      async () => {
        const operation = await api.call('GET', path, { token: customer.token });
        return operation.json.status === 'failed' ? true : undefined;
      },
      45_000,
      'the failing provisioning',
    );
    const usage = await api.call('GET', `/v1/tenants/${customer.tenantId}/usage`, { token: customer.token });
    expect(usage.json.quotas.servers).toEqual({ limit: 4, used: 3 });
  });
});
