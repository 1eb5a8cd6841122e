import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../../support/runtime';

/**
 * The database engines a server's stack names run for real on its local host: Debian's MariaDB
 * and PostgreSQL, each with its data under the host's root and its socket where its clients
 * look; commands on the host reach them as on a server.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;

const ended = (path: string) => operationEnded(api, path, owner.token);

async function serverWith(database: string) {
  const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
    token: owner.token,
    body: { name: `db-${database}`, provider: 'local', stack: { phpVersions: [], database } },
  });
  expect(created.status, created.text).toBe(202);
  const provisioned = await ended(created.headers.get('location') ?? '');
  expect(provisioned.status, JSON.stringify(provisioned.steps)).toBe('succeeded');
  return `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`;
}

/** A script run on the server as a recipe: its standard output. */
async function onServer(serverPath: string, script: string) {
  const run = await api.call('POST', `${serverPath}/recipe-runs`, { token: owner.token, body: { script } });
  expect(run.status, run.text).toBe(202);
  const operation = await ended(run.headers.get('location') ?? '');
  expect(operation.status, JSON.stringify(operation.steps[0]?.output)).toBe('succeeded');
  return String(operation.steps[0]?.output?.stdout?.head ?? '');
}

beforeAll(async () => {
  runtime = await startTestRuntime({ databaseEngines: true });
  api = apiClient(runtime.url);
  owner = await signUp(api, 'engines@example.com');
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Database engines on local hosts', () => {
  it('MariaDB answers its root over the socket, and keeps what it was given across a restart', async () => {
    const server = await serverWith('mariadb');
    expect(await onServer(server, "mariadb -N -e 'SELECT VERSION()'")).toMatch(/MariaDB/);
    await onServer(
      server,
      "mariadb -e 'CREATE DATABASE kept; CREATE TABLE kept.t (n INT); INSERT INTO kept.t VALUES (42)'",
    );
    const restarted = await api.call('POST', `${server}/services/database/restart`, { token: owner.token });
    expect(restarted.status, restarted.text).toBe(202);
    expect((await ended(restarted.headers.get('location') ?? '')).status).toBe('succeeded');
    expect((await onServer(server, "mariadb -N -e 'SELECT n FROM kept.t'")).trim()).toBe('42');
  });

  it('PostgreSQL answers its postgres user over the socket named by the host’s own port', async () => {
    const server = await serverWith('postgresql');
    const port = runtime.hosts
      .list()
      .find((h) => server.endsWith(h.labels['vip-server-id'] ?? '-'))?.databasePort;
    expect(port).toBeGreaterThan(0);
    const version = await onServer(
      server,
      `runuser -u postgres -- psql -h /run/postgresql -p ${port} -Atc 'SHOW server_version'`,
    );
    expect(version.trim()).toMatch(/^1\d\./);
  });
});
