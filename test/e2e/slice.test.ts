import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapParameters } from '../../functions/servers/stack/service';
import { hostDocumentName } from '../../layers/config/resources';
import type { LocalRuntime } from '../../scripts/local/runtime';
import {
  apiClient,
  dynamoReadsDuring,
  eventually,
  joinAs,
  recordsDelivered,
  signUp,
  startTestRuntime,
} from '../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;
let serverId: string;
let operationPath: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  alice = await signUp(api, 'alice@example.com');
  bob = await signUp(api, 'bob@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

const expectProblem = (response: { status: number; headers: Headers; json: any }, status: number) => {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.json).toMatchObject({
    status,
    type: expect.stringContaining('/problems/'),
    requestId: expect.any(String),
  });
};

describe('Feature: auth', () => {
  it('answers 409 naming body.email when the email is already registered', async () => {
    const response = await api.call('POST', '/v1/auth/signup', {
      body: { email: 'ALICE@example.com', password: 'another long password', name: 'A', tenantName: 'B' },
    });
    expectProblem(response, 409);
    expect(response.json.errors).toEqual([{ path: 'body.email', message: expect.any(String) }]);
  });

  it('answers the same 401 for a wrong password and for an unknown email', async () => {
    const wrong = await api.call('POST', '/v1/auth/login', {
      body: { email: 'alice@example.com', password: 'not it at all' },
    });
    const unknown = await api.call('POST', '/v1/auth/login', {
      body: { email: 'nobody@example.com', password: 'not it at all' },
    });
    expectProblem(wrong, 401);
    expectProblem(unknown, 401);
    expect({ ...wrong.json, requestId: '', instance: '' }).toEqual({
      ...unknown.json,
      requestId: '',
      instance: '',
    });
  });

  it('issues an ES256 access token with a kid', async () => {
    const [header] = alice.token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toMatchObject({
      alg: 'ES256',
      kid: expect.any(String),
    });
  });

  it('rotates a refresh token, which then works only once; its reuse ends the session at once', async () => {
    // a session of its own, so the reuse below ends this one and not the one later tests use
    const login = await api.call('POST', '/v1/auth/login', {
      body: { email: 'alice@example.com', password: alice.password },
    });
    const first = await api.call('POST', '/v1/auth/refresh', {
      body: { refreshToken: login.json.refreshToken },
    });
    expect(first.status).toBe(200);
    expect(first.json.refreshToken).not.toBe(login.json.refreshToken);
    const tenantPath = `/v1/tenants/${alice.tenantId}`;
    const tenant = await api.call('GET', tenantPath, { token: first.json.accessToken });
    expect(tenant.json).toMatchObject({ id: alice.tenantId, status: 'active' });
    const replay = await api.call('POST', '/v1/auth/refresh', {
      body: { refreshToken: login.json.refreshToken },
    });
    expectProblem(replay, 401);
    // the replay revoked the whole family: its access tokens stop working now, not in 15 minutes
    for (const token of [login.json.accessToken, first.json.accessToken]) {
      expectProblem(await api.call('GET', tenantPath, { token }), 401);
    }
    expect((await api.call('GET', tenantPath, { token: alice.token })).status).toBe(200);
  });
});

