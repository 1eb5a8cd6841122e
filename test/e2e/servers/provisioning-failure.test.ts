import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, eventually, operationEnded, signUp, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
/** units the local hosts' service shim reports as dead; a test adds one to make a service crash later */
const crashingServices = ['redis-server'];

beforeAll(async () => {
  // The local hosts' package shim reports apache2 as missing, exactly as apt would, and
  // redis-server as a unit that starts and then dies.
  runtime = await startTestRuntime({ unavailablePackages: ['apache2'], crashingServices });
  api = apiClient(runtime.url);
  owner = await signUp(api, 'owner@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Feature: a bootstrap command that fails', () => {
  it('fails the operation with the command stderr visible and undoes what provisioning made', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'apache-1', provider: 'local', stack: { webServer: 'apache' } },
    });
    expect(created.status).toBe(202);
    const operationPath = created.headers.get('location') ?? '';

    const operation = await eventually(
      async () => {
        const response = await api.call('GET', operationPath, { token: owner.token });
        return ['succeeded', 'failed'].includes(response.json?.status) ? response.json : undefined;
      },
      45_000,
      'the operation to end',
    );

    expect(operation.status).toBe('failed');
    expect(operation.error).toEqual({
      code: 'BootstrapFailed',
      message: 'The bootstrap command ended Failed with exit code 100.',
    });
    const steps = Object.fromEntries(operation.steps.map((s: { name: string }) => [s.name, s]));
    expect(steps.createHost.status).toBe('succeeded');
    expect(steps.waitForAgent.status).toBe('succeeded');
    expect(steps.bootstrap.status).toBe('failed');
    expect(steps.bootstrap.output.exitCode).toBe(100);
    expect(steps.bootstrap.output.stderr.head).toContain('E: Unable to locate package apache2');
    expect(steps.activate.status).toBe('skipped');
    expect(operation.result.compensation).toEqual([
      expect.stringMatching(/^deleted host host_/),
      expect.stringMatching(/^deregistered managed instance mi-/),
      expect.stringMatching(/^deleted activation /),
    ]);

    const server = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
      token: owner.token,
    });
    expect(server.json).toMatchObject({ status: 'failed', instanceId: null });

    // Nothing is left behind: no host, no managed instance, no activation; the counters moved.
    expect(runtime.hosts.list()).toEqual([]);
    expect(runtime.ssm.inventory()).toEqual({ activations: [], instances: [] });
    const dashboard = await api.call('GET', `/v1/tenants/${owner.tenantId}/dashboard`, {
      token: owner.token,
    });
    expect(dashboard.json.counts).toMatchObject({ total: 1, failed: 1, provisioning: 0, active: 0 });

    const executions = runtime.stepFunctions.executions();
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatchObject({ status: 'FAILED', error: 'ProvisioningFailed' });
  });
});

describe('Feature: a health check that fails', () => {
  it('fails the operation naming the service that is down, and undoes what provisioning made', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'cache-1', provider: 'local', stack: { redis: true } },
    });
    expect(created.status).toBe(202);
    const operation = await eventually(
      async () => {
        const response = await api.call('GET', created.headers.get('location') ?? '', { token: owner.token });
        return ['succeeded', 'failed'].includes(response.json?.status) ? response.json : undefined;
      },
      45_000,
      'the operation to end',
    );
    expect(operation.status).toBe('failed');
    expect(operation.error.code).toBe('HealthCheckFailed');
    expect(operation.error.message).toContain('failed: redis-server is not active');
    const steps = Object.fromEntries(operation.steps.map((s: { name: string }) => [s.name, s]));
    expect(steps.bootstrap.status).toBe('succeeded');
    expect(steps.healthCheck).toMatchObject({ status: 'failed', output: { exitCode: 1 } });
    expect(steps.healthCheck.output.stdout.head).toContain('ok: nginx is active');
    expect(steps.activate.status).toBe('skipped');
    expect(operation.result.compensation).toEqual([
      expect.stringMatching(/^deleted host host_/),
      expect.stringMatching(/^deregistered managed instance mi-/),
      expect.stringMatching(/^deleted activation /),
    ]);
    expect(runtime.hosts.list()).toEqual([]);
    expect(runtime.ssm.inventory()).toEqual({ activations: [], instances: [] });
  });
});

describe('Feature: a reboot after which a service stays down', () => {
  it('fails the reboot operation at its health check, naming the service, and leaves the server active', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'web-reboot', provider: 'local', stack: { phpVersions: [], database: null } },
    });
    expect((await operationEnded(api, created.headers.get('location') ?? '', owner.token)).status).toBe(
      'succeeded',
    );
    const serverPath = `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`;
    // nginx will not come back up
    crashingServices.push('nginx');
    const reboot = await api.call('POST', `${serverPath}/reboot`, { token: owner.token });
    const operation = await operationEnded(api, reboot.headers.get('location') ?? '', owner.token);
    crashingServices.pop();
    expect(operation.status).toBe('failed');
    expect(operation.error.code).toBe('HealthCheckFailed');
    expect(operation.error.message).toContain('failed: nginx is not active');
    expect(operation.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'failed']);
    expect(operation.steps[1].output.stderr.head).toContain('nginx does not answer HTTP');
    const server = await api.call('GET', serverPath, { token: owner.token });
    expect(server.json).toMatchObject({ status: 'active', rebooting: false });
  });
});
