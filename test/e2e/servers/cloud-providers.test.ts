import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEc2, startFakeEc2 } from '../../../scripts/fakes/ec2';
import { type FakeMachine, type FakeProvider, startFakeProvider } from '../../../scripts/fakes/providers';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, eventually, operationEnded, signUp, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let hetzner: FakeProvider;
let ec2: FakeEc2;
const awsKey = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
let owner: Awaited<ReturnType<typeof signUp>>;
const token = 'hcloud-good-token-7e3f';
/** Hetzner machine id → the local host that plays it, booted from the same user data. */
const hosts = new Map<string, string>();

/** The "VM" is a local host booted from the cloud-init user data the provider received. */
const boot = (machine: FakeMachine) => {
  // a machine named quiet-… never runs its user data: its agent never comes online
  if (machine.name.startsWith('quiet-')) return;
  const booted = runtime.hosts.handle('POST', '/v1/hosts', {
    name: machine.name,
    region: machine.region,
    size: machine.size,
    userData: machine.userData,
    labels: { 'provider-id': machine.id },
  });
  hosts.set(machine.id, (booted.body as { host: { id: string } }).host.id);
};
const shutDown = (machine: FakeMachine) => {
  const hostId = hosts.get(machine.id);
  if (hostId) runtime.hosts.handle('DELETE', `/v1/hosts/${hostId}`, undefined);
};

beforeAll(async () => {
  hetzner = await startFakeProvider('hetzner', {
    token,
    bootMs: 30,
    onCreate: boot,
    // a machine named stuck-… never leaves "initializing"
    boots: (machine) => !machine.name.startsWith('stuck-'),
    onDelete: shutDown,
  });
  ec2 = await startFakeEc2({
    ...awsKey,
    bootMs: 30,
    onCreate: boot,
    onDelete: shutDown,
    // EC2 and STS share the account's IAM: sessions of roles assumed through the local STS
    sessions: (accessKeyId) => runtime.sts.session(accessKeyId),
  });
  process.env.HETZNER_API_URL = hetzner.baseUrl;
  process.env.EC2_ENDPOINT = ec2.endpoint;
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'cloud@example.com');
});

afterAll(async () => {
  await runtime?.stop();
  await hetzner?.stop();
  await ec2?.stop();
});

const credentialsPath = () => `/v1/tenants/${owner.tenantId}/provider-credentials`;
const createServer = (body: Record<string, unknown>) =>
  api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
    token: owner.token,
    body: { provider: 'hetzner', ...body },
  });
const ended = (path: string) => operationEnded(api, path, owner.token);

describe('Feature: provider credentials', () => {
  it('refuses a token the provider rejects, and saves nothing', async () => {
    const rejected = await api.call('PUT', `${credentialsPath()}/hetzner`, {
      token: owner.token,
      body: { token: 'hcloud-revoked-token' },
    });
    expect(rejected.status).toBe(400);
    expect(rejected.json.errors).toEqual([
      { path: 'body.token', message: 'hetzner rejected these credentials' },
    ]);
    expect((await api.call('GET', credentialsPath(), { token: owner.token })).json.items).toEqual([]);
  });

  it('answers 503 with Retry-After when the provider is down, and saves nothing', async () => {
    hetzner.failNext(503);
    const down = await api.call('PUT', `${credentialsPath()}/hetzner`, {
      token: owner.token,
      body: { token },
    });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBeTruthy();
    expect((await api.call('GET', credentialsPath(), { token: owner.token })).json.items).toEqual([]);
  });

  it('saves a token the provider accepts and never shows it again', async () => {
    const saved = await api.call('PUT', `${credentialsPath()}/hetzner`, {
      token: owner.token,
      body: { token },
    });
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({ provider: 'hetzner', tokenHint: '…7e3f' });
    const list = await api.call('GET', credentialsPath(), { token: owner.token });
    expect(list.json.items).toHaveLength(1);
    expect(list.text).not.toContain(token);
    expect(saved.text).not.toContain(token);
  });
});