describe('Feature: provisioning a local server', () => {
  it('answers 202 with the operation and its Location', async () => {
    const response = await api.call('POST', `/v1/tenants/${alice.tenantId}/servers`, {
      token: alice.token,
      body: { name: 'web-1', provider: 'local', stack: { webServer: 'nginx' } },
    });
    expect(response.status).toBe(202);
    expect(response.json).toMatchObject({
      name: 'web-1',
      status: 'provisioning',
      operation: { status: 'pending' },
    });
    expect(response.json.operation.steps.map((s: { name: string }) => s.name)).toEqual([
      'checkQuota',
      'createHost',
      'waitForAgent',
      'bootstrap',
      'healthCheck',
      'activate',
    ]);
    // the quota unit is taken with the server itself, before the workflow starts
    expect(response.json.operation.steps[0]).toMatchObject({
      name: 'checkQuota',
      status: 'succeeded',
      output: { quota: 'servers', units: 1 },
    });
    serverId = response.json.id;
    operationPath = response.headers.get('location') ?? '';
    expect(operationPath).toBe(`/v1/tenants/${alice.tenantId}/operations/${response.json.operation.id}`);
  });

  it('runs the state machine to the end and shows every step with times and output', async () => {
    const operation = await eventually(
      async () => {
        const response = await api.call('GET', operationPath, { token: alice.token });
        return response.json?.status === 'succeeded' || response.json?.status === 'failed'
          ? response.json
          : undefined;
      },
      45_000,
      'provisioning to end',
    );
    expect(operation.status).toBe('succeeded');
    for (const step of operation.steps) {
      expect(step.status).toBe('succeeded');
      expect(Date.parse(step.endedAt)).toBeGreaterThanOrEqual(Date.parse(step.startedAt));
    }
    const bootstrap = operation.steps.find((s: { name: string }) => s.name === 'bootstrap');
    expect(bootstrap.output.exitCode).toBe(0);
    expect(bootstrap.output.stdout.head).toContain('bootstrap complete');
    expect(operation.steps[2].output.instanceId).toMatch(/^mi-/);
    const health = operation.steps.find((s: { name: string }) => s.name === 'healthCheck');
    expect(health.output.stdout.head).toContain('ok: php8.3-fpm is active');
    expect(health.output.stdout.head).toContain('ok: nginx answers HTTP on 127.0.0.1:80');

    const server = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}`, {
      token: alice.token,
    });
    expect(server.json).toMatchObject({
      status: 'active',
      instanceId: expect.stringMatching(/^mi-/),
      ipv4: '127.0.0.1',
    });
    expect(server.headers.get('etag')).toMatch(/^"v\d+"$/);
  });

  it('ran the bootstrap for real in the host sandbox, with package and service changes recorded by the shim', () => {
    const [host] = runtime.hosts.list();
    expect(host).toBeDefined();
    const root = runtime.hosts.rootOf(host?.id ?? '');
    expect(readFileSync(join(root, 'etc/ssh/sshd_config.d/50-vip-hardening.conf'), 'utf8')).toContain(
      'PasswordAuthentication no',
    );
    expect(readFileSync(join(root, 'etc/vip/server.env'), 'utf8')).toContain('WEB_SERVER=nginx');
    // the default stack: nginx, PHP 8.3 from its repository, MariaDB bound to localhost
    expect(readFileSync(join(root, 'var/lib/vip/packages'), 'utf8').split('\n')).toEqual(
      expect.arrayContaining(['nginx', 'fail2ban', 'unattended-upgrades', 'php8.3-fpm', 'mariadb-server']),
    );
    expect(readFileSync(join(root, 'var/lib/vip/repositories'), 'utf8')).toBe('ondrej-php\n');
    expect(readFileSync(join(root, 'etc/mysql/conf.d/90-vip.cnf'), 'utf8')).toContain(
      'bind-address = 127.0.0.1',
    );
    expect(readFileSync(join(root, 'var/lib/vip/services'), 'utf8')).toContain('vip-metrics-agent');
  });

  it('changes nothing when the bootstrap document runs again on the same host', async () => {
    const server = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}`, {
      token: alice.token,
    });
    const instanceId = server.json.instanceId as string;
    const { Command } = await runtime.clients.ssm.send(
      new SendCommandCommand({
        DocumentName: hostDocumentName('local', 'bootstrap-server'),
        InstanceIds: [instanceId],
        Parameters: bootstrapParameters(server.json.stack, 'rerun'),
      }),
    );
    const invocation = await eventually(async () => {
      const result = await runtime.clients.ssm.send(
        new GetCommandInvocationCommand({ CommandId: Command?.CommandId, InstanceId: instanceId }),
      );
      return result.Status === 'InProgress' || result.Status === 'Pending' ? undefined : result;
    });
    expect(invocation.Status).toBe('Success');
    expect(invocation.StandardOutputContent).toContain(
      'unchanged /etc/ssh/sshd_config.d/50-vip-hardening.conf',
    );
    expect(invocation.StandardOutputContent).not.toContain(' wrote ');
  });

  it('lists the server and its operations', async () => {
    const list = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers`, { token: alice.token });
    expect(list.json).toEqual({ items: [expect.objectContaining({ id: serverId })], nextCursor: null });
    const operations = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}/operations`, {
      token: alice.token,
    });
    expect(operations.json.items).toHaveLength(1);
    expect(operations.json.items[0].status).toBe('succeeded');
  });
});

