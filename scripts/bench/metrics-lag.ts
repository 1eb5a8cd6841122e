import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { minuteOf } from '../../functions/metrics/sample';
import { type RollupItem, rollupKeys } from '../../layers/model/rollups';
import { durationMs, idFor, makeFleet, putAll } from '../loadgen';
import { dynamoDbClient, kinesisClient } from '../local/engines';
import { startBenchRuntime } from './support';

/**
 * End-to-end lag of metrics on the local control plane (the runtime `npm start` runs, in
 * memory): a fleet from the load generator puts its samples into the stream every interval; a
 * few of each tick's samples are followed from the PutRecords call until their minute's rollup
 * has counted them (a consistent read), and the stream consumer's backlog (how old the oldest
 * record of each batch is when delivered, the most in each 5 s) is read every 5 s.
 *
 *   npx tsx scripts/bench/metrics-lag.ts --hosts 1000 --interval 10s --duration 5m
 *
 * With --running it starts nothing: it is a load generator against the control plane `npm start`
 * runs in another process (its stream and table, from its lock file), and follows the samples
 * there. The consumer's backlog is then not readable from outside; the lag in each 30 s shows
 * whether it keeps up.
 */
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '10s' },
    duration: { type: 'string', default: '5m' },
    probes: { type: 'string', default: '20' },
    running: { type: 'boolean', default: false },
  },
});

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);

/** The control plane: one of our own in this process, or the one `npm start` runs. */
async function controlPlane() {
  if (!values.running) {
    const runtime = await startBenchRuntime();
    return {
      dynamodb: runtime.clients.dynamodb,
      kinesis: runtime.clients.kinesis,
      table: runtime.names.table,
      stream: runtime.names.metricsStream,
      backlog: () => {
        const progress = Object.values(runtime.metricsPoller.progress());
        return Math.max(0, ...progress.map((p) => p.iteratorAgeMs));
      },
      stop: () => runtime.stop(),
    };
  }
  const lock = join(process.cwd(), '.data', 'control-plane.lock');
  if (!existsSync(lock)) throw new Error('No control plane is running: start it with npm start first');
  const running = JSON.parse(readFileSync(lock, 'utf8')) as {
    kinesis: { endpoint: string; streamName: string };
    dynamodb?: { endpoint: string; tableName: string };
  };
  if (!running.dynamodb)
    throw new Error('The running control plane is older than this benchmark: restart it');
  return {
    dynamodb: dynamoDbClient(running.dynamodb.endpoint),
    kinesis: kinesisClient(running.kinesis.endpoint),
    table: running.dynamodb.tableName,
    stream: running.kinesis.streamName,
    backlog: undefined,
    stop: async () => {},
  };
}

const runtime = await controlPlane();
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
  const documents = DynamoDBDocumentClient.from(runtime.dynamodb);
  const interval = durationMs(values.interval);
  const duration = durationMs(values.duration);
  const probesPerTick = Number(values.probes);

  const pending: { serverId: string; sampleId: string; at: string; putAt: number }[] = [];
  /** each followed sample's lag, by when it was put */
  const lags: { putAt: number; ms: number }[] = [];
  const ages: { at: number; iteratorAgeMs: number }[] = [];
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
            RequestItems: { [runtime.table]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        const rollups = (answer.Responses?.[runtime.table] ?? []) as RollupItem[];
        const now = Date.now();
        for (const probe of batch) {
          const rollup = rollups.find(
            (r) => r.serverId === probe.serverId && r.minute === minuteOf(probe.at),
          );
          if (rollup?.sampleIds?.includes(probe.sampleId)) {
            lags.push({ putAt: probe.putAt, ms: now - probe.putAt });
            pending.splice(pending.indexOf(probe), 1);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 50));
      if (!running && Date.now() > stopAt + 60_000) break;
    }
  })();
  const watcher = setInterval(() => {
    const backlog = runtime.backlog?.();
    if (backlog !== undefined) ages.push({ at: Date.now(), iteratorAgeMs: backlog });
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
    const { failed } = await putAll(runtime.kinesis, runtime.stream, entries);
    records += entries.length - failed;
    if (Math.floor((Date.now() - started) / 30_000) !== Math.floor((tickStarted - started) / 30_000)) {
      const last = ages.at(-1);
      console.log(
        `${Math.round((Date.now() - started) / 1000)} s: ${records} records put;${last ? ` backlog ${last.iteratorAgeMs} ms,` : ''} ${pending.length} samples not yet in a rollup`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(0, interval - (Date.now() - tickStarted))));
  }
  running = false;
  await follower;
  clearInterval(watcher);

  const sorted = lags.map((l) => l.ms).sort((a, b) => a - b);
  const iteratorAges = ages.map((a) => a.iteratorAgeMs).sort((a, b) => a - b);
  const seconds = (Date.now() - started) / 1000;
  console.log('');
  console.log(
    `control plane: ${values.running ? 'the one npm start runs, in another process' : 'in this process'}`,
  );
  console.log(`records put: ${records} (${(records / seconds).toFixed(0)}/s)`);
  console.log(`samples followed: ${lags.length}, never counted: ${pending.length}`);
  console.log(
    `end-to-end lag, PutRecords to the rollup readable: p50 ${quantile(sorted, 0.5)} ms, p99 ${quantile(sorted, 0.99)} ms, max ${sorted.at(-1)} ms`,
  );
  console.log(`  ratio p99 / sample interval: ${(quantile(sorted, 0.99) / interval).toFixed(2)}`);
  // the lag of the samples put in each 30 s: one that keeps growing is a consumer falling behind
  const windows = new Map<number, number[]>();
  for (const lag of lags) {
    const window = Math.floor((lag.putAt - started) / 30_000) * 30;
    windows.set(window, [...(windows.get(window) ?? []), lag.ms]);
  }
  console.log(
    `  over time (s: p50/max ms) ${[...windows.entries()]
      .map(([at, ms]) => {
        const inWindow = ms.sort((a, b) => a - b);
        return `${at}:${quantile(inWindow, 0.5)}/${inWindow.at(-1)}`;
      })
      .join(' ')}`,
  );
  if (ages.length > 0) {
    console.log(
      `backlog: the oldest record's age when delivered, most in each 5 s: p50 ${quantile(iteratorAges, 0.5)} ms, max ${iteratorAges.at(-1)} ms; over time (s: ms) ${ages
        .filter((_, i) => i % 6 === 0)
        .map((a) => `${Math.round((a.at - started) / 1000)}:${a.iteratorAgeMs}`)
        .join(' ')}`,
    );
  }
} finally {
  await runtime.stop();
}
