import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/api';
import { can } from '../../layers/auth/permissions';
import { type Role, roles } from '../../layers/auth/tokens';
import type { RouteSpec } from '../../layers/http/route';
import type { LocalRuntime } from '../../scripts/local/runtime';
import { apiClient, joinAs, operationEnded, startTestRuntime } from '../support/runtime';

/**
 * A matrix generated from the route table: every tenant-scoped route, called by another
 * tenant, by a reseller on another reseller's customer, and by each role. New routes are
 * covered the day they are added.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
const password = 'a long enough password';

interface Account {
  tenantId: string;
  token: string;
  userId: string;
}

async function account(email: string, kind: 'customer' | 'reseller'): Promise<Account> {
  await api.call('POST', '/v1/auth/signup', {
    body: { email, password, name: 'Owner', tenantName: email, kind },
  });
  return logIn(email);
}

async function logIn(email: string): Promise<Account> {
  const login = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  return { tenantId: login.json.tenantId, token: login.json.accessToken, userId: login.json.userId };
}

const tenantRoutes = routes.filter((r) => r.auth === 'user' && r.path.includes('{tenantId}'));
const missing: Record<string, string> = {
  serverId: 'srv_00000000000000000000000000',
  operationId: 'op_00000000000000000000000000',
  customerId: 'ten_00000000000000000000000000',
  tokenId: 'tok_00000000000000000000000000',
  userId: 'usr_00000000000000000000000000',
  provider: 'aws',
  service: 'nginx',
  keyId: 'key_00000000000000000000000000',
  invitationId: 'inv_00000000000000000000000000',
  planId: 'plan_00000000000000000000000000',
  siteId: 'ste_00000000000000000000000000',
  backupId: 'bkp_00000000000000000000000000',
  targetId: 'btg_00000000000000000000000000',
  databaseId: 'dbs_00000000000000000000000000',
  databaseUserId: 'dbu_00000000000000000000000000',
  daemon: 'worker',
  ruleId: 'alr_00000000000000000000000000',
  silenceId: 'sil_00000000000000000000000000',
  checkId: 'upc_00000000000000000000000000',
};

/** An empty JSON body for routes that take one: enough to get past the gateway, never valid. */
const bodyFor = (spec: RouteSpec) => (spec.body ? { body: {} } : {});

const fill = (spec: RouteSpec, values: Record<string, string>) =>
  spec.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? missing[name] ?? 'unknown');

let victim: Account;
let intruder: Account;
let reseller: Account;
let rivalReseller: Account;
const victimIds: Record<string, string> = {};

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  reseller = await account('matrix-reseller@example.com', 'reseller');
  rivalReseller = await account('matrix-rival@example.com', 'reseller');
  intruder = await account('matrix-intruder@example.com', 'customer');
  const created = await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
    token: reseller.token,
    body: { name: 'Victim', owner: { email: 'matrix-victim@example.com', name: 'V', password } },
  });
  victimIds.customerId = created.json.id;
  victim = await logIn('matrix-victim@example.com');
  const server = await api.call('POST', `/v1/tenants/${victim.tenantId}/servers`, {
    token: victim.token,
    body: { name: 'victim-1', provider: 'local' },
  });
  victimIds.serverId = server.json.id;
  victimIds.operationId = server.json.operation.id;
  await operationEnded(api, server.headers.get('location') ?? '', victim.token);
  const site = await api.call('POST', `/v1/tenants/${victim.tenantId}/servers/${server.json.id}/sites`, {
    token: victim.token,
    body: { domain: 'victim.example.com', type: 'static' },
  });
  victimIds.siteId = site.json.id;
  const token = await api.call('POST', `/v1/tenants/${victim.tenantId}/api-tokens`, {
    token: victim.token,
    body: { name: 'victim token', scopes: ['servers:read'] },
  });
  victimIds.tokenId = token.json.id;
  victimIds.userId = victim.userId;
});

afterAll(async () => {
  await runtime?.stop();
});

const secretsOf = () =>
  Object.values(victimIds).concat(['victim-1', 'Victim', 'matrix-victim', 'victim.example.com']);

function expectNothingLeaks(json: Record<string, unknown>, context: string) {
  const { instance: _echoedPath, ...rest } = json;
  const text = JSON.stringify(rest);
  for (const secret of secretsOf()) expect(text, `${context} leaks ${secret}`).not.toContain(secret);
}

describe('Matrix: tenant-scoped routes', () => {
  it('covers every tenant-scoped route', () => {
    expect(tenantRoutes.length).toBeGreaterThanOrEqual(15);
  });

  it("answers 404, with nothing of the victim's, to another tenant on every route", async () => {
    for (const spec of tenantRoutes) {
      const path = fill(spec, { tenantId: victim.tenantId, ...victimIds });
      const response = await api.call(spec.method, path, { token: intruder.token, ...bodyFor(spec) });
      expect(response.status, `${spec.method} ${path}`).toBe(404);
      expectNothingLeaks(response.json, spec.operationId);
      expect(response.headers.get('etag'), spec.operationId).toBeNull();
    }
  });

  it("answers 404 to a reseller on another reseller's customer on every route", async () => {
    for (const spec of tenantRoutes) {
      const path = fill(spec, { tenantId: victim.tenantId, ...victimIds });
      const response = await api.call(spec.method, path, { token: rivalReseller.token, ...bodyFor(spec) });
      expect(response.status, `${spec.method} ${path}`).toBe(404);
      expectNothingLeaks(response.json, spec.operationId);
    }
  });

  it('lets a reseller through to its own customer on every route', async () => {
    for (const spec of tenantRoutes) {
      const path = fill(spec, { tenantId: victim.tenantId });
      const response = await api.call(spec.method, path, { token: reseller.token, ...bodyFor(spec) });
      // past tenancy and permissions: the answer is about the request itself, never 401 or 403
      expect([401, 403], `${spec.method} ${path} answered ${response.status}`).not.toContain(response.status);
    }
  });

  it('answers 403 to exactly the roles without the permission, on every route', async () => {
    for (const role of roles as readonly Role[]) {
      // a member of the tenant with the role, since every request is judged by the role its user has now
      const token =
        role === 'owner'
          ? victim.token
          : (await joinAs(runtime, api, victim, `${role}.matrix@example.com`, role)).token;
      for (const spec of tenantRoutes) {
        const path = fill(spec, { tenantId: victim.tenantId });
        const response = await api.call(spec.method, path, { token, ...bodyFor(spec) });
        const allowed = spec.permission !== undefined && can(role, spec.permission);
        if (allowed) expect(response.status, `${role} ${spec.method} ${path}`).not.toBe(403);
        else expect(response.status, `${role} ${spec.method} ${path}`).toBe(403);
      }
    }
  });
});