describe('Feature: metrics', () => {
  it('turns the host agent samples from Kinesis into rollups and a latest snapshot', async () => {
    const metrics = await eventually(
      async () => {
        const response = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}/metrics`, {
          token: alice.token,
        });
        const total = (response.json?.points ?? []).reduce(
          (n: number, p: { count: number }) => n + p.count,
          0,
        );
        return total >= 3 ? response.json : undefined;
      },
      30_000,
      'three samples',
    );
    const point = metrics.points.at(-1);
    expect(point.minute).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    const memory = point.metrics.memoryUsedPercent;
    expect(memory.min).toBeLessThanOrEqual(memory.max);
    expect(memory.avg).toBeCloseTo(memory.sum / memory.count);
    expect(memory.max).toBeGreaterThan(0);

    const dashboard = await api.call('GET', `/v1/tenants/${alice.tenantId}/dashboard`, {
      token: alice.token,
    });
    expect(dashboard.json.counts).toMatchObject({ total: 1, active: 1, provisioning: 0, failed: 0 });
    expect(dashboard.json.servers[0]).toMatchObject({
      id: serverId,
      status: 'active',
      latest: { at: expect.any(String) },
    });
    expect(dashboard.json.servers[0].latest.memoryUsedPercent).toBeGreaterThan(0);
    // version 2 samples: every mount with its inodes, the managed services up or down
    const latest = dashboard.json.servers[0].latest;
    expect(latest.disks[0]).toMatchObject({ mount: '/', inodesTotal: expect.any(Number) });
    expect(latest.services.webServer).toBe('up');
    expect(point.metrics.inodesUsedPercent.count).toBeGreaterThan(0);
  });

  it("reads the dashboard (counts, firing alerts, servers) in two DynamoDB requests and a server in one, beside the caller's currency", async () => {
    // each request also reads its caller's membership and session as they are now, in one
    // BatchGetItem beside the work (layers/auth/currency.ts)
    const dashboard = await dynamoReadsDuring(alice.tenantId, () =>
      api.call('GET', `/v1/tenants/${alice.tenantId}/dashboard`, { token: alice.token }),
    );
    expect(dashboard.sort()).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand', 'QueryCommand']);
    const server = await dynamoReadsDuring(alice.tenantId, () =>
      api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}`, { token: alice.token }),
    );
    expect(server.sort()).toEqual(['BatchGetItemCommand', 'GetItemCommand']);
  });

  it('counts a redelivered Kinesis record once', async () => {
    // two hours ago: inside the rollups' retention, and older than the live samples
    const minute = new Date(Date.now() - 2 * 3600_000);
    minute.setUTCSeconds(5, 0);
    const at = minute.toISOString();
    const sample = {
      sampleId: '01JGREDELIVEREDSAMPLE0000A',
      tenantId: alice.tenantId,
      serverId,
      at,
      cpuPercent: 12,
      memoryUsedPercent: 34,
      memoryTotalBytes: 1024,
      diskUsedPercent: 56,
      diskTotalBytes: 2048,
      load1: 0.5,
      load5: 0.4,
      load15: 0.3,
      networkRxBytesPerSecond: 100,
      networkTxBytesPerSecond: 200,
    };
    const deliveredBefore = recordsDelivered(runtime);
    for (let i = 0; i < 3; i += 1) {
      await runtime.clients.kinesis.send(
        new PutRecordCommand({
          StreamName: runtime.names.metricsStream,
          PartitionKey: serverId,
          Data: Buffer.from(JSON.stringify(sample)),
        }),
      );
    }
    const from = new Date(minute.getTime() - 5 * 60_000).toISOString();
    const to = new Date(minute.getTime() + 5 * 60_000).toISOString();
    const query = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    const point = await eventually(
      async () => {
        const response = await api.call(
          'GET',
          `/v1/tenants/${alice.tenantId}/servers/${serverId}/metrics?${query}`,
          { token: alice.token },
        );
        return response.json?.points?.[0];
      },
      20_000,
      'the old sample',
    );
    // the consumer has delivered all three copies (the duplicates too) before the count is read
    await eventually(
      async () => (recordsDelivered(runtime) >= deliveredBefore + 3 ? true : undefined),
      20_000,
      'the duplicates',
    );
    const response = await api.call(
      'GET',
      `/v1/tenants/${alice.tenantId}/servers/${serverId}/metrics?${query}`,
      { token: alice.token },
    );
    expect(point.minute).toBe(at.slice(0, 16));
    expect(response.json.points).toHaveLength(1);
    expect(response.json.points[0].count).toBe(1);
    expect(response.json.points[0].metrics.cpuPercent).toMatchObject({ sum: 12, min: 12, max: 12, last: 12 });
    const dashboard = await api.call('GET', `/v1/tenants/${alice.tenantId}/dashboard`, {
      token: alice.token,
    });
    expect(dashboard.json.servers[0].latest.at > at).toBe(true);
  });

  it('picks the resolution for the range, and rejects a range too long for one, naming the field', async () => {
    const metrics = (q: string) =>
      api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}/metrics?${q}`, {
        token: alice.token,
      });
    // at most 360 points when the resolution is left to the API
    expect((await metrics('from=2026-01-01T00:00:00Z&to=2026-01-01T06:00:00Z')).json.resolution).toBe('1m');
    expect((await metrics('from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z')).json.resolution).toBe('1h');
    expect((await metrics('from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z')).json.resolution).toBe('1d');
    const long = await metrics('from=2026-01-01T00:00:00Z&to=2026-01-03T00:00:00Z&resolution=1m');
    expectProblem(long, 400);
    expect(long.json.errors).toEqual([{ path: 'query.to', message: expect.any(String) }]);
    const unknown = await metrics('resolution=5m');
    expect(unknown.json.errors[0].path).toBe('query.resolution');
    const reversed = await metrics('from=2026-01-03T00:00:00Z&to=2026-01-01T00:00:00Z');
    expect(reversed.json.errors[0].path).toBe('query.from');
  });
});

describe('Feature: tenancy', () => {
  const aliceRoutes = () =>
    [
      ['GET', `/v1/tenants/${alice.tenantId}`],
      ['GET', `/v1/tenants/${alice.tenantId}/servers`],
      ['GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}`],
      ['GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}/operations`],
      ['GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}/metrics`],
      ['GET', operationPath],
      ['GET', `/v1/tenants/${alice.tenantId}/dashboard`],
      ['POST', `/v1/tenants/${alice.tenantId}/servers`],
    ] as const;

  it("answers 404 with no data on every one of another tenant's routes", async () => {
    for (const [method, path] of aliceRoutes()) {
      const response = await api.call(method, path, {
        token: bob.token,
        ...(method === 'POST' ? { body: { name: 'intruder', provider: 'local' } } : {}),
      });
      expectProblem(response, 404);
      // `instance` echoes the caller's own request path; nothing else may name Alice's resources
      const { instance: _path, ...rest } = response.json;
      expect(JSON.stringify(rest)).not.toContain(serverId);
      expect(JSON.stringify(rest)).not.toContain('web-1');
    }
  });

  it("answers 404 for another tenant's server id under one's own tenant", async () => {
    const response = await api.call('GET', `/v1/tenants/${bob.tenantId}/servers/${serverId}`, {
      token: bob.token,
    });
    expectProblem(response, 404);
    const ops = await api.call(
      'GET',
      `/v1/tenants/${bob.tenantId}/operations/${operationPath.split('/').at(-1)}`,
      { token: bob.token },
    );
    expectProblem(ops, 404);
  });

  it('answers 401 without a token, with a malformed one and with a forged one', async () => {
    const path = `/v1/tenants/${alice.tenantId}/servers`;
    expectProblem(await api.call('GET', path), 401);
    expectProblem(await api.call('GET', path, { headers: { authorization: 'Basic abc' } }), 401);
    const [header, payload] = alice.token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()),
        tid: bob.tenantId,
      }),
    ).toString('base64url');
    expectProblem(
      await api.call('GET', path, { token: `${header}.${forgedPayload}.${alice.token.split('.')[2]}` }),
      401,
    );
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    expectProblem(await api.call('GET', path, { token: none }), 401);
  });

  it('rejects a list cursor replayed by another tenant or tampered with', async () => {
    await api.call('POST', `/v1/tenants/${bob.tenantId}/servers`, {
      token: bob.token,
      body: { name: 'b-1', provider: 'local' },
    });
    await api.call('POST', `/v1/tenants/${bob.tenantId}/servers`, {
      token: bob.token,
      body: { name: 'b-2', provider: 'local' },
    });
    const page = await api.call('GET', `/v1/tenants/${bob.tenantId}/servers?limit=1`, { token: bob.token });
    expect(page.json.items).toHaveLength(1);
    const cursor = page.json.nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const next = await api.call('GET', `/v1/tenants/${bob.tenantId}/servers?limit=1&cursor=${cursor}`, {
      token: bob.token,
    });
    expect(next.json.items[0].id).not.toBe(page.json.items[0].id);

    const replayed = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers?limit=1&cursor=${cursor}`, {
      token: alice.token,
    });
    expectProblem(replayed, 400);
    expect(replayed.json.errors).toEqual([{ path: 'cursor', message: 'Invalid cursor' }]);
    const tampered = `${cursor.slice(0, -2)}${cursor.endsWith('AA') ? 'BB' : 'AA'}`;
    expectProblem(
      await api.call('GET', `/v1/tenants/${bob.tenantId}/servers?cursor=${tampered}`, { token: bob.token }),
      400,
    );
  });
});

describe('Feature: roles', () => {
  // a member of the tenant with the role, invited by its owner and signed in
  const tokenFor = async (owner: typeof alice, role: 'read-only' | 'billing' | 'developer') =>
    (await joinAs(runtime, api, owner, `${role}.${owner.tenantId}@example.com`, role)).token;

  it('lets read-only read and answers 403 when it writes', async () => {
    const token = await tokenFor(alice, 'read-only');
    expect(
      (await api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${serverId}`, { token })).status,
    ).toBe(200);
    const write = await api.call('POST', `/v1/tenants/${alice.tenantId}/servers`, {
      token,
      body: { name: 'not-allowed', provider: 'local' },
    });
    expectProblem(write, 403);
  });

  it('keeps billing away from servers and metrics', async () => {
    const token = await tokenFor(alice, 'billing');
    expect((await api.call('GET', `/v1/tenants/${alice.tenantId}`, { token })).status).toBe(200);
    expectProblem(await api.call('GET', `/v1/tenants/${alice.tenantId}/servers`, { token }), 403);
    expectProblem(await api.call('GET', `/v1/tenants/${alice.tenantId}/dashboard`, { token }), 403);
  });

  it("answers 404, not 403, for another tenant's resources whatever the role", async () => {
    const token = await tokenFor(bob, 'billing');
    expectProblem(await api.call('GET', `/v1/tenants/${alice.tenantId}/servers`, { token }), 404);
  });
});

