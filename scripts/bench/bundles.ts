import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { contexts } from '../../functions/api';
import { functionBundling } from '../../infra/constructs/bundling';

/**
 * Every Lambda's bundle as the CDK builds it (infra/constructs/bundling.ts), its size, and how
 * long a fresh Node process takes to import it as Lambda's init does, with the AWS SDK left out
 * of the bundle and resolved from node_modules (as the Node.js 22 runtime resolves its own copy)
 * and, for comparison, with the SDK bundled in. Prints figures; never fails on a timing.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, '.bench', 'bundles');
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 5);

/** The Lambdas the CDK app builds: one per API context, and the others by their entry. */
const lambdas: { name: string; entry: string; api: boolean }[] = [
  ...contexts.map((c) => ({ name: `api:${c.name}`, entry: c.entry, api: true })),
  { name: 'authorizer', entry: 'functions/auth/authorizer.ts', api: false },
  { name: 'workflow-tasks', entry: 'functions/workflow-tasks.ts', api: false },
  { name: 'aggregator', entry: 'functions/metrics/aggregator.ts', api: false },
  { name: 'alert-notifier', entry: 'functions/alerts/notify.ts', api: false },
  { name: 'webhook-delivery', entry: 'functions/alerts/deliver.ts', api: false },
  { name: 'secrets-bootstrap', entry: 'functions/platform/secrets-bootstrap.ts', api: false },
];

/** What a function's module reads at init: the environment the CDK sets, with placeholder values. */
const lambdaEnvironment = {
  ...process.env,
  AWS_REGION: 'eu-central-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  STAGE: 'bench',
  TABLE_NAME: 'vip-bench-table',
  METRICS_STREAM_NAME: 'vip-bench-metrics',
  SECRETS_PARAMETER_NAME: '/vip/bench/secrets',
  STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:eu-central-1:111111111111:stateMachine:vip-bench-',
  DOCUMENT_NAME_PREFIX: 'vip-bench-',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
};

async function bundle(entry: string, file: string, sdk: 'external' | 'bundled') {
  const options = functionBundling(sdk);
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: options.target,
    minify: options.minify,
    mainFields: options.mainFields,
    external: [...options.externalModules, '*.node'],
    banner: { js: options.banner },
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((i) => !i.includes('node_modules'));
  return { bytes: statSync(file).size, ownFiles: inputs.length };
}

/** The median of RUNS fresh processes' time to import the bundle (what Lambda's init spends on it). */
function importMs(file: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const out = execFileSync(
      process.execPath,
      [
        '--no-warnings',
        '--input-type=module',
        '-e',
        `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`,
      ],
      { env: lambdaEnvironment, cwd: OUT },
    ).toString();
    times.push(Number(out));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

async function main() {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  const rows: string[] = [];
  const ratios: number[] = [];
  for (const lambda of lambdas) {
    const base = join(OUT, lambda.name.replace(':', '-'));
    const external = await bundle(lambda.entry, `${base}.mjs`, 'external');
    const bundled = await bundle(lambda.entry, `${base}.sdk.mjs`, 'bundled');
    const externalMs = importMs(`${base}.mjs`);
    const bundledMs = importMs(`${base}.sdk.mjs`);
    ratios.push(bundledMs / externalMs);
    rows.push(
      [
        lambda.name.padEnd(22),
        kb(external.bytes).padStart(8),
        `${external.ownFiles} files`.padStart(10),
        `${externalMs.toFixed(0)} ms`.padStart(8),
        `${lambda.api && external.bytes > 300 * 1024 ? 'over 300 KB' : ''}`.padEnd(12),
        kb(bundled.bytes).padStart(9),
        `${bundledMs.toFixed(0)} ms`.padStart(8),
        `${(bundledMs / externalMs).toFixed(2)}x`.padStart(7),
      ].join(' '),
    );
  }
  console.log(
    `Lambda bundles (esbuild as the CDK bundles them), import in a fresh process, median of ${RUNS}`,
  );
  console.log(
    `${'function'.padEnd(22)} ${'SDK out'.padStart(8)} ${'own code'.padStart(10)} ${'import'.padStart(8)} ${''.padEnd(12)} ${'SDK in'.padStart(9)} ${'import'.padStart(8)} ${'in/out'.padStart(7)}`,
  );
  for (const row of rows) console.log(row);
  ratios.sort((a, b) => a - b);
  console.log(
    `import with the SDK bundled in / left out: median ${(ratios[Math.floor(ratios.length / 2)] ?? 0).toFixed(2)}x`,
  );
  console.log(`bundles written to ${relative(ROOT, OUT)}/`);
}

await main();
