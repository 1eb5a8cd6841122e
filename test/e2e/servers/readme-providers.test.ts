import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localProviderCredentials } from '../../../scripts/local/cloud-fakes';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, eventually, operationEnded, signUp, startTestRuntime } from '../../support/runtime';

/**
 * The README's provider steps, as a newcomer runs them against `npm start`: the runtime's own
 * stand-ins of Hetzner, DigitalOcean, Vultr and EC2, and a custom machine registered by its
 * install command, all without the network.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  for (const variable of ['HETZNER_API_URL', 'DIGITALOCEAN_API_URL', 'VULTR_API_URL', 'EC2_ENDPOINT']) {
    delete process.env[variable];
  }
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'readme@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

const tenantPath = () => `/v1/tenants/${owner.tenantId}`;

describe('Feature: the README provider steps, offline', () => {
  it('points every provider client at a local stand-in', () => {
    for (const variable of ['HETZNER_API_URL', 'DIGITALOCEAN_API_URL', 'VULTR_API_URL', 'EC2_ENDPOINT']) {
      expect(process.env[variable]).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    }
  });

  it.each([
    ['hetzner', localProviderCredentials.hetzner, 'fsn1', 'cx22'],
    ['digitalocean', localProviderCredentials.digitalocean, 'fra1', 's-1vcpu-1gb'],
    ['vultr', localProviderCredentials.vultr, 'fra', 'vc2-1c-1gb'],
    ['aws', localProviderCredentials.aws, 'eu-central-1', 't3.small'],
  ] as const)(
    'saves %s credentials, lists its choices and provisions a server there',
    async (provider, credentials, region, size) => {
      const wrong = await api.call('PUT', `${tenantPath()}/provider-credentials/${provider}`, {
        token: owner.token,
        body:
          'token' in credentials
            ? { token: 'not-the-local-token' }
            : { ...credentials, secretAccessKey: 'x'.repeat(40) },
      });
      expect(wrong.status).toBe(400);
      const saved = await api.call('PUT', `${tenantPath()}/provider-credentials/${provider}`, {
        token: owner.token,
        body: credentials,
      });
      expect(saved.status).toBe(200);
      const regions = await api.call('GET', `${tenantPath()}/providers/${provider}/regions`, {
        token: owner.token,
      });
      expect(regions.json.items.map((r: { id: string }) => r.id)).toContain(region);
      const sizes = await api.call(
        'GET',
        `${tenantPath()}/providers/${provider}/sizes${provider === 'aws' ? `?region=${region}` : ''}`,
        { token: owner.token },
      );
      expect(sizes.json.items.map((s: { id: string }) => s.id)).toContain(size);
      const created = await api.call('POST', `${tenantPath()}/servers`, {
        token: owner.token,
        body: { name: `web-${provider}`, provider, region, size },
      });
      expect(created.status).toBe(202);
      const operation = await operationEnded(api, created.headers.get('location') ?? '', owner.token);
      expect(operation.status).toBe('succeeded');
      const server = await api.call('GET', `${tenantPath()}/servers/${created.json.id}`, {
        token: owner.token,
      });
      expect(server.json).toMatchObject({ status: 'active', provider, region, size });
    },
  );

  it('registers a custom machine by running the install command the API shows', async () => {
    const created = await api.call('POST', `${tenantPath()}/servers`, {
      token: owner.token,
      body: { name: 'box', provider: 'custom' },
    });
    const path = `${tenantPath()}/servers/${created.json.id}`;
    const command = await eventually(async () => {
      const read = await api.call('GET', path, { token: owner.token });
      return (read.json.installCommand as string | null) ?? undefined;
    });
    await promisify(execFile)('bash', ['-c', command], { timeout: 30_000 });
    const operation = await operationEnded(api, created.headers.get('location') ?? '', owner.token);
    expect(operation.status).toBe('succeeded');
    expect((await api.call('GET', path, { token: owner.token })).json.status).toBe('active');
  });
});
