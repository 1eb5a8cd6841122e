import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../../functions/alerts/signature';
import { probe } from '../../../functions/uptime/probe';
import { uptimeSweep } from '../../../functions/uptime/sweep';
import { refusedAddress } from '../../../layers/net/public-address';
import { getPlatform } from '../../../layers/runtime/platform';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { closeReceivers, receiver } from '../../support/alerts';
import { certificateChain } from '../../support/certificates';
import { apiClient, eventually, mailsTo, signUp, startTestRuntime } from '../../support/runtime';

/**
 * Uptime checks on the local runtime: a site on this machine that fails three times and
 * recovers opens and closes an incident (emailed, a signed webhook), a missing keyword and a
 * certificate about to expire fail a probe, the public status page shows only what was
 * published; the sweep runs on the test's clock, a minute apart.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let stranger: Awaited<ReturnType<typeof signUp>>;
const servers: Server[] = [];
let chain: Awaited<ReturnType<typeof certificateChain>>;
let clock = Date.now();

/** A site whose answers a test scripts (status and body), the last one repeated. */
async function site(answers: { status: number; body: string }[]) {
  const server = createHttpServer((_request, response) => {
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    response.writeHead(answer?.status ?? 200, { 'content-type': 'text/html' }).end(answer?.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

/** One sweep a minute after the last, as the schedule runs it. */
async function sweep() {
  clock += 60_000;
  const platform = await getPlatform();
  const result = await uptimeSweep({ ...platform, clock: { now: () => new Date(clock) } });
  await runtime.eventBus.settle();
  return result;
}

beforeAll(async () => {
  chain = await certificateChain({
    domains: ['localhost'],
    notAfter: new Date(Date.now() + 5 * 86_400_000),
  });
  const caFile = join(mkdtempSync(join(tmpdir(), 'uptime-ca-')), 'root.pem');
  writeFileSync(caFile, chain.root);
  runtime = await startTestRuntime({ uptimeCaFile: caFile, scheduleIntervalMs: 3_600_000 });
  api = apiClient(runtime.url);
  owner = await signUp(api, 'uptime-owner@example.com');
  stranger = await signUp(api, 'uptime-stranger@example.com');
});
afterAll(async () => {
  closeReceivers();
  for (const server of servers) server.close();
  await runtime?.stop();
});

const create = (body: Record<string, unknown>, as = owner) =>
  api.call('POST', `/v1/tenants/${as.tenantId}/uptime-checks`, { token: as.token, body });

describe('Feature: uptime checks', () => {
  it('opens an incident after three failures in a row and closes it on recovery, notifying both', async () => {
    const url = await site([
      { status: 500, body: 'oops' },
      { status: 502, body: 'bad gateway' },
      { status: 500, body: 'oops' },
      { status: 200, body: '<h1>Welcome to the shop</h1>' },
    ]);
    const hook = await receiver();
    const made = await create({
      name: 'Shop front',
      url,
      keyword: 'Welcome',
      failuresToOpen: 3,
      publish: true,
      publicName: 'Shop',
      emails: ['ops@example.com'],
      webhooks: [{ url: hook.url }],
    });
    expect(made.status).toBe(201);
    const path = `/v1/tenants/${owner.tenantId}/uptime-checks/${made.json.id}`;

    await sweep();
    await sweep();
    let check = (await api.call('GET', path, { token: owner.token })).json;
    expect(check).toMatchObject({ status: 'unknown', consecutiveFailures: 2, openIncidentId: null });
    expect(check.lastResult).toMatchObject({
      ok: false,
      statusCode: 502,
      error: 'Status 502, not 200 to 399',
    });

    await sweep();
    check = (await api.call('GET', path, { token: owner.token })).json;
    expect(check).toMatchObject({ status: 'down', consecutiveFailures: 3 });
    const incidents = await api.call('GET', `/v1/tenants/${owner.tenantId}/incidents`, {
      token: owner.token,
    });
    expect(incidents.json.items).toEqual([
      expect.objectContaining({
        id: check.openIncidentId,
        checkId: made.json.id,
        closedAt: null,
        failures: 3,
      }),
    ]);
    expect(mailsTo(runtime, 'ops@example.com').map((m) => m.subject)).toEqual([`DOWN: Shop front (${url})`]);
    await eventually(async () => (hook.received.length === 1 ? true : undefined), 10_000, 'the down webhook');
    const down = hook.received[0];
    expect(JSON.parse(down?.body ?? '{}')).toMatchObject({ type: 'uptime.down', checkId: made.json.id });
    expect(
      verifySignature(made.json.webhookSecret, down?.body ?? '', down?.signature ?? '', new Date()),
    ).toBe(true);

    const degraded = await api.call('GET', `/v1/status-pages/${owner.tenantId}`);
    expect(degraded.json).toMatchObject({ status: 'degraded', checks: [{ name: 'Shop', status: 'down' }] });
    expect(degraded.json.incidents).toEqual([expect.objectContaining({ check: 'Shop', closedAt: null })]);

    await sweep();
    check = (await api.call('GET', path, { token: owner.token })).json;
    expect(check).toMatchObject({ status: 'up', consecutiveFailures: 0, openIncidentId: null });
    expect(check.lastResult).toMatchObject({ ok: true, statusCode: 200 });
    const closed = await api.call('GET', `/v1/tenants/${owner.tenantId}/incidents`, { token: owner.token });
    expect(closed.json.items[0].closedAt).toBe(check.lastResult.at);
    expect(mailsTo(runtime, 'ops@example.com').map((m) => m.subject)).toEqual([
      `DOWN: Shop front (${url})`,
      `UP: Shop front (${url})`,
    ]);
    await eventually(async () => (hook.received.length === 2 ? true : undefined), 10_000, 'the up webhook');
    expect(JSON.parse(hook.received[1]?.body ?? '{}').type).toBe('uptime.up');

    const results = await api.call('GET', `${path}/results`, { token: owner.token });
    expect(results.json.items.map((r: { ok: boolean }) => r.ok)).toEqual([true, false, false, false]);
    const page = await api.call('GET', `/v1/status-pages/${owner.tenantId}`);
    expect(page.headers.get('cache-control')).toBe('public, max-age=30');
    expect(page.json.status).toBe('operational');
    expect(page.json.checks[0].uptime.day).toBe(25);
    expect(JSON.stringify(page.json)).not.toContain(url);
  });

  it('fails a probe whose body lacks the keyword, and one whose certificate expires within the days asked', async () => {
    const url = await site([{ status: 200, body: 'Maintenance' }]);
    const keyword = await create({ name: 'Keyword', url, keyword: 'Welcome', failuresToOpen: 1 });
    const tls = createHttpsServer(
      { key: chain.key, cert: `${chain.leaf.trim()}\n${chain.intermediate}` },
      (_q, response) => response.end('Welcome'),
    );
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    servers.push(tls);
    const secure = await create({
      name: 'TLS',
      url: `https://localhost:${(tls.address() as { port: number }).port}/`,
      tlsExpiryDays: 14,
    });
    const relaxed = await create({
      name: 'TLS relaxed',
      url: `https://localhost:${(tls.address() as { port: number }).port}/`,
      tlsExpiryDays: 3,
    });
    await sweep();
    const read = async (id: string) =>
      (await api.call('GET', `/v1/tenants/${owner.tenantId}/uptime-checks/${id}`, { token: owner.token }))
        .json;
    expect((await read(keyword.json.id)).lastResult).toMatchObject({
      ok: false,
      statusCode: 200,
      error: 'The body does not contain "Welcome"',
    });
    expect((await read(keyword.json.id)).status).toBe('down');
    const expiring = (await read(secure.json.id)).lastResult;
    expect(expiring).toMatchObject({ ok: false, error: 'The certificate expires in 4 days' });
    expect(Date.parse(expiring.tlsExpiresAt)).toBeGreaterThan(Date.now());
    expect((await read(relaxed.json.id)).lastResult).toMatchObject({ ok: true, statusCode: 200 });
  });

  it('refuses private, loopback and link-local targets outside a local runtime', async () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://10.1.2.3/',
      'http://169.254.169.254/latest',
      'http://localhost:8080/',
    ]) {
      expect(await refusedAddress(url, false), url).toBeDefined();
      const result = await probe({
        url,
        method: 'GET',
        timeoutSeconds: 2,
        expectedStatus: { min: 200, max: 399 },
        tlsExpiryDays: 0,
        local: false,
      });
      expect(result, url).toMatchObject({ ok: false, error: expect.stringMatching(/not a public address/) });
    }
    expect(await refusedAddress('https://93.184.215.14/', false)).toBeUndefined();
  });

  it('answers 400 naming the field, 404 to another tenant, and no status page for what is not published', async () => {
    for (const [body, field] of [
      [{ name: 'x', url: 'ftp://example.com/' }, 'body.url'],
      [{ name: 'x', url: 'http://example.com/', intervalSeconds: 10 }, 'body.intervalSeconds'],
      [
        { name: 'x', url: 'http://example.com/', expectedStatus: { min: 300, max: 200 } },
        'body.expectedStatus.max',
      ],
      [{ name: 'x', url: 'http://example.com/', webhooks: [{ url: 'nope' }] }, 'body.webhooks.0.url'],
    ] as const) {
      const refused = await create(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    const url = await site([{ status: 200, body: 'ok' }]);
    const hidden = await create({ name: 'Private', url }, stranger);
    expect((await api.call('GET', `/v1/status-pages/${stranger.tenantId}`)).status).toBe(404);
    expect((await api.call('GET', '/v1/status-pages/ten_nope')).status).toBe(400);
    const theirs = `/v1/tenants/${owner.tenantId}/uptime-checks/${hidden.json.id}`;
    for (const [method, target] of [
      ['GET', theirs],
      ['PATCH', theirs],
      ['DELETE', theirs],
      ['GET', `${theirs}/results`],
    ] as const) {
      const response = await api.call(method, target, {
        token: owner.token,
        ...(method === 'PATCH' ? { body: { name: 'mine' } } : {}),
      });
      expect(response.status, `${method} ${target}`).toBe(404);
    }
    const paused = await api.call(
      'PATCH',
      `/v1/tenants/${stranger.tenantId}/uptime-checks/${hidden.json.id}`,
      {
        token: stranger.token,
        body: { enabled: false, keyword: null },
      },
    );
    expect(paused.json).toMatchObject({ enabled: false, keyword: null });
    // a paused check is not probed
    await sweep();
    const results = await api.call(
      'GET',
      `/v1/tenants/${stranger.tenantId}/uptime-checks/${hidden.json.id}/results`,
      {
        token: stranger.token,
      },
    );
    expect(results.json.items).toEqual([]);
  });
});
