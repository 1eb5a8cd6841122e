import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/local/engines';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { apiClient, operationEnded, signUp, startTestRuntime } from '../../support/runtime';
import { getFromSite, sentToHosts } from '../../support/site-http';

/** Deploys from a real git repository (a bare one on the runtime's git server, over smart HTTP) to a local host. */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let root: string;
let site: Record<string, any>;
const work = mkdtempSync(join(tmpdir(), 'vip-repo-'));
// the site's user clones it, as it would reach a remote
chmodSync(work, 0o755);
/** the bare repository, on the runtime's git server (smart HTTP by git http-backend) */
let origin: string;
let repositoryUrl: string;
const checkout = join(work, 'checkout');

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], {
    cwd: checkout,
    encoding: 'utf8',
  });

/** Commits the app's page (and, when given, a deploy script's flag) and pushes it. */
function push(version: string) {
  writeFileSync(
    join(checkout, 'public', 'index.php'),
    `<?php echo 'release ${version} on ' . PHP_VERSION;\n`,
  );
  git('add', '-A');
  git('commit', '-q', '-m', `Release ${version}`);
  git('push', '-q', 'origin', 'main');
}

const ended = (path: string) => operationEnded(api, path, owner.token);
const sitePath = () => `/v1/tenants/${owner.tenantId}/sites/${site.id}`;
const page = async () => (await getFromSite(site.servedAt, 'app.example.com')).body;

async function deploy() {
  const started = await api.call('POST', `${sitePath()}/deployments`, { token: owner.token });
  expect(started.status, started.text).toBe(202);
  return ended(started.headers.get('location') ?? '');
}

