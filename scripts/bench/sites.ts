import { request } from 'node:http';
import autocannon from 'autocannon';
import { type RenderedWebServer, webServerRenderers } from '../../functions/sites/render/bundle';
import { layoutOf } from '../../functions/sites/render/layout';
import { phpPoolPath, renderPhpPool } from '../../functions/sites/render/php-fpm';
import { type SiteSpec, systemUserOf } from '../../layers/model/sites';
import { makeSandbox } from '../local/sandbox';
import { benchTenant, startBenchRuntime } from './support';

/**
 * Sites, one run:
 * - rendering the configs of one server with 500 sites, and rendering, writing and checking
 *   them with the real validators (nginx -t and php-fpm -t; apache2ctl -t; caddy validate): the
 *   ratio of the whole to rendering alone;
 * - one site change applied end to end on a local host (PATCH to the operation's end), and
 *   the host's own part of it;
 * - requests per second through the real nginx: a PHP site, a static site, and nginx serving a
 *   plain file with nothing of the panel's in front (autocannon, 10 connections, 10 s each).
 * Prints figures and ratios; it never fails on a timing.
 */
const SITES = Number(process.env.BENCH_SITES ?? 500);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

function specOf(i: number): SiteSpec {
  const base = { domain: `site${i}.bench.example`, aliases: [`www.site${i}.bench.example`], redirects: [] };
  switch (i % 4) {
    case 0:
    case 1:
      return {
        ...base,
        type: 'php',
        php: {
          version: '8.2',
          memoryLimit: '256M',
          uploadMaxFilesize: '64M',
          maxExecutionTime: 60,
          opcache: true,
          pool: { pm: 'ondemand', maxChildren: 5 },
        },
        redirects: [{ from: '/old', to: '/new', status: 301 }],
      };
    case 2:
      return { ...base, type: 'static' };
    default:
      return { ...base, type: 'proxy', proxy: { upstream: 'http://127.0.0.1:8080' } };
  }
}

function renderServer(web: RenderedWebServer) {
  const files: { path: string; text: string }[] = [];
  for (let i = 0; i < SITES; i += 1) {
    const id = `ste_${String(i).padStart(26, '0')}`;
    const layout = layoutOf({ id, systemUser: systemUserOf(id) });
    const spec = specOf(i);
    const renderer = webServerRenderers[web];
    files.push({
      path: renderer.path(layout.user),
      text: renderer.render({ spec, suspended: false, layout }),
    });
    if (spec.type === 'php') {
      files.push({
        path: phpPoolPath('8.2', layout.user),
        text: renderPhpPool({ spec, suspended: false, layout }),
      });
    }
  }
  return files;
}

function renderAndValidate() {
  console.log(`\nRender and validate one server with ${SITES} sites (half PHP, each its own pool)`);
  for (const web of ['nginx', 'apache', 'caddy'] as const) {
    // rendering alone, best of 5
    let render = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i += 1) {
      const start = process.hrtime.bigint();
      renderServer(web);
      render = Math.min(render, ms(start));
    }
    const sandbox = makeSandbox();
    try {
      sandbox.install(web, ['8.2']);
      const users = Array.from({ length: SITES }, (_, i) =>
        systemUserOf(`ste_${String(i).padStart(26, '0')}`),
      );
      sandbox.addSiteUsers(users);
      const start = process.hrtime.bigint();
      for (const file of renderServer(web)) sandbox.write(file.path.slice(1), file.text);
      const checked = sandbox.validate(webServerRenderers[web].unit);
      const fpm = web === 'nginx' ? sandbox.validate('php8.2-fpm') : { status: 0, stderr: '' };
      const whole = ms(start);
      const ok = checked.status === 0 && fpm.status === 0;
      console.log(
        `  ${web.padEnd(6)} render ${render.toFixed(1)} ms; render + write + validate ${whole.toFixed(0)} ms (${ok ? 'valid' : `INVALID: ${checked.stderr}${fpm.stderr}`}); ratio ${(whole / render).toFixed(0)}x${web === 'nginx' ? ' (nginx -t and php-fpm -t)' : ''}`,
      );
    } finally {
      sandbox.remove();
    }
  }
}

