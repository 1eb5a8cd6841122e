import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetParameterCommand, ParameterNotFound } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../../support/runtime';
import { getFromSite, sentToHosts } from '../../support/site-http';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let serverId: string;
/** the local host's root file system */
let root: string;

const ended = (path: string) => operationEnded(api, path, owner.token);

const get = getFromSite;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'sites@example.com');
  const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
    token: owner.token,
    body: { name: 'web-1', provider: 'local', stack: { phpVersions: ['8.2', '8.3'] } },
  });
  serverId = created.json.id;
  expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
  const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === serverId);
  root = runtime.hosts.rootOf(host?.id ?? '');
});

const sitesPath = () => `/v1/tenants/${owner.tenantId}/servers/${serverId}/sites`;
const sitePath = (id: string) => `/v1/tenants/${owner.tenantId}/sites/${id}`;

/** Creates a site and waits for its operation; answers the site as it is then. */
async function createSite(body: Record<string, unknown>) {
  const created = await api.call('POST', sitesPath(), { token: owner.token, body });
  expect(created.status, JSON.stringify(created.json)).toBe(202);
  const operation = await ended(created.headers.get('location') ?? '');
  expect(operation.status, JSON.stringify(operation)).toBe('succeeded');
  return (await api.call('GET', sitePath(created.json.id), { token: owner.token })).json;
}

/** Sends a change and waits for its operation; answers the operation. */
async function change(
  method: string,
  path: string,
  body?: Record<string, unknown>,
  headers?: Record<string, string>,
) {
  const started = await api.call(method, path, {
    token: owner.token,
    ...(body ? { body } : {}),
    ...(headers ? { headers } : {}),
  });
  expect([202], JSON.stringify(started.json)).toContain(started.status);
  return ended(started.headers.get('location') ?? '');
}

afterAll(async () => {
  await runtime?.stop();
});

