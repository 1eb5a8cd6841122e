import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterKeys } from '../../../layers/model/counters';
import { serverKeys } from '../../../layers/model/servers';
import type { Platform } from '../../../layers/runtime/platform';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, signUp, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let platform: Platform;
let alice: Awaited<ReturnType<typeof signUp>>;
let bob: Awaited<ReturnType<typeof signUp>>;
const servers: Record<string, string> = {};

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  alice = await signUp(api, 'alice-iso@example.com');
  bob = await signUp(api, 'bob-iso@example.com');
  for (const who of [alice, bob]) {
    const created = await api.call('POST', `/v1/tenants/${who.tenantId}/servers`, {
      token: who.token,
      body: { name: 'web', provider: 'local' },
    });
    expect(created.status).toBe(202);
    servers[who.tenantId] = created.json.id;
  }
  platform = await (await import('../../../layers/runtime/platform')).getPlatform();
});

afterAll(async () => {
  await runtime?.stop();
});

const denied = { name: 'AccessDeniedException' };

describe('Feature: tenant-scoped credentials hold even when our code asks for the wrong key', () => {
  it("reads the tenant's own items under its session", async () => {
    const store = platform.storeFor(alice.tenantId);
    const own = await store.get(serverKeys.item(alice.tenantId, servers[alice.tenantId] ?? ''));
    expect(own).toMatchObject({ id: servers[alice.tenantId] });
  });

  it("refuses another tenant's item, partition and any transaction that touches it", async () => {
    const store = platform.storeFor(alice.tenantId);
    const bobsServer = serverKeys.item(bob.tenantId, servers[bob.tenantId] ?? '');
    await expect(store.get(bobsServer)).rejects.toMatchObject(denied);
    await expect(
      store.query({
        pk: bobsServer.pk,
        skPrefix: serverKeys.prefix,
        limit: 10,
        tenantId: alice.tenantId,
        scope: 'x',
      }),
    ).rejects.toMatchObject(denied);
    await expect(
      store.batchGet([counterKeys.item(alice.tenantId), counterKeys.item(bob.tenantId)]),
    ).rejects.toMatchObject(denied);
    await expect(store.update(bobsServer, { name: 'hijacked' })).rejects.toMatchObject(denied);
    await expect(
      store.transact([
        {
          Update: {
            Key: serverKeys.item(alice.tenantId, servers[alice.tenantId] ?? ''),
            UpdateExpression: 'SET #n = :n',
            ExpressionAttributeNames: { '#n': 'name' },
            ExpressionAttributeValues: { ':n': 'x' },
          },
        },
        {
          Update: {
            Key: bobsServer,
            UpdateExpression: 'SET #n = :n',
            ExpressionAttributeNames: { '#n': 'name' },
            ExpressionAttributeValues: { ':n': 'x' },
          },
        },
      ]),
    ).rejects.toMatchObject(denied);
    // nothing of either was written
    const read = await api.call('GET', `/v1/tenants/${bob.tenantId}/servers/${servers[bob.tenantId]}`, {
      token: bob.token,
    });
    expect(read.json.name).toBe('web');
    const mine = await api.call('GET', `/v1/tenants/${alice.tenantId}/servers/${servers[alice.tenantId]}`, {
      token: alice.token,
    });
    expect(mine.json.name).toBe('web');
  });

  it('refuses platform-wide items to a tenant session', async () => {
    const store = platform.storeFor(alice.tenantId);
    await expect(store.get({ pk: 'EMAIL#bob-iso@example.com', sk: 'EMAIL' })).rejects.toMatchObject(denied);
  });

  it('issues no tenant session without a tenant tag, or for another role', async () => {
    const assume = (form: Record<string, string>) =>
      fetch(runtime.endpoints.services, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', ...form }).toString(),
      });
    const roleArn = process.env.TENANT_DATA_ROLE_ARN ?? '';
    const untagged = await assume({ RoleArn: roleArn, RoleSessionName: 'no-tag', DurationSeconds: '900' });
    expect(untagged.status).toBe(403);
    expect(await untagged.text()).toContain('<Code>AccessDenied</Code>');
    const wrongTag = await assume({
      RoleArn: roleArn,
      RoleSessionName: 'wrong-tag',
      DurationSeconds: '900',
      'Tags.member.1.Key': 'tenant',
      'Tags.member.1.Value': 'admin',
    });
    expect(wrongTag.status).toBe(403);
    const otherRole = await assume({
      RoleArn: roleArn.replace(/role\/.*/, 'role/administrator'),
      RoleSessionName: 'other',
      DurationSeconds: '900',
      'Tags.member.1.Key': 'tenant',
      'Tags.member.1.Value': alice.tenantId,
    });
    expect(otherRole.status).toBe(403);
  });
});
