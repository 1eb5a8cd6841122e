import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, eventually, operationEnded, signUp, startTestRuntime } from '../../support/runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let serverPath: string;
/** servers whose reset the local provider accepts and does not carry out (a fault a test turns on) */
const resetsIgnoredFor: string[] = [];
/** packages the local hosts' apt reports as missing (a fault a test turns on) */
const unavailablePackages: string[] = [];

const ended = (path: string) => operationEnded(api, path, owner.token);

/** Server-sent events as they arrive: `event`, `id` and parsed `data`, or a comment. */
async function readEvents(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${runtime.url}${path}`, {
    headers: { authorization: `Bearer ${owner.token}`, ...headers },
  });
  const events: { event?: string; id?: string; data?: any; comment?: string }[] = [];
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) fields.comment = line.slice(1).trim();
        const [name = '', ...rest] = line.split(': ');
        if (['event', 'id', 'data', 'retry'].includes(name)) fields[name] = rest.join(': ');
      }
      events.push({
        ...(fields.event ? { event: fields.event } : {}),
        ...(fields.id ? { id: fields.id } : {}),
        ...(fields.data ? { data: JSON.parse(fields.data) } : {}),
        ...(fields.comment ? { comment: fields.comment } : {}),
      });
      end = buffer.indexOf('\n\n');
    }
  }
  return { response, events };
}

beforeAll(async () => {
  process.env.OPERATION_EVENTS_POLL_MS = '100';
  runtime = await startTestRuntime({ resetsIgnoredFor, unavailablePackages });
  api = apiClient(runtime.url);
  owner = await signUp(api, 'commands@example.com');
  const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
    token: owner.token,
    body: {
      name: 'web-1',
      provider: 'local',
      stack: { phpVersions: ['8.2', '8.3'], database: 'postgresql', nodeVersions: ['20', '22'] },
    },
  });
  serverPath = `/v1/tenants/${owner.tenantId}/servers/${created.json.id}`;
  // a command on a server still provisioning is refused
  const early = await api.call('POST', `${serverPath}/recipe-runs`, {
    token: owner.token,
    body: { script: 'true' },
  });
  expect(early.status).toBe(409);
  expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
});

afterAll(async () => {
  await runtime?.stop();
});

describe('Feature: commands on a server', () => {
  it("restarts the server's web server through the host shim, and shows the command's output", async () => {
    const restarted = await api.call('POST', `${serverPath}/services/nginx/restart`, { token: owner.token });
    expect(restarted.status).toBe(202);
    expect(restarted.json).toMatchObject({ kind: 'restart-service', status: 'pending' });
    const operation = await ended(restarted.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    expect(operation.steps[0]).toMatchObject({ name: 'run', status: 'succeeded', output: { exitCode: 0 } });
    expect(operation.steps[0].output.stdout.head).toContain('restarted nginx');
    const [host] = runtime.hosts.list();
    const restarts = readFileSync(join(runtime.hosts.rootOf(host?.id ?? ''), 'var/lib/vip/restarts'), 'utf8');
    expect(restarts).toMatch(/ nginx\n$/);
  });

  it('installed the stack it was created with, and shows it', async () => {
    const server = await api.call('GET', serverPath, { token: owner.token });
    expect(server.json.stack).toEqual({
      webServer: 'nginx',
      phpVersions: ['8.2', '8.3'],
      database: 'postgresql',
      redis: false,
      nodeVersions: ['20', '22'],
    });
    const [host] = runtime.hosts.list();
    const state = (file: string) =>
      readFileSync(join(runtime.hosts.rootOf(host?.id ?? ''), 'var/lib/vip', file), 'utf8').split('\n');
    expect(state('packages')).toEqual(
      expect.arrayContaining(['nginx', 'php8.2-fpm', 'php8.3-fpm', 'php8.3-pgsql', 'postgresql']),
    );
    expect(state('packages')).not.toContain('mariadb-server');
    expect(state('packages')).not.toContain('redis-server');
    expect(state('runtimes')).toEqual(['node-20', 'node-22', '']);
    expect(state('services')).toEqual(
      expect.arrayContaining(['nginx', 'php8.2-fpm', 'php8.3-fpm', 'postgresql', 'fail2ban', 'nftables']),
    );
    const ini = join(runtime.hosts.rootOf(host?.id ?? ''), 'etc/php/8.2/fpm/conf.d/90-vip.ini');
    expect(readFileSync(ini, 'utf8')).toContain('expose_php = Off');
  });

  it('restarts every PHP-FPM version for php-fpm, and the database engine for database', async () => {
    const php = await api.call('POST', `${serverPath}/services/php-fpm/restart`, { token: owner.token });
    expect(php.status).toBe(202);
    const phpRun = await ended(php.headers.get('location') ?? '');
    expect(phpRun.steps[0].output.stdout.head).toBe('restarted php8.2-fpm\nrestarted php8.3-fpm\n');
    const database = await api.call('POST', `${serverPath}/services/database/restart`, {
      token: owner.token,
    });
    const databaseRun = await ended(database.headers.get('location') ?? '');
    expect(databaseRun.steps[0].output.stdout.head).toBe('restarted postgresql\n');
    const redis = await api.call('POST', `${serverPath}/services/redis/restart`, { token: owner.token });
    expect(redis.status).toBe(400);
    expect(redis.json.errors).toEqual([
      { path: 'path.service', message: 'Redis is not installed on this server' },
    ]);
  });

  it('refuses a service the server does not run, naming it', async () => {
    const wrong = await api.call('POST', `${serverPath}/services/apache/restart`, { token: owner.token });
    expect(wrong.status).toBe(400);
    expect(wrong.json.errors[0]).toMatchObject({
      path: 'path.service',
      message: expect.stringContaining('nginx'),
    });
    const unknown = await api.call('POST', `${serverPath}/services/postfix/restart`, { token: owner.token });
    expect(unknown.status).toBe(400);
  });

  it('runs a recipe as it was written and captures its exit code, stdout and stderr', async () => {
    // quotes, dollars and a heredoc: the recipe reaches the host byte for byte
    const script = [
      'greeting="it\'s $((6 * 7))"',
      'echo "$greeting"',
      "cat <<'END'",
      '{{ not a parameter }} $HOME',
      'END',
      'echo "to stderr" >&2',
    ].join('\n');
    const run = await api.call('POST', `${serverPath}/recipe-runs`, { token: owner.token, body: { script } });
    expect(run.status).toBe(202);
    const operation = await ended(run.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    const output = operation.steps[0].output;
    expect(output.exitCode).toBe(0);
    expect(output.stdout.head).toBe("it's 42\n{{ not a parameter }} $HOME\n");
    expect(output.stderr.head).toBe('to stderr\n');
  });

  it('fails the operation with the exit code and output of a failing recipe', async () => {
    const run = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'echo "checking disk"\necho "disk full" >&2\nexit 3' },
    });
    const operation = await ended(run.headers.get('location') ?? '');
    expect(operation.status).toBe('failed');
    expect(operation.error).toEqual({
      code: 'CommandFailed',
      message: 'The command ended Failed with exit code 3.',
    });
    expect(operation.steps[0]).toMatchObject({ status: 'failed', output: { exitCode: 3 } });
    expect(operation.steps[0].output.stderr.head).toContain('disk full');
    // the server is untouched by a failed command
    expect((await api.call('GET', serverPath, { token: owner.token })).json.status).toBe('active');
  });

  it('cancels a running recipe: its workflow stops, its processes on the host are killed, and the server takes commands again', async () => {
    const [host] = runtime.hosts.list();
    const pidFile = join(runtime.hosts.rootOf(host?.id ?? ''), 'recipe.pid');
    const run = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'echo "migrating"\necho $$ > recipe.pid\nsleep 120\necho "never printed"' },
    });
    const operationPath = run.headers.get('location') ?? '';
    const pid = await eventually(
      async () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : undefined),
      20_000,
      'the recipe to start',
    );
    const cancelled = await api.call('POST', `${operationPath}/cancel`, { token: owner.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({
      kind: 'run-recipe',
      status: 'cancelled',
      error: { code: 'cancelled' },
      steps: [{ name: 'run', status: 'cancelled', error: { code: 'cancelled' } }],
    });
    // what the script printed before it was killed is kept
    expect(cancelled.json.steps[0].output.stdout.head).toContain('migrating');
    expect(cancelled.json.steps[0].output.stdout.head).not.toContain('never printed');
    const commandId = cancelled.json.steps[0].output.commandId;
    // the SSM command is cancelled and the script (with the sleep it started) is gone from the host
    const invocation = await runtime.clients.ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: host?.instanceId ?? '' }),
    );
    expect(invocation.Status).toBe('Cancelled');
    await eventually(
      async () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      10_000,
      'the recipe to be killed',
    );
    const execution = runtime.stepFunctions.executions().find((e) => e.name === cancelled.json.id);
    expect(execution?.status).toBe('ABORTED');
    // it stays cancelled, and can be cancelled only once
    expect((await api.call('GET', operationPath, { token: owner.token })).json.status).toBe('cancelled');
    const twice = await api.call('POST', `${operationPath}/cancel`, { token: owner.token });
    expect(twice.status).toBe(409);
    expect(twice.json.detail).toContain('cancelled');
    const next = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'echo next' },
    });
    expect((await ended(next.headers.get('location') ?? '')).status).toBe('succeeded');
  });

  it('names the field of an empty recipe', async () => {
    const empty = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: '' },
    });
    expect(empty.status).toBe(400);
    expect(empty.json.errors[0].path).toBe('body.script');
  });
});

describe("Feature: adding to a server's stack", () => {
  const stackPath = () => `${serverPath}/stack`;
  const change = (body: Record<string, unknown>) =>
    api.call('PATCH', stackPath(), { token: owner.token, body });

  it('refuses to change the web server or the database, to remove software, or to change nothing, naming the field', async () => {
    const web = await change({ webServer: 'apache' });
    expect(web.status).toBe(400);
    expect(web.json.errors).toEqual([
      { path: 'body.webServer', message: 'Fixed after creation: this server runs nginx' },
    ]);
    const fewer = await change({ phpVersions: ['8.3'], redis: false, database: 'postgresql' });
    expect(fewer.status).toBe(400);
    expect(fewer.json.errors).toEqual([
      { path: 'body.phpVersions', message: 'Versions can only be added; keep 8.2 in the list' },
    ]);
    const same = await change({ phpVersions: ['8.3', '8.2'] });
    expect(same.status).toBe(400);
    expect(same.json.errors[0].path).toBe('body');
    const unknown = await change({ phpVersions: ['5.6'] });
    expect(unknown.json.errors[0].path).toBe('body.phpVersions.0');
  });

  it('runs the bootstrap again for the grown stack, alone on the server, changing nothing already in place', async () => {
    const [host] = runtime.hosts.list();
    // the agent is cut off for a moment, so the change is surely still under way while it is checked
    runtime.hosts.disconnect(host?.id ?? '');
    const started = await change({ phpVersions: ['8.4', '8.2', '8.3'], redis: true });
    try {
      expect(started.status).toBe(202);
      expect(started.json).toMatchObject({ kind: 'change-stack', status: 'pending' });
      const during = await api.call('GET', serverPath, { token: owner.token });
      expect(during.json).toMatchObject({ changingStack: true, stack: { phpVersions: ['8.2', '8.3'] } });
      // nothing else runs on the server meanwhile, and the change cannot be cancelled half-installed
      const recipe = await api.call('POST', `${serverPath}/recipe-runs`, {
        token: owner.token,
        body: { script: 'true' },
      });
      expect(recipe.status).toBe(409);
      expect((await change({ nodeVersions: ['20', '22', '24'] })).status).toBe(409);
      const cancel = await api.call('POST', `${started.headers.get('location')}/cancel`, {
        token: owner.token,
      });
      expect(cancel.status).toBe(409);
    } finally {
      runtime.hosts.reconnect(host?.id ?? '');
    }

    const operation = await ended(started.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    const stdout = operation.steps[0].output.stdout.head;
    expect(stdout).toContain('bootstrap complete');
    // what was in place stays as it was; only what is new is written
    expect(stdout).toContain('unchanged /etc/ssh/sshd_config.d/50-vip-hardening.conf');
    expect(stdout).toContain('unchanged /etc/php/8.3/fpm/conf.d/90-vip.ini');
    expect(stdout).toContain('wrote /etc/php/8.4/fpm/conf.d/90-vip.ini');
    const packages = readFileSync(join(runtime.hosts.rootOf(host?.id ?? ''), 'var/lib/vip/packages'), 'utf8');
    expect(packages.split('\n')).toEqual(expect.arrayContaining(['php8.4-fpm', 'redis-server']));

    const server = await api.call('GET', serverPath, { token: owner.token });
    expect(server.json).toMatchObject({
      changingStack: false,
      stack: { webServer: 'nginx', phpVersions: ['8.2', '8.3', '8.4'], database: 'postgresql', redis: true },
    });
    const php = await api.call('POST', `${serverPath}/services/php-fpm/restart`, { token: owner.token });
    expect((await ended(php.headers.get('location') ?? '')).steps[0].output.stdout.head).toBe(
      'restarted php8.2-fpm\nrestarted php8.3-fpm\nrestarted php8.4-fpm\n',
    );
    const redis = await api.call('POST', `${serverPath}/services/redis/restart`, { token: owner.token });
    expect((await ended(redis.headers.get('location') ?? '')).status).toBe('succeeded');
  });

  it('keeps the stack it had when the install fails, and takes commands again', async () => {
    unavailablePackages.push('php7.4-fpm');
    try {
      const started = await change({ phpVersions: ['7.4', '8.2', '8.3', '8.4'] });
      const operation = await ended(started.headers.get('location') ?? '');
      expect(operation.status).toBe('failed');
      expect(operation.steps[0].output.stderr.head).toContain('php7.4-fpm');
    } finally {
      unavailablePackages.pop();
    }
    const server = await api.call('GET', serverPath, { token: owner.token });
    expect(server.json).toMatchObject({
      changingStack: false,
      stack: { phpVersions: ['8.2', '8.3', '8.4'] },
    });
    const next = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'true' },
    });
    expect((await ended(next.headers.get('location') ?? '')).status).toBe('succeeded');
  });
});

describe('Feature: SSH keys on a server', () => {
  // an ed25519 key as ssh-keygen writes it
  const publicKey =
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKxvVhS/9Q8FZb4m7wqQ3d3qJ6mDqg2bZrVXlJk0a7p3 dev@laptop';
  const keysPath = () => `${serverPath}/ssh-keys`;
  const authorizedKeys = () => {
    const [host] = runtime.hosts.list();
    return readFileSync(join(runtime.hosts.rootOf(host?.id ?? ''), 'root/.ssh/authorized_keys'), 'utf8');
  };

  it('authorises a key for root on the host, once, and shows it with its fingerprint', async () => {
    const added = await api.call('POST', keysPath(), {
      token: owner.token,
      body: { name: 'laptop', publicKey },
    });
    expect(added.status).toBe(202);
    expect(added.json).toMatchObject({
      name: 'laptop',
      status: 'authorizing',
      // as `ssh-keygen -lf` prints it for this key
      fingerprint: 'SHA256:CCrEFXzfufbHabSY+S6TzyO/JBcAzkaqMDbGEXDxHFo',
      operation: { kind: 'authorize-ssh-key' },
    });
    expect((await ended(added.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(authorizedKeys()).toBe(`${publicKey}\n`);
    const list = await api.call('GET', keysPath(), { token: owner.token });
    expect(list.json.items).toEqual([expect.objectContaining({ id: added.json.id, status: 'authorized' })]);
    const again = await api.call('POST', keysPath(), {
      token: owner.token,
      body: { name: 'again', publicKey },
    });
    expect(again.status).toBe(409);
    expect(again.json.errors[0].path).toBe('body.publicKey');
  });

  it('refuses what is not an OpenSSH public key, naming the field', async () => {
    for (const bad of [
      'ssh-ed25519 not-base64!',
      'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIKxvVhS/9Q8FZb4m7wqQ3d3qJ6mDqg2bZrVXlJk0a7p3',
      '-----BEGIN PUBLIC KEY-----',
    ]) {
      const refused = await api.call('POST', keysPath(), {
        token: owner.token,
        body: { name: 'bad', publicKey: bad },
      });
      expect(refused.status, bad).toBe(400);
      expect(refused.json.errors[0].path).toBe('body.publicKey');
    }
  });

  it('revokes a key from the host and forgets it', async () => {
    const [key] = (await api.call('GET', keysPath(), { token: owner.token })).json.items;
    const revoked = await api.call('DELETE', `${keysPath()}/${key.id}`, { token: owner.token });
    expect(revoked.status).toBe(202);
    expect((await ended(revoked.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(authorizedKeys()).toBe('');
    expect((await api.call('GET', keysPath(), { token: owner.token })).json.items).toEqual([]);
    expect((await api.call('DELETE', `${keysPath()}/${key.id}`, { token: owner.token })).status).toBe(404);
  });

  it('marks a key whose authorisation was cancelled as failed, never runs it once the agent is back, and revoking it clears it', async () => {
    const [host] = runtime.hosts.list();
    // the agent loses its connection: SSM holds the command Pending
    runtime.hosts.disconnect(host?.id ?? '');
    let commandId: string;
    try {
      const added = await api.call('POST', keysPath(), {
        token: owner.token,
        body: { name: 'laptop', publicKey },
      });
      expect(added.status).toBe(202);
      const operationPath = added.headers.get('location') ?? '';
      await eventually(async () => {
        const read = await api.call('GET', operationPath, { token: owner.token });
        return read.json.steps[0].status === 'running' ? true : undefined;
      });
      const cancelled = await api.call('POST', `${operationPath}/cancel`, { token: owner.token });
      expect(cancelled.status).toBe(200);
      expect(cancelled.json).toMatchObject({ kind: 'authorize-ssh-key', status: 'cancelled' });
      commandId = cancelled.json.steps[0].output.commandId;
      const [key] = (await api.call('GET', keysPath(), { token: owner.token })).json.items;
      // whether a host got the key before a cancel is unknown in general: it is not shown as authorised
      expect(key).toMatchObject({ id: added.json.id, status: 'failed' });
    } finally {
      runtime.hosts.reconnect(host?.id ?? '');
    }
    const invocation = await runtime.clients.ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: host?.instanceId ?? '' }),
    );
    expect(invocation.Status).toBe('Cancelled');
    // back online, the agent does not run what was cancelled meanwhile
    const probe = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'echo online' },
    });
    expect((await ended(probe.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(authorizedKeys()).toBe('');
    const [key] = (await api.call('GET', keysPath(), { token: owner.token })).json.items;
    const revoked = await api.call('DELETE', `${keysPath()}/${key.id}`, { token: owner.token });
    expect((await ended(revoked.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(authorizedKeys()).toBe('');
    expect((await api.call('GET', keysPath(), { token: owner.token })).json.items).toEqual([]);
  });
});

describe('Feature: rebooting a server', () => {
  it('restarts the host through its agent, waits for the new boot, checks its health, and holds commands meanwhile', async () => {
    const [host] = runtime.hosts.list();
    const bootIdFile = join(runtime.hosts.rootOf(host?.id ?? ''), 'proc/sys/kernel/random/boot_id');
    const bootBefore = readFileSync(bootIdFile, 'utf8').trim();

    const reboot = await api.call('POST', `${serverPath}/reboot`, {
      token: owner.token,
      headers: { 'Idempotency-Key': 'nightly-reboot' },
    });
    expect(reboot.status).toBe(202);
    expect(reboot.json).toMatchObject({ kind: 'reboot-server', status: 'pending' });
    // a client's retry with the same key gets the same reboot, not a second one
    const retried = await api.call('POST', `${serverPath}/reboot`, {
      token: owner.token,
      headers: { 'Idempotency-Key': 'nightly-reboot' },
    });
    expect(retried.status).toBe(202);
    expect(retried.json.id).toBe(reboot.json.id);
    expect(reboot.json.steps.map((s: { name: string }) => s.name)).toEqual(['reboot', 'healthCheck']);
    const server = await api.call('GET', serverPath, { token: owner.token });
    expect(server.json.rebooting).toBe(true);
    // one reboot at a time, and no command while it runs
    expect((await api.call('POST', `${serverPath}/reboot`, { token: owner.token })).status).toBe(409);
    const recipe = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'true' },
    });
    expect(recipe.status).toBe(409);
    expect(recipe.json.detail).toContain('rebooting');
    // a reboot, once sent, cannot be taken back
    const cancel = await api.call('POST', `${reboot.headers.get('location')}/cancel`, { token: owner.token });
    expect(cancel.status).toBe(409);
    expect(cancel.json.detail).toContain('reboot');

    const operation = await ended(reboot.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    const bootAfter = readFileSync(bootIdFile, 'utf8').trim();
    expect(bootAfter).not.toBe(bootBefore);
    expect(operation.steps[0]).toMatchObject({
      name: 'reboot',
      status: 'succeeded',
      output: { exitCode: 0 },
    });
    expect(operation.steps[0].output.stdout.head).toBe(
      `rebooting from boot ${bootBefore}\nrebooted: boot ${bootBefore} is now ${bootAfter}\n`,
    );
    expect(operation.steps[1]).toMatchObject({ name: 'healthCheck', status: 'succeeded' });
    expect(operation.steps[1].output.stdout.head).toContain('ok: postgresql is active');
    const after = await api.call('GET', serverPath, { token: owner.token });
    expect(after.json).toMatchObject({ status: 'active', rebooting: false });
    // commands run again
    const again = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'true' },
    });
    expect((await ended(again.headers.get('location') ?? '')).status).toBe('succeeded');
  });
});

describe('Feature: a hard reboot', () => {
  it('has the provider reset the machine, then checks its health once its agent is back', async () => {
    const [host] = runtime.hosts.list();
    const bootIdFile = join(runtime.hosts.rootOf(host?.id ?? ''), 'proc/sys/kernel/random/boot_id');
    const bootBefore = readFileSync(bootIdFile, 'utf8').trim();
    const wrongMode = await api.call('POST', `${serverPath}/reboot`, {
      token: owner.token,
      body: { mode: 'cold' },
    });
    expect(wrongMode.status).toBe(400);
    expect(wrongMode.json.errors[0].path).toBe('body.mode');

    const reboot = await api.call('POST', `${serverPath}/reboot`, {
      token: owner.token,
      body: { mode: 'hard' },
    });
    expect(reboot.status).toBe(202);
    const operation = await ended(reboot.headers.get('location') ?? '');
    expect(operation.status).toBe('succeeded');
    expect(operation.steps[0]).toMatchObject({
      name: 'reboot',
      status: 'succeeded',
      output: { reset: 'requested at local' },
    });
    expect(operation.steps[1]).toMatchObject({ name: 'healthCheck', status: 'succeeded' });
    const bootAfter = readFileSync(bootIdFile, 'utf8').trim();
    expect(bootAfter).not.toBe(bootBefore);
    // the health check was told the boot before the reset, and reports the one after it
    const execution = runtime.stepFunctions.executions().find((e) => e.name === operation.id);
    expect(JSON.parse(execution?.input ?? '{}').healthParameters.previousBootId).toEqual([bootBefore]);
    expect(operation.steps[1].output.stdout.head).toContain(`boot: ${bootAfter}\n`);
    const server = await api.call('GET', serverPath, { token: owner.token });
    expect(server.json).toMatchObject({ status: 'active', rebooting: false });
  });

  it('fails a reset the provider never carried out, naming the boot the host kept, and leaves the server active', async () => {
    const [host] = runtime.hosts.list();
    const bootIdFile = join(runtime.hosts.rootOf(host?.id ?? ''), 'proc/sys/kernel/random/boot_id');
    const boot = readFileSync(bootIdFile, 'utf8').trim();
    resetsIgnoredFor.push(serverPath.split('/').pop() ?? '');
    try {
      const reboot = await api.call('POST', `${serverPath}/reboot`, {
        token: owner.token,
        body: { mode: 'hard' },
      });
      const operation = await ended(reboot.headers.get('location') ?? '');
      expect(operation.status).toBe('failed');
      expect(operation.error).toEqual({
        code: 'NotRebooted',
        message: `The host still ran the boot it had before the reset after 12 checks: the host has not restarted yet (boot ${boot})\n`,
      });
      expect(operation.steps[1]).toMatchObject({
        name: 'healthCheck',
        status: 'failed',
        output: { exitCode: 75 },
      });
    } finally {
      resetsIgnoredFor.pop();
    }
    expect(readFileSync(bootIdFile, 'utf8').trim()).toBe(boot);
    const server = await api.call('GET', serverPath, { token: owner.token });
    expect(server.json).toMatchObject({ status: 'active', rebooting: false });
  });
});

describe('Feature: following an operation as server-sent events', () => {
  it('streams every change of a running operation as it happens, ends with `end`, and resumes from Last-Event-ID', async () => {
    const run = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'echo started\nsleep 1\necho done' },
    });
    const eventsPath = `${run.headers.get('location')}/events`;
    const { response, events } = await readEvents(eventsPath);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const updates = events.filter((e) => e.event === 'operation');
    // it was followed while it ran: the first update is from before its end, the last is its end
    expect(['pending', 'running']).toContain(updates[0]?.data.status);
    expect(updates.at(-1)?.data).toMatchObject({
      status: 'succeeded',
      steps: [{ name: 'run', status: 'succeeded' }],
    });
    expect(updates.at(-1)?.data.steps[0].output.stdout.head).toBe('started\ndone\n');
    expect(new Set(updates.map((e) => e.id)).size).toBe(updates.length);
    expect(events.at(-1)).toEqual({ event: 'end', data: { status: 'succeeded' } });
    // what it printed streamed while it ran: `started` came before the operation ended
    const logged = events.flatMap((e, index) =>
      e.event === 'log' ? e.data.lines.map((l: { line: string }) => ({ index, line: l.line })) : [],
    );
    expect(logged.map((l) => l.line)).toEqual(['started', 'done']);
    const endedAt = events.findIndex((e) => e.event === 'operation' && e.data.status === 'succeeded');
    expect(logged[0]?.index).toBeLessThan(endedAt);

    // a reconnect with the last id sees nothing new, only the end
    const resumed = await readEvents(eventsPath, { 'last-event-id': updates.at(-1)?.id ?? '' });
    expect(resumed.events.filter((e) => e.event === 'operation')).toEqual([]);
    expect(resumed.events.at(-1)).toEqual({ event: 'end', data: { status: 'succeeded' } });
  });

  it('streams the same events through Lambda response streaming, as the operations Lambda answers in AWS', async () => {
    const run = await api.call('POST', `${serverPath}/recipe-runs`, {
      token: owner.token,
      body: { script: 'sleep 0.5' },
    });
    const operationId = run.json.id as string;
    // The Lambda runtime's streaming API as documented: HttpResponseStream.from writes the
    // response's JSON metadata and eight NUL bytes, then the body follows on the same stream.
    const lambdaGlobal = globalThis as { awslambda?: Record<string, unknown> | undefined };
    const before = lambdaGlobal.awslambda;
    lambdaGlobal.awslambda = {
      ...before,
      streamifyResponse: (handler: unknown) => handler,
      HttpResponseStream: {
        from(stream: PassThrough, metadata: unknown) {
          stream.write(JSON.stringify(metadata));
          stream.write(Buffer.alloc(8));
          return stream;
        },
      },
    };
    try {
      const { operationImplementations } = await import('../../../functions/operations/handler');
      const { operationsContext } = await import('../../../functions/operations/context');
      const { makeContextHandler } = await import('../../../layers/http/context-handler');
      const streamHandler = makeContextHandler(operationsContext, operationImplementations, {
        streamifyResponse: true,
      }) as unknown as (event: unknown, stream: PassThrough, context: unknown) => Promise<void>;
      const claims = JSON.parse(Buffer.from(owner.token.split('.')[1] ?? '', 'base64url').toString('utf8'));
      const path = `/v1/tenants/${owner.tenantId}/operations/${operationId}/events`;
      const event = {
        httpMethod: 'GET',
        resource: '/v1/tenants/{tenantId}/operations/{operationId}/events',
        path,
        pathParameters: { tenantId: owner.tenantId, operationId },
        queryStringParameters: null,
        headers: {},
        multiValueHeaders: {},
        body: null,
        isBase64Encoded: false,
        requestContext: {
          requestId: 'streaming-test',
          authorizer: { tenantId: owner.tenantId, userId: claims.sub, role: claims.role },
          identity: { sourceIp: '127.0.0.1' },
        },
      };
      const sink = new PassThrough();
      const chunks: Buffer[] = [];
      sink.on('data', (chunk: Buffer) => chunks.push(chunk));
      await streamHandler(event, sink, { getRemainingTimeInMillis: () => 60_000 });
      const output = Buffer.concat(chunks);
      const delimiter = output.indexOf(Buffer.alloc(8));
      const metadata = JSON.parse(output.subarray(0, delimiter).toString('utf8'));
      expect(metadata).toMatchObject({
        statusCode: 200,
        headers: { 'Content-Type': 'text/event-stream; charset=utf-8' },
      });
      expect(metadata).not.toHaveProperty('stream');
      const body = output.subarray(delimiter + 8).toString('utf8');
      expect(body).toContain('event: operation');
      expect(body.trimEnd().endsWith('event: end\ndata: {"status":"succeeded"}')).toBe(true);
    } finally {
      lambdaGlobal.awslambda = before;
    }
  });

  it('answers 404 problem+json for an operation that does not exist, before any stream', async () => {
    const missing = await api.call(
      'GET',
      `/v1/tenants/${owner.tenantId}/operations/op_00000000000000000000000000/events`,
      { token: owner.token },
    );
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });
});
