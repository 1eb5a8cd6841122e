import { GetParameterCommand, ParameterNotFound } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepCertificates } from '../../../functions/sites/certificates/sweep';
import type { SiteItem } from '../../../layers/model/sites';
import { getPlatform } from '../../../layers/runtime/platform';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { certificateChain } from '../../support/certificates';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../../support/runtime';
import { getFromSite, getOverTls, sentToHosts } from '../../support/site-http';

/** Certificates for sites: ordered from pebble by HTTP-01 through the site's nginx, and uploaded. */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let serverId: string;
const domain = 'shop.example.test';

const ended = (path: string) => operationEnded(api, path, owner.token);

async function newSite(name: string) {
  const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${serverId}/sites`, {
    token: owner.token,
    body: { domain: name, type: 'php', php: { version: '8.2' } },
  });
  expect(created.status, created.text).toBe(202);
  expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
  return `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`;
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  expect(runtime.acme, 'pebble is installed (.ci/run installs it)').toBeDefined();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'certificates@example.com');
  const server = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
    token: owner.token,
    body: { name: 'tls-1', provider: 'local', stack: { phpVersions: ['8.2'] } },
  });
  expect((await ended(server.headers.get('location') ?? '')).status).toBe('succeeded');
  serverId = server.json.id;
});

afterAll(async () => {
  await runtime?.stop();
});

describe('ACME certificates from pebble', () => {
  it("orders a certificate by HTTP-01 through the site's nginx; the site then answers over TLS with it", async () => {
    const path = await newSite(domain);
    // the front door routes by domain, as DNS would
    const front = await getFromSite(runtime.frontDoor, domain);
    expect(front.body).toContain(`Hello from ${domain}`);

    const ordered = await api.call('POST', `${path}/certificate/order`, { token: owner.token });
    expect(ordered.status, ordered.text).toBe(202);
    const operation = await ended(ordered.headers.get('location') ?? '');
    expect(operation.status, JSON.stringify(operation)).toBe('succeeded');
    expect(operation.steps.map((s: { name: string }) => s.name)).toEqual(['order', 'validate', 'install']);

    const site = (await api.call('GET', path, { token: owner.token })).json;
    expect(site.certificate.source).toBe('acme');
    expect(site.certificate.domains).toEqual([domain]);
    expect(site.certificate.chainPem).toBeUndefined();
    const root = await runtime.acme?.issuingRoot();
    const served = await getOverTls(site.httpsServedAt, domain, root ?? '');
    expect(served.status).toBe(200);
    expect(served.body).toContain(`Hello from ${domain}`);
    expect(served.peer.subject).toBe(domain);
    expect(new Date(served.peer.validTo).toISOString()).toBe(site.certificate.notAfter);

    // the key went to the host sealed: no Run Command parameter holds it
    const certificate = (await api.call('GET', `${path}/certificate`, { token: owner.token })).json;
    expect(certificate.chainPem).toContain('BEGIN CERTIFICATE');
    expect(JSON.stringify(certificate)).not.toContain('PRIVATE KEY');
    expect(await sentToHosts(runtime)).not.toContain('PRIVATE KEY');
  });

  it('HTTPS redirect and HSTS, with the challenges still answered over plain HTTP', async () => {
    const path = `/v1/tenants/${owner.tenantId}/sites/${(await siteByDomain(domain)).id}`;
    const patched = await api.call('PATCH', path, {
      token: owner.token,
      body: { https: { redirect: true, hsts: true } },
    });
    expect(patched.status, patched.text).toBe(202);
    expect((await ended(patched.headers.get('location') ?? '')).status).toBe('succeeded');
    const site = (await api.call('GET', path, { token: owner.token })).json;
    expect(site.https).toEqual({ redirect: true, hsts: true });
    const plain = await getFromSite(site.servedAt, domain, '/some/page?x=1');
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe(`https://${domain}/some/page?x=1`);
    const challenge = await getFromSite(site.servedAt, domain, '/.well-known/acme-challenge/no-such-token');
    expect(challenge.status).toBe(404);
    const secure = await getOverTls(site.httpsServedAt, domain, (await runtime.acme?.issuingRoot()) ?? '');
    expect(secure.status).toBe(200);
    expect(secure.head).toMatch(/^Strict-Transport-Security: max-age=31536000$/im);
  });
});

