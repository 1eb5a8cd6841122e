import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, signUp, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let stranger: Awaited<ReturnType<typeof signUp>>;
const password = 'a long enough password';

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'owner@example.com');
  stranger = await signUp(api, 'stranger@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

/** The invitation token from the last email sent to an address, as its recipient would read it. */
function tokenFromOutbox(email: string): string {
  const mails = readFileSync(runtime.outboxPath, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { to: string[]; text: string; subject: string });
  const mail = mails.filter((m) => m.to.includes(email)).at(-1);
  const token = /(vin_[A-Za-z0-9_-]{43})/.exec(mail?.text ?? '')?.[1];
  if (!token) throw new Error(`no invitation mail for ${email}`);
  return token;
}

const invite = (as: { tenantId: string; token: string }, email: string, role: string) =>
  api.call('POST', `/v1/tenants/${as.tenantId}/invitations`, { token: as.token, body: { email, role } });
const accept = (token: string, name = 'New member') =>
  api.call('POST', '/v1/invitations/accept', { body: { token, name, password } });
const logIn = async (email: string) => {
  const response = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  return {
    tenantId: response.json.tenantId as string,
    token: response.json.accessToken as string,
    userId: response.json.userId,
    refreshToken: response.json.refreshToken as string,
  };
};

describe('Feature: members and invitations', () => {
  let admin: Awaited<ReturnType<typeof logIn>>;

  it('invites by email, and the invitee joins with the role it was invited with', async () => {
    const invited = await invite(owner, 'admin@example.com', 'admin');
    expect(invited.status).toBe(201);
    expect(invited.json).toMatchObject({ email: 'admin@example.com', role: 'admin' });
    const pending = await api.call('GET', `/v1/tenants/${owner.tenantId}/invitations`, {
      token: owner.token,
    });
    expect(pending.json.items).toHaveLength(1);

    const token = tokenFromOutbox('admin@example.com');
    const accepted = await accept(token, 'Ada Admin');
    expect(accepted.status).toBe(201);
    expect(accepted.json).toMatchObject({ email: 'admin@example.com', role: 'admin', name: 'Ada Admin' });
    admin = await logIn('admin@example.com');
    expect(admin.tenantId).toBe(owner.tenantId);

    expect((await accept(token)).status).toBe(404);
    const after = await api.call('GET', `/v1/tenants/${owner.tenantId}/invitations`, { token: owner.token });
    expect(after.json.items).toHaveLength(0);
    const members = await api.call('GET', `/v1/tenants/${owner.tenantId}/members`, { token: admin.token });
    expect(members.json.items.map((m: { role: string }) => m.role).sort()).toEqual(['admin', 'owner']);
    expect(JSON.stringify(members.json)).not.toContain('passwordHash');
  });

  it("changes a member's role with its ETag, ends its sessions, and names the field it refuses", async () => {
    const session = await logIn('admin@example.com');
    const memberPath = `/v1/tenants/${owner.tenantId}/members/${admin.userId}`;
    const changed = await api.call('PATCH', memberPath, { token: owner.token, body: { role: 'developer' } });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ id: admin.userId, role: 'developer' });
    expect(changed.headers.get('etag')).toMatch(/^"v\d+"$/);
    expect(
      (await api.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.refreshToken } })).status,
    ).toBe(401);
    const stale = await api.call('PATCH', memberPath, {
      token: owner.token,
      body: { role: 'admin' },
      headers: { 'if-match': '"v1"' },
    });
    expect(stale.status).toBe(412);
    const lastOwner = await api.call('PATCH', `/v1/tenants/${owner.tenantId}/members/${owner.userId}`, {
      token: owner.token,
      body: { role: 'admin' },
    });
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.headers.get('content-type')).toContain('application/problem+json');
    expect(lastOwner.json.errors).toEqual([
      { path: 'body.role', message: 'The last owner keeps the owner role.' },
    ]);
    const bad = await api.call('PATCH', memberPath, { token: owner.token, body: { role: 'root' } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe('body.role');
  });

  it('revokes a pending invitation, whose token then stops working', async () => {
    const invited = await invite(owner, 'late@example.com', 'developer');
    const path = `/v1/tenants/${owner.tenantId}/invitations/${invited.json.id}`;
    expect((await api.call('DELETE', path, { token: owner.token })).status).toBe(204);
    expect((await accept(tokenFromOutbox('late@example.com'))).status).toBe(404);
    expect((await api.call('DELETE', path, { token: owner.token })).status).toBe(404);
  });

  it('removes a member, whose sessions then stop refreshing', async () => {
    const session = await api.call('POST', '/v1/auth/login', {
      body: { email: 'admin@example.com', password },
    });
    const removed = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/members/${session.json.userId}`, {
      token: owner.token,
    });
    expect(removed.status).toBe(204);
    expect(
      (await api.call('POST', '/v1/auth/refresh', { body: { refreshToken: session.json.refreshToken } }))
        .status,
    ).toBe(401);
    expect(
      (await api.call('POST', '/v1/auth/login', { body: { email: 'admin@example.com', password } })).status,
    ).toBe(401);
  });

  it("answers 404 on another tenant's members and invitations", async () => {
    for (const path of ['members', 'invitations']) {
      expect(
        (await api.call('GET', `/v1/tenants/${owner.tenantId}/${path}`, { token: stranger.token })).status,
      ).toBe(404);
    }
    expect((await invite(stranger, 'x@example.com', 'admin')).status).toBe(201);
    expect(
      (
        await api.call('POST', `/v1/tenants/${owner.tenantId}/invitations`, {
          token: stranger.token,
          body: { email: 'y@example.com', role: 'admin' },
        })
      ).status,
    ).toBe(404);
  });
});
