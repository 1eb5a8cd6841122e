import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchTenant, startBenchRuntime } from './support';

/**
 * Backups and restores, one run: a site of about 1 GB on a local host (half random bytes, half text) backed
 * up through the API, end to end (the host streaming tar | zstd into presigned parts, the local
 * S3, the completion and the read-back), against plain `tar | zstd` of the same tree to
 * /dev/null in the same run; and the most scratch space the backup held while it ran (one
 * part at a time, in /dev/shm) against the site's size.
 */
const SITE_MB = Number(process.env.BENCH_BACKUP_MB ?? 1024);

const usedBytes = (path: string) =>
  Number(
    spawnSync('df', ['-B1', '--output=used', path], { encoding: 'utf8' }).stdout.split('\n')[1]?.trim() ?? 0,
  );

async function main() {
  const runtime = await startBenchRuntime();
  try {
    const { tenant, call, ended: endedAt } = await benchTenant(runtime, 'backups-bench@example.com');
    const ended = (operationId: string) => endedAt(`${tenant}/operations/${operationId}`);
    const server = await call('POST', `${tenant}/servers`, {
      name: 'bench-backups',
      provider: 'local',
      stack: { phpVersions: [], database: null },
    });
    await ended(server.json.operation.id);
    const site = await call('POST', `${tenant}/servers/${server.json.id}/sites`, {
      domain: 'backups.bench.example.test',
      type: 'static',
    });
    await ended(site.json.operation.id);
    const host = runtime.hosts.list().find((h) => h.labels['vip-server-id'] === server.json.id);
    const home = join(runtime.hosts.rootOf(host?.id ?? ''), 'home', site.json.systemUser, 'public/data');
    mkdirSync(home, { recursive: true });
    const text = Buffer.from(
      'a line of a log file, much like the ones sites keep, 2026-12-03T08:00:00Z\n'.repeat(70_000),
    );
    for (let i = 0; i < SITE_MB / 5; i += 1) {
      writeFileSync(
        join(home, `file-${i}.bin`),
        i % 2 === 0 ? randomBytes(5 * 1024 * 1024) : text.subarray(0, 5 * 1024 * 1024),
      );
    }
    const siteBytes = SITE_MB * 1024 * 1024;

    // plain tar | zstd of the same tree, to nowhere
    const plainStart = process.hrtime.bigint();
    const plain = spawnSync('bash', ['-c', `tar -C "${home}" -cf - . | zstd -q -T0 -3 -c > /dev/null`]);
    if (plain.status !== 0) throw new Error(String(plain.stderr));
    const plainMs = Number(process.hrtime.bigint() - plainStart) / 1e6;

    // the same, encrypted as hosts encrypt backups for customers' own storage (AES-256-GCM in
    // 1 MiB chunks through libcrypto, step-functions/documents/fragments/aesgcm.sh)
    const keyFile = join(mkdtempSync(join(tmpdir(), 'vip-bench-key-')), 'key');
    writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    const fragment = join(process.cwd(), 'step-functions/documents/fragments/aesgcm.sh');
    const sealedStart = process.hrtime.bigint();
    const sealed = spawnSync('bash', [
      '-c',
      `source "${fragment}"; tar -C "${home}" -cf - . | zstd -q -T0 -3 -c | aes_gcm_stream encrypt "${keyFile}" > /dev/null`,
    ]);
    if (sealed.status !== 0) throw new Error(String(sealed.stderr));
    const sealedMs = Number(process.hrtime.bigint() - sealedStart) / 1e6;

    // the backup, sampling the scratch space (/dev/shm) as it runs
    const shmBefore = usedBytes('/dev/shm');
    let shmPeak = 0;
    const sampler = setInterval(() => {
      shmPeak = Math.max(shmPeak, usedBytes('/dev/shm') - shmBefore);
    }, 25);
    const start = process.hrtime.bigint();
    const backup = await call('POST', `${tenant}/sites/${site.json.id}/backups`, {});
    const operation = await ended(backup.json.operation.id);
    const backupMs = Number(process.hrtime.bigint() - start) / 1e6;
    clearInterval(sampler);
    if (operation.status !== 'succeeded') throw new Error(`backup: ${operation.error?.message}`);
    const read = (await call('GET', `${tenant}/sites/${site.json.id}/backups/${backup.json.id}`)).json;
    const step = operation.steps[0];
    const stdout = `${step?.output?.stdout?.head ?? ''}\n${step?.output?.stdout?.tail ?? ''}`;
    const hostMs = Number(/^timing: files (\d+)$/m.exec(stdout)?.[1] ?? 0);
    const stepMs = (_name: string) =>
      step?.startedAt && step.endedAt ? Date.parse(step.endedAt) - Date.parse(step.startedAt) : 0;
    const mbps = (ms: number) => (siteBytes / 1024 / 1024 / (ms / 1000)).toFixed(0);
    console.log(`\nA ${SITE_MB} MB site backed up (half random bytes, half text), one run`);
    console.log(
      `  plain tar | zstd to /dev/null: ${plainMs.toFixed(0)} ms (${mbps(plainMs)} MB/s); on the host, tar | zstd into presigned parts: ${hostMs} ms (${mbps(hostMs)} MB/s, ${(plainMs / hostMs).toFixed(2)}x plain's speed)`,
    );
    console.log(
      `  end to end, POST to a verified backup: ${backupMs.toFixed(0)} ms (${mbps(backupMs)} MB/s, ${(plainMs / backupMs).toFixed(2)}x plain's speed); stored ${(read.sizeBytes / 1024 / 1024).toFixed(0)} MB in ${read.objects[0]?.parts} parts, ${read.verification?.status}`,
    );
    console.log(
      `  encrypted for a customer's storage, tar | zstd | AES-256-GCM to /dev/null: ${sealedMs.toFixed(0)} ms (${mbps(sealedMs)} MB/s, ${(plainMs / sealedMs).toFixed(2)}x plain's speed)`,
    );
    console.log(
      `  the operation's command step (sent to the host until its ending settled: completion and read-back included): ${stepMs('run')} ms`,
    );
    // a restore of the same backup, in place: fetched, checked, unpacked beside, switched
    const restoreStart = process.hrtime.bigint();
    const restore = await call(
      'POST',
      `${tenant}/sites/${site.json.id}/backups/${backup.json.id}/restore`,
      {},
    );
    const restored = await ended(restore.json.id);
    const restoreMs = Number(process.hrtime.bigint() - restoreStart) / 1e6;
    if (restored.status !== 'succeeded') throw new Error(`restore: ${restored.error?.message}`);
    const restoreOut = `${restored.steps[0]?.output?.stdout?.head ?? ''}\n${restored.steps[0]?.output?.stdout?.tail ?? ''}`;
    const restoreHostMs = Number(/^timing: fetch (\d+)/m.exec(restoreOut)?.[1] ?? 0);
    const plainUnpack = process.hrtime.bigint();
    const unpack = spawnSync('bash', [
      '-c',
      `tar -C "${home}" -cf - . | zstd -q -T0 -3 -c | zstd -q -d -c | tar -x -C "$(mktemp -d)"`,
    ]);
    if (unpack.status !== 0) throw new Error(String(unpack.stderr));
    const plainRoundMs = Number(process.hrtime.bigint() - plainUnpack) / 1e6;
    console.log(
      `  restore in place, POST to switched: ${restoreMs.toFixed(0)} ms (${mbps(restoreMs)} MB/s); on the host, fetch, check and unpack beside ${restoreHostMs} ms (${mbps(restoreHostMs)} MB/s); plain tar | zstd | zstd -d | tar -x of the tree ${plainRoundMs.toFixed(0)} ms (the host's restore at ${(plainRoundMs / restoreHostMs).toFixed(2)}x plain's speed)`,
    );
    console.log(
      `  scratch held while it ran: ${(shmPeak / 1024 / 1024).toFixed(1)} MB in /dev/shm (${((shmPeak / siteBytes) * 100).toFixed(2)}% of the site), none on disk`,
    );
  } finally {
    await runtime.stop();
  }
}

await main();
