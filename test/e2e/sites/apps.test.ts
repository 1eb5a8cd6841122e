import { spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../../support/runtime';
import { getFromSite, sentToHosts } from '../../support/site-http';

/**
 * One-click apps on a local host. The sandbox runs no database server and reaches neither
 * wordpress.org nor Packagist: the host shim records those steps (the database and user it
 * would create, the code it would fetch, WP-CLI's and artisan's runs), and these tests check
 * that record and every file the install writes.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let serverId: string;
let bareServerId: string;
let root: string;

const ended = (path: string) => operationEnded(api, path, owner.token);
const sitePath = (id: string) => `/v1/tenants/${owner.tenantId}/sites/${id}`;

async function createSite(server: string, body: Record<string, unknown>) {
  const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${server}/sites`, {
    token: owner.token,
    body,
  });
  expect(created.status, created.text).toBe(202);
  expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
  return (await api.call('GET', sitePath(created.json.id), { token: owner.token })).json;
}

async function install(siteId: string, body: Record<string, unknown>) {
  const started = await api.call('POST', `${sitePath(siteId)}/app`, { token: owner.token, body });
  expect(started.status, started.text).toBe(202);
  return ended(started.headers.get('location') ?? '');
}

const file = (path: string) => join(root, path.replace(/^\//, ''));
const recorded = (name: string) => readFileSync(join(root, 'var/lib/vip', name), 'utf8');

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'apps@example.com');
  const [server, bare] = await Promise.all(
    [
      {
        name: 'apps-1',
        provider: 'local',
        stack: { phpVersions: ['8.2'], database: 'mariadb', nodeVersions: ['20'] },
      },
      { name: 'bare-1', provider: 'local', stack: { phpVersions: ['8.2'], database: null } },
    ].map((body) => api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, { token: owner.token, body })),
  );
  serverId = server?.json.id;
  bareServerId = bare?.json.id;
  for (const s of [server, bare])
    expect((await ended(s?.headers.get('location') ?? '')).status).toBe('succeeded');
  const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === serverId);
  root = runtime.hosts.rootOf(host?.id ?? '');
});

afterAll(async () => {
  await runtime?.stop();
});

describe('One-click apps', () => {
  it('installs WordPress: database and user, wp-config.php with fresh salts, the admin account; again changes nothing', async () => {
    const site = await createSite(serverId, {
      domain: 'wp.example.com',
      type: 'php',
      php: { version: '8.2' },
    });
    const body = {
      app: 'wordpress',
      title: 'Ann\'s "Blog"',
      adminUser: 'ann',
      adminEmail: 'ann@example.com',
      adminPassword: 'a long admin password',
    };
    const first = await install(site.id, body);
    expect(first.status, JSON.stringify(first)).toBe('succeeded');
    const config = file(`${site.home}/public/wp-config.php`);
    const text = readFileSync(config, 'utf8');
    // real PHP reads it
    const lint = spawnSync('php', ['-l', config], { encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    expect(text).toContain(`define( 'DB_NAME', '${site.systemUser}' );`);
    const salts = [...text.matchAll(/define\( '(\w+_(?:KEY|SALT))', '([^']+)' \);/g)];
    expect(salts.map((m) => m[1])).toHaveLength(8);
    expect(new Set(salts.map((m) => m[2])).size).toBe(8);
    for (const salt of salts) expect(salt[2]).toHaveLength(64);
    expect(statSync(config).mode & 0o777).toBe(0o640);
    // what the sandbox cannot run is recorded: the database, the download, WP-CLI's install
    expect(recorded('databases')).toContain(`mariadb ${site.systemUser} ${site.systemUser}`);
    expect(recorded('apps')).toContain('fetch-wordpress');
    expect(recorded('apps')).toMatch(
      /wp-cli .* core install --url=http:\/\/wp\.example\.com --title=Ann's "Blog" --admin_user=ann --admin_email=ann@example\.com --admin_password=\(hidden\)/,
    );
    expect(recorded('apps')).not.toContain('a long admin password');
    expect(JSON.stringify(first)).not.toContain('a long admin password');
    // the password reached the host sealed to its key: no command's parameters carry it
    const sent = await sentToHosts(runtime);
    expect(sent).toContain('adminUser');
    expect(sent).not.toContain('a long admin password');
    // re-run: the same config, salts and password kept
    expect((await install(site.id, body)).status).toBe('succeeded');
    expect(readFileSync(config, 'utf8')).toBe(text);
    expect((await api.call('GET', sitePath(site.id), { token: owner.token })).json.app.name).toBe(
      'wordpress',
    );
  });

  it('refuses an app the site or the server cannot take', async () => {
    const staticSite = await createSite(serverId, { domain: 'plain.example.com', type: 'static' });
    const wrongType = await api.call('POST', `${sitePath(staticSite.id)}/app`, {
      token: owner.token,
      body: { app: 'laravel' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.errors[0].path).toBe('body.app');
    const bareSite = await createSite(bareServerId, {
      domain: 'nodb.example.com',
      type: 'php',
      php: { version: '8.2' },
    });
    const wordpress = (adminPassword: string) =>
      api.call('POST', `${sitePath(bareSite.id)}/app`, {
        token: owner.token,
        body: { app: 'wordpress', title: 'T', adminUser: 'ann', adminEmail: 'a@example.com', adminPassword },
      });
    const noDatabase = await wordpress('a long admin password');
    expect(noDatabase.status).toBe(409);
    expect(noDatabase.json.detail).toContain('MariaDB or MySQL');
    const short = await wordpress('short');
    expect(short.status).toBe(400);
    expect(short.json.errors[0].path).toBe('body.adminPassword');
  });

  it('installs Laravel: .env with a fresh APP_KEY, the public folder, migrations, the scheduler and a queue worker', async () => {
    const site = await createSite(serverId, {
      domain: 'shop.example.com',
      type: 'php',
      php: { version: '8.2' },
    });
    const done = await install(site.id, { app: 'laravel', appName: 'Shop' });
    expect(done.status, JSON.stringify(done)).toBe('succeeded');
    const env = readFileSync(file(`${site.home}/app/.env`), 'utf8');
    expect(env).toMatch(/^APP_KEY=base64:[A-Za-z0-9+/]{43}=$/m);
    expect(env).toContain('APP_NAME=Shop');
    expect(env).toContain('APP_URL=http://shop.example.com');
    expect(env).toContain(`DB_CONNECTION=mysql\nDB_HOST=127.0.0.1\nDB_DATABASE=${site.systemUser}`);
    expect(lstatSync(file(`${site.home}/public`)).isSymbolicLink()).toBe(true);
    expect(readlinkSync(file(`${site.home}/public`))).toBe('app/public');
    expect(recorded('apps')).toContain(`composer-create-project ${root}${site.home}/app`);
    expect(recorded('apps')).toContain(`artisan ${site.home}/app migrate --force`);
    const crontab = readFileSync(file(`/var/spool/cron/crontabs/${site.systemUser}`), 'utf8');
    expect(crontab).toContain(`* * * * * cd ${site.home}`);
    expect(crontab).toContain(`php ${site.home}/app/artisan schedule:run`);
    const worker = readFileSync(file(`/etc/systemd/system/vip-${site.systemUser}-queue.service`), 'utf8');
    expect(worker).toContain('queue:work');
    expect(worker).toContain('Restart=always');
    // the site now has them as its own: a later change keeps them
    const after = (await api.call('GET', sitePath(site.id), { token: owner.token })).json;
    expect(after.cronJobs.map((j: { command: string }) => j.command)).toEqual([
      `php ${site.home}/app/artisan schedule:run`,
    ]);
    expect(after.daemons.map((d: { name: string }) => d.name)).toEqual(['queue']);
    const patched = await api.call('PATCH', sitePath(site.id), {
      token: owner.token,
      body: { redirects: [{ from: '/a', to: '/b' }] },
    });
    expect((await ended(patched.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(readFileSync(file(`/var/spool/cron/crontabs/${site.systemUser}`), 'utf8')).toContain(
      'schedule:run',
    );
    // re-run: the key stays
    expect((await install(site.id, { app: 'laravel', appName: 'Shop' })).status).toBe('succeeded');
    expect(readFileSync(file(`${site.home}/app/.env`), 'utf8')).toBe(env);
  });

  it('installs the Node.js starter app and the static starter page', async () => {
    const node = await createSite(serverId, {
      domain: 'api.example.com',
      type: 'node',
      node: { version: '20', startCommand: 'npm start', port: 3100 },
    });
    expect((await install(node.id, { app: 'node-starter' })).status).toBe('succeeded');
    const server = file(`${node.home}/app/server.js`);
    const check = spawnSync(process.execPath, ['--check', server], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file(`${node.home}/app/package.json`), 'utf8')).scripts.start).toBe(
      'node server.js',
    );

    const page = await createSite(serverId, { domain: 'www.example.org', type: 'static' });
    expect((await getFromSite(page.servedAt, 'www.example.org')).body).toContain(
      'Hello from www.example.org',
    );
    expect((await install(page.id, { app: 'static' })).status).toBe('succeeded');
    expect((await getFromSite(page.servedAt, 'www.example.org')).body).toContain(
      'Upload your files to replace this page.',
    );
  });
});