describe('Feature: bad input', () => {
  const create = (options: { raw?: string; body?: unknown; headers?: Record<string, string> }) =>
    api.call('POST', `/v1/tenants/${alice.tenantId}/servers`, { token: alice.token, ...options });

  it('answers 400 for malformed JSON', async () => {
    const response = await create({ raw: '{"name":' });
    expectProblem(response, 400);
    expect(response.json.errors[0].path).toBe('body');
  });

  it('answers 400 naming each wrong-typed and unknown field', async () => {
    const response = await create({ body: { name: 42, provider: 'local', colour: 'blue' } });
    expectProblem(response, 400);
    expect(response.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.colour',
      'body.name',
    ]);
  });

  it('answers 400 for a missing body', async () => {
    const response = await create({});
    expectProblem(response, 400);
    expect(response.json.errors[0].path).toBe('body');
  });

  it('answers 413 for an oversized body and 415 for a non-JSON one', async () => {
    expectProblem(await create({ raw: JSON.stringify({ name: 'x'.repeat(70_000) }) }), 413);
    expectProblem(
      await create({ raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
    );
  });

  it('answers 400 naming path and query parameters', async () => {
    const badId = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers/not-an-id`, {
      token: alice.token,
    });
    expectProblem(badId, 400);
    expect(badId.json.errors[0].path).toBe('path.serverId');
    const badLimit = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers?limit=1000&sort=name`, {
      token: alice.token,
    });
    expect(badLimit.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'query.limit',
      'query.sort',
    ]);
  });

  it('answers 404 problem+json for a route that does not exist', async () => {
    expectProblem(await api.call('GET', '/v1/nothing-here'), 404);
    expectProblem(await api.call('DELETE', '/v1/health'), 405);
  });

  it('sets security headers and a request id on every response', async () => {
    const response = await api.call('GET', '/v1/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-request-id')).toEqual(expect.any(String));
  });
});