describe("Feature: a provider's regions and sizes", () => {
  const choicesPath = (provider: string, list: string) =>
    `/v1/tenants/${owner.tenantId}/providers/${provider}/${list}`;

  it('lists what the provider offers with the saved token, page by page', async () => {
    const first = await api.call('GET', `${choicesPath('hetzner', 'regions')}?limit=2`, {
      token: owner.token,
    });
    expect(first.status).toBe(200);
    expect(first.json.items).toEqual([
      { id: 'fsn1', description: expect.any(String) },
      { id: 'nbg1', description: expect.any(String) },
    ]);
    const second = await api.call(
      'GET',
      `${choicesPath('hetzner', 'regions')}?limit=2&cursor=${first.json.nextCursor}`,
      { token: owner.token },
    );
    expect(second.json).toEqual({
      items: [{ id: 'hel1', description: expect.any(String) }],
      nextCursor: null,
    });
    // a cursor continues only the list it came from
    const elsewhere = await api.call(
      'GET',
      `${choicesPath('hetzner', 'sizes')}?cursor=${first.json.nextCursor}`,
      { token: owner.token },
    );
    expect(elsewhere.status).toBe(400);
    const sizes = await api.call('GET', choicesPath('hetzner', 'sizes'), { token: owner.token });
    expect(sizes.json.items.map((s: { id: string }) => s.id)).toEqual(['cx22', 'cx32', 'cpx21']);
    const local = await api.call('GET', choicesPath('local', 'regions'), { token: owner.token });
    expect(local.json.items).toEqual([{ id: 'local-1', description: 'This machine' }]);
  });

  it('names what is wrong: no saved credentials, a provider it does not know, an EC2 region', async () => {
    const none = await api.call('GET', choicesPath('vultr', 'regions'), { token: owner.token });
    expect(none.status).toBe(400);
    expect(none.json.errors[0]).toMatchObject({
      path: 'path.provider',
      message: expect.stringContaining('PUT'),
    });
    const unknown = await api.call('GET', choicesPath('linode', 'regions'), { token: owner.token });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors[0].path).toBe('path.provider');
    const noRegion = await api.call('GET', choicesPath('aws', 'sizes'), { token: owner.token });
    expect(noRegion.status).toBe(400);
    expect(noRegion.json.errors[0].path).toBe('query.region');
  });
});