describe('Sites served on a local host', () => {
  it('serves a new PHP site its own index.php through the real nginx and PHP-FPM', async () => {
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${serverId}/sites`, {
      token: owner.token,
      body: { domain: 'shop.example.com', type: 'php', php: { version: '8.2' } },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(202);
    const operation = await ended(created.headers.get('location') ?? '');
    expect(operation.status, JSON.stringify(operation)).toBe('succeeded');
    const site = await api.call('GET', `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`, {
      token: owner.token,
    });
    expect(site.json.status).toBe('active');
    expect(site.json.servedAt).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(site.json.servedAt, 'shop.example.com');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/^Hello from shop\.example\.com on PHP 8\.\d/);
    // the fleet view: the dashboard counts sites by status, the server's detail counts its sites
    const dashboard = await api.call('GET', `/v1/tenants/${owner.tenantId}/dashboard`, {
      token: owner.token,
    });
    expect(dashboard.json.siteCounts).toMatchObject({ total: 1, active: 1, creating: 0 });
    const server = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers/${serverId}`, {
      token: owner.token,
    });
    expect(server.json.siteCount).toBe(1);
    const onServer = await api.call('GET', `/v1/tenants/${owner.tenantId}/servers/${serverId}/sites`, {
      token: owner.token,
    });
    expect(onServer.json.items.map((s: { domain: string }) => s.domain)).toEqual(['shop.example.com']);
    // a server with sites is not deleted from under them
    const refused = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/servers/${serverId}`, {
      token: owner.token,
    });
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toContain('delete them first');
  });

  it('switches PHP versions, redirects, suspends, keeps serving through a broken snippet, and deletes', async () => {
    const site = await createSite({
      domain: 'blog.example.com',
      aliases: ['www.blog.example.com'],
      type: 'php',
      php: { version: '8.2' },
    });
    const user = site.systemUser;
    const pool = (version: string) => join(root, `etc/php/${version}/fpm/pool.d/vip-${user}.conf`);
    expect(existsSync(pool('8.2'))).toBe(true);
    expect((await get(site.servedAt, 'www.blog.example.com')).body).toContain('Hello from blog.example.com');

    // the pool moves to the other version's PHP-FPM, and the site goes on answering
    const switched = await change(
      'PATCH',
      sitePath(site.id),
      { php: { version: '8.3' } },
      { 'if-match': `"v${site.version}"` },
    );
    expect(switched.status, JSON.stringify(switched)).toBe('succeeded');
    expect(existsSync(pool('8.2'))).toBe(false);
    expect(readFileSync(pool('8.3'), 'utf8')).toContain(`listen = /run/php/${user}-php8.3.sock`);
    expect((await get(site.servedAt, 'blog.example.com')).status).toBe(200);
    const afterSwitch = (await api.call('GET', sitePath(site.id), { token: owner.token })).json;
    expect(afterSwitch.php.version).toBe('8.3');

    // a redirect answers 301 with its target
    await change('PATCH', sitePath(site.id), {
      redirects: [{ from: '/old-page', to: 'https://blog.example.com/new-page' }],
    });
    const moved = await get(site.servedAt, 'blog.example.com', '/old-page');
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe('https://blog.example.com/new-page');

    // basic auth: nothing without the password, the page with it
    await change('PATCH', sitePath(site.id), {
      basicAuth: { username: 'team', password: 'a secret password' },
    });
    expect((await get(site.servedAt, 'blog.example.com')).status).toBe(401);
    const authorization = `Basic ${Buffer.from('team:a secret password').toString('base64')}`;
    const authed = await get(site.servedAt, 'blog.example.com', '/', { authorization });
    expect(authed.status).toBe(200);
    const wrong = `Basic ${Buffer.from('team:not the password').toString('base64')}`;
    expect((await get(site.servedAt, 'blog.example.com', '/', { authorization: wrong })).status).toBe(401);
    await change('PATCH', sitePath(site.id), { basicAuth: null });
    expect((await get(site.servedAt, 'blog.example.com')).status).toBe(200);

    // suspended, it serves the suspension page; unsuspended, itself again
    expect((await change('POST', `${sitePath(site.id)}/suspend`)).status).toBe('succeeded');
    const suspended = await get(site.servedAt, 'blog.example.com');
    expect(suspended.status).toBe(503);
    expect(suspended.body).toContain('This site is suspended');
    expect((await api.call('GET', sitePath(site.id), { token: owner.token })).json.suspended).toBe(true);
    expect((await change('POST', `${sitePath(site.id)}/unsuspend`)).status).toBe('succeeded');
    expect((await get(site.servedAt, 'blog.example.com')).status).toBe(200);

    // a snippet nginx -t rejects fails the operation, names nginx's message, and the old config serves on
    const vhost = join(root, `etc/nginx/sites-enabled/vip-${user}.conf`);
    const before = readFileSync(vhost, 'utf8');
    const broken = await change('PATCH', sitePath(site.id), { snippet: 'no_such_directive on;' });
    expect(broken.status).toBe('failed');
    expect(broken.error.code).toBe('CommandFailed');
    expect(broken.error.message).toContain(
      'nginx rejected the configuration; the previous one is still serving',
    );
    expect(broken.error.message).toContain('unknown directive "no_such_directive"');
    expect(readFileSync(vhost, 'utf8')).toBe(before);
    expect((await get(site.servedAt, 'blog.example.com')).status).toBe(200);
    const kept = (await api.call('GET', sitePath(site.id), { token: owner.token })).json;
    expect(kept.status).toBe('active');
    expect(kept.snippet).toBeNull();

    // deleting takes the vhost, the pool, the files and the user off the host
    const removed = await change('DELETE', sitePath(site.id));
    expect(removed.status, JSON.stringify(removed)).toBe('succeeded');
    expect(existsSync(vhost)).toBe(false);
    expect(existsSync(pool('8.3'))).toBe(false);
    expect(existsSync(join(root, 'home', user))).toBe(false);
    expect(readFileSync(join(root, 'etc/passwd'), 'utf8')).not.toContain(`${user}:`);
    expect((await get(site.servedAt, 'blog.example.com')).body).not.toContain('Hello from blog.example.com');
    expect((await api.call('GET', sitePath(site.id), { token: owner.token })).status).toBe(404);
  });

  it("keeps one site's PHP out of another's files", async () => {
    const first = await createSite({ domain: 'first.example.com', type: 'php', php: { version: '8.2' } });
    const second = await createSite({ domain: 'second.example.com', type: 'php', php: { version: '8.2' } });
    writeFileSync(join(root, first.home.slice(1), 'public', 'secret.txt'), 'first site secret');
    const probe = join(root, second.home.slice(1), 'public', 'probe.php');
    writeFileSync(
      probe,
      `<?php
$target = ${JSON.stringify(`${first.home}/public/secret.txt`)};
echo 'basedir:', var_export(@file_get_contents($target), true), "\n";
ini_set('open_basedir', '/');
echo 'widened:', var_export(ini_get('open_basedir'), true), "\n";
echo 'wrote:', var_export(file_put_contents(__DIR__ . '/made-by-php', 'x'), true), "\n";
`,
    );
    const answer = await get(second.servedAt, 'second.example.com', '/probe.php');
    expect(answer.status, answer.body).toBe(200);
    expect(answer.body).toContain('basedir:false');
    // open_basedir is an admin value: the site's own code cannot widen it
    expect(answer.body).not.toContain("widened:'/'");
    // the site's PHP runs as the site's own user
    expect(answer.body).toContain('wrote:1');
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    const uid = Number(
      passwd
        .split('\n')
        .find((line) => line.startsWith(`${second.systemUser}:`))
        ?.split(':')[2],
    );
    expect(statSync(join(root, second.home.slice(1), 'public', 'made-by-php')).uid).toBe(uid);
    // and the files themselves: owned by the first site's user, group the web server, no access for others
    const mode = statSync(join(root, first.home.slice(1))).mode & 0o777;
    expect(mode.toString(8)).toBe('750');
  });

  it('writes cron jobs, daemons and environment variables to the site, and reads a daemon log', async () => {
    const site = await createSite({ domain: 'app.example.com', type: 'php', php: { version: '8.2' } });
    const user = site.systemUser;
    const refused = await api.call('PATCH', sitePath(site.id), {
      token: owner.token,
      body: { cronJobs: [{ expression: '61 * * * *', command: 'php artisan schedule:run' }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0].path).toBe('body.cronJobs.0.expression');

    const settings = await change('PATCH', sitePath(site.id), {
      cronJobs: [{ expression: '* * * * *', command: 'php artisan schedule:run --date=$(date +%F)' }],
      daemons: [{ name: 'worker', command: 'php artisan queue:work --tries=3' }],
    });
    expect(settings.status, JSON.stringify(settings)).toBe('succeeded');
    const crontab = join(root, `var/spool/cron/crontabs/${user}`);
    expect(readFileSync(crontab, 'utf8')).toContain('* * * * * cd /home/');
    // cron turns % into a newline: it is escaped
    expect(readFileSync(crontab, 'utf8')).toContain('--date=$(date +\\%F)');
    expect(statSync(crontab).mode & 0o777).toBe(0o600);
    const unit = readFileSync(join(root, `etc/systemd/system/vip-${user}-worker.service`), 'utf8');
    expect(unit).toContain(`User=${user}`);
    expect(unit).toContain('Restart=always');
    expect(unit).toContain('ExecStart=/bin/bash -c "php artisan queue:work --tries=3"');

    const secret = 'base64:c2VjcmV0IHZhbHVlIHdpdGggIiBhbmQgJA==';
    const written = await change('PUT', `${sitePath(site.id)}/environment`, {
      variables: { APP_KEY: secret, APP_ENV: 'production' },
    });
    expect(written.status, JSON.stringify(written)).toBe('succeeded');
    const file = join(root, site.home.slice(1), '.vip/environment');
    expect(readFileSync(file, 'utf8')).toBe(`APP_KEY="${secret}"\nAPP_ENV="production"\n`);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    // the value went to the host only sealed to its key: no command's parameters carry it
    const sent = await sentToHosts(runtime);
    expect(sent).toContain(`sealed ${site.home}/.vip/environment 0640 root:site `);
    expect(sent).toContain('ExecStart=/bin/bash'); // the bundles' own files are decoded here
    expect(sent).not.toContain('c2VjcmV0IHZhbHVl');
    expect(sent).not.toContain('APP_ENV');
    const revealed = await api.call('GET', `${sitePath(site.id)}/environment`, { token: owner.token });
    expect(revealed.json).toMatchObject({
      variables: { APP_KEY: secret, APP_ENV: 'production' },
      masked: false,
    });
    // a token without sites:secrets sees the names only
    const token = await api.call('POST', `/v1/tenants/${owner.tenantId}/api-tokens`, {
      token: owner.token,
      body: { name: 'reader', scopes: ['sites:read'] },
    });
    const masked = await api.call('GET', `${sitePath(site.id)}/environment`, { token: token.json.token });
    expect(masked.json).toMatchObject({
      variables: { APP_KEY: '********', APP_ENV: '********' },
      masked: true,
    });
    expect(masked.text).not.toContain('c2VjcmV0');
    const detail = await api.call('GET', sitePath(site.id), { token: owner.token });
    expect(detail.json.environmentNames).toEqual(['APP_ENV', 'APP_KEY']);
    expect(detail.text).not.toContain('c2VjcmV0');

    writeFileSync(
      join(root, site.home.slice(1), 'logs/daemon-worker.log'),
      'Processing: App\\Jobs\\SendMail\nProcessed\n',
    );
    const logs = await change('POST', `${sitePath(site.id)}/daemons/worker/logs?lines=1`);
    expect(logs.status).toBe('succeeded');
    expect(logs.steps[0].output.stdout.head).toBe('Processed\n');
    const unknown = await api.call('POST', `${sitePath(site.id)}/daemons/mailer/logs`, {
      token: owner.token,
    });
    expect(unknown.status).toBe(404);

    // a daemon taken out of the site stops and its unit goes
    expect((await change('PATCH', sitePath(site.id), { daemons: [] })).status).toBe('succeeded');
    expect(existsSync(join(root, `etc/systemd/system/vip-${user}-worker.service`))).toBe(false);

    // deleted, the site's secrets go with it
    const parameter = new GetParameterCommand({
      Name: `/vip/local/tenants/${owner.tenantId}/sites/${site.id}/environment`,
    });
    expect((await runtime.clients.ssm.send(parameter)).Parameter?.Type).toBe('SecureString');
    expect((await change('DELETE', sitePath(site.id))).status).toBe('succeeded');
    await expect(runtime.clients.ssm.send(parameter)).rejects.toThrow(ParameterNotFound);
  });
});