/** The sweep as the schedule runs it, `days` from now. */
async function sweepAt(days: number) {
  const platform = await getPlatform();
  const at = Date.now() + days * 86_400_000;
  return sweepCertificates({ ...platform, clock: { now: () => new Date(at) } });
}

/** Points a domain's DNS (pebble's resolver) at an address nothing of this runtime listens on, or back. */
async function dnsFor(name: string, address: string | undefined) {
  const management = runtime.acme?.dnsManagement ?? '';
  const response = address
    ? await fetch(`${management}/add-a`, {
        method: 'POST',
        body: JSON.stringify({ host: `${name}.`, addresses: [address] }),
      })
    : await fetch(`${management}/clear-a`, { method: 'POST', body: JSON.stringify({ host: `${name}.` }) });
  expect(response.status).toBe(200);
}

/**
 * The site once the renewal a sweep started on it has ended (the operation's end is recorded
 * after everything the renewal writes to the site), with how that operation ended.
 */
async function afterRenewal(path: string) {
  const { lastOperationId } = (await api.call('GET', path, { token: owner.token })).json;
  const operation = await ended(`/v1/tenants/${owner.tenantId}/operations/${lastOperationId}`);
  expect(operation.kind).toBe('issue-certificate');
  const site = (await api.call('GET', path, { token: owner.token })).json;
  return { site, operation };
}

describe('DNS-01 through Route 53', () => {
  it("proves a wildcard and its base by TXT records in the platform's zone, served for any name below it", async () => {
    const zone = 'zone.example.test';
    runtime.route53.addZone(zone);
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${serverId}/sites`, {
      token: owner.token,
      body: { domain: zone, aliases: [`*.${zone}`], type: 'static' },
    });
    expect(created.status, created.text).toBe(202);
    expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
    const path = `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`;
    const ordered = await api.call('POST', `${path}/certificate/order`, { token: owner.token });
    expect(ordered.status, ordered.text).toBe(202);
    const operation = await ended(ordered.headers.get('location') ?? '');
    expect(operation.status, JSON.stringify(operation.error)).toBe('succeeded');
    const site = (await api.call('GET', path, { token: owner.token })).json;
    expect(site.certificate.domains.sort()).toEqual([`*.${zone}`, zone]);
    const served = await getOverTls(
      site.httpsServedAt,
      `anything.${zone}`,
      (await runtime.acme?.issuingRoot()) ?? '',
    );
    expect(served.status).toBe(200);
    expect(served.body).toContain(`Hello from ${zone}`);
    // the challenge's records are gone once the order is done
    expect(runtime.route53.txt(`_acme-challenge.${zone}`)).toEqual([]);
  });

  it('refuses to order a wildcard whose zone is not in Route 53, saying why', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${serverId}/sites`, {
      token: owner.token,
      body: { domain: 'nozone.example.test', aliases: ['*.nozone.example.test'], type: 'static' },
    });
    expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
    const path = `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`;
    const ordered = await api.call('POST', `${path}/certificate/order`, { token: owner.token });
    const operation = await ended(ordered.headers.get('location') ?? '');
    expect(operation.status).toBe('failed');
    expect(operation.error.message).toContain('can only be proven by DNS-01');
    const site = (await api.call('GET', path, { token: owner.token })).json;
    expect(site.certificate).toBeNull();
    expect(site.status).toBe('active');
  });
});