describe('Feature: provisioning at a cloud provider', () => {
  it('names the fields when region or size is missing or not offered', async () => {
    const missing = await createServer({ name: 'web-1' });
    expect(missing.status).toBe(400);
    expect(missing.json.errors.map((e: { path: string }) => e.path)).toEqual(['body.region', 'body.size']);
    const unknown = await createServer({ name: 'web-1', region: 'mars-1', size: 'cx22' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors).toEqual([{ path: 'body.region', message: expect.stringContaining('fsn1') }]);
    const noCredentials = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'web-1', provider: 'vultr', region: 'fra', size: 'vc2-1c-1gb' },
    });
    expect(noCredentials.json.errors[0].path).toBe('body.provider');
  });

  it('creates the VM with cloud-init user data through the provider API, riding out a 429, and bootstraps it', async () => {
    hetzner.failOn('POST', '/v1/servers', 429);
    const created = await createServer({ name: 'web-1', region: 'fsn1', size: 'cx22' });
    expect(created.status).toBe(202);
    const operation = await ended(created.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    const posts = hetzner.requests.filter((r) => r.method === 'POST' && r.path === '/v1/servers');
    // the first was answered 429; the workflow's retry went through
    expect(posts).toHaveLength(2);
    expect(posts.at(-1)?.body).toMatchObject({
      name: 'web-1',
      server_type: 'cx22',
      location: 'fsn1',
      image: 'ubuntu-24.04',
      user_data: expect.stringContaining('amazon-ssm-agent -register'),
      labels: { 'vip-server-id': created.json.id, 'vip-tenant-id': owner.tenantId },
    });
    const server = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
      token: owner.token,
    });
    expect(server.json).toMatchObject({
      status: 'active',
      provider: 'hetzner',
      region: 'fsn1',
      ipv4: expect.stringMatching(/^203\.0\.113\./),
    });

    // and decommissioning deletes the VM at the provider
    const deleted = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
      token: owner.token,
    });
    expect((await ended(deleted.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(hetzner.machines.size).toBe(0);
    expect(runtime.hosts.list()).toEqual([]);
  });

  it('adopts the VM whose create answer was lost instead of making a second one', async () => {
    hetzner.loseAnswerOn('POST', '/v1/servers', 504);
    const created = await createServer({ name: 'web-lost', region: 'fsn1', size: 'cx22' });
    expect(created.status).toBe(202);
    const operation = await ended(created.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    // the retry looked the server's label up and found the VM the lost answer was about
    const posts = hetzner.requests.filter((r) => r.method === 'POST' && r.path === '/v1/servers');
    expect(posts.filter((r) => (r.body as { name?: string }).name === 'web-lost')).toHaveLength(1);
    expect(operation.steps[1]).toMatchObject({
      name: 'createHost',
      status: 'succeeded',
      output: { adopted: true },
    });
    expect([...hetzner.machines.values()].filter((m) => m.name === 'web-lost')).toHaveLength(1);
    expect(runtime.ssm.inventory().activations).toHaveLength(1);

    const deleted = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
      token: owner.token,
    });
    expect((await ended(deleted.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(hetzner.machines.size).toBe(0);
    expect(runtime.ssm.inventory()).toEqual({ activations: [], instances: [] });
  });

  it('fails cleanly when the token is revoked at the provider after it was checked, giving everything back', async () => {
    const before = runtime.ssm.inventory();
    // the placement check passes with the regions and sizes the provider gave a moment ago
    expect((await createServer({ name: 'web-x', region: 'fsn1', size: 'nope' })).status).toBe(400);
    hetzner.acceptOnly('a-new-token');
    try {
      const created = await createServer({ name: 'web-revoked', region: 'fsn1', size: 'cx22' });
      expect(created.status).toBe(202);
      const operation = await ended(created.headers.get('location') ?? '');
      expect(operation.status).toBe('failed');
      expect(operation.error.code).toBe('ProviderAuthError');
      expect(operation.result.compensation).toEqual([
        expect.stringMatching(/^could not look for hosts at hetzner: Hetzner Cloud answered 401/),
        expect.stringMatching(/^deleted activation /),
      ]);
      expect(runtime.ssm.inventory()).toEqual(before);
      const server = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
        token: owner.token,
      });
      expect(server.json.status).toBe('failed');
    } finally {
      hetzner.acceptOnly(token);
    }
  });

  it('fails cleanly when the provider keeps answering 5xx: nothing left at the provider, quota given back', async () => {
    const dashboardPath = `/v1/tenants/${owner.tenantId}/dashboard`;
    const before = (await api.call('GET', dashboardPath, { token: owner.token })).json.counts;
    hetzner.failOn('POST', '/v1/servers', ...Array(10).fill(503));
    const created = await createServer({ name: 'web-2', region: 'fsn1', size: 'cx22' });
    expect(created.status).toBe(202);
    const operation = await ended(created.headers.get('location') ?? '');
    hetzner.clearFaults();
    expect(operation.status).toBe('failed');
    expect(operation.error.code).toBe('ProviderTransientError');
    expect(operation.error.message).toContain('Hetzner Cloud answered 503');
    expect(operation.steps[1]).toMatchObject({ name: 'createHost', status: 'failed' });
    expect(hetzner.machines.size).toBe(0);
    expect(runtime.ssm.inventory()).toEqual({ activations: [], instances: [] });
    const dashboard = await api.call('GET', dashboardPath, { token: owner.token });
    expect(dashboard.json.counts).toMatchObject({ provisioning: 0, failed: before.failed + 1 });
  });
});

