import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../scripts/local/runtime';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../support/runtime';
import { getFromSite, sentToHosts } from '../support/site-http';

/** Certificates for sites: ordered from pebble by HTTP-01 through the site's nginx, and uploaded. */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let serverId: string;
const domain = 'shop.example.test';

const ended = (path: string) => operationEnded(api, path, owner.token);

/** A GET over TLS to where the host serves HTTPS, for a domain (SNI), trusting only `ca`. */
function getOverTls(httpsServedAt: string, servername: string, ca: string, path = '/') {
  const url = new URL(httpsServedAt);
  return new Promise<{
    status: number;
    headers: string;
    body: string;
    peer: { subject: string; issuer: string; validTo: string };
  }>((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), servername, ca }, () => {
      const peer = socket.getPeerCertificate();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        raw += chunk;
      });
      socket.on('end', () => {
        const [head = '', ...rest] = raw.split('\r\n\r\n');
        resolve({
          status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0),
          headers: head,
          body: rest.join('\r\n\r\n'),
          peer: {
            subject: String(peer.subject?.CN ?? ''),
            issuer: String(peer.issuer?.CN ?? ''),
            validTo: peer.valid_to,
          },
        });
      });
    });
    socket.on('error', reject);
  });
}

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
    expect(secure.headers).toMatch(/^Strict-Transport-Security: max-age=31536000$/im);
  });
});

async function siteByDomain(name: string) {
  const list = await api.call('GET', `/v1/tenants/${owner.tenantId}/sites?domain=${name}`, {
    token: owner.token,
  });
  return list.json.items[0];
}