describe('Feature: idempotent POST', () => {
  it('replays the first response for the same key and body, and answers 422 for another body', async () => {
    const key = 'create-web-2';
    const first = await api.call('POST', `/v1/tenants/${alice.tenantId}/servers`, {
      token: alice.token,
      headers: { 'Idempotency-Key': key },
      body: { name: 'web-2', provider: 'local' },
    });
    expect(first.status).toBe(202);
    const again = await api.call('POST', `/v1/tenants/${alice.tenantId}/servers`, {
      token: alice.token,
      headers: { 'Idempotency-Key': key },
      body: { name: 'web-2', provider: 'local' },
    });
    expect(again.status).toBe(202);
    expect(again.json.id).toBe(first.json.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await api.call('POST', `/v1/tenants/${alice.tenantId}/servers`, {
      token: alice.token,
      headers: { 'Idempotency-Key': key },
      body: { name: 'web-3', provider: 'local' },
    });
    expectProblem(other, 422);
    const list = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers`, { token: alice.token });
    expect(list.json.items.filter((s: { name: string }) => s.name === 'web-2')).toHaveLength(1);
  });
});

describe('Feature: platform routes', () => {
  it('serves an OpenAPI 3.1 document with every route', async () => {
    const { routes } = await import('../../functions/api');
    const response = await api.call('GET', '/v1/openapi.json');
    expect(response.json.openapi).toBe('3.1.0');
    for (const route of routes) {
      expect(response.json.paths[route.path]?.[route.method.toLowerCase()]?.operationId).toBe(
        route.operationId,
      );
    }
    const create = response.json.paths['/v1/tenants/{tenantId}/servers'].post;
    expect(create.requestBody.content['application/json'].schema.$ref).toBe(
      '#/components/schemas/CreateServerRequest',
    );
    expect(response.json.components.schemas.CreateServerRequest.additionalProperties).toBe(false);
  });

  it('keeps its data under the data directory only when asked to persist', () => {
    expect(existsSync(join(runtime.dataDir, 'ssm.json'))).toBe(false);
  });
});
