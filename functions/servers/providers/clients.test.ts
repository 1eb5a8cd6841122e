import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeProvider,
  type FakeProviderKind,
  startFakeProvider,
} from '../../../scripts/fakes/providers';
import { digitalOceanProvider } from './digitalocean';
import { hetznerProvider } from './hetzner';
import {
  type CloudProvider,
  ProviderAuthError,
  ProviderRequestError,
  ProviderTransientError,
} from './provider';
import { vultrProvider } from './vultr';

const clients: Record<FakeProviderKind, (options: { baseUrl: string; token: string }) => CloudProvider> = {
  hetzner: hetznerProvider,
  digitalocean: digitalOceanProvider,
  vultr: vultrProvider,
};
const choices = {
  hetzner: { region: 'fsn1', size: 'cx22' },
  digitalocean: { region: 'fra1', size: 's-1vcpu-1gb' },
  vultr: { region: 'fra', size: 'vc2-1c-1gb' },
};

describe.each(Object.keys(clients) as FakeProviderKind[])('Contract: the %s client', (kind) => {
  let fake: FakeProvider;
  let client: CloudProvider;
  const userData = '#!/bin/bash\necho "register with SSM"\n';

  beforeAll(async () => {
    fake = await startFakeProvider(kind, { token: 'good-token', bootMs: 30 });
    client = clients[kind]({ baseUrl: fake.baseUrl, token: 'good-token' });
  });
  afterAll(async () => {
    await fake?.stop();
  });

  it('lists the regions and sizes the provider offers', async () => {
    expect((await client.listRegions()).map((r) => r.id)).toContain(choices[kind].region);
    expect((await client.listSizes()).map((s) => s.id)).toContain(choices[kind].size);
  });

  it('creates a host with its cloud-init user data, sees it running, reboots and deletes it (twice)', async () => {
    const host = await client.createHost({
      name: 'web-1',
      ...choices[kind],
      userData,
      labels: { 'vip-server-id': 'srv_1' },
    });
    expect(host.status).toBe('creating');
    expect(fake.machines.get(host.id)?.userData).toBe(userData);
    await new Promise((r) => setTimeout(r, 80));
    expect(await client.getHost(host.id)).toMatchObject({
      id: host.id,
      status: 'running',
      ipv4: expect.any(String),
    });
    await client.rebootHost(host.id);
    expect(fake.machines.get(host.id)?.rebootCount).toBe(1);
    await client.deleteHost(host.id);
    expect(fake.machines.has(host.id)).toBe(false);
    await expect(client.deleteHost(host.id)).resolves.toBeUndefined();
    expect(await client.getHost(host.id)).toBeUndefined();
  });

  it('finds the hosts carrying a label, and only those', async () => {
    const mine = await client.createHost({
      name: 'web-3',
      ...choices[kind],
      userData,
      labels: { 'vip-server-id': 'srv_mine' },
    });
    const other = await client.createHost({
      name: 'web-4',
      ...choices[kind],
      userData,
      labels: { 'vip-server-id': 'srv_other' },
    });
    expect((await client.hostsLabelled('vip-server-id', 'srv_mine')).map((h) => h.id)).toEqual([mine.id]);
    expect(await client.hostsLabelled('vip-server-id', 'srv_none')).toEqual([]);
    await client.deleteHost(mine.id);
    await client.deleteHost(other.id);
    expect(await client.hostsLabelled('vip-server-id', 'srv_mine')).toEqual([]);
  });

  it('tells a rate limit and a server error (retry) from rejected credentials and a bad request (do not)', async () => {
    fake.failNext(429);
    const limited = await client.listRegions().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ProviderTransientError);
    if (kind !== 'vultr') expect((limited as ProviderTransientError).retryAfterSeconds).toBeGreaterThan(0);
    fake.failNext(503);
    await expect(client.getHost('1')).rejects.toBeInstanceOf(ProviderTransientError);

    const rejected = clients[kind]({ baseUrl: fake.baseUrl, token: 'revoked-token' });
    await expect(rejected.checkCredentials()).rejects.toBeInstanceOf(ProviderAuthError);
    await expect(client.checkCredentials()).resolves.toBeUndefined();

    const unknownRegion = await client
      .createHost({ name: 'web-2', region: 'mars-1', size: choices[kind].size, userData, labels: {} })
      .catch((e: unknown) => e);
    expect(unknownRegion).toBeInstanceOf(ProviderRequestError);
    expect((unknownRegion as ProviderRequestError).message).toMatch(/mars-1/);
  });

  it('counts a provider that does not answer as transient', async () => {
    const gone = clients[kind]({ baseUrl: 'http://127.0.0.1:9/v1', token: 'good-token' });
    await expect(gone.listRegions()).rejects.toBeInstanceOf(ProviderTransientError);
  });
});
