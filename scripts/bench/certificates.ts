import { benchTenant, startBenchRuntime } from './support';

/**
 * Certificates, one run against pebble (Let's Encrypt's test server) on a local host: for each
 * of a few sites, the time from ordering its certificate to the site serving it, split by the
 * workflow's steps (the order placed; the challenges put on the host, validated by the CA
 * through the site's nginx, and the certificate issued; the install checked and reloaded).
 */
const SITES = Number(process.env.BENCH_CERTIFICATES ?? 5);

async function main() {
  const runtime = await startBenchRuntime();
  try {
    if (!runtime.acme) throw new Error('pebble is not installed (apt-get install pebble)');
    const { tenant, call, ended: endedAt } = await benchTenant(runtime, 'certificates-bench@example.com');
    const ended = (operationId: string) => endedAt(`${tenant}/operations/${operationId}`);
    const server = await call('POST', `${tenant}/servers`, {
      name: 'bench-tls',
      provider: 'local',
      stack: { phpVersions: ['8.2'] },
    });
    await ended(server.json.operation.id);
    const rows: { total: number; steps: Record<string, number> }[] = [];
    for (let n = 1; n <= SITES; n += 1) {
      const site = await call('POST', `${tenant}/servers/${server.json.id}/sites`, {
        domain: `tls-${n}.bench.example.test`,
        type: 'php',
        php: { version: '8.2' },
      });
      await ended(site.json.operation.id);
      const start = process.hrtime.bigint();
      const ordered = await call('POST', `${tenant}/sites/${site.json.id}/certificate/order`);
      const operation = await ended(ordered.json.operation.id);
      const total = Number(process.hrtime.bigint() - start) / 1e6;
      if (operation.status !== 'succeeded') throw new Error(`order ${n}: ${operation.error?.message}`);
      const steps = Object.fromEntries(
        (operation.steps as { name: string; startedAt: string; endedAt: string }[]).map((s) => [
          s.name,
          Date.parse(s.endedAt) - Date.parse(s.startedAt),
        ]),
      );
      rows.push({ total, steps });
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const stepMean = (name: string) => mean(rows.map((r) => r.steps[name] ?? 0)).toFixed(0);
    console.log(`\n${SITES} certificates ordered from pebble by HTTP-01, each until its site serves it`);
    console.log(
      `  order to serving: mean ${mean(rows.map((r) => r.total)).toFixed(0)} ms (min ${Math.min(...rows.map((r) => r.total)).toFixed(0)}, max ${Math.max(...rows.map((r) => r.total)).toFixed(0)})`,
    );
    console.log(
      `  by step (mean): order ${stepMean('order')} ms; challenges on the host, validation and issuance ${stepMean('validate')} ms; install checked and reloaded ${stepMean('install')} ms; the rest is the API and the workflow's waits`,
    );
  } finally {
    await runtime.stop();
  }
}

await main();