function get(url: string, host: string) {
  return new Promise<number>((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function load(title: string, url: string, host: string) {
  const result = await autocannon({ url, connections: 10, duration: LOAD_SECONDS, headers: { host } });
  const failed = [
    result.non2xx ? `${result.non2xx} not 2xx` : '',
    result.errors ? `${result.errors} errors (${result.timeouts} timeouts)` : '',
  ]
    .filter(Boolean)
    .join(', ');
  console.log(
    `  ${title.padEnd(34)} ${result.requests.average.toFixed(0).padStart(7)} req/s  p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms${failed ? `  (${failed} of ${result.requests.total})` : ''}`,
  );
  return result.requests.average;
}

async function onLocalHost() {
  const runtime = await startBenchRuntime();
  try {
    const { tenant, call, ended } = await benchTenant(runtime, 'sites-bench@example.com');
    const server = await call('POST', `${tenant}/servers`, {
      name: 'bench-1',
      provider: 'local',
      stack: { phpVersions: ['8.2'] },
    });
    await ended(server.location ?? '');
    const php = await call('POST', `${tenant}/servers/${server.json.id}/sites`, {
      domain: 'php.bench.example',
      type: 'php',
      php: { version: '8.2' },
    });
    const staticSite = await call('POST', `${tenant}/servers/${server.json.id}/sites`, {
      domain: 'static.bench.example',
      type: 'static',
    });
    await ended(php.location ?? '');
    await ended(staticSite.location ?? '');
    const servedAt = (await call('GET', `${tenant}/sites/${php.json.id}`)).json.servedAt as string;

    console.log(
      "\nOne site change applied end to end on a local host (PATCH to the operation's end; 5 changes)",
    );
    const totals: number[] = [];
    const onHost: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const start = process.hrtime.bigint();
      const changed = await call('PATCH', `${tenant}/sites/${php.json.id}`, {
        redirects: [{ from: `/old${i}`, to: '/new' }],
      });
      const operation = await ended(changed.location ?? '');
      totals.push(ms(start));
      const step = operation.steps[0];
      onHost.push(Date.parse(step.endedAt) - Date.parse(step.startedAt));
      if (operation.status !== 'succeeded') console.log(`  change ${i} ${operation.status}`);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `  mean ${mean(totals).toFixed(0)} ms (min ${Math.min(...totals).toFixed(0)}, max ${Math.max(...totals).toFixed(0)}); on the host (write, nginx -t, php-fpm -t, reloads) mean ${mean(onHost).toFixed(0)} ms; the rest is the workflow (its 100 ms waits here; 3 s between polls in AWS)`,
    );
    console.log(
      `  (the last change's redirect answers ${await get(new URL('/old4', servedAt).href, 'php.bench.example')})`,
    );

    // nginx serving a plain file, with nothing of the panel's: its own sandbox and server block
    const plain = makeSandbox({ httpPort: 20000 + Math.floor(Math.random() * 10000) });
    try {
      plain.install('nginx');
      const port = Number(plain.shell('cat /etc/nginx/vip/listen-http.conf').stdout.match(/:(\d+)/)?.[1]);
      plain.write(
        'var/www/plain/index.html',
        '<!doctype html>\n<title>plain</title>\n<p>Hello from a plain file</p>\n',
      );
      plain.write(
        'etc/nginx/sites-enabled/plain.conf',
        `server {\n    listen 127.0.0.1:${port};\n    root /var/www/plain;\n}\n`,
      );
      const started = plain.run(['nginx']);
      if (started.status !== 0) throw new Error(`plain nginx: ${started.stderr}`);
      console.log(
        `\nRequests per second through the real nginx (autocannon, 10 connections, ${LOAD_SECONDS} s each, one run)`,
      );
      const plainRps = await load('nginx, a plain file', `http://127.0.0.1:${port}/`, 'plain.example');
      const staticRps = await load('static site (its index.html)', servedAt, 'static.bench.example');
      const phpRps = await load('PHP site (its index.php, FPM pool)', servedAt, 'php.bench.example');
      console.log(
        `  ratios to the plain file: static ${(staticRps / plainRps).toFixed(2)}, PHP ${(phpRps / plainRps).toFixed(2)}`,
      );
      plain.run(['bash', '-c', 'kill -QUIT "$(cat /run/nginx.pid)"']);
    } finally {
      plain.remove();
    }
  } finally {
    await runtime.stop();
  }
}

renderAndValidate();
await onLocalHost();