describe('Renewals and expiry warnings (the sweep)', () => {
  it('renews an ACME certificate within 30 days of expiry; a failed renewal keeps the old one, alerts, and is retried by a later sweep', async () => {
    const name = 'renew.example.test';
    const path = await newSite(name);
    const ordered = await api.call('POST', `${path}/certificate/order`, { token: owner.token });
    expect((await ended(ordered.headers.get('location') ?? '')).status).toBe('succeeded');
    const first = (await api.call('GET', path, { token: owner.token })).json.certificate;
    const daysLeft = (new Date(first.notAfter).getTime() - Date.now()) / 86_400_000;

    // nothing is due today
    const today = await sweepAt(0);
    expect(today.renewals).not.toContain(first.id);

    // its DNS points elsewhere: the CA cannot reach the challenge, the renewal fails
    await dnsFor(name, '127.0.0.2');
    const due = await sweepAt(daysLeft - 29);
    const siteId = path.split('/').at(-1) as string;
    expect(due.renewals).toContain(siteId);
    const { site: failed, operation: failure } = await afterRenewal(path);
    expect(failure.status).toBe('failed');
    expect(failed.certificate.serialNumber).toBe(first.serialNumber);
    expect(failed.certificate.lastFailure.message).toMatch(/127\.0\.0\.2|connection refused|Fetching/i);
    const served = await getOverTls(failed.httpsServedAt, name, (await runtime.acme?.issuingRoot()) ?? '');
    expect(served.status).toBe(200);

    // a sweep soon after leaves it; one after the retry interval renews it (the failure is
    // dated as if it had happened at the sweep's time: the workflow's clock is the real one)
    const platform = await getPlatform();
    const { siteKeys } = await import('../../../layers/model/sites');
    const record = await platform.store.get<SiteItem>(siteKeys.item(owner.tenantId, siteId), true);
    const failedAt = new Date(Date.now() + (daysLeft - 29) * 86_400_000).toISOString();
    await platform.store.update(siteKeys.item(owner.tenantId, siteId), {
      certificateState: {
        ...record?.certificateState,
        lastFailure: { ...record?.certificateState?.lastFailure, at: failedAt },
      },
    });
    expect((await sweepAt(daysLeft - 29 + 0.1)).skipped).toContainEqual({
      siteId,
      reason: 'failed recently',
    });
    await dnsFor(name, undefined);
    const retried = await sweepAt(daysLeft - 28);
    expect(retried.renewals).toContain(siteId);
    const { site: renewed, operation: renewal } = await afterRenewal(path);
    expect(renewal.status, JSON.stringify(renewal.error)).toBe('succeeded');
    expect(renewed.certificate.serialNumber).not.toBe(first.serialNumber);
    expect(renewed.certificate.lastFailure).toBeNull();
    const now = await getOverTls(renewed.httpsServedAt, name, (await runtime.acme?.issuingRoot()) ?? '');
    expect(now.status).toBe(200);
  });

  it('warns once at 21 and once at 7 days before a certificate expires, and renews no uploaded one', async () => {
    const name = 'expiring.example.test';
    const path = await newSite(name);
    const chain = await certificateChain({
      domains: [name],
      notAfter: new Date(Date.now() + 25 * 86_400_000),
    });
    const uploaded = await api.call('PUT', `${path}/certificate`, {
      token: owner.token,
      body: { certificate: chain.leaf, chain: chain.intermediate, privateKey: chain.key },
    });
    expect(uploaded.status, uploaded.text).toBe(202);
    expect((await ended(uploaded.headers.get('location') ?? '')).status).toBe('succeeded');
    const siteId = path.split('/').at(-1) as string;
    expect((await sweepAt(0)).warnings.filter((w) => w.siteId === siteId)).toEqual([]);
    expect((await sweepAt(5)).warnings.filter((w) => w.siteId === siteId)).toEqual([{ siteId, days: 21 }]);
    expect((await sweepAt(6)).warnings.filter((w) => w.siteId === siteId)).toEqual([]);
    const late = await sweepAt(19);
    expect(late.warnings.filter((w) => w.siteId === siteId)).toEqual([{ siteId, days: 7 }]);
    expect(late.renewals).not.toContain(siteId);
    const certificate = (await api.call('GET', `${path}/certificate`, { token: owner.token })).json;
    expect(certificate.warnings).toEqual([21, 7]);
  });
});

