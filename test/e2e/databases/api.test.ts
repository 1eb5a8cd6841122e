import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literal, quoteIdent } from '../../../functions/databases/sql';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import {
  apiClient,
  customerOnPlan,
  eventually,
  operationEnded,
  signUp,
  startTestRuntime,
} from '../../support/runtime';

/**
 * Databases and their users through the API, on the real engines a local host runs (Debian's
 * MariaDB and PostgreSQL): every change is checked by signing in as the user with the engine's
 * own client, over the host's socket.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;

interface Tenant {
  tenantId: string;
  token: string;
}
interface Server extends Tenant {
  serverId: string;
  root: string;
  port: number;
}
let alice: Tenant;
let bob: Tenant;
let limited: Tenant;
let maria: Server;
let pg: Server;
let bobs: Server;
let limitedServer: Server;

/** Every password the API answered here, to look for where it must never be. */
const passwords: string[] = [];
/** Everything the runtime printed while these tests ran, to look for secrets in. */
const printed: string[] = [];
const HOSTILE_PASSWORD = `q'"\\;$$ -- é😀 \`x\` %_ ${'\u202e'}end`;

const base = (s: Server) => `/v1/tenants/${s.tenantId}/servers/${s.serverId}`;
const ended = (t: Tenant, location: string | null) => operationEnded(api, location ?? '', t.token);

async function serverFor(tenant: Tenant, database: string): Promise<Server> {
  const created = await api.call('POST', `/v1/tenants/${tenant.tenantId}/servers`, {
    token: tenant.token,
    body: { name: `db-${database}`, provider: 'local', stack: { phpVersions: [], database } },
  });
  expect(created.status, created.text).toBe(202);
  const provisioned = await ended(tenant, created.headers.get('location'));
  expect(provisioned.status, JSON.stringify(provisioned.steps)).toBe('succeeded');
  const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === created.json.id);
  return {
    ...tenant,
    serverId: created.json.id,
    root: runtime.hosts.rootOf(host?.id ?? ''),
    port: host?.databasePort ?? 0,
  };
}

/** SQL as a user through the engine's own client, over the host's socket: its status and output. */
function asUser(
  server: Server,
  engine: 'mariadb' | 'postgresql',
  user: string,
  password: string,
  db: string,
  sql: string,
) {
  const result =
    engine === 'mariadb'
      ? spawnSync(
          'mariadb',
          ['-S', join(server.root, 'run/mysqld/mysqld.sock'), '-u', user, '-N', '--batch', db],
          {
            input: sql,
            encoding: 'utf8',
            env: { ...process.env, MYSQL_PWD: password },
          },
        )
      : spawnSync(
          'psql',
          [
            '-X',
            '-q',
            '-At',
            '-v',
            'ON_ERROR_STOP=1',
            '-h',
            join(server.root, 'run/postgresql'),
            '-p',
            String(server.port),
            '-U',
            user,
            db,
          ],
          { input: sql, encoding: 'utf8', env: { ...process.env, PGPASSWORD: password } },
        );
  return { ok: result.status === 0, out: `${result.stdout}`.trim(), err: `${result.stderr}`.trim() };
}

/** SQL as MariaDB's root (the test runs as root, which MariaDB's socket authentication lets in). */
const asRoot = (server: Server, sql: string) =>
  spawnSync('mariadb', ['-S', join(server.root, 'run/mysqld/mysqld.sock'), '-u', 'root', '-N', '--batch'], {
    input: sql,
    encoding: 'utf8',
  }).stdout.trim();

async function createDatabase(server: Server, body: Record<string, unknown>) {
  const created = await api.call('POST', `${base(server)}/databases`, { token: server.token, body });
  expect(created.status, created.text).toBe(202);
  const operation = await ended(server, created.headers.get('location'));
  return { id: created.json.id as string, operation };
}

