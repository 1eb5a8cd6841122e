import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepBackupSchedules } from '../../../functions/backups/schedule';
import { tenantDataKey } from '../../../functions/backups/storage';
import { getPlatform } from '../../../layers/runtime/platform';
import { startFakeS3 } from '../../../scripts/fakes/s3';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { openAesGcmStream, openingStream } from '../../../scripts/open-backup';
import {
  apiClient,
  customerOnPlan,
  eventually,
  operationEnded,
  signUp,
  startTestRuntime,
} from '../../support/runtime';
import { startSftpServer } from '../../support/sftp-server';

/**
 * Backups of a site on a local host: its files and its MariaDB database streamed by the real
 * tar, zstd and mariadb-dump to the local S3 in presigned parts, completed, read back and
 * compared; then downloaded and unpacked, file by file and row by row.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let alice: { tenantId: string; token: string };
let bob: { tenantId: string; token: string };
let serverPath: string;
let sitePath: string;
let site: { id: string; systemUser: string };
let home: string;
let root: string;
let databaseId: string;
const scratch = mkdtempSync(join(tmpdir(), 'vip-backups-test-'));

const ended = (location: string | null) => operationEnded(api, location ?? '', alice.token);
const asRoot = (sql: string) =>
  spawnSync('mariadb', ['-S', join(root, 'run/mysqld/mysqld.sock'), '-u', 'root', '-N', '--batch'], {
    input: sql,
    encoding: 'utf8',
  });

/** Every entry under a folder: its type, mode, and content hash or link target. */
function tree(dir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      const stat = lstatSync(path);
      const mode = (stat.mode & 0o7777).toString(8);
      const rel = relative(dir, path);
      if (stat.isSymbolicLink()) entries[rel] = `link ${readlinkSync(path)}`;
      else if (stat.isDirectory()) {
        entries[rel] = `dir ${mode}`;
        walk(path);
      } else entries[rel] = `file ${mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    }
  };
  walk(dir);
  return entries;
}

/** POSTs a change (a server, a site, a database, a user) and waits for its operation to succeed; answers the response. */
async function made(path: string, body: Record<string, unknown>) {
  const response = await api.call('POST', path, { token: alice.token, body });
  expect(response.status, response.text).toBe(202);
  const operation = await ended(response.headers.get('location'));
  expect(operation.status, JSON.stringify(operation.error)).toBe('succeeded');
  return response;
}

/** An object the host encrypted for a tenant's storage opens, with the tenant's key, into the site as backed up. */
async function expectOpensToSite(stored: Buffer, into: string) {
  const dataKey = await tenantDataKey(await getPlatform(), alice.tenantId);
  const untar = spawnSync('bash', ['-c', `zstd -d -c | tar -x -p -C "${into}"`], {
    input: openAesGcmStream(dataKey, stored),
  });
  expect(untar.status, String(untar.stderr)).toBe(0);
  const original = tree(home);
  delete original['.cache/skip-me'];
  delete original['.cache'];
  expect(tree(into)).toEqual(original);
  return dataKey;
}

/**
 * Backs the site up to one of the tenant's own storages with a test restore: it must read back
 * verified and restore in scratch, encrypted; then a change to the site is undone by restoring it.
 */
async function backUpToAndRestore(targetId: string, after: (backup: { id: string }) => Promise<void>) {
  const { backup, operation } = await backUp({ databaseIds: [databaseId], targetId, testRestore: true });
  expect(operation.status, JSON.stringify(operation.error)).toBe('succeeded');
  const read = (await api.call('GET', `${sitePath}/backups/${backup.id}`, { token: alice.token })).json;
  expect(read).toMatchObject({
    targetId,
    encryption: 'aes-256-gcm',
    verification: { status: 'verified' },
    testRestore: { status: 'passed', databases: [{ name: 'shop', tables: 1 }] },
  });
  expect(read.objects.find((o: { name: string }) => o.name === 'files').parts).toBeGreaterThanOrEqual(3);
  await after(backup);
  writeFileSync(join(home, 'public/index.html'), `<h1>changed for ${targetId}</h1>\n`);
  const restore = await api.call('POST', `${sitePath}/backups/${backup.id}/restore`, {
    token: alice.token,
    body: { databases: false },
  });
  const restored = await ended(restore.headers.get('location'));
  expect(restored.status, JSON.stringify(restored.error)).toBe('succeeded');
  expect(readFileSync(join(home, 'public/index.html'), 'utf8')).toBe('<h1>backed up</h1>\n');
  return backup;
}

async function backUp(body: Record<string, unknown>) {
  const started = await api.call('POST', `${sitePath}/backups`, { token: alice.token, body });
  expect(started.status, started.text).toBe(202);
  return { backup: started.json, operation: await ended(started.headers.get('location')) };
}

beforeAll(async () => {
  runtime = await startTestRuntime({ databaseEngines: true });
  api = apiClient(runtime.url);
  alice = await signUp(api, 'backups-alice@example.com');
  bob = await signUp(api, 'backups-bob@example.com');
  const server = await made(`/v1/tenants/${alice.tenantId}/servers`, {
    name: 'backups',
    provider: 'local',
    stack: { phpVersions: [], database: 'mariadb' },
  });
  serverPath = `/v1/tenants/${alice.tenantId}/servers/${server.json.id}`;
  const created = await made(`${serverPath}/sites`, { domain: 'backed-up.example.test', type: 'static' });
  site = created.json;
  sitePath = `/v1/tenants/${alice.tenantId}/sites/${site.id}`;
  const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === server.json.id);
  root = runtime.hosts.rootOf(host?.id ?? '');
  home = join(root, 'home', site.systemUser);
  // what a site holds: modes, a symlink, nested folders, text, and 40 MiB that does not compress
  mkdirSync(join(home, 'public/assets/img'), { recursive: true });
  writeFileSync(join(home, 'public/index.html'), '<h1>backed up</h1>\n');
  writeFileSync(join(home, 'public/assets/img/photo.bin'), randomBytes(40 * 1024 * 1024));
  writeFileSync(join(home, 'secret.env'), 'KEY=value\n');
  chmodSync(join(home, 'secret.env'), 0o600);
  writeFileSync(join(home, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(home, 'run.sh'), 0o750);
  symlinkSync('public/index.html', join(home, 'index-link'));
  mkdirSync(join(home, '.cache'), { recursive: true });
  writeFileSync(join(home, '.cache/skip-me'), 'cache');
  const db = await made(`${serverPath}/databases`, { name: 'shop' });
  databaseId = db.json.id;
  const filled = asRoot(
    "CREATE TABLE shop.orders (id INT PRIMARY KEY, note TEXT); INSERT INTO shop.orders VALUES (1, 'first'), (2, 'it''s \\\\ second'), (3, 'ünïcödé');",
  );
  expect(filled.stderr).toBe('');
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('Backups', () => {
  it('backs up files and a database that come back byte for byte and row for row', async () => {
    const { backup, operation } = await backUp({ databaseIds: [databaseId], testRestore: true });
    expect(operation.status, JSON.stringify(operation.error)).toBe('succeeded');
    const read = await api.call('GET', `${sitePath}/backups/${backup.id}`, { token: alice.token });
    expect(read.json).toMatchObject({
      status: 'succeeded',
      includes: { files: true, databases: [{ id: databaseId, name: 'shop' }] },
      verification: { status: 'verified' },
    });
    // proven on the host: the files unpacked in scratch (caches left out), the dump loaded into a
    // scratch database; both gone again
    const entries = Object.keys(tree(home)).filter((path) => !path.startsWith('.cache')).length;
    expect(read.json.testRestore).toMatchObject({
      status: 'passed',
      files: entries,
      databases: [{ name: 'shop', tables: 1 }],
    });
    expect(readdirSync(join(root, 'home')).filter((name) => name.startsWith('.vip-'))).toEqual([]);
    expect(asRoot("SHOW DATABASES LIKE 'vip\\_%';").stdout).toBe('');
    const files = read.json.objects.find((o: { name: string }) => o.name === 'files');
    // 40 MiB that zstd cannot shrink: three 16 MiB parts at least
    expect(files.parts).toBeGreaterThanOrEqual(3);
    // what the host sent is kept beside the objects, part by part (not read from the command's
    // output, which SSM cuts at 24,000 characters)
    const manifest = readFileSync(
      runtime.s3.objectPath(
        runtime.s3.bucket,
        `tenants/${alice.tenantId}/sites/${site.id}/backups/${backup.id}/manifest`,
      ) as string,
      'utf8',
    );
    expect(manifest.match(/^part: files \d+ /gm)).toHaveLength(files.parts);
    expect(manifest).toContain(`object: files ${files.sha256}`);
    expect(runtime.s3.openUploads(runtime.s3.bucket)).toEqual([]);

    const links = await api.call('POST', `${sitePath}/backups/${backup.id}/download`, { token: alice.token });
    expect(links.status, links.text).toBe(200);
    const fetchObject = async (name: string) => {
      const link = links.json.objects.find((o: { name: string }) => o.name === name);
      const response = await fetch(link.url);
      expect(response.status).toBe(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(link.sha256);
      return bytes;
    };
    const unpacked = join(scratch, 'files');
    mkdirSync(unpacked);
    const untar = spawnSync('bash', ['-c', `zstd -d -c | tar -x -p -C "${unpacked}"`], {
      input: await fetchObject('files'),
    });
    expect(untar.status, String(untar.stderr)).toBe(0);
    const original = tree(home);
    // caches are left out
    delete original['.cache/skip-me'];
    delete original['.cache'];
    expect(tree(unpacked)).toEqual(original);
    expect(original['index-link']).toBe('link public/index.html');
    expect(original['secret.env']).toMatch(/^file 600 /);

    const dump = spawnSync('zstd', ['-d', '-c'], { input: await fetchObject('database-shop') }).stdout;
    expect(asRoot('CREATE DATABASE restored;').stderr).toBe('');
    const load = spawnSync(
      'mariadb',
      ['-S', join(root, 'run/mysqld/mysqld.sock'), '-u', 'root', 'restored'],
      {
        input: dump,
      },
    );
    expect(load.status, String(load.stderr)).toBe(0);
    const rows = (db: string) => asRoot(`SELECT id, note FROM ${db}.orders ORDER BY id;`).stdout;
    expect(rows('restored')).toBe(rows('shop'));
    expect(rows('restored')).toContain('ünïcödé');
  });

  it('keeps one backup of a site running at a time', async () => {
    const first = await api.call('POST', `${sitePath}/backups`, { token: alice.token, body: {} });
    expect(first.status).toBe(202);
    const second = await api.call('POST', `${sitePath}/backups`, { token: alice.token, body: {} });
    expect(second.status).toBe(409);
    expect((await ended(first.headers.get('location'))).status).toBe('succeeded');
  });

  it('finds a corrupted object when it reads the backup back', async () => {
    runtime.s3.corruptNextCompletion();
    const { backup, operation } = await backUp({ databaseIds: [] });
    expect(operation.status).toBe('succeeded');
    const read = await api.call('GET', `${sitePath}/backups/${backup.id}`, { token: alice.token });
    expect(read.json.verification).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/files: part \d+ does not match/),
    });
  });

  it('leaves nothing behind when the host fails halfway', async () => {
    const before = await api.call('GET', `${sitePath}/backups`, { token: alice.token });
    // the files go up first; the dump then fails with the engine stopped
    await made(`${serverPath}/recipe-runs`, { script: 'vip-host stop mariadb' });
    const { backup, operation } = await backUp({ databaseIds: [databaseId] });
    expect(operation.status).toBe('failed');
    const after = await api.call('GET', `${sitePath}/backups`, { token: alice.token });
    expect(after.json.items.map((b: { id: string }) => b.id)).toEqual(
      before.json.items.map((b: { id: string }) => b.id),
    );
    expect(runtime.s3.openUploads(runtime.s3.bucket)).toEqual([]);
    for (const name of ['files', 'database-shop', 'manifest']) {
      expect(
        runtime.s3.objectPath(
          runtime.s3.bucket,
          `tenants/${alice.tenantId}/sites/${site.id}/backups/${backup.id}/${name}`,
        ),
      ).toBeUndefined();
    }
    const restart = await api.call('POST', `${serverPath}/services/database/restart`, { token: alice.token });
    expect((await ended(restart.headers.get('location'))).status).toBe('succeeded');
  });

  it("prunes after each success to what the site's policy keeps, objects included", async () => {
    const bad = await api.call('PUT', `${sitePath}/backup-policy`, {
      token: alice.token,
      body: { retention: {} },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe('body.retention');
    const set = await api.call('PUT', `${sitePath}/backup-policy`, {
      token: alice.token,
      body: { retention: { keepLast: 2 } },
    });
    expect(set.status, set.text).toBe(200);
    const made: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { backup, operation } = await backUp({});
      expect(operation.status).toBe('succeeded');
      made.push(backup.id);
    }
    const listed = await api.call('GET', `${sitePath}/backups?limit=100`, { token: alice.token });
    const ids = listed.json.items.map((b: { id: string }) => b.id);
    expect(ids.slice(-2)).toEqual(made.slice(-2));
    expect(ids).toHaveLength(2);
    expect(
      runtime.s3.objectPath(
        runtime.s3.bucket,
        `tenants/${alice.tenantId}/sites/${site.id}/backups/${made[0]}/files`,
      ),
    ).toBeUndefined();
    const removed = await api.call('DELETE', `${sitePath}/backup-policy`, { token: alice.token });
    expect(removed.status).toBe(204);
    expect((await api.call('GET', `${sitePath}/backup-policy`, { token: alice.token })).status).toBe(404);
  });

  it('runs scheduled backups when they are due, each run once', async () => {
    const tooOften = await api.call('PUT', `${sitePath}/backup-policy`, {
      token: alice.token,
      body: { schedule: { cron: '*/5 * * * *' } },
    });
    expect(tooOften.status).toBe(400);
    expect(tooOften.json.errors[0].path).toBe('body.schedule.cron');
    const set = await api.call('PUT', `${sitePath}/backup-policy`, {
      token: alice.token,
      body: { schedule: 'hourly', retention: { keepLast: 10 }, databaseIds: [] },
    });
    expect(set.status, set.text).toBe(200);
    const { nextRunAt, schedule } = set.json;
    expect(schedule).toMatchObject({
      frequency: 'hourly',
      cron: expect.stringMatching(/^\d{1,2} \* \* \* \*$/),
    });
    expect(Date.parse(nextRunAt) - Date.now()).toBeLessThanOrEqual(3_600_000);
    const before = (await api.call('GET', `${sitePath}/backups?limit=100`, { token: alice.token })).json.items
      .length;
    const platform = await getPlatform();
    const at = new Date(Date.parse(nextRunAt) + 1000);
    const sweep = (clock: Date) => sweepBackupSchedules({ ...platform, clock: { now: () => clock } });
    expect(await sweep(at)).toEqual({ started: 1, skipped: 0 });
    // the same moment again starts nothing: the run moved on
    expect(await sweep(at)).toEqual({ started: 0, skipped: 0 });
    const policy = (await api.call('GET', `${sitePath}/backup-policy`, { token: alice.token })).json;
    expect(policy.lastRunAt).toBe(nextRunAt);
    expect(Date.parse(policy.nextRunAt) - Date.parse(nextRunAt)).toBe(3_600_000);
    const listed = await eventually(
      async () => {
        const items = (await api.call('GET', `${sitePath}/backups?limit=100`, { token: alice.token })).json
          .items;
        return items.length > before && items.at(-1).status === 'succeeded' ? items : undefined;
      },
      30_000,
      'the scheduled backup',
    );
    expect(listed.at(-1).includes).toEqual({ files: true, databases: [] });
    // the policy's first scheduled backup is test-restored (weekly by default), and remembered
    expect(listed.at(-1).testRestore).toMatchObject({ status: 'passed' });
    const tested = (await api.call('GET', `${sitePath}/backup-policy`, { token: alice.token })).json;
    expect(tested).toMatchObject({ testRestore: 'weekly', lastTestRestoreAt: at.toISOString() });
    await api.call('DELETE', `${sitePath}/backup-policy`, { token: alice.token });
  });

  it('restores files and a database in place, and a restore that fails changes nothing', async () => {
    // a trigger and a routine, which RENAME TABLE does not carry from one database to another
    const objects = spawnSync('mariadb', ['-S', join(root, 'run/mysqld/mysqld.sock'), '-u', 'root', 'shop'], {
      input:
        "CREATE TRIGGER stamp BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = CONCAT(NEW.note, ' (stamped)');\nCREATE PROCEDURE order_count() SELECT COUNT(*) FROM orders;\n",
      encoding: 'utf8',
    });
    expect(objects.stderr).toBe('');
    const { backup, operation } = await backUp({ databaseIds: [databaseId] });
    expect(operation.status).toBe('succeeded');
    const rows = () => asRoot('SELECT id, note FROM shop.orders ORDER BY id;').stdout;
    const backedUp = { index: readFileSync(join(home, 'public/index.html'), 'utf8'), rows: rows() };
    const files = () => ({
      index: readFileSync(join(home, 'public/index.html'), 'utf8'),
      runSh: existsSync(join(home, 'run.sh')),
      later: existsSync(join(home, 'public/later.txt')),
      tree: tree(join(home, 'public')),
    });
    const atBackup = files();
    // the site moves on after its backup
    writeFileSync(join(home, 'public/index.html'), '<h1>changed</h1>\n');
    writeFileSync(join(home, 'public/later.txt'), 'made after the backup');
    rmSync(join(home, 'run.sh'));
    expect(
      asRoot(
        "UPDATE shop.orders SET note = 'changed'; INSERT INTO shop.orders VALUES (9, 'new'); CREATE TABLE shop.extra (n INT); DROP TRIGGER shop.stamp; DROP PROCEDURE shop.order_count; CREATE PROCEDURE shop.stray() SELECT 1;",
      ).stderr,
    ).toBe('');
    const routines = () =>
      asRoot("SELECT routine_name FROM information_schema.routines WHERE routine_schema = 'shop' ORDER BY 1;")
        .stdout;
    const changed = { files: files(), rows: rows(), routines: routines() };

    // a backup whose object no longer matches its checksum: the host refuses it, nothing moves
    const key = `tenants/${alice.tenantId}/sites/${site.id}/backups/${backup.id}/files`;
    const stored = runtime.s3.objectPath(runtime.s3.bucket, key) as string;
    const original = readFileSync(stored);
    const broken = Buffer.from(original);
    broken[Math.floor(broken.length / 2)] = (broken[Math.floor(broken.length / 2)] ?? 0) ^ 0xff;
    writeFileSync(stored, broken);
    const refused = await api.call('POST', `${sitePath}/backups/${backup.id}/restore`, {
      token: alice.token,
      body: {},
    });
    expect(refused.status, refused.text).toBe(202);
    const failed = await ended(refused.headers.get('location'));
    expect(failed.status).toBe('failed');
    expect(failed.error.message).toMatch(/does not match its checksum|did not load|tar/);
    expect(files()).toEqual(changed.files);
    expect(rows()).toBe(changed.rows);
    expect(routines()).toBe(changed.routines);

    writeFileSync(stored, original);
    const restored = await api.call('POST', `${sitePath}/backups/${backup.id}/restore`, {
      token: alice.token,
      body: {},
    });
    const done = await ended(restored.headers.get('location'));
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(files()).toEqual(atBackup);
    expect(readFileSync(join(home, 'public/index.html'), 'utf8')).toBe(backedUp.index);
    expect(rows()).toBe(backedUp.rows);
    expect(
      asRoot(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'shop' AND table_name = 'extra';",
      ).stdout.trim(),
    ).toBe('0');
    // the trigger and the routine are back, and the one made since is gone
    expect(routines()).toBe('order_count\n');
    expect(
      asRoot("INSERT INTO shop.orders VALUES (10, 'after'); SELECT note FROM shop.orders WHERE id = 10;")
        .stdout,
    ).toBe('after (stamped)\n');
    expect(asRoot('CALL shop.order_count();').stdout.trim()).toBe(
      String(backedUp.rows.trim().split('\n').length + 1),
    );
    expect(asRoot('DELETE FROM shop.orders WHERE id = 10;').stderr).toBe('');
    // the site's user still owns its home
    expect(lstatSync(home).uid).toBe(lstatSync(join(home, 'public')).uid);
  });

  it("restores a backup's files and database into another site, as that site's own", async () => {
    const { backup } = await backUp({ databaseIds: [databaseId] });
    const copy = await made(`${serverPath}/sites`, { domain: 'copy.example.test', type: 'static' });
    const copyHome = join(root, 'home', copy.json.systemUser);
    // the copy has no database of its own yet: where the backup's goes must be said
    const nowhere = await api.call('POST', `${sitePath}/backups/${backup.id}/restore`, {
      token: alice.token,
      body: { targetSiteId: copy.json.id },
    });
    expect(nowhere.status).toBe(400);
    expect(nowhere.json.errors[0].path).toBe('body.databaseTargets');
    const foreign = await api.call('POST', `${sitePath}/backups/${backup.id}/restore`, {
      token: alice.token,
      body: { targetSiteId: 'ste_00000000000000000000000000', databases: false },
    });
    expect(foreign.status).toBe(400);
    const notHeld = await api.call('POST', `${sitePath}/backups/${backup.id}/restore`, {
      token: alice.token,
      body: {
        targetSiteId: copy.json.id,
        databaseTargets: [{ from: 'dbs_00000000000000000000000000', to: databaseId }],
      },
    });
    expect(notHeld.status).toBe(400);
    expect(notHeld.json.errors[0].path).toBe('body.databaseTargets.0.from');
    // the copy's own database, linked to it through its own user
    const copyDb = await made(`${serverPath}/databases`, { name: 'copy_shop' });
    const copyUser = await made(`${serverPath}/database-users`, {
      name: 'copy_app',
      grants: [{ databaseId: copyDb.json.id, access: 'all' }],
    });
    const linked = await api.call('PUT', `${serverPath}/databases/${copyDb.json.id}/site`, {
      token: alice.token,
      body: { siteId: copy.json.id, userId: copyUser.json.id },
    });
    expect((await ended(linked.headers.get('location'))).status).toBe('succeeded');
    expect(asRoot('CREATE TABLE copy_shop.mine (n INT); INSERT INTO copy_shop.mine VALUES (7);').stderr).toBe(
      '',
    );
    const before = asRoot('SELECT id, note FROM shop.orders ORDER BY id;').stdout;
    // its environment, with the linked database's credentials, is its own and stays
    const copyVip = tree(join(copyHome, '.vip'));

    const restored = await api.call('POST', `${sitePath}/backups/${backup.id}/restore`, {
      token: alice.token,
      body: { targetSiteId: copy.json.id },
    });
    expect(restored.status, restored.text).toBe(202);
    const done = await ended(restored.headers.get('location'));
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(tree(join(copyHome, 'public'))).toEqual(tree(join(home, 'public')));
    // the files are the copy's own, and the copy keeps its own .vip
    const owner = lstatSync(copyHome).uid;
    expect(lstatSync(join(copyHome, 'public/index.html')).uid).toBe(owner);
    expect(owner).not.toBe(lstatSync(home).uid);
    expect(existsSync(join(copyHome, '.vip')) ? tree(join(copyHome, '.vip')) : {}).toEqual(copyVip);
    // the copy's database is the backup's, read through the copy's own user; the source is untouched
    const asCopyApp = spawnSync(
      'mariadb',
      ['-S', join(root, 'run/mysqld/mysqld.sock'), '-u', 'copy_app', '-N', '--batch', 'copy_shop'],
      {
        input: 'SELECT id, note FROM orders ORDER BY id;',
        encoding: 'utf8',
        env: { ...process.env, MYSQL_PWD: copyUser.json.password },
      },
    );
    expect(asCopyApp.stderr).toBe('');
    expect(asCopyApp.stdout).toBe(before);
    expect(asRoot("SHOW TABLES FROM copy_shop LIKE 'mine';").stdout).toBe('');
    expect(asRoot('SELECT id, note FROM shop.orders ORDER BY id;').stdout).toBe(before);
  });

  it('restores a PostgreSQL database in one transaction', async () => {
    const server = await made(`/v1/tenants/${alice.tenantId}/servers`, {
      name: 'backups-pg',
      provider: 'local',
      stack: { phpVersions: [], database: 'postgresql' },
    });
    const pgServer = `/v1/tenants/${alice.tenantId}/servers/${server.json.id}`;
    const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === server.json.id);
    const pgRoot = runtime.hosts.rootOf(host?.id ?? '');
    const pgSite = await made(`${pgServer}/sites`, { domain: 'pg-backed-up.example.test', type: 'static' });
    const db = await made(`${pgServer}/databases`, { name: 'ledger' });
    const user = await made(`${pgServer}/database-users`, {
      name: 'ledger_app',
      grants: [{ databaseId: db.json.id, access: 'all' }],
    });
    const sql = (text: string) =>
      spawnSync(
        'psql',
        [
          '-X',
          '-q',
          '-At',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          join(pgRoot, 'run/postgresql'),
          '-p',
          String(host?.databasePort),
          '-U',
          'ledger_app',
          'ledger',
        ],
        { input: text, encoding: 'utf8', env: { ...process.env, PGPASSWORD: user.json.password } },
      );
    expect(
      sql(
        'CREATE TABLE entries (id int PRIMARY KEY, amount numeric); INSERT INTO entries VALUES (1, 10.5), (2, -3);',
      ).stderr,
    ).toBe('');
    const pgSitePath = `/v1/tenants/${alice.tenantId}/sites/${pgSite.json.id}`;
    const started = await made(`${pgSitePath}/backups`, { databaseIds: [db.json.id], testRestore: true });
    const tested = await api.call('GET', `${pgSitePath}/backups/${started.json.id}`, { token: alice.token });
    expect(tested.json.testRestore).toMatchObject({
      status: 'passed',
      databases: [{ name: 'ledger', tables: 1 }],
    });
    expect(sql('UPDATE entries SET amount = 0; CREATE TABLE later (n int);').stderr).toBe('');
    const restore = await api.call('POST', `${pgSitePath}/backups/${started.json.id}/restore`, {
      token: alice.token,
      body: { files: false },
    });
    const done = await ended(restore.headers.get('location'));
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(sql('SELECT id, amount FROM entries ORDER BY id;').stdout.trim()).toBe('1|10.5\n2|-3');
    // what the app makes after a restore is still the database's
    expect(sql('INSERT INTO entries VALUES (3, 1); SELECT count(*) FROM entries;').stdout.trim()).toBe('3');

    // into another database of the server: the copy's own reader sees the restored rows
    const copy = await made(`${pgServer}/databases`, { name: 'ledger_copy' });
    const reader = await made(`${pgServer}/database-users`, {
      name: 'copy_reader',
      grants: [{ databaseId: copy.json.id, access: 'read' }],
    });
    const intoCopy = await api.call('POST', `${pgSitePath}/backups/${started.json.id}/restore`, {
      token: alice.token,
      body: { files: false, databaseTargets: [{ from: db.json.id, to: copy.json.id }] },
    });
    const copied = await ended(intoCopy.headers.get('location'));
    expect(copied.status, JSON.stringify(copied.error)).toBe('succeeded');
    const read = spawnSync(
      'psql',
      [
        '-X',
        '-At',
        '-h',
        join(pgRoot, 'run/postgresql'),
        '-p',
        String(host?.databasePort),
        '-U',
        'copy_reader',
        'ledger_copy',
      ],
      {
        input: 'SELECT id, amount FROM entries ORDER BY id;',
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: reader.json.password },
      },
    );
    expect(read.stderr).toBe('');
    expect(read.stdout.trim()).toBe('1|10.5\n2|-3');
    // the source database is as the app left it
    expect(sql('SELECT count(*) FROM entries;').stdout.trim()).toBe('3');
  });

  it("counts what backups keep against the plan's storage, and refuses a backup once it is used up", async () => {
    // what the tenant's backups keep, as its usage reports it
    let kept = 0;
    const sites = (
      await api.call('GET', `/v1/tenants/${alice.tenantId}/sites?limit=100`, { token: alice.token })
    ).json.items as { id: string }[];
    for (const each of sites) {
      const listed = (
        await api.call('GET', `/v1/tenants/${alice.tenantId}/sites/${each.id}/backups?limit=100`, {
          token: alice.token,
        })
      ).json.items as { sizeBytes: number | null }[];
      kept += listed.reduce((sum, b) => sum + (b.sizeBytes ?? 0), 0);
    }
    const usage = await api.call('GET', `/v1/tenants/${alice.tenantId}/usage`, { token: alice.token });
    expect(usage.json.quotas.backupStorageBytes.used).toBe(kept);

    const tiny = await customerOnPlan(
      api,
      { reseller: 'backups-reseller@example.com', customer: 'backups-tiny@example.com' },
      { backupStorageBytes: 1 },
    );
    const call = (method: string, path: string, body?: unknown) =>
      api.call(method, path, { token: tiny.token, ...(body === undefined ? {} : { body }) });
    const server = await call('POST', `/v1/tenants/${tiny.tenantId}/servers`, {
      name: 'tiny',
      provider: 'local',
      stack: { phpVersions: [], database: null },
    });
    expect((await operationEnded(api, server.headers.get('location') ?? '', tiny.token)).status).toBe(
      'succeeded',
    );
    const tinySite = await call('POST', `/v1/tenants/${tiny.tenantId}/servers/${server.json.id}/sites`, {
      domain: 'tiny.example.test',
      type: 'static',
    });
    expect((await operationEnded(api, tinySite.headers.get('location') ?? '', tiny.token)).status).toBe(
      'succeeded',
    );
    const backups = `/v1/tenants/${tiny.tenantId}/sites/${tinySite.json.id}/backups`;
    const first = await call('POST', backups, {});
    expect((await operationEnded(api, first.headers.get('location') ?? '', tiny.token)).status).toBe(
      'succeeded',
    );
    const second = await call('POST', backups, {});
    expect(second.status).toBe(409);
    expect(second.json.detail).toMatch(/backupStorageBytes/);
    // deleting gives the bytes back, and backups start again
    expect((await call('DELETE', `${backups}/${first.json.id}`)).status).toBe(204);
    const after = await call('GET', `/v1/tenants/${tiny.tenantId}/usage`);
    expect(after.json.quotas.backupStorageBytes.used).toBe(0);
    expect((await call('POST', backups, {})).status).toBe(202);
  });

  it('deletes a backup with its objects', async () => {
    const { backup } = await backUp({});
    const key = `tenants/${alice.tenantId}/sites/${site.id}/backups/${backup.id}/files`;
    const manifest = key.replace(/files$/, 'manifest');
    expect(runtime.s3.objectPath(runtime.s3.bucket, key)).toBeDefined();
    expect(runtime.s3.objectPath(runtime.s3.bucket, manifest)).toBeDefined();
    const deleted = await api.call('DELETE', `${sitePath}/backups/${backup.id}`, { token: alice.token });
    expect(deleted.status).toBe(204);
    expect(runtime.s3.objectPath(runtime.s3.bucket, key)).toBeUndefined();
    expect(runtime.s3.objectPath(runtime.s3.bucket, manifest)).toBeUndefined();
    expect((await api.call('GET', `${sitePath}/backups/${backup.id}`, { token: alice.token })).status).toBe(
      404,
    );
  });

  it("streams a backup larger than the free space of the host's disk, staging nothing there", async () => {
    const server = await made(`/v1/tenants/${alice.tenantId}/servers`, {
      name: 'backups-tight',
      provider: 'local',
      stack: { phpVersions: [], database: null },
    });
    const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === server.json.id);
    const tightRoot = runtime.hosts.rootOf(host?.id ?? '');
    const tight = await made(`/v1/tenants/${alice.tenantId}/servers/${server.json.id}/sites`, {
      domain: 'tight.example.test',
      type: 'static',
    });
    // the host's /home becomes a 40 MiB disk holding the site and 34 MiB that does not compress:
    // less free space than the site's size, so an archive staged there could not be written
    const homes = join(tightRoot, 'home');
    const aside = mkdtempSync(join(scratch, 'homes-'));
    const sh = (command: string) => {
      const result = spawnSync('bash', ['-c', command], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
    };
    sh(
      `cp -a "${homes}/." "${aside}/" && mount -t tmpfs -o size=40m,mode=0755 vip-tight "${homes}" && cp -a "${aside}/." "${homes}/"`,
    );
    try {
      const tightHome = join(homes, tight.json.systemUser);
      writeFileSync(join(tightHome, 'public/big.bin'), randomBytes(34 * 1024 * 1024));
      const { bavail, bsize } = statfsSync(homes);
      const siteBytes = Number(
        spawnSync('du', ['-sb', tightHome], { encoding: 'utf8' }).stdout.split('\t')[0],
      );
      expect(bavail * bsize).toBeLessThan(siteBytes / 4);

      const siteBefore = tree(tightHome);
      const started = await api.call('POST', `/v1/tenants/${alice.tenantId}/sites/${tight.json.id}/backups`, {
        token: alice.token,
        body: { testRestore: true },
      });
      expect(started.status, started.text).toBe(202);
      const operation = await ended(started.headers.get('location'));
      expect(operation.status, JSON.stringify(operation.error)).toBe('succeeded');
      const tightSite = `/v1/tenants/${alice.tenantId}/sites/${tight.json.id}`;
      const read = await api.call('GET', `${tightSite}/backups/${started.json.id}`, { token: alice.token });
      expect(read.json).toMatchObject({ status: 'succeeded', verification: { status: 'verified' } });
      expect(read.json.sizeBytes).toBeGreaterThan(34 * 1024 * 1024);
      // a test restore needs room for the files beside the site: it fails, says why, and leaves
      // neither scratch nor a change behind; the backup stands, read back as it was sent
      expect(read.json.testRestore).toMatchObject({
        status: 'failed',
        detail: expect.stringMatching(/No space left on device/),
      });
      expect(readdirSync(homes).filter((name) => name.startsWith('.vip-'))).toEqual([]);
      expect(tree(tightHome)).toEqual(siteBefore);
      // byte for byte, from the bucket
      const links = await api.call('POST', `${tightSite}/backups/${started.json.id}/download`, {
        token: alice.token,
      });
      const link = links.json.objects.find((o: { name: string }) => o.name === 'files');
      const unpacked = mkdtempSync(join(scratch, 'tight-'));
      // fetched here: the local S3 answers in this process, which a synchronous child would block
      const response = await fetch(link.url);
      const untar = spawnSync('bash', ['-c', `zstd -d -c | tar -x -p -C "${unpacked}"`], {
        input: Buffer.from(await response.arrayBuffer()),
      });
      expect(untar.status, String(untar.stderr)).toBe(0);
      expect(tree(unpacked)).toEqual(tree(tightHome));
    } finally {
      sh(`umount "${homes}"`);
    }
  });

  it("backs up each site of a server on the server's policy, unless the site has its own schedule", async () => {
    const server = await made(`/v1/tenants/${alice.tenantId}/servers`, {
      name: 'backups-fleet',
      provider: 'local',
      stack: { phpVersions: [], database: null },
    });
    const fleet = `/v1/tenants/${alice.tenantId}/servers/${server.json.id}`;
    const sites: { id: string }[] = [];
    for (const domain of ['fleet-a.example.test', 'fleet-b.example.test']) {
      const fleetSite = await made(`${fleet}/sites`, { domain, type: 'static' });
      sites.push(fleetSite.json);
    }
    const [a, b] = sites as [{ id: string }, { id: string }];
    const bad = await api.call('PUT', `${fleet}/backup-policy`, {
      token: alice.token,
      body: { schedule: 'daily', databaseIds: [] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].path).toBe('body.databaseIds');
    const set = await api.call('PUT', `${fleet}/backup-policy`, {
      token: alice.token,
      body: { schedule: 'daily', retention: { keepLast: 1 }, testRestore: 'off' },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.json).toMatchObject({ serverId: server.json.id, siteId: null, testRestore: 'off' });
    // b keeps its own schedule; a follows the server's
    const own = await api.call('PUT', `/v1/tenants/${alice.tenantId}/sites/${b.id}/backup-policy`, {
      token: alice.token,
      body: { schedule: { cron: '0 3 1 1 *' } },
    });
    expect(own.status).toBe(200);
    const platform = await getPlatform();
    const at = new Date(Date.parse(set.json.nextRunAt) + 1000);
    const sweep = () => sweepBackupSchedules({ ...platform, clock: { now: () => at } });
    expect(await sweep()).toEqual({ started: 1, skipped: 0 });
    expect(await sweep()).toEqual({ started: 0, skipped: 0 });
    const listOf = async (siteId: string) =>
      (await api.call('GET', `/v1/tenants/${alice.tenantId}/sites/${siteId}/backups`, { token: alice.token }))
        .json.items as { id: string; status: string; testRestore: unknown }[];
    const first = await eventually(
      async () => {
        const items = await listOf(a.id);
        return items.length === 1 && items[0]?.status === 'succeeded' ? items[0] : undefined;
      },
      30_000,
      "the server's scheduled backup of a",
    );
    expect(first.testRestore).toBeNull();
    expect(await listOf(b.id)).toEqual([]);
    // its next run, a day on: the server's retention keeps a's newest only
    const moved = (await api.call('GET', `${fleet}/backup-policy`, { token: alice.token })).json;
    expect(Date.parse(moved.nextRunAt) - Date.parse(set.json.nextRunAt)).toBe(86_400_000);
    const later = new Date(Date.parse(moved.nextRunAt) + 1000);
    expect(await sweepBackupSchedules({ ...platform, clock: { now: () => later } })).toEqual({
      started: 1,
      skipped: 0,
    });
    const second = await eventually(
      async () => {
        const items = await listOf(a.id);
        return items.length === 1 && items[0]?.id !== first.id && items[0]?.status === 'succeeded'
          ? items[0]
          : undefined;
      },
      30_000,
      "the server's next backup of a, and the first pruned",
    );
    expect(second.id > first.id).toBe(true);
    expect((await api.call('DELETE', `${fleet}/backup-policy`, { token: alice.token })).status).toBe(204);
    expect((await api.call('GET', `${fleet}/backup-policy`, { token: alice.token })).status).toBe(404);
  });

  it("sends backups to the tenant's own storage encrypted on the host, and restores from there", async () => {
    const customer = await startFakeS3({
      dir: mkdtempSync(join(scratch, 'customer-s3-')),
      accessKeyId: 'CUSTOMERKEY0001',
      secretAccessKey: 'customer-secret-key',
    });
    customer.createBucket('acme-backups');
    try {
      const targets = `/v1/tenants/${alice.tenantId}/backup-targets`;
      const good = {
        name: 'Acme storage',
        endpoint: customer.endpoint,
        bucket: 'acme-backups',
        prefix: 'vip/',
        accessKeyId: 'CUSTOMERKEY0001',
        secretAccessKey: 'customer-secret-key',
      };
      for (const [body, path] of [
        [{ ...good, secretAccessKey: 'not-the-secret' }, 'body.secretAccessKey'],
        [{ ...good, accessKeyId: 'SOMEONEELSE01' }, 'body.accessKeyId'],
        [{ ...good, bucket: 'no-such-bucket' }, 'body.bucket'],
        [{ ...good, prefix: '/vip' }, 'body.prefix'],
        [{ ...good, endpoint: 'ftp://example.com' }, 'body.endpoint'],
      ] as [Record<string, unknown>, string][]) {
        const refused = await api.call('POST', targets, { token: alice.token, body });
        expect(refused.status, JSON.stringify(body)).toBe(400);
        expect(refused.json.errors[0].path).toBe(path);
      }
      const target = await api.call('POST', targets, { token: alice.token, body: good });
      expect(target.status, target.text).toBe(201);
      expect(target.text).not.toContain('customer-secret-key');
      expect(target.json).toMatchObject({ name: 'Acme storage', bucket: 'acme-backups', prefix: 'vip/' });
      const listed = await api.call('GET', targets, { token: alice.token });
      expect(listed.json.items.map((t: { id: string }) => t.id)).toContain(target.json.id);
      const usage = async () =>
        (await api.call('GET', `/v1/tenants/${alice.tenantId}/usage`, { token: alice.token })).json.quotas
          .backupStorageBytes.used;
      const usedBefore = await usage();

      const backup = await backUpToAndRestore(target.json.id, async (made) => {
        // the platform's bucket holds nothing of it, nor does the plan count it
        expect(await usage()).toBe(usedBefore);
        const key = `vip/tenants/${alice.tenantId}/sites/${site.id}/backups/${made.id}/files`;
        expect(runtime.s3.objectPath(runtime.s3.bucket, key.slice(4))).toBeUndefined();
        const stored = readFileSync(customer.objectPath('acme-backups', key) as string);
        // what the customer's storage holds is ciphertext: neither a zstd frame nor a tar
        expect(stored.subarray(0, 8).toString('latin1')).toBe('VIPGCM1\0');
        expect(stored.includes(Buffer.from('backed up'))).toBe(false);
        // opened apart from the panel, with the tenant's exported key: the site, byte for byte
        const exported = await api.call('POST', `/v1/tenants/${alice.tenantId}/backup-data-key/export`, {
          token: alice.token,
        });
        expect(exported.status, exported.text).toBe(200);
        expect(exported.json).toMatchObject({ algorithm: 'aes-256-gcm', format: 'VIPGCM1' });
        const dataKey = Buffer.from(exported.json.key, 'base64');
        const opened = await expectOpensToSite(stored, mkdtempSync(join(scratch, 'customer-files-')));
        expect(dataKey.equals(opened)).toBe(true);
        // one byte changed anywhere and it does not open
        const altered = Buffer.from(stored);
        altered[altered.length >> 1] = (altered[altered.length >> 1] ?? 0) ^ 1;
        expect(() => openAesGcmStream(dataKey, altered)).toThrow(/does not open/);
        // cut off at a chunk's end, it does not open either (the last chunk is marked)
        expect(() => openAesGcmStream(dataKey, stored.subarray(0, 15 + (1 << 20) + 16))).toThrow(
          /does not open/,
        );
        // the streaming opener (npm run open-backup) gives the same bytes
        const streamed: Buffer[] = [];
        const opening = openingStream(dataKey);
        opening.on('data', (chunk: Buffer) => streamed.push(chunk));
        const openedAll = new Promise((resolve, reject) => opening.on('end', resolve).on('error', reject));
        for (let at = 0; at < stored.length; at += 65_536) opening.write(stored.subarray(at, at + 65_536));
        opening.end();
        await openedAll;
        expect(Buffer.concat(streamed).equals(openAesGcmStream(dataKey, stored))).toBe(true);
      });

      // the storage is forgotten only once nothing is kept there
      const busy = await api.call('DELETE', `${targets}/${target.json.id}`, { token: alice.token });
      expect(busy.status).toBe(409);
      expect(
        (await api.call('DELETE', `${sitePath}/backups/${backup.id}`, { token: alice.token })).status,
      ).toBe(204);
      expect(
        customer.objectPath(
          'acme-backups',
          `vip/tenants/${alice.tenantId}/sites/${site.id}/backups/${backup.id}/files`,
        ),
      ).toBeUndefined();
      for (const [method, path] of [
        ['GET', `/v1/tenants/${alice.tenantId}/backup-targets/${target.json.id}`],
        ['DELETE', `/v1/tenants/${alice.tenantId}/backup-targets/${target.json.id}`],
        ['GET', `/v1/tenants/${bob.tenantId}/backup-targets/${target.json.id}`],
        ['DELETE', `/v1/tenants/${bob.tenantId}/backup-targets/${target.json.id}`],
        ['POST', `/v1/tenants/${alice.tenantId}/backup-data-key/export`],
      ] as const) {
        const response = await api.call(method, path, { token: bob.token });
        expect(response.status, `${method} ${path}`).toBe(404);
      }
      const bobs = await api.call('GET', `/v1/tenants/${bob.tenantId}/backup-targets`, { token: bob.token });
      expect(bobs.json.items).toEqual([]);
      expect((await api.call('DELETE', `${targets}/${target.json.id}`, { token: alice.token })).status).toBe(
        204,
      );
    } finally {
      await customer.stop();
    }
  });

  it("sends backups to the tenant's SFTP server encrypted on the host, and restores from there", async () => {
    const sftp = await startSftpServer();
    try {
      const targets = `/v1/tenants/${alice.tenantId}/backup-targets`;
      const good = {
        type: 'sftp',
        name: 'Storage box',
        host: sftp.host,
        port: sftp.port,
        username: sftp.username,
        password: sftp.password,
        path: sftp.path,
        prefix: 'vip/',
      };
      for (const [body, path] of [
        [{ ...good, password: 'not-the-password' }, 'body.password'],
        [{ ...good, hostKeySha256: `${'A'.repeat(43)}=` }, 'body.hostKeySha256'],
        [{ ...good, path: 'relative/folder' }, 'body.path'],
        [{ ...good, path: '/root/not-theirs' }, 'body.path'],
        [{ ...good, port: 1 }, 'body.host'],
      ] as [Record<string, unknown>, string][]) {
        const refused = await api.call('POST', targets, { token: alice.token, body });
        expect(refused.status, JSON.stringify(body)).toBe(400);
        expect(refused.json.errors[0].path, refused.text).toBe(path);
      }
      const target = await api.call('POST', targets, { token: alice.token, body: good });
      expect(target.status, target.text).toBe(201);
      expect(target.text).not.toContain(sftp.password);
      // the host key it saw is the server's own, and the only one trusted from now on
      expect(target.json).toMatchObject({ type: 'sftp', hostKeySha256: sftp.hostKeySha256, path: sftp.path });

      const backup = await backUpToAndRestore(target.json.id, async (made) => {
        // on the server: ciphertext, which the tenant's key opens into the site, byte for byte
        const stored = sftp.read(`vip/tenants/${alice.tenantId}/sites/${site.id}/backups/${made.id}/files`);
        expect(stored.subarray(0, 8).toString('latin1')).toBe('VIPGCM1\0');
        await expectOpensToSite(stored, mkdtempSync(join(scratch, 'sftp-files-')));
        // no link to give a browser: the tenant has the server
        const links = await api.call('POST', `${sitePath}/backups/${made.id}/download`, {
          token: alice.token,
        });
        expect(links.status).toBe(409);
      });

      expect(
        (await api.call('DELETE', `${sitePath}/backups/${backup.id}`, { token: alice.token })).status,
      ).toBe(204);
      expect(() =>
        sftp.read(`vip/tenants/${alice.tenantId}/sites/${site.id}/backups/${backup.id}/files`),
      ).toThrow();
      expect((await api.call('DELETE', `${targets}/${target.json.id}`, { token: alice.token })).status).toBe(
        204,
      );
    } finally {
      await sftp.stop();
    }
  });

  it('answers 404 to another tenant on every backup route, download links included', async () => {
    const { backup } = await backUp({});
    const theirs = `/v1/tenants/${alice.tenantId}/sites/${site.id}`;
    const mine = `/v1/tenants/${bob.tenantId}/sites/${site.id}`;
    for (const path of [theirs, mine]) {
      for (const [method, route, body] of [
        ['GET', `${path}/backups`],
        ['POST', `${path}/backups`, {}],
        ['GET', `${path}/backups/${backup.id}`],
        ['POST', `${path}/backups/${backup.id}/download`],
        ['DELETE', `${path}/backups/${backup.id}`],
        ['GET', `${path}/backup-policy`],
        ['PUT', `${path}/backup-policy`, { retention: { keepLast: 1 } }],
        ['DELETE', `${path}/backup-policy`],
        ['POST', `${path}/backups/${backup.id}/restore`, {}],
      ] as [string, string, Record<string, unknown>?][]) {
        const response = await api.call(method, route, { token: bob.token, ...(body ? { body } : {}) });
        expect(response.status, `${method} ${route}`).toBe(404);
        expect(response.text).not.toContain('X-Amz-Signature');
      }
    }
    const still = await api.call('GET', `${sitePath}/backups/${backup.id}`, { token: alice.token });
    expect(still.status).toBe(200);
    // a server's policy, and a restore into another tenant's site
    for (const path of [serverPath, serverPath.replace(alice.tenantId, bob.tenantId)]) {
      for (const [method, body] of [['GET'], ['PUT', { retention: { keepLast: 1 } }], ['DELETE']] as [
        string,
        Record<string, unknown>?,
      ][]) {
        const response = await api.call(method, `${path}/backup-policy`, {
          token: bob.token,
          ...(body ? { body } : {}),
        });
        expect(response.status, `${method} ${path}/backup-policy`).toBe(404);
      }
    }
    const bobs = await api.call(
      'POST',
      `/v1/tenants/${bob.tenantId}/sites/${site.id}/backups/${backup.id}/restore`,
      {
        token: bob.token,
        body: { targetSiteId: site.id },
      },
    );
    expect(bobs.status).toBe(404);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ files: 'yes' }, 'body.files'],
      [{ databaseIds: ['nope'] }, 'body.databaseIds.0'],
      [{ databaseIds: ['dbs_00000000000000000000000000'] }, 'body.databaseIds.0'],
      [{ files: false, databaseIds: [] }, 'body'],
      [{ extra: true }, 'body.extra'],
    ];
    for (const [body, path] of cases) {
      const response = await api.call('POST', `${sitePath}/backups`, { token: alice.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });
});
