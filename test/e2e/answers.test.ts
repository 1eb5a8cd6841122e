import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecrets } from '../../layers/auth/secrets';
import { makeTokenSigner } from '../../layers/auth/tokens';
import { getConfig } from '../../layers/config/config';
import type { LocalRuntime } from '../../scripts/local/runtime';
import { apiClient, signUp, startTestRuntime } from '../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'answers@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

const createToken = (body: Record<string, unknown>) =>
  api.call('POST', `/v1/tenants/${owner.tenantId}/api-tokens`, { token: owner.token, body });

describe('Feature: refusals that say why', () => {
  it('names the scope an API token lacks', async () => {
    const { json } = await createToken({ name: 'reader', scopes: ['servers:read'] });
    const write = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: json.token,
      body: { name: 'nope', provider: 'local' },
    });
    expect(write.status).toBe(403);
    expect(write.json.detail).toBe('This API token lacks the scope servers:write.');
  });

  it('gives each kind of refused token its own 401 detail', async () => {
    const path = `/v1/tenants/${owner.tenantId}/servers`;
    const garbage = await api.call('GET', path, { token: 'not-a-token' });
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toBe('Bearer');
    expect(garbage.json).toMatchObject({ status: 401, detail: 'The bearer token is not valid.' });

    const fenced = await createToken({
      name: 'fenced',
      scopes: ['servers:read'],
      allowedCidrs: ['10.9.0.0/16'],
    });
    const outside = await api.call('GET', path, { token: fenced.json.token });
    expect(outside.status).toBe(401);
    expect(outside.json.detail).toMatch(/may not be used from this address/);

    const revoked = await createToken({ name: 'revoked', scopes: ['servers:read'] });
    await api.call('DELETE', `/v1/tenants/${owner.tenantId}/api-tokens/${revoked.json.id}`, {
      token: owner.token,
    });
    const afterRevoke = await api.call('GET', path, { token: revoked.json.token });
    expect(afterRevoke.status).toBe(401);
    expect(afterRevoke.json.detail).toBe('This API token has been revoked.');

    // a token whose secret is wrong says no more than garbage does
    const guessed = `${revoked.json.token.slice(0, -43)}${'A'.repeat(43)}`;
    expect((await api.call('GET', path, { token: guessed })).json.detail).toBe(
      'The bearer token is not valid.',
    );

    const config = getConfig();
    const signer = await makeTokenSigner(
      await loadSecrets(runtime.clients.ssm, runtime.names.secretsParameter),
      { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, accessTokenTtlSeconds: 60 },
      { now: () => new Date(Date.now() - 3_600_000) },
    );
    const { token: stale } = await signer.sign({
      tenantId: owner.tenantId,
      userId: 'usr_01JDTESTTESTTESTTESTTESTTE',
      role: 'owner',
      twoFactor: false,
    });
    const expired = await api.call('GET', path, { token: stale });
    expect(expired.status).toBe(401);
    expect(expired.json.detail).toBe('The access token has expired; refresh it or sign in again.');
  });

  it('answers a method a path does not have with 405 and Allow', async () => {
    const response = await api.call('PUT', `/v1/tenants/${owner.tenantId}/servers`, { token: owner.token });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST, OPTIONS');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.json).toMatchObject({ status: 405, title: 'Method not allowed' });
    expect((await api.call('GET', '/v1/no-such-thing')).status).toBe(404);
  });

  it('words every field message itself, naming what is missing', async () => {
    const response = await api.call('POST', '/v1/auth/signup', {
      body: { email: 'not-an-email', password: 'short', name: '' },
    });
    expect(response.status).toBe(400);
    const messages = Object.fromEntries(
      (response.json.errors as { path: string; message: string }[]).map((e) => [e.path, e.message]),
    );
    expect(messages['body.tenantName']).toBe('Required');
    expect(messages['body.email']).toBe('Must be an email address');
    expect(messages['body.password']).toBe('At least 12 characters');
    expect(messages['body.name']).toMatch(/^Must be at least \d+ characters? long$/);
    for (const message of Object.values(messages)) expect(message).not.toMatch(/Invalid input|expected/);
  });
});

describe('Feature: following a new operation', () => {
  it('begins the event stream with the operation as it stands, before it has ended', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'followed', provider: 'local' },
    });
    const response = await fetch(`${runtime.url}${created.headers.get('location')}/events`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    const reader = response.body?.getReader();
    let text = '';
    while (!text.includes('event: operation')) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    await reader?.cancel();
    const first = JSON.parse(/event: operation\ndata: (.*)\n/.exec(text)?.[1] ?? '{}');
    // the quota step succeeded with the create itself: the stream shows it from its first event
    expect(first.steps[0]).toMatchObject({ name: 'checkQuota', status: 'succeeded' });
    expect(first.steps).toHaveLength(6);
    expect(text.startsWith('retry: ')).toBe(true);
  });
});

describe('Feature: emails that lead somewhere', () => {
  it('gives the API call to accept an invitation at the address this API answers on', async () => {
    const invited = await api.call('POST', `/v1/tenants/${owner.tenantId}/invitations`, {
      token: owner.token,
      body: { email: 'newcomer@example.com', role: 'developer' },
    });
    expect(invited.status).toBe(201);
    const mail = readFileSync(runtime.outboxPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { to: string[]; text: string })
      .filter((m) => m.to.includes('newcomer@example.com'))
      .at(-1);
    expect(mail?.text).toContain(`POST ${runtime.url}/v1/invitations/accept`);
    expect(mail?.text).not.toContain('localhost:3000');
    const body = JSON.parse(/with the JSON body (\{.*\})/.exec(mail?.text ?? '')?.[1] ?? '{}');
    const accepted = await api.call('POST', '/v1/invitations/accept', {
      body: { ...body, name: 'Newcomer', password: 'a long enough password' },
    });
    expect(accepted.status).toBe(201);
  });
});