async function createUser(server: Server, body: Record<string, unknown>) {
  const created = await api.call('POST', `${base(server)}/database-users`, { token: server.token, body });
  expect(created.status, created.text).toBe(202);
  const operation = await ended(server, created.headers.get('location'));
  passwords.push(created.json.password);
  return { id: created.json.id as string, password: created.json.password as string, operation };
}

async function succeeded(server: Server, response: { status: number; text: string; headers: Headers }) {
  expect(response.status, response.text).toBe(202);
  const operation = await ended(server, response.headers.get('location'));
  expect(operation.status, JSON.stringify(operation.error)).toBe('succeeded');
  return operation;
}

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  }
  runtime = await startTestRuntime({ databaseEngines: true });
  api = apiClient(runtime.url);
  limited = await customerOnPlan(
    api,
    { reseller: 'db-reseller@example.com', customer: 'db-limited@example.com' },
    { databases: 1 },
  );
  alice = await signUp(api, 'db-alice@example.com');
  bob = await signUp(api, 'db-bob@example.com');
  [maria, pg, bobs, limitedServer] = await Promise.all([
    serverFor(alice, 'mariadb'),
    serverFor(alice, 'postgresql'),
    serverFor(bob, 'mariadb'),
    serverFor(limited, 'mariadb'),
  ]);
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Databases API', () => {
  it('refuses bad names, passwords, grants and networks with a 400 naming the field', async () => {
    const database = async (server: Server, body: Record<string, unknown>) =>
      api.call('POST', `${base(server)}/databases`, { token: server.token, body });
    const user = async (server: Server, body: Record<string, unknown>) =>
      api.call('POST', `${base(server)}/database-users`, { token: server.token, body });
    const cases: [Promise<{ status: number; json: { errors?: { path: string }[] } }>, string][] = [
      [database(maria, { name: "a'b" }), 'body.name'],
      [database(maria, { name: 'a;DROP DATABASE mysql' }), 'body.name'],
      [database(maria, { name: 'a`b' }), 'body.name'],
      [database(maria, { name: 'a$$b' }), 'body.name'],
      [database(maria, { name: 'a\u0000b' }), 'body.name'],
      [database(maria, { name: 'bücher' }), 'body.name'],
      [database(maria, { name: 'a\\b' }), 'body.name'],
      [database(maria, { name: 'x'.repeat(65) }), 'body.name'],
      [database(maria, { name: 'mysql' }), 'body.name'],
      [database(maria, { name: 'vip_shop' }), 'body.name'],
      [database(maria, { name: 'shop', encoding: 'UTF8' }), 'body.encoding'],
      [database(maria, { name: 'shop', charset: 'utf8mb4;' }), 'body.charset'],
      [database(maria, { name: 'shop', owner: 'me' }), 'body.owner'],
      [database(pg, { name: 'Shop' }), 'body.name'],
      [database(pg, { name: 'pg_shop' }), 'body.name'],
      [database(pg, { name: 'shop', charset: 'utf8mb4' }), 'body.charset'],
      [user(maria, { name: 'app', password: 'short' }), 'body.password'],
      [user(maria, { name: 'app', password: 'long enough\u0000password' }), 'body.password'],
      [user(maria, { name: 'app', password: 'long enough\npassword' }), 'body.password'],
      [user(maria, { name: "app'@'%" }), 'body.name'],
      [user(maria, { name: 'root' }), 'body.name'],
      [
        user(maria, {
          name: 'app',
          grants: [{ databaseId: 'dbs_01jabcdefghjkmnpqrstvwxyz0', access: 'all' }],
        }),
        'body.grants.0.databaseId',
      ],
      [
        user(maria, { name: 'app', grants: [{ databaseId: 'nope', access: 'all' }] }),
        'body.grants.0.databaseId',
      ],
      [user(maria, { name: 'app', remoteAccess: ['10.0.0.1/8'] }), 'body.remoteAccess.0'],
      [user(maria, { name: 'app', remoteAccess: ['10.0.0.0/33'] }), 'body.remoteAccess.0'],
      [user(maria, { name: 'app', remoteAccess: ['2001:db8::/48'] }), 'body.remoteAccess.0'],
      [user(pg, { name: 'postgres' }), 'body.name'],
    ];
    for (const [call, path] of cases) {
      const response = await call;
      expect(response.status, `${path}: ${JSON.stringify(response.json)}`).toBe(400);
      expect(response.json.errors?.map((e) => e.path)).toContain(path);
    }
    const list = await api.call('GET', `${base(maria)}/databases`, { token: maria.token });
    expect(list.json.items).toEqual([]);
  });

  it('MariaDB: create, grant, rotate, revoke and drop, each checked by signing in', async () => {
    const shop = await createDatabase(maria, { name: 'shop_main' });
    expect(shop.operation.status, JSON.stringify(shop.operation.error)).toBe('succeeded');
    // `_` in a grant is a wildcard unless escaped: this one must stay closed to shop_main's users
    const lookalike = await createDatabase(maria, { name: 'shopXmain' });
    expect(lookalike.operation.status).toBe('succeeded');
    const taken = await api.call('POST', `${base(maria)}/databases`, {
      token: maria.token,
      body: { name: 'shop_main' },
    });
    expect(taken.status).toBe(409);
    expect(taken.json.errors?.[0]?.path).toBe('body.name');

    const app = await createUser(maria, {
      name: 'shop_app',
      password: HOSTILE_PASSWORD,
      grants: [{ databaseId: shop.id, access: 'all' }],
    });
    expect(app.operation.status, JSON.stringify(app.operation.error)).toBe('succeeded');
    expect(app.password).toBe(HOSTILE_PASSWORD);
    const reader = await createUser(maria, {
      name: 'shop_reader',
      grants: [{ databaseId: shop.id, access: 'read' }],
    });
    expect(reader.password).toMatch(/^[A-Za-z0-9]{32}$/);

    const write = asUser(
      maria,
      'mariadb',
      'shop_app',
      HOSTILE_PASSWORD,
      'shop_main',
      'CREATE TABLE t (n INT); INSERT INTO t VALUES (42); SELECT n FROM t;',
    );
    expect(write, write.err).toMatchObject({ ok: true, out: '42' });
    expect(
      asUser(maria, 'mariadb', 'shop_reader', reader.password, 'shop_main', 'SELECT n FROM t;').out,
    ).toBe('42');
    expect(
      asUser(maria, 'mariadb', 'shop_reader', reader.password, 'shop_main', 'INSERT INTO t VALUES (1);').err,
    ).toMatch(/denied/);
    expect(asUser(maria, 'mariadb', 'shop_app', HOSTILE_PASSWORD, 'shopXmain', 'SELECT 1;').err).toMatch(
      /denied/,
    );

    // the password is answered once: never on a read, never in a list
    const read = await api.call('GET', `${base(maria)}/database-users/${app.id}`, { token: maria.token });
    expect(read.json).not.toHaveProperty('password');
    expect(read.text).not.toContain('q\'"');

    const rotated = await api.call('POST', `${base(maria)}/database-users/${app.id}/password`, {
      token: maria.token,
      body: {},
    });
    await succeeded(maria, rotated);
    const fresh = rotated.json.password as string;
    passwords.push(fresh);
    expect(asUser(maria, 'mariadb', 'shop_app', HOSTILE_PASSWORD, 'shop_main', 'SELECT 1;').ok).toBe(false);
    expect(asUser(maria, 'mariadb', 'shop_app', fresh, 'shop_main', 'SELECT n FROM t;').out).toBe('42');

    // grants replaced: read only now, then none
    const current = await api.call('GET', `${base(maria)}/database-users/${app.id}`, { token: maria.token });
    const stale = await api.call('PATCH', `${base(maria)}/database-users/${app.id}`, {
      token: maria.token,
      headers: { 'If-Match': '"v1"' },
      body: { grants: [] },
    });
    expect(stale.status).toBe(412);
    await succeeded(
      maria,
      await api.call('PATCH', `${base(maria)}/database-users/${app.id}`, {
        token: maria.token,
        headers: { 'If-Match': current.headers.get('etag') ?? '' },
        body: { grants: [{ databaseId: shop.id, access: 'read' }], remoteAccess: ['203.0.113.0/24'] },
      }),
    );
    expect(asUser(maria, 'mariadb', 'shop_app', fresh, 'shop_main', 'INSERT INTO t VALUES (1);').err).toMatch(
      /denied/,
    );
    expect(
      asRoot(maria, "SELECT host FROM mysql.user WHERE user = 'shop_app' ORDER BY host;").split('\n'),
    ).toEqual(['127.0.0.1', '203.0.113.0/255.255.255.0', 'localhost']);
    expect(readFileSync(join(maria.root, 'etc/nftables.d/60-vip-database-shop_app.nft'), 'utf8')).toBe(
      'add rule inet vip_baseline input ip saddr 203.0.113.0/24 tcp dport 3306 accept\n',
    );
    await succeeded(
      maria,
      await api.call('PATCH', `${base(maria)}/database-users/${app.id}`, {
        token: maria.token,
        body: { grants: [] },
      }),
    );
    expect(asUser(maria, 'mariadb', 'shop_app', fresh, 'shop_main', 'SELECT 1;').err).toMatch(/denied/);

    // sizes: every database's, from the engine
    const listed = await api.call('GET', `${base(maria)}/databases`, { token: maria.token });
    const sized = listed.json.items.find((d: { id: string }) => d.id === shop.id);
    expect(sized.sizeBytes).toBeGreaterThan(0);
    const server = await api.call('GET', base(maria), { token: maria.token });
    expect(server.json.databaseEngine).toMatchObject({
      state: 'up',
      version: expect.stringMatching(/MariaDB/),
    });
    expect(server.json.databaseCount).toBe(2);

    // dropped: the user cannot sign in, the database is gone with its grants
    await succeeded(
      maria,
      await api.call('DELETE', `${base(maria)}/database-users/${app.id}`, { token: maria.token }),
    );
    expect(asUser(maria, 'mariadb', 'shop_app', fresh, '', 'SELECT 1;').err).toMatch(/denied/);
    const unconfirmed = await api.call('DELETE', `${base(maria)}/databases/${shop.id}?confirm=shop`, {
      token: maria.token,
    });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.json.errors[0].path).toBe('query.confirm');
    await succeeded(
      maria,
      await api.call('DELETE', `${base(maria)}/databases/${shop.id}?confirm=shop_main`, {
        token: maria.token,
      }),
    );
    expect(asRoot(maria, 'SHOW DATABASES;').split('\n')).not.toContain('shop_main');
    expect(asRoot(maria, "SELECT COUNT(*) FROM mysql.db WHERE Db LIKE 'shop%';")).toBe('0');
    const readerNow = await api.call('GET', `${base(maria)}/database-users/${reader.id}`, {
      token: maria.token,
    });
    expect(readerNow.json.grants).toEqual([]);
    const gone = await api.call('GET', `${base(maria)}/databases/${shop.id}`, { token: maria.token });
    expect(gone.status).toBe(404);
  });

  it('PostgreSQL: create, grant, rotate, remote access and drop, each checked by signing in', async () => {
    const shop = await createDatabase(pg, { name: 'shop' });
    expect(shop.operation.status, JSON.stringify(shop.operation.error)).toBe('succeeded');
    const app = await createUser(pg, {
      name: 'app',
      password: HOSTILE_PASSWORD,
      grants: [{ databaseId: shop.id, access: 'all' }],
    });
    expect(app.operation.status, JSON.stringify(app.operation.error)).toBe('succeeded');
    const reader = await createUser(pg, {
      name: 'reader',
      grants: [{ databaseId: shop.id, access: 'read' }],
    });
    const stranger = await createUser(pg, { name: 'stranger' });

    const write = asUser(
      pg,
      'postgresql',
      'app',
      HOSTILE_PASSWORD,
      'shop',
      'CREATE TABLE t (n int); INSERT INTO t VALUES (42); SELECT n FROM t;',
    );
    expect(write, write.err).toMatchObject({ ok: true, out: '42' });
    // what the app made belongs to the database, so its readers read it
    expect(asUser(pg, 'postgresql', 'reader', reader.password, 'shop', 'SELECT n FROM t;').out).toBe('42');
    expect(
      asUser(pg, 'postgresql', 'reader', reader.password, 'shop', 'INSERT INTO t VALUES (1);').err,
    ).toMatch(/permission denied/);
    // a user without a grant cannot even connect
    expect(asUser(pg, 'postgresql', 'stranger', stranger.password, 'shop', 'SELECT 1;').err).toMatch(
      /permission denied/,
    );

    const rotated = await api.call('POST', `${base(pg)}/database-users/${app.id}/password`, {
      token: pg.token,
      body: { password: 'another long $$ password' },
    });
    await succeeded(pg, rotated);
    expect(asUser(pg, 'postgresql', 'app', HOSTILE_PASSWORD, 'shop', 'SELECT 1;').ok).toBe(false);
    expect(asUser(pg, 'postgresql', 'app', 'another long $$ password', 'shop', 'SELECT n FROM t;').out).toBe(
      '42',
    );

    await succeeded(
      pg,
      await api.call('PATCH', `${base(pg)}/database-users/${app.id}`, {
        token: pg.token,
        body: { remoteAccess: ['198.51.100.0/24', '2001:db8::/48'] },
      }),
    );
    const hba = readFileSync(join(pg.root, 'var/lib/postgresql/data/pg_hba.conf'), 'utf8');
    expect(hba).toContain(
      '# vip-user app begin\nhost "shop" "app" 198.51.100.0/24 scram-sha-256\nhost "shop" "app" 2001:db8::/48 scram-sha-256\n# vip-user app end\n',
    );
    expect(readFileSync(join(pg.root, 'etc/nftables.d/60-vip-database-app.nft'), 'utf8')).toContain(
      'ip6 saddr 2001:db8::/48 tcp dport 5432',
    );

    await succeeded(
      pg,
      await api.call('DELETE', `${base(pg)}/database-users/${app.id}`, { token: pg.token }),
    );
    expect(readFileSync(join(pg.root, 'var/lib/postgresql/data/pg_hba.conf'), 'utf8')).not.toContain(
      'vip-user app',
    );
    expect(asUser(pg, 'postgresql', 'app', 'another long $$ password', 'shop', 'SELECT 1;').ok).toBe(false);
    // the table the app made stays, the database's
    expect(asUser(pg, 'postgresql', 'reader', reader.password, 'shop', 'SELECT n FROM t;').out).toBe('42');
    await succeeded(
      pg,
      await api.call('DELETE', `${base(pg)}/databases/${shop.id}?confirm=shop`, { token: pg.token }),
    );
    expect(asUser(pg, 'postgresql', 'reader', reader.password, 'shop', 'SELECT 1;').err).toMatch(
      /does not exist/,
    );
  });

  it('an engine that is down fails the create clearly and leaves nothing behind', async () => {
    const stop = await api.call('POST', `${base(maria)}/recipe-runs`, {
      token: maria.token,
      body: { script: 'vip-host stop mariadb' },
    });
    await succeeded(maria, stop);
    const failed = await createDatabase(maria, { name: 'while_down' });
    expect(failed.operation.status).toBe('failed');
    expect(failed.operation.error.message).toMatch(/database engine \(mariadb\) is not running/);
    const gone = await api.call('GET', `${base(maria)}/databases/${failed.id}`, { token: maria.token });
    expect(gone.status).toBe(404);
    const server = await api.call('GET', base(maria), { token: maria.token });
    expect(server.json.databaseEngine.state).toBe('down');
    await succeeded(
      maria,
      await api.call('POST', `${base(maria)}/services/database/restart`, { token: maria.token }),
    );
    // the name is free again, and the engine is up
    const again = await createDatabase(maria, { name: 'while_down' });
    expect(again.operation.status, JSON.stringify(again.operation.error)).toBe('succeeded');
    expect((await api.call('GET', base(maria), { token: maria.token })).json.databaseEngine.state).toBe('up');
  });

  it("holds the plan's databases limit, and gives the unit back when one is dropped", async () => {
    const first = await createDatabase(limitedServer, { name: 'only_one' });
    expect(first.operation.status).toBe('succeeded');
    const second = await api.call('POST', `${base(limitedServer)}/databases`, {
      token: limited.token,
      body: { name: 'second' },
    });
    expect(second.status).toBe(409);
    expect(second.json.detail).toMatch(/databases/);
    await succeeded(
      limitedServer,
      await api.call('DELETE', `${base(limitedServer)}/databases/${first.id}?confirm=only_one`, {
        token: limited.token,
      }),
    );
    expect((await createDatabase(limitedServer, { name: 'second' })).operation.status).toBe('succeeded');
  });

  it('reads sizes and the engine on demand and on the schedule', async () => {
    const db = await createDatabase(maria, { name: 'sized' });
    const before = (await api.call('GET', `${base(maria)}/databases/${db.id}`, { token: maria.token })).json;
    expect(before.sizeCheckedAt).not.toBeNull();
    const refreshed = await succeeded(
      maria,
      await api.call('POST', `${base(maria)}/databases/refresh`, { token: maria.token }),
    );
    expect(refreshed.kind).toBe('refresh-databases');
    const onDemand = (await api.call('GET', `${base(maria)}/databases/${db.id}`, { token: maria.token }))
      .json;
    expect(Date.parse(onDemand.sizeCheckedAt)).toBeGreaterThan(Date.parse(before.sizeCheckedAt));
    // the schedule starts one refresh per server with databases (alice's and the limited
    // tenant's by now), and each records what it read
    const { started } = (await runtime.refreshDatabases()) as { started: number };
    expect(started).toBeGreaterThanOrEqual(2);
    const scheduled = await eventually(
      async () => {
        const now = (await api.call('GET', `${base(maria)}/databases/${db.id}`, { token: maria.token })).json;
        return Date.parse(now.sizeCheckedAt) > Date.parse(onDemand.sizeCheckedAt) ? now : undefined;
      },
      30_000,
      'the scheduled refresh',
    );
    expect(scheduled.sizeBytes).toBeGreaterThanOrEqual(0);
  });

  it("links a database to a site: the site's environment signs in, follows a rotation and lets go", async () => {
    const siteCreated = await api.call('POST', `${base(maria)}/sites`, {
      token: maria.token,
      body: { domain: 'linked.example.test', type: 'static' },
    });
    await succeeded(maria, siteCreated);
    const site = siteCreated.json;
    const db = await createDatabase(maria, { name: 'linked_db' });
    const user = await createUser(maria, {
      name: 'linked_user',
      grants: [{ databaseId: db.id, access: 'all' }],
    });
    const stranger = await createUser(maria, { name: 'no_grant' });
    const link = (body: Record<string, unknown>) =>
      api.call('PUT', `${base(maria)}/databases/${db.id}/site`, { token: maria.token, body });
    const refused = await link({ siteId: site.id, userId: stranger.id });
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0].path).toBe('body.userId');
    const elsewhere = await api.call('PUT', `${base(pg)}/databases/${db.id}/site`, {
      token: pg.token,
      body: { siteId: site.id, userId: user.id },
    });
    expect(elsewhere.status).toBe(404);
    const linked = await link({ siteId: site.id, userId: user.id });
    await succeeded(maria, linked);
    expect(linked.json.link).toEqual({ siteId: site.id, userId: user.id });
    const siteNow = await api.call('GET', `/v1/tenants/${maria.tenantId}/sites/${site.id}`, {
      token: maria.token,
    });
    expect(siteNow.json.environmentNames).toEqual(
      expect.arrayContaining(['DB_DATABASE', 'DB_PASSWORD', 'DATABASE_URL']),
    );

    // the site's own environment file, read as a shell reads it, signs in to its database
    const environment = join(maria.root, 'home', site.systemUser, '.vip/environment');
    const signIn = () =>
      spawnSync(
        'bash',
        [
          '-c',
          'set -a; . "$1"; MYSQL_PWD="$DB_PASSWORD" mariadb -S "$2$DB_SOCKET" -u "$DB_USERNAME" -N "$DB_DATABASE" -e "SELECT DATABASE()"',
          'sign-in',
          environment,
          maria.root,
        ],
        { encoding: 'utf8' },
      );
    expect(signIn().stdout.trim(), signIn().stderr).toBe('linked_db');

    // a rotation reaches the site once the host has the new password
    const before = readFileSync(environment, 'utf8');
    const rotation = await api.call('POST', `${base(maria)}/database-users/${user.id}/password`, {
      token: maria.token,
      body: {},
    });
    passwords.push(rotation.json.password);
    await succeeded(maria, rotation);
    await eventually(
      async () => (readFileSync(environment, 'utf8') !== before ? true : undefined),
      30_000,
      'the new password',
    );
    expect(signIn().stdout.trim(), signIn().stderr).toBe('linked_db');

    const busyUser = await api.call('DELETE', `${base(maria)}/database-users/${user.id}`, {
      token: maria.token,
    });
    expect(busyUser.status).toBe(409);
    expect(busyUser.json.detail).toMatch(/unlink it first/);
    const ungrant = await api.call('PATCH', `${base(maria)}/database-users/${user.id}`, {
      token: maria.token,
      body: { grants: [] },
    });
    expect(ungrant.status).toBe(400);
    expect(ungrant.json.errors[0].path).toBe('body.grants');
    await eventually(
      async () => {
        const unlinked = await api.call('DELETE', `${base(maria)}/databases/${db.id}/site`, {
          token: maria.token,
        });
        return unlinked.status === 202 ? unlinked : undefined;
      },
      30_000,
      'the site to take the unlink',
    ).then((unlinked) => succeeded(maria, unlinked));
    expect(existsSync(environment) ? readFileSync(environment, 'utf8') : '').not.toContain('DB_PASSWORD');
    const read = await api.call('GET', `${base(maria)}/databases/${db.id}`, { token: maria.token });
    expect(read.json.link).toBeNull();
  });

  it("answers 404 for another tenant's server, database and user on every route", async () => {
    const db = await createDatabase(bobs, { name: 'bobs' });
    const user = await createUser(bobs, { name: 'bob_app', grants: [{ databaseId: db.id, access: 'all' }] });
    const theirs = base(bobs);
    const mine = `/v1/tenants/${alice.tenantId}/servers/${bobs.serverId}`;
    const calls: [string, string, Record<string, unknown>?][] = [];
    for (const path of [theirs, mine]) {
      calls.push(
        ['GET', `${path}/databases`],
        ['POST', `${path}/databases`, { name: 'stolen' }],
        ['GET', `${path}/databases/${db.id}`],
        ['DELETE', `${path}/databases/${db.id}?confirm=bobs`],
        ['POST', `${path}/databases/refresh`],
        [
          'PUT',
          `${path}/databases/${db.id}/site`,
          { siteId: 'ste_00000000000000000000000000', userId: user.id },
        ],
        ['DELETE', `${path}/databases/${db.id}/site`],
        ['GET', `${path}/database-users`],
        ['POST', `${path}/database-users`, { name: 'stolen' }],
        ['GET', `${path}/database-users/${user.id}`],
        ['PATCH', `${path}/database-users/${user.id}`, { grants: [] }],
        ['POST', `${path}/database-users/${user.id}/password`, {}],
        ['DELETE', `${path}/database-users/${user.id}`],
      );
    }
    for (const [method, path, body] of calls) {
      const response = await api.call(method, path, { token: alice.token, ...(body ? { body } : {}) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.text).not.toContain('bob_app');
    }
    // alice's own tenant with bob's server id: 404, and bob's records are untouched
    const read = await api.call('GET', `${theirs}/database-users/${user.id}`, { token: bob.token });
    expect(read.json).toMatchObject({
      name: 'bob_app',
      status: 'active',
      grants: [{ databaseId: db.id, access: 'all' }],
    });
  });

  it('quotes any text as a literal and an identifier that each engine reads back exactly', async () => {
    const samples = fc.sample(
      fc
        .string({ unit: 'binary', maxLength: 40 })
        .filter(
          (text) =>
            text.length > 0 &&
            ![...text].some(
              (c) => c === '\0' || ((c.codePointAt(0) ?? 0) >= 0xd800 && (c.codePointAt(0) ?? 0) <= 0xdfff),
            ),
        ),
      { numRuns: 300, seed: 20261203 },
    );
    samples.push("'", '\\', "\\'", '$$', '`', '"', ';', "'; DROP DATABASE mysql; --", '$vip$', '\\0');
    // MariaDB keeps identifiers in utf8mb3: the Basic Multilingual Plane only
    const bmp = (text: string) =>
      [...text]
        .filter((c) => (c.codePointAt(0) ?? 0) <= 0xffff)
        .slice(0, 60)
        .join('');
    const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex').toUpperCase();
    const mariaScript = samples
      .map((text) => `SELECT HEX(${literal('mariadb', text)}) AS ${quoteIdent('mariadb', bmp(text))};`)
      .join('\n');
    const mariaRun = spawnSync(
      'mariadb',
      ['-S', join(maria.root, 'run/mysqld/mysqld.sock'), '-u', 'root', '-N', '--batch'],
      {
        input: `SET NAMES utf8mb4;\n${mariaScript}`,
        encoding: 'utf8',
      },
    );
    expect(mariaRun.stderr).toBe('');
    expect(mariaRun.stdout.trim().split('\n')).toEqual(samples.map(hex));
    // PostgreSQL, as a user of a database of its own
    const props = await createDatabase(pg, { name: 'props' });
    const user = await createUser(pg, {
      name: 'props_user',
      grants: [{ databaseId: props.id, access: 'read' }],
    });
    const pgScript = samples
      .map(
        (text) =>
          `SELECT upper(encode(convert_to(${literal('postgresql', text)}, 'UTF8'), 'hex')) AS ${quoteIdent('postgresql', [...text].slice(0, 15).join(''))};`,
      )
      .join('\n');
    const read = asUser(
      pg,
      'postgresql',
      'props_user',
      user.password,
      'props',
      `SET standard_conforming_strings = on;\n${pgScript}`,
    );
    expect(read.err).toBe('');
    expect(read.out.split('\n').filter((line) => line !== 'SET')).toEqual(samples.map(hex));
  });

  it('never lets a password reach an operation, a log line or the host', async () => {
    const fresh = await createUser(maria, { name: 'secret_keeper' });
    const rotatedPg = await api.call('GET', `${base(pg)}/database-users`, { token: pg.token });
    expect(rotatedPg.status).toBe(200);
    const secrets = [HOSTILE_PASSWORD, 'another long $$ password', fresh.password, ...passwords];
    expect(secrets.length).toBeGreaterThan(10);
    const operations: unknown[] = [];
    for (const tenant of [alice, bob, limited]) {
      let cursor: string | null = null;
      do {
        const page = await api.call(
          'GET',
          `/v1/tenants/${tenant.tenantId}/operations?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { token: tenant.token },
        );
        operations.push(...page.json.items);
        cursor = page.json.nextCursor;
      } while (cursor);
    }
    expect(operations.length).toBeGreaterThan(10);
    const hostLogs = [maria, pg].flatMap((server) =>
      readdirSync(join(server.root, 'var/log'), { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => readFileSync(join(server.root, 'var/log', entry.name), 'utf8')),
    );
    const haystacks = [JSON.stringify(operations), printed.join(''), ...hostLogs];
    for (const secret of secrets) {
      for (const haystack of haystacks) expect(haystack.includes(secret)).toBe(false);
    }
  });
});
