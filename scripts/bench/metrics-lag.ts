import { parseArgs } from 'node:util';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { minuteOf } from '../../functions/metrics/sample';
import { type RollupItem, rollupKeys } from '../../layers/model/rollups';
import { durationMs, idFor, makeFleet, putAll } from '../loadgen';
import { startBenchRuntime } from './support';

/**
 * End-to-end lag of metrics on the local control plane (the runtime `npm start` runs, in
 * memory): a fleet from the load generator puts its samples into the stream every interval; a
 * few of each tick's samples are followed from the PutRecords call until their minute's rollup
 * has counted them (a consistent read), and the stream consumer's backlog (how old the oldest
 * record of each batch is when delivered, the most in each 5 s) is read every 5 s.
 *
 *   npx tsx scripts/bench/metrics-lag.ts --hosts 1000 --interval 10s --duration 5m
 */
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '10s' },
    duration: { type: 'string', default: '5m' },
    probes: { type: 'string', default: '20' },
  },
});

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);

const runtime = await startBenchRuntime();
try {
  const seed = 7;
  const tenantId = idFor('ten', seed, 'metrics-lag');
  const fleet = makeFleet({
    hosts: Number(values.hosts),
    seed,
    tenantId,
    duplicates: 0.01,
    silence: 0.002,
    spikes: 0.003,
  });
  const documents = DynamoDBDocumentClient.from(runtime.clients.dynamodb);
  const interval = durationMs(values.interval);
  const duration = durationMs(values.duration);
  const probesPerTick = Number(values.probes);

  const pending: { serverId: string; sampleId: string; at: string; putAt: number }[] = [];
  const lags: number[] = [];
  const ages: { at: number; iteratorAgeMs: number; behindMs: number }[] = [];
  let records = 0;
  let running = true;
  const started = Date.now();
  const stopAt = started + duration;

  // follows the probes: their minute's rollup read until it has counted them
  const follower = (async () => {
    while (running || pending.length > 0) {
      const batch = pending.slice(0, 100);
      if (batch.length > 0) {
        const keys = [
          ...new Map(
            batch.map((p) => {
              const key = rollupKeys.item(tenantId, p.serverId, minuteOf(p.at));
              return [`${key.pk}/${key.sk}`, key];
            }),
          ).values(),
        ];
        const answer = await documents.send(
          new BatchGetCommand({
            RequestItems: { [runtime.names.table]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        const rollups = (answer.Responses?.[runtime.names.table] ?? []) as RollupItem[];
        const now = Date.now();
        for (const probe of batch) {
          const rollup = rollups.find(
            (r) => r.serverId === probe.serverId && r.minute === minuteOf(probe.at),
          );
          if (rollup?.sampleIds?.includes(probe.sampleId)) {
            lags.push(now - probe.putAt);
            pending.splice(pending.indexOf(probe), 1);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 50));
      if (!running && Date.now() > stopAt + 60_000) break;
    }
  })();
  const watcher = setInterval(() => {
    const progress = Object.values(runtime.metricsPoller.progress());
    ages.push({
      at: Date.now(),
      iteratorAgeMs: Math.max(0, ...progress.map((p) => p.iteratorAgeMs)),
      behindMs: Math.max(0, ...progress.map((p) => p.millisBehindLatest)),
    });
  }, 5_000);

  console.log(
    `${fleet.hosts.length} hosts every ${values.interval} for ${values.duration}, ${probesPerTick} samples followed a tick`,
  );
  while (Date.now() < stopAt) {
    const tickStarted = Date.now();
    const generated = fleet.tick(new Date(tickStarted));
    const entries = generated.flatMap(({ serverId, record, twice }) => {
      const entry = { PartitionKey: serverId, Data: Buffer.from(JSON.stringify(record)) };
      return twice ? [entry, entry] : [entry];
    });
    for (const { serverId, record } of generated.slice(0, probesPerTick)) {
      pending.push({
        serverId,
        sampleId: String(record.sampleId),
        at: String(record.at),
        putAt: tickStarted,
      });
    }
    const { failed } = await putAll(runtime.clients.kinesis, runtime.names.metricsStream, entries);
    records += entries.length - failed;
    if (Math.floor((Date.now() - started) / 30_000) !== Math.floor((tickStarted - started) / 30_000)) {
      const last = ages.at(-1);
      console.log(
        `${Math.round((Date.now() - started) / 1000)} s: ${records} records put; backlog ${last?.iteratorAgeMs ?? 0} ms, ${pending.length} samples not yet in a rollup`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - tickStarted))));
  }
  running = false;
  await follower;
  clearInterval(watcher);

  const sorted = [...lags].sort((a, b) => a - b);
  const iteratorAges = ages.map((a) => a.iteratorAgeMs).sort((a, b) => a - b);
  const seconds = (Date.now() - started) / 1000;
  console.log('');
  console.log(`records put: ${records} (${(records / seconds).toFixed(0)}/s)`);
  console.log(`samples followed: ${lags.length}, never counted: ${pending.length}`);
  console.log(
    `end-to-end lag, PutRecords to the rollup readable: p50 ${quantile(sorted, 0.5)} ms, p99 ${quantile(sorted, 0.99)} ms, max ${sorted.at(-1)} ms`,
  );
  console.log(`  ratio p99 / sample interval: ${(quantile(sorted, 0.99) / interval).toFixed(2)}`);
  console.log(
    `backlog: the oldest record's age when delivered, most in each 5 s: p50 ${quantile(iteratorAges, 0.5)} ms, max ${iteratorAges.at(-1)} ms; over time (s: ms) ${ages
      .filter((_, i) => i % 6 === 0)
      .map((a) => `${Math.round((a.at - started) / 1000)}:${a.iteratorAgeMs}`)
      .join(' ')}`,
  );
} finally {
  await runtime.stop();
}
