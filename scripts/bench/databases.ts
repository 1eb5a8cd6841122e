import { benchTenant, startBenchRuntime } from './support';

/**
 * Databases, one run on local hosts running Debian's MariaDB and PostgreSQL: for each engine, the
 * time from POST to a usable database and user (both operations ended), split by the host's own
 * steps (`timing:` of the database document: the engine's check, the SQL, remote access, sizes),
 * and the round trips each operation costs the host (SSM commands sent).
 */
const ROUNDS = Number(process.env.BENCH_DATABASES ?? 5);

interface Row {
  total: number;
  api: number;
  host: Record<string, number>;
  commands: number;
}

// biome-ignore lint/suspicious/noExplicitAny: an operation as the API answers it
const timingOf = (operation: Record<string, any>) => {
  const line = /^timing: (.+)$/m.exec(operation.steps[0]?.output?.stdout?.head ?? '')?.[1] ?? '';
  return Object.fromEntries(
    [...line.matchAll(/(\w+) (\d+)/g)].map((m) => [m[1] as string, Number(m[2])]),
  ) as Record<string, number>;
};

async function main() {
  const runtime = await startBenchRuntime();
  try {
    const { tenant, call, ended: endedAt } = await benchTenant(runtime, 'databases-bench@example.com');
    const ended = (operationId: string) => endedAt(`${tenant}/operations/${operationId}`);
    console.log(`\n${ROUNDS} databases and users per engine, each from POST until the user can sign in`);
    for (const engine of ['mariadb', 'postgresql'] as const) {
      const server = await call('POST', `${tenant}/servers`, {
        name: `bench-${engine}`,
        provider: 'local',
        stack: { phpVersions: [], database: engine },
      });
      const provisioned = await ended(server.json.operation.id);
      if (provisioned.status !== 'succeeded') throw new Error(`${engine}: ${provisioned.error?.message}`);
      const base = `${tenant}/servers/${server.json.id}`;
      const rows: Row[] = [];
      for (let n = 1; n <= ROUNDS; n += 1) {
        const start = process.hrtime.bigint();
        const database = await call('POST', `${base}/databases`, { name: `bench_${n}` });
        const created = await ended(database.json.operation.id);
        const user = await call('POST', `${base}/database-users`, {
          name: `bench_user_${n}`,
          grants: [{ databaseId: database.json.id, access: 'all' }],
        });
        const made = await ended(user.json.operation.id);
        const total = Number(process.hrtime.bigint() - start) / 1e6;
        if (created.status !== 'succeeded' || made.status !== 'succeeded') {
          throw new Error(`${engine} ${n}: ${created.error?.message ?? made.error?.message}`);
        }
        const host: Record<string, number> = {};
        for (const timing of [timingOf(created), timingOf(made)]) {
          for (const [step, ms] of Object.entries(timing)) host[step] = (host[step] ?? 0) + ms;
        }
        const hostTotal = Object.values(host).reduce((a, b) => a + b, 0);
        rows.push({
          total,
          api: total - hostTotal,
          host,
          commands: created.steps.length + made.steps.length,
        });
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const hostMean = (step: string) => mean(rows.map((r) => r.host[step] ?? 0)).toFixed(0);
      const totals = rows.map((r) => r.total);
      console.log(
        `  ${engine}: POST to a usable database and user mean ${mean(totals).toFixed(0)} ms (min ${Math.min(...totals).toFixed(0)}, max ${Math.max(...totals).toFixed(0)}); on the host: engine check ${hostMean('check')} ms, unseal and SQL ${hostMean('sql')} ms, remote access ${hostMean('access')} ms, sizes ${hostMean('sizes')} ms; the rest (${mean(rows.map((r) => r.api)).toFixed(0)} ms) is the API, the workflow and its ${100} ms waits`,
      );
      console.log(
        `  ${engine}: round trips to the host: ${mean(rows.map((r) => r.commands)) / 2} command per operation`,
      );
    }
  } finally {
    await runtime.stop();
  }
}

await main();