describe('Feature: bring your own server', () => {
  it('shows a one-line install command that registers the machine, and activates it once its agent is online', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'own-box', provider: 'custom' },
    });
    expect(created.status).toBe(202);
    const path = `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`;
    const command = await eventually(async () => {
      const read = await api.call('GET', path, { token: owner.token });
      return (read.json.installCommand as string | null) ?? undefined;
    });
    // AWS's setup tool in AWS; locally, the runtime's stand-in for it
    expect(command).toContain(`curl -fsSL '${runtime.endpoints.services}/local/ssm-setup-cli'`);
    expect(command).toMatch(/-activation-code "[^"]+" -activation-id "[^"]+" -region "[^"]+"$/);
    // while it waits for the machine, a delete points to the cancel that stops and undoes it
    const early = await api.call('DELETE', path, { token: owner.token });
    expect(early.status).toBe(409);
    expect(early.json.detail).toContain(`POST ${created.headers.get('location')}/cancel`);
    // the customer runs it in a shell on its machine: here, it registers a local host
    const ran = await promisify(execFile)('bash', ['-c', command], { timeout: 30_000 });
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toMatch(/^Registering this machine \(local host /);
    const operation = await ended(created.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    expect(operation.steps[1].output.installCommand).toBe(command);
    const server = await api.call('GET', path, { token: owner.token });
    expect(server.json).toMatchObject({ status: 'active', provider: 'custom', installCommand: null });
    // there is no provider to reset the customer's machine: only a graceful reboot
    const hard = await api.call('POST', `${path}/reboot`, { token: owner.token, body: { mode: 'hard' } });
    expect(hard.status).toBe(400);
    expect(hard.json.errors).toEqual([
      { path: 'body.mode', message: 'A custom server has no provider to reset it; reboot it gracefully' },
    ]);
  });
});