describe('Uploaded certificates', () => {
  it('installs a certificate of your own: the site answers over TLS with it', async () => {
    const name = 'custom.example.test';
    const path = await newSite(name);
    const chain = await certificateChain({ domains: [name, `www.${name}`] });
    // its chain given out of order, the root too: put in order, the root left out
    const uploaded = await api.call('PUT', `${path}/certificate`, {
      token: owner.token,
      body: { certificate: `${chain.intermediate}${chain.leaf}`, chain: chain.root, privateKey: chain.key },
    });
    expect(uploaded.status, uploaded.text).toBe(202);
    expect((await ended(uploaded.headers.get('location') ?? '')).status).toBe('succeeded');
    const site = (await api.call('GET', path, { token: owner.token })).json;
    expect(site.certificate.source).toBe('custom');
    expect(site.certificate.issuer).toBe('CN=Test Intermediate');
    const served = await getOverTls(site.httpsServedAt, name, chain.root);
    expect(served.status).toBe(200);
    expect(served.body).toContain(`Hello from ${name}`);
    expect(await sentToHosts(runtime)).not.toContain(chain.key.split('\n')[1]);

    // its key is kept encrypted (a SecureString) until the certificate is taken off
    const kept = await runtime.clients.ssm.send(
      new GetParameterCommand({ Name: `/vip/local/tenants/${owner.tenantId}/sites/${site.id}/tls-key` }),
    );
    expect(kept.Parameter?.Type).toBe('SecureString');
    // taken off: plain HTTP only again
    const removed = await api.call('DELETE', `${path}/certificate`, { token: owner.token });
    expect(removed.status, removed.text).toBe(202);
    expect((await ended(removed.headers.get('location') ?? '')).status).toBe('succeeded');
    expect((await api.call('GET', path, { token: owner.token })).json.certificate).toBeNull();
    expect((await api.call('GET', `${path}/certificate`, { token: owner.token })).status).toBe(404);
    // its key is no longer kept
    const keyName = `/vip/local/tenants/${owner.tenantId}/sites/${site.id}/tls-key`;
    await expect(runtime.clients.ssm.send(new GetParameterCommand({ Name: keyName }))).rejects.toThrow(
      ParameterNotFound,
    );
    await expect(getOverTls(site.httpsServedAt, name, chain.root)).rejects.toThrow();
  });

  it('refuses a wrong key, an expired certificate, and one not covering the site, naming the field', async () => {
    const name = 'refused.example.test';
    const path = await newSite(name);
    const good = await certificateChain({ domains: [name] });
    const wrongKey = await api.call('PUT', `${path}/certificate`, {
      token: owner.token,
      body: { certificate: good.leaf, chain: good.intermediate, privateKey: good.otherKey },
    });
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.headers.get('content-type')).toContain('application/problem+json');
    expect(wrongKey.json.errors).toEqual([
      { path: 'body.privateKey', message: 'The private key does not match the certificate.' },
    ]);
    const expired = await certificateChain({
      domains: [name],
      notBefore: new Date(Date.now() - 100 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const old = await api.call('PUT', `${path}/certificate`, {
      token: owner.token,
      body: { certificate: expired.leaf, privateKey: expired.key },
    });
    expect(old.status).toBe(400);
    expect(old.json.errors[0].path).toBe('body.certificate');
    expect(old.json.errors[0].message).toMatch(/expired/);
    const other = await certificateChain({ domains: ['elsewhere.example.test'] });
    const uncovered = await api.call('PUT', `${path}/certificate`, {
      token: owner.token,
      body: { certificate: other.leaf, privateKey: other.key },
    });
    expect(uncovered.status).toBe(400);
    expect(uncovered.json.errors[0].message).toContain(`does not cover ${name}`);
    // nothing was started: the site has no certificate and no change under way
    const site = (await api.call('GET', path, { token: owner.token })).json;
    expect(site.certificate).toBeNull();
    expect(site.pendingOperationId).toBeNull();
  });

  it("another tenant's ids answer 404 on every certificate route", async () => {
    const path = `/v1/tenants/${owner.tenantId}/sites/${(await siteByDomain(domain)).id}`;
    const stranger = await signUp(api, 'certificates-stranger@example.com');
    const chain = await certificateChain({ domains: [domain] });
    for (const [method, suffix, body] of [
      ['GET', '/certificate', undefined],
      ['PUT', '/certificate', { certificate: chain.leaf, privateKey: chain.key }],
      ['DELETE', '/certificate', undefined],
      ['POST', '/certificate/order', undefined],
    ] as const) {
      const theirs = path.replace(owner.tenantId, stranger.tenantId);
      const answered = await api.call(method, `${theirs}${suffix}`, {
        token: stranger.token,
        ...(body ? { body } : {}),
      });
      expect(answered.status, `${method} ${suffix}`).toBe(404);
      const direct = await api.call(method, `${path}${suffix}`, {
        token: stranger.token,
        ...(body ? { body } : {}),
      });
      expect([403, 404], `${method} ${suffix} in the owner's tenant`).toContain(direct.status);
    }
  });
});

async function siteByDomain(name: string) {
  const list = await api.call('GET', `/v1/tenants/${owner.tenantId}/sites?domain=${name}`, {
    token: owner.token,
  });
  return list.json.items[0];
}
