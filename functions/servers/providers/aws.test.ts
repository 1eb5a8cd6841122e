import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeEc2, startFakeEc2 } from '../../../scripts/fakes/ec2';
import { awsProvider, SECURITY_GROUP } from './aws';
import {
  type CloudProvider,
  ProviderAuthError,
  ProviderRequestError,
  ProviderTransientError,
} from './provider';

const key = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const userData = '#!/bin/bash\necho "register with SSM"\n';

describe('Contract: the aws (EC2) client', () => {
  let fake: FakeEc2;
  let client: CloudProvider;

  beforeAll(async () => {
    fake = await startFakeEc2({ ...key, bootMs: 30 });
    client = awsProvider({ key, region: 'eu-central-1', endpoint: fake.endpoint });
  });
  afterAll(async () => {
    await fake?.stop();
  });

  it('lists the regions, and the current x86 sizes of the families it offers', async () => {
    expect((await client.listRegions()).map((r) => r.id)).toContain('eu-central-1');
    expect(await client.listSizes()).toContainEqual({ id: 't3.small', description: '2 vCPU, 2048 MiB' });
    const types = fake.requests.find((r) => r.action === 'DescribeInstanceTypes');
    expect(types?.params).toMatchObject({
      'Filter.1.Name': 'instance-type',
      'Filter.2.Name': 'current-generation',
      'Filter.2.Value.1': 'true',
    });
  });

  it("starts an instance from Canonical's newest Ubuntu 24.04 image with user data, tags, IMDSv2 and the web security group", async () => {
    const host = await client.createHost({
      name: 'web-1',
      region: 'eu-central-1',
      size: 't3.small',
      userData,
      labels: { 'vip-server-id': 'srv_1' },
    });
    expect(host.status).toBe('creating');
    const instance = fake.instances.get(host.id);
    expect(instance).toMatchObject({
      region: 'eu-central-1',
      imageId: 'ami-0ccc3333dddd44440',
      userData,
      name: 'web-1',
      labels: { 'vip-server-id': 'srv_1' },
      metadataTokens: 'required',
    });
    const [group] = [...fake.groups.values()];
    expect(group).toMatchObject({ name: SECURITY_GROUP, region: 'eu-central-1', ingress: [22, 80, 443] });
    expect(instance?.securityGroupIds).toEqual([group?.id]);
    await new Promise((r) => setTimeout(r, 80));
    expect(await client.getHost(host.id)).toEqual({
      id: host.id,
      status: 'running',
      ipv4: expect.any(String),
    });
    expect((await client.hostsLabelled('vip-server-id', 'srv_1')).map((h) => h.id)).toEqual([host.id]);
    await client.rebootHost(host.id);
    expect(fake.instances.get(host.id)?.rebootCount).toBe(1);

    // the same attempt again: the client token gives back the same instance, and the group is reused
    const again = await client.createHost({
      name: 'web-1',
      region: 'eu-central-1',
      size: 't3.small',
      userData,
      labels: { 'vip-server-id': 'srv_1' },
    });
    expect(again.id).toBe(host.id);
    expect(fake.groups.size).toBe(1);

    await client.deleteHost(host.id);
    expect(fake.instances.get(host.id)?.state).toBe('terminated');
    expect(await client.getHost(host.id)).toBeUndefined();
    expect(await client.hostsLabelled('vip-server-id', 'srv_1')).toEqual([]);
    await expect(client.deleteHost('i-0000000000000dead')).resolves.toBeUndefined();
  });

  it('tells throttling and server errors (retry) from rejected keys and bad requests (do not)', async () => {
    fake.failOn('DescribeRegions', 503);
    const throttled = await client.listRegions().catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(ProviderTransientError);
    expect((throttled as Error).message).toContain('RequestLimitExceeded');
    fake.failOn('DescribeInstances', 500);
    await expect(client.getHost('i-0123')).rejects.toBeInstanceOf(ProviderTransientError);

    const wrongSecret = awsProvider({
      key: { ...key, secretAccessKey: 'x'.repeat(40) },
      endpoint: fake.endpoint,
    });
    const signature = await wrongSecret.checkCredentials().catch((e: unknown) => e);
    expect(signature).toBeInstanceOf(ProviderAuthError);
    expect((signature as Error).message).toContain('SignatureDoesNotMatch');
    const unknownKey = awsProvider({
      key: { ...key, accessKeyId: 'AKIAUNKNOWNKEY000000' },
      endpoint: fake.endpoint,
    });
    await expect(unknownKey.checkCredentials()).rejects.toBeInstanceOf(ProviderAuthError);
    await expect(client.checkCredentials()).resolves.toBeUndefined();

    const badSize = await client
      .createHost({ name: 'web-2', region: 'eu-central-1', size: 'x9.huge', userData, labels: {} })
      .catch((e: unknown) => e);
    expect(badSize).toBeInstanceOf(ProviderRequestError);
    expect((badSize as Error).message).toContain('x9.huge');
  });

  it('counts an endpoint that does not answer as transient', async () => {
    const gone = awsProvider({ key, endpoint: 'http://127.0.0.1:9' });
    await expect(gone.listRegions()).rejects.toBeInstanceOf(ProviderTransientError);
  });
});