describe('Feature: cancelling a provisioning', () => {
  it('stops the workflow mid-way, ends the operation cancelled and undoes everything', async () => {
    // the custom server above stays; nothing of this one may be added to what SSM holds
    const before = runtime.ssm.inventory();
    const created = await createServer({ name: 'quiet-1', region: 'fsn1', size: 'cx22' });
    expect(created.status).toBe(202);
    const operationPath = created.headers.get('location') ?? '';
    // wait until the VM exists and the workflow waits for an agent that will never come
    await eventually(async () => {
      const read = await api.call('GET', operationPath, { token: owner.token });
      const waitForAgent = read.json.steps.find((s: { name: string }) => s.name === 'waitForAgent');
      return waitForAgent.status === 'running' ? true : undefined;
    });
    expect(hetzner.machines.size).toBe(1);
    const cancelled = await api.call('POST', `${operationPath}/cancel`, { token: owner.token });
    expect(cancelled.status).toBe(202);
    expect(cancelled.json).toMatchObject({ status: 'deleting', operation: { kind: 'decommission-server' } });

    const provisioning = await api.call('GET', operationPath, { token: owner.token });
    expect(provisioning.json).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    expect(provisioning.json.steps.map((s: { status: string }) => s.status)).toEqual([
      'succeeded',
      'succeeded',
      'cancelled',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect((await ended(cancelled.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(
      (
        await api.call('GET', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
          token: owner.token,
        })
      ).status,
    ).toBe(404);
    expect(hetzner.machines.size).toBe(0);
    expect(runtime.ssm.inventory()).toEqual(before);
    const aborted = runtime.stepFunctions.executions().find((e) => e.name === created.json.operation.id);
    expect(aborted?.status).toBe('ABORTED');
    const dashboard = await api.call('GET', `/v1/tenants/${owner.tenantId}/dashboard`, {
      token: owner.token,
    });
    expect(dashboard.json.counts).toMatchObject({ provisioning: 0 });

    // an ended operation, and a decommissioning, cannot be cancelled
    expect((await api.call('POST', `${operationPath}/cancel`, { token: owner.token })).status).toBe(409);
    const decommission = cancelled.headers.get('location') ?? '';
    expect((await api.call('POST', `${decommission}/cancel`, { token: owner.token })).status).toBe(409);
  });
});

describe('Feature: a VM that never runs', () => {
  it('gives up after its checks, names the state it was in and deletes it', async () => {
    const before = runtime.ssm.inventory();
    const created = await createServer({ name: 'stuck-1', region: 'fsn1', size: 'cx22' });
    const operation = await ended(created.headers.get('location') ?? '');
    expect(operation.status).toBe('failed');
    expect(operation.error).toEqual({
      code: 'HostNotRunning',
      message: 'The host was creating after 60 checks, not running.',
    });
    expect(operation.steps.map((s: { status: string }) => s.status)).toEqual([
      'succeeded',
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect([...hetzner.machines.values()].some((m) => m.name === 'stuck-1')).toBe(false);
    expect(runtime.ssm.inventory()).toEqual(before);
  });
});

describe("Feature: servers on AWS EC2 in the tenant's own account", () => {
  it('saves an access key only when EC2 accepts its signature, naming the field it rejects', async () => {
    const wrongSecret = await api.call('PUT', `${credentialsPath()}/aws`, {
      token: owner.token,
      body: { ...awsKey, secretAccessKey: 'x'.repeat(40) },
    });
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.json.errors).toEqual([
      { path: 'body.secretAccessKey', message: 'aws rejected these credentials' },
    ]);
    const tokenInstead = await api.call('PUT', `${credentialsPath()}/aws`, {
      token: owner.token,
      body: { token: 'a-provider-token' },
    });
    expect(tokenInstead.status).toBe(400);
    expect(tokenInstead.json.errors.map((e: { path: string }) => e.path)).toEqual([
      'body.accessKeyId',
      'body.secretAccessKey',
      'body.token',
    ]);
    const saved = await api.call('PUT', `${credentialsPath()}/aws`, { token: owner.token, body: awsKey });
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({ provider: 'aws', tokenHint: '…MPLE' });
    expect(JSON.stringify(saved.json)).not.toContain(awsKey.secretAccessKey);
    // EC2's instance types are listed per region, which must be one of its own
    const choices = `/v1/tenants/${owner.tenantId}/providers/aws`;
    const regions = await api.call('GET', `${choices}/regions`, { token: owner.token });
    expect(regions.json.items.map((r: { id: string }) => r.id)).toEqual([
      'us-east-1',
      'eu-central-1',
      'eu-west-1',
    ]);
    const sizes = await api.call('GET', `${choices}/sizes?region=eu-central-1`, { token: owner.token });
    expect(sizes.json.items.map((s: { id: string }) => s.id).sort()).toEqual([
      'm7i.large',
      't3.medium',
      't3.small',
    ]);
    const nowhere = await api.call('GET', `${choices}/sizes?region=mars-1`, { token: owner.token });
    expect(nowhere.status).toBe(400);
    expect(nowhere.json.errors).toEqual([{ path: 'query.region', message: 'Not an aws region' }]);
  });

  it('provisions an instance through the EC2 API, riding out a lost RunInstances answer, and terminates it on delete', async () => {
    const wrongPlace = await createServer({
      provider: 'aws',
      name: 'ec2-0',
      region: 'mars-1',
      size: 'x9.huge',
    });
    expect(wrongPlace.json.errors.map((e: { path: string }) => e.path)).toEqual(['body.region', 'body.size']);

    ec2.loseAnswerOn('RunInstances');
    const created = await createServer({
      provider: 'aws',
      name: 'ec2-1',
      region: 'eu-central-1',
      size: 't3.small',
    });
    expect(created.status).toBe(202);
    const operation = await ended(created.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    const runs = ec2.requests.filter((r) => r.action === 'RunInstances');
    expect(runs).toHaveLength(1);
    expect(runs[0]?.region).toBe('eu-central-1');
    expect(ec2.live()).toHaveLength(1);
    expect(ec2.live()[0]).toMatchObject({
      name: 'ec2-1',
      labels: { 'vip-server-id': created.json.id, 'vip-tenant-id': owner.tenantId },
    });
    const server = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
      token: owner.token,
    });
    expect(server.json).toMatchObject({
      status: 'active',
      provider: 'aws',
      ipv4: expect.stringMatching(/^198\.51\.100\./),
    });

    const deleted = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
      token: owner.token,
    });
    expect((await ended(deleted.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(ec2.live()).toEqual([]);
    expect(runtime.hosts.list().filter((h) => h.name === 'ec2-1')).toEqual([]);
  });

  it("assumes a role in the tenant's account instead of keeping a key, only with the tenant's id as external id", async () => {
    const trustPath = `${credentialsPath()}/aws/trust-policy`;
    const trust = await api.call('GET', trustPath, { token: owner.token });
    expect(trust.status).toBe(200);
    expect(trust.json).toEqual({
      principal: 'arn:aws:iam::000000000000:root',
      externalId: owner.tenantId,
      roleNamePrefix: 'vip-hosting-',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::000000000000:root' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': owner.tenantId } },
          },
        ],
      },
    });
    const notAws = await api.call('GET', `${credentialsPath()}/hetzner/trust-policy`, { token: owner.token });
    expect(notAws.status).toBe(400);
    expect(notAws.json.errors[0].path).toBe('path.provider');

    const roleArn = 'arn:aws:iam::111122223333:role/vip-hosting-panel';
    const put = (body: Record<string, unknown>) =>
      api.call('PUT', `${credentialsPath()}/aws`, { token: owner.token, body });
    const both = await put({ roleArn, ...awsKey });
    expect(both.status).toBe(400);
    expect(both.json.errors).toEqual([
      { path: 'body.accessKeyId', message: 'Not used with roleArn' },
      { path: 'body.secretAccessKey', message: 'Not used with roleArn' },
    ]);
    const otherName = await put({ roleArn: 'arn:aws:iam::111122223333:role/admin' });
    expect(otherName.status).toBe(400);
    expect(otherName.json.errors[0].path).toBe('body.roleArn');
    // a role that does not trust the platform, or trusts it for another tenant's id
    const untrusted = await put({ roleArn });
    expect(untrusted.status).toBe(400);
    expect(untrusted.json.errors[0]).toMatchObject({
      path: 'body.roleArn',
      message: expect.stringContaining(`with external id ${owner.tenantId}`),
    });
    runtime.sts.trustRole(roleArn, 'ten_someoneelse');
    expect((await put({ roleArn })).status).toBe(400);

    runtime.sts.trustRole(roleArn, owner.tenantId);
    const saved = await put({ roleArn });
    expect(saved.status).toBe(200);
    expect(saved.json).toMatchObject({ provider: 'aws', tokenHint: '…anel' });

    const before = ec2.requests.length;
    const created = await createServer({
      provider: 'aws',
      name: 'ec2-role',
      region: 'eu-west-1',
      size: 't3.medium',
    });
    expect(created.status).toBe(202);
    expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(ec2.live().map((i) => i.name)).toEqual(['ec2-role']);
    // every EC2 call since was made with the role's temporary credentials, none with a key
    const since = ec2.requests.slice(before);
    expect(since.map((r) => r.action)).toContain('RunInstances');
    expect(since.every((r) => r.accessKeyId.startsWith('ASIA'))).toBe(true);

    const deleted = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`, {
      token: owner.token,
    });
    expect((await ended(deleted.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(ec2.live()).toEqual([]);
  });
});
