import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchTenant, startBenchRuntime } from './support';

/**
 * Deploys, one run on a local host: 20 consecutive deploys of a small repository, each started
 * by a signed push to the site's webhook, while a loop requests the site without pause; prints
 * the requests that failed (target 0) and each deploy's time from the push to the switched
 * release, split into the workflow's part and the host's (clone, script, switch).
 */
const DEPLOYS = Number(process.env.BENCH_DEPLOYS ?? 20);

const work = mkdtempSync(join(tmpdir(), 'vip-bench-repo-'));
chmodSync(work, 0o755);
const origin = join(work, 'app.git');
const checkout = join(work, 'checkout');
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', ...args], {
    cwd: checkout,
    encoding: 'utf8',
  });

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { host: 'bench.example.com' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function main() {
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', origin]);
  execFileSync('git', ['clone', '-q', origin, checkout]);
  mkdirSync(join(checkout, 'public'));
  const commit = (n: number) => {
    writeFileSync(join(checkout, 'public', 'index.php'), `<?php echo 'release ${n}';\n`);
    git('add', '-A');
    git('commit', '-q', '-m', `Release ${n}`);
    git('push', '-q', 'origin', 'main');
  };
  commit(0);
  const runtime = await startBenchRuntime();
  try {
    const { tenant, call, send, ended: endedAt } = await benchTenant(runtime, 'deploys-bench@example.com');
    const ended = (operationId: string) => endedAt(`${tenant}/operations/${operationId}`);
    const server = await call('POST', `${tenant}/servers`, {
      name: 'bench-1',
      provider: 'local',
      stack: { phpVersions: ['8.2'] },
    });
    await ended(server.json.operation.id);
    const site = await call('POST', `${tenant}/servers/${server.json.id}/sites`, {
      domain: 'bench.example.com',
      type: 'php',
      php: { version: '8.2' },
    });
    await ended(site.json.operation.id);
    const home = site.json.home as string;
    const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === server.json.id);
    writeFileSync(
      join(runtime.hosts.rootOf(host?.id ?? ''), home.slice(1), '.gitconfig'),
      `[safe]\n\tdirectory = ${origin}\n`,
    );
    await call('PUT', `${tenant}/sites/${site.json.id}/repository`, {
      url: `file://${origin}`,
      webRoot: 'public',
    });
    const hook = (await call('POST', `${tenant}/sites/${site.json.id}/webhook`)).json;
    const servedAt = (await call('GET', `${tenant}/sites/${site.json.id}`)).json.servedAt as string;

    // a steady loop of requests for the whole run
    let running = true;
    const statuses = new Map<number, number>();
    const loop = (async () => {
      while (running) {
        const status = await get(servedAt);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    })();

    const totals: number[] = [];
    const onHost: number[] = [];
    /** the host's own times per step (the deploy document's `timing:` line) */
    const steps = new Map<string, number[]>();
    for (let n = 1; n <= DEPLOYS; n += 1) {
      commit(n);
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const start = process.hrtime.bigint();
      // the forge's push: no token, only its signature
      const pushed = await send('POST', new URL(hook.url).pathname, body, {
        'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`,
        'x-github-event': 'push',
        'x-github-delivery': `bench-delivery-${n}`,
      });
      if (pushed.status !== 202) throw new Error(`push ${n} answered ${pushed.status}`);
      const operationId = (await call('GET', `${tenant}/sites/${site.json.id}`)).json.pendingOperationId;
      const operation = await ended(operationId);
      totals.push(Number(process.hrtime.bigint() - start) / 1e6);
      const step = operation.steps[0];
      onHost.push(Date.parse(step.endedAt) - Date.parse(step.startedAt));
      const timing = /^timing: (.*)$/m.exec(String(step.output?.stdout?.head ?? ''))?.[1] ?? '';
      for (const [name, value] of timing.split(' ').map((pair) => pair.split('='))) {
        if (name && value) steps.set(name, [...(steps.get(name) ?? []), Number(value)]);
      }
      if (operation.status !== 'succeeded')
        console.log(`  deploy ${n} ${operation.status}: ${operation.error?.message}`);
    }
    running = false;
    await loop;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    const failed = requests - (statuses.get(200) ?? 0);
    console.log(`\n${DEPLOYS} consecutive deploys, each from a signed push, under a steady request loop`);
    console.log(
      `  requests during the run: ${requests}; failed (not 200): ${failed} ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    console.log(
      `  push to switched release: mean ${mean(totals).toFixed(0)} ms (min ${Math.min(...totals).toFixed(0)}, max ${Math.max(...totals).toFixed(0)}); on the host (clone, script, switch) mean ${mean(onHost).toFixed(0)} ms; the rest is the workflow (its 100 ms waits here)`,
    );
    console.log(
      `  on the host by step (mean): ${[...steps.entries()].map(([name, values]) => `${name} ${mean(values).toFixed(0)} ms`).join(', ')}`,
    );
  } finally {
    await runtime.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