beforeAll(async () => {
  runtime = await startTestRuntime();
  origin = join(runtime.git.root, 'app.git');
  repositoryUrl = `${runtime.git.url}/app.git`;
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  // the test pushes to it by its path (a synchronous git here would hold up the server it runs
  // in); the site's host fetches it over HTTP, as from a forge
  execFileSync('git', ['clone', '-q', origin, checkout]);
  execFileSync('mkdir', ['-p', join(checkout, 'public')]);
  push('one');
  api = apiClient(runtime.url);
  owner = await signUp(api, 'deploys@example.com');
  const server = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
    token: owner.token,
    body: { name: 'deploy-1', provider: 'local', stack: { phpVersions: ['8.2'] } },
  });
  expect((await ended(server.headers.get('location') ?? '')).status).toBe('succeeded');
  const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === server.json.id);
  root = runtime.hosts.rootOf(host?.id ?? '');
  const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${server.json.id}/sites`, {
    token: owner.token,
    body: { domain: 'app.example.com', type: 'php', php: { version: '8.2' } },
  });
  expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
  site = (
    await api.call('GET', `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`, { token: owner.token })
  ).json;
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('Deploys', () => {
  it('refuses a repository URL that could reach past git, and a deploy without a repository', async () => {
    const none = await api.call('POST', `${sitePath()}/deployments`, { token: owner.token });
    expect(none.status).toBe(409);
    for (const url of [
      '-uhttps://x',
      'https://user:secret@example.com/a.git',
      'ext::sh -c id',
      'https://exa mple.com/a',
    ]) {
      const refused = await api.call('PUT', `${sitePath()}/repository`, {
        token: owner.token,
        body: { url },
      });
      expect(refused.status, url).toBe(400);
      expect(refused.json.errors[0].path).toBe('body.url');
    }
  });

  it('deploys releases with zero downtime, keeps the previous one serving through a failed deploy, and rolls back', async () => {
    const set = await api.call('PUT', `${sitePath()}/repository`, {
      token: owner.token,
      body: {
        url: repositoryUrl,
        branch: 'main',
        webRoot: 'public',
        sharedPaths: ['storage'],
        deployScript: 'test -f public/index.php\nmkdir -p storage/logs\necho built > public/built.txt',
        keepReleases: 2,
      },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.json.repository.webRoot).toBe('public');

    // a deploy key: its public half answered, its private half written to the host, for the site's user only
    const key = await api.call('POST', `${sitePath()}/deploy-key`, { token: owner.token });
    expect(key.status, key.text).toBe(201);
    expect(key.json.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]+ vip-ste_/);
    expect(key.text).not.toContain('PRIVATE');

    const first = await deploy();
    expect(first.status, JSON.stringify(first)).toBe('succeeded');
    expect(await page()).toMatch(/^release one on 8\./);
    const home = join(root, site.home.slice(1));
    expect(readlinkSync(join(home, 'public'))).toBe('current/public');
    const firstRelease = readlinkSync(join(home, 'current'));
    const keyFile = join(home, '.ssh/vip_deploy_key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(execFileSync('ssh-keygen', ['-y', '-f', keyFile], { encoding: 'utf8' }).trim()).toBe(
      key.json.publicKey,
    );
    // it crossed the workflow sealed: no command's parameters hold it
    const sent = await sentToHosts(runtime);
    expect(sent).toContain('deployKeySealed');
    expect(sent).not.toContain('OPENSSH');
    expect(sent).not.toContain(Buffer.from('openssh-key-v1').toString('base64').slice(0, 16));
    // shared paths live outside the releases and are linked into each
    expect(readlinkSync(join(home, firstRelease, 'storage'))).toBe('../../shared/storage');
    expect(existsSync(join(home, 'shared/storage/logs'))).toBe(true);

    // while a deploy runs, the site answers from the release it had: poll during the second deploy
    push('two');
    const started = await api.call('POST', `${sitePath()}/deployments`, { token: owner.token });
    const answers: string[] = [];
    let done: Record<string, any> | undefined;
    const waiting = ended(started.headers.get('location') ?? '').then((operation) => {
      done = operation;
    });
    while (!done) {
      const answer = await getFromSite(site.servedAt, 'app.example.com');
      answers.push(`${answer.status} ${answer.body.slice(0, 11)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await waiting;
    expect(done?.status).toBe('succeeded');
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) expect(['200 release one', '200 release two']).toContain(answer);
    expect(await page()).toMatch(/^release two/);

    // a deploy whose script fails: the operation says why, the half-made release is gone, two serves on
    const failing = await api.call('PUT', `${sitePath()}/repository`, {
      token: owner.token,
      body: {
        url: repositoryUrl,
        webRoot: 'public',
        deployScript: 'echo "composer: no lock file" >&2\nexit 3',
        keepReleases: 2,
      },
    });
    expect(failing.status).toBe(200);
    push('three');
    const broken = await deploy();
    expect(broken.status).toBe('failed');
    expect(broken.error.message).toContain('composer: no lock file');
    expect(await page()).toMatch(/^release two/);
    const releases = await api.call('GET', `${sitePath()}/deployments`, { token: owner.token });
    expect(releases.json.items).toHaveLength(2);
    for (const release of releases.json.items)
      expect(existsSync(join(home, 'releases', release.id))).toBe(true);
    const onHost = execFileSync('ls', [join(home, 'releases')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(onHost.sort()).toEqual(releases.json.items.map((r: { id: string }) => r.id).sort());

    // two deploys at once: one runs, the other answers 409 naming it
    const [a, b] = await Promise.all([
      api.call('POST', `${sitePath()}/deployments`, { token: owner.token }),
      api.call('POST', `${sitePath()}/deployments`, { token: owner.token }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const running = a.status === 202 ? a : b;
    const refused = a.status === 409 ? a : b;
    expect(refused.json.detail).toContain(running.json.operation.id);
    await ended(running.headers.get('location') ?? '');

    // one call back to the release before
    const back = await api.call('POST', `${sitePath()}/rollback`, { token: owner.token, body: {} });
    expect(back.status, back.text).toBe(202);
    expect((await ended(back.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(await page()).toMatch(/^release one/);
    const after = await api.call('GET', `${sitePath()}/deployments`, { token: owner.token });
    expect(after.json.current).toBe(releases.json.items[1].id);

    // no script given: a PHP site builds as PHP apps do (composer, artisan when they are there)
    const defaults = await api.call('PUT', `${sitePath()}/repository`, {
      token: owner.token,
      body: { url: repositoryUrl, webRoot: 'public' },
    });
    expect(defaults.json.repository.deployScript).toContain('composer install --no-dev');
    expect(defaults.json.repository.deployScript).toContain('php artisan migrate --force');
    expect((await deploy()).status).toBe('succeeded');
    expect(await page()).toMatch(/^release three/);

    // a release whose front page dies fails its health check before it goes live
    writeFileSync(
      join(checkout, 'public', 'index.php'),
      '<?php\nrequire __DIR__ . "/../vendor/autoload.php";\n',
    );
    git('add', '-A');
    git('commit', '-q', '-m', 'Needs a vendor folder nobody built');
    git('push', '-q', 'origin', 'main');
    const unhealthy = await deploy();
    expect(unhealthy.status).toBe('failed');
    expect(unhealthy.error.message).toContain('failed its health check');
    expect(unhealthy.error.message).toContain('vendor/autoload.php');
    expect(await page()).toMatch(/^release three/);

    // a change of the site's settings keeps its repository
    const patched = await api.call('PATCH', sitePath(), {
      token: owner.token,
      body: { redirects: [{ from: '/old', to: '/new' }] },
    });
    expect((await ended(patched.headers.get('location') ?? '')).status).toBe('succeeded');
    expect((await api.call('GET', sitePath(), { token: owner.token })).json.repository.url).toBe(
      repositoryUrl,
    );
  });

  it("deploys on a forge's push: signatures checked, only the site's branch, each push once", async () => {
    const hook = await api.call('POST', `${sitePath()}/webhook`, { token: owner.token });
    expect(hook.status, hook.text).toBe(201);
    const url = new URL(hook.json.url).pathname;
    const secret = hook.json.secret as string;
    const send = (body: unknown, headers: Record<string, string>) =>
      api.call('POST', url, {
        raw: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers },
      });
    const github = (body: unknown, delivery: string, key = secret) => {
      const raw = JSON.stringify(body);
      const signature = `sha256=${createHmac('sha256', key).update(raw).digest('hex')}`;
      return send(body, {
        'x-hub-signature-256': signature,
        'x-github-event': 'push',
        'x-github-delivery': delivery,
      });
    };
    const toMain = { ref: 'refs/heads/main', after: '4b825dc642cb6eb9a060e54bf8d69288fbee4904' };

    const unsigned = await send(toMain, { 'x-github-event': 'push', 'x-github-delivery': 'delivery-0001' });
    expect(unsigned.status, unsigned.text).toBe(401);
    expect((await github(toMain, 'delivery-0002', 'not the secret')).status).toBe(401);
    const other = await github({ ref: 'refs/heads/feature-x' }, 'delivery-0003');
    expect(other.status).toBe(422);
    expect(other.json.detail).toBe('A push to feature-x; this site deploys main.');
    const bitbucketOther = await send(
      { push: { changes: [{ new: { type: 'branch', name: 'develop' } }] } },
      {
        'x-hub-signature': `sha256=${createHmac('sha256', secret)
          .update(JSON.stringify({ push: { changes: [{ new: { type: 'branch', name: 'develop' } }] } }))
          .digest('hex')}`,
        'x-event-key': 'repo:push',
        'x-request-uuid': 'bitbucket-0001',
      },
    );
    expect(bitbucketOther.status).toBe(422);

    push('four');
    const accepted = await github(toMain, 'delivery-0004');
    expect(accepted.status, accepted.text).toBe(202);
    // the same push again, under its delivery id or a new one (which is not signed): answered,
    // and nothing more happens
    for (const delivery of ['delivery-0004', 'delivery-0005-replayed']) {
      const replayed = await github(toMain, delivery);
      expect(replayed.status, delivery).toBe(200);
      expect(replayed.json.ignored).toBe('This push was received before.');
    }
    const running = (await api.call('GET', sitePath(), { token: owner.token })).json.pendingOperationId;
    expect((await ended(`/v1/tenants/${owner.tenantId}/operations/${running}`)).status).toBe('succeeded');
    expect(await page()).toMatch(/^release four/);

    // GitLab sends the secret itself
    push('five');
    const gitlab = await send(
      { ...toMain, after: '9f2c1a7d3b5e8f0a1c2d3e4f5a6b7c8d9e0f1a2b' },
      {
        'x-gitlab-token': secret,
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-event-uuid': 'gitlab-0001',
      },
    );
    expect(gitlab.status, gitlab.text).toBe(202);
    const next = (await api.call('GET', sitePath(), { token: owner.token })).json.pendingOperationId;
    expect((await ended(`/v1/tenants/${owner.tenantId}/operations/${next}`)).status).toBe('succeeded');
    expect(await page()).toMatch(/^release five/);
  });
});

describe('Deploy logs', () => {
  it("streams a deploy's log through its operation's events while it runs", async () => {
    const set = await api.call('PUT', `${sitePath()}/repository`, {
      token: owner.token,
      body: {
        url: repositoryUrl,
        webRoot: 'public',
        deployScript: 'echo "building assets"\nsleep 1\necho "assets built"',
      },
    });
    expect(set.status, set.text).toBe(200);
    push('streamed');
    const started = await api.call('POST', `${sitePath()}/deployments`, { token: owner.token });
    expect(started.status, started.text).toBe(202);
    const response = await fetch(`${runtime.url}${started.headers.get('location')}/events`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    const text = await response.text();
    const blocks = text.split('\n\n');
    const building = blocks.findIndex((b) => b.startsWith('event: log') && b.includes('building assets'));
    const finished = blocks.findIndex(
      (b) => b.includes('event: operation') && b.includes('"status":"succeeded"'),
    );
    expect(building).toBeGreaterThan(0);
    expect(building).toBeLessThan(finished);
    expect(text).toContain('assets built');
    expect(await page()).toMatch(/^release streamed/);
  });
});

describe('Node.js deploys', () => {
  it('restarts the app on the new release, and switches back when it does not answer', async () => {
    const server = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'node-1', provider: 'local', stack: { phpVersions: [], nodeVersions: ['20'] } },
    });
    expect((await ended(server.headers.get('location') ?? '')).status).toBe('succeeded');
    const nodeOrigin = join(runtime.git.root, 'node-app.git');
    const nodeCheckout = join(work, 'node-checkout');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', nodeOrigin]);
    execFileSync('git', ['clone', '-q', nodeOrigin, nodeCheckout]);
    const commit = (source: string) => {
      writeFileSync(join(nodeCheckout, 'server.js'), source);
      for (const args of [
        ['add', '-A'],
        ['commit', '-q', '-m', 'A release'],
        ['push', '-q', 'origin', 'main'],
      ])
        execFileSync('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.com', ...args], {
          cwd: nodeCheckout,
        });
    };
    const app = (text: string) =>
      `require('node:http').createServer((q, r) => r.end(${JSON.stringify(text)})).listen(process.env.PORT, '127.0.0.1');\n`;
    commit(app('node release one'));
    const created = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers/${server.json.id}/sites`, {
      token: owner.token,
      body: {
        domain: 'node.app.example.com',
        type: 'node',
        // a port nothing else on this machine holds now
        node: { version: '20', startCommand: 'node server.js', port: await freePort() },
      },
    });
    expect(created.status, created.text).toBe(202);
    expect((await ended(created.headers.get('location') ?? '')).status).toBe('succeeded');
    const path = `/v1/tenants/${owner.tenantId}/sites/${created.json.id}`;
    const repo = await api.call('PUT', `${path}/repository`, {
      token: owner.token,
      body: { url: `${runtime.git.url}/node-app.git`, deployScript: '', startSeconds: 5 },
    });
    expect(repo.status, repo.text).toBe(200);
    const deployNode = async () => {
      const started = await api.call('POST', `${path}/deployments`, { token: owner.token });
      expect(started.status, started.text).toBe(202);
      return ended(started.headers.get('location') ?? '');
    };
    const first = await deployNode();
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    const nodeSite = (await api.call('GET', path, { token: owner.token })).json;
    expect((await getFromSite(nodeSite.servedAt, 'node.app.example.com')).body).toBe('node release one');

    commit(app('node release two'));
    expect((await deployNode()).status).toBe('succeeded');
    expect((await getFromSite(nodeSite.servedAt, 'node.app.example.com')).body).toBe('node release two');

    // an app that dies at start: the deploy fails and release two serves again
    commit("throw new Error('missing configuration');\n");
    const broken = await deployNode();
    expect(broken.status).toBe('failed');
    expect(broken.error.message).toContain('did not answer');
    expect((await getFromSite(nodeSite.servedAt, 'node.app.example.com')).body).toBe('node release two');
  });
});

describe('Staging', () => {
  /** A site's record once it has no change on its way (a staging site's files come after it is made). */
  async function settled(id: string) {
    for (let i = 0; i < 300; i += 1) {
      const found = (
        await api.call('GET', `/v1/tenants/${owner.tenantId}/sites/${id}`, { token: owner.token })
      ).json;
      if (!found.pendingOperationId && found.status !== 'creating') return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`site ${id} stayed busy`);
  }

  it('clones a site to a staging domain on its server, pushes staging live as a deploy, and rolls it back', async () => {
    expect(await page()).toMatch(/^release streamed/);
    const made = await api.call('POST', `${sitePath()}/staging`, {
      token: owner.token,
      body: { domain: 'staging.app.example.com' },
    });
    expect(made.status, made.text).toBe(202);
    expect(made.json.stagingOf).toBe(site.id);
    expect((await ended(made.headers.get('location') ?? '')).status).toBe('succeeded');
    const staging = await settled(made.json.id);
    expect(staging.currentRelease).not.toBeNull();
    expect(staging.repository.url).toBe(repositoryUrl);
    expect((await getFromSite(staging.servedAt, 'staging.app.example.com')).body).toMatch(
      /^release streamed/,
    );
    // the live site's shared files came with it, into the staging site's own home
    expect(existsSync(join(root, staging.home.slice(1), 'shared/storage/logs'))).toBe(true);

    // staging moves on; live does not
    push('six');
    const stagingPath = `/v1/tenants/${owner.tenantId}/sites/${staging.id}`;
    const deployed = await api.call('POST', `${stagingPath}/deployments`, { token: owner.token });
    expect((await ended(deployed.headers.get('location') ?? '')).status).toBe('succeeded');
    expect((await getFromSite(staging.servedAt, 'staging.app.example.com')).body).toMatch(/^release six/);
    expect(await page()).toMatch(/^release streamed/);

    // live takes what staging serves, as a deploy of its own
    const promoted = await api.call('POST', `${stagingPath}/promote`, { token: owner.token });
    expect(promoted.status, promoted.text).toBe(202);
    expect(promoted.json.id).toBe(site.id);
    expect(promoted.json.operation.kind).toBe('deploy-site');
    expect((await ended(promoted.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(await page()).toMatch(/^release six/);
    const back = await api.call('POST', `${sitePath()}/rollback`, { token: owner.token, body: {} });
    expect((await ended(back.headers.get('location') ?? '')).status).toBe('succeeded');
    expect(await page()).toMatch(/^release streamed/);

    const nested = await api.call('POST', `${stagingPath}/staging`, {
      token: owner.token,
      body: { domain: 'staging2.app.example.com' },
    });
    expect(nested.status).toBe(409);
    const notStaging = await api.call('POST', `${sitePath()}/promote`, { token: owner.token });
    expect(notStaging.status).toBe(409);
  });

  it('on another server, staging is the commit the live site serves, deployed from its repository', async () => {
    const server = await api.call('POST', `/v1/tenants/${owner.tenantId}/servers`, {
      token: owner.token,
      body: { name: 'staging-1', provider: 'local', stack: { phpVersions: ['8.2'] } },
    });
    expect((await ended(server.headers.get('location') ?? '')).status).toBe('succeeded');
    // the branch moves on past what live serves
    push('seven');
    const made = await api.call('POST', `${sitePath()}/staging`, {
      token: owner.token,
      body: { domain: 'remote-staging.app.example.com', serverId: server.json.id },
    });
    expect(made.status, made.text).toBe(202);
    expect((await ended(made.headers.get('location') ?? '')).status).toBe('succeeded');
    const staging = await settled(made.json.id);
    expect(staging.serverId).toBe(server.json.id);
    expect((await getFromSite(staging.servedAt, 'remote-staging.app.example.com')).body).toMatch(
      /^release streamed/,
    );
  });

  it("another tenant's ids answer 404 on the staging routes", async () => {
    const stranger = await signUp(api, 'staging-stranger@example.com');
    const theirs = sitePath().replace(owner.tenantId, stranger.tenantId);
    const made = await api.call('POST', `${theirs}/staging`, {
      token: stranger.token,
      body: { domain: 'stolen.example.com' },
    });
    expect(made.status).toBe(404);
    expect((await api.call('POST', `${theirs}/promote`, { token: stranger.token })).status).toBe(404);
  });
});
