import { parseArgs } from 'node:util';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { aggregatorMapping, metricsStream } from '../../layers/config/resources';
import { scheduledTasks } from '../../step-functions/workflows';
import { idFor, makeFleet } from '../loadgen';
import { startLocalRuntime } from '../local/runtime';
import { itemSize, writeUnitsOf } from './item-size';
import { registerFleet } from './support';

/**
 * What metrics cost in AWS per 1,000 hosts a month, from counts measured here: a fleet of
 * registered servers (items of a real server's size) with two alert rules sends a sample every
 * 10 s for some simulated minutes; batches are formed as the event source mapping forms them
 * (the mapping's window and batch size on each shard: with a 2 s window, one sample of each host
 * in a batch); the fold sweep runs as scheduled. `--window` and `--batch-size` show what other
 * mapping settings would cost. Every DynamoDB request asks for its consumed capacity, which
 * DynamoDB Local reports as DynamoDB does (but for PartiQL statements, whose units are counted
 * from the items written); the aggregator's and the sweep's time is measured here. Prices are
 * us-east-1's list prices (on-demand DynamoDB, provisioned Kinesis shards, arm64 Lambda).
 *
 *   npx tsx scripts/bench/metrics-cost.ts --hosts 1000 --minutes 10
 */
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '10' },
    // the event source mapping's settings, to see what another choice would cost
    window: { type: 'string', default: String(aggregatorMapping.maxBatchingWindowSeconds) },
    'batch-size': { type: 'string', default: String(aggregatorMapping.batchSize) },
  },
});
const HOSTS = Number(values.hosts);
const MINUTES = Number(values.minutes);
const WINDOW_S = Number(values.window);
const BATCH_SIZE = Number(values['batch-size']);
const INTERVAL_S = 10;

const PRICES = {
  writeRequestUnit: 0.625 / 1e6,
  readRequestUnit: 0.125 / 1e6,
  storageGbMonth: 0.25,
  kinesisShardHour: 0.015,
  kinesisPutUnit: 0.014 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  schedulerInvocation: 1 / 1e6,
  sesEmail: 0.1 / 1000,
};
const MONTH_S = 30 * 86_400;

const runtime = await startLocalRuntime({
  port: 0,
  logLevel: 'SILENT',
  metricsIntervalMs: 3_600_000,
  scheduleIntervalMs: 3_600_000,
});
try {
  const [{ handler }, { foldClosedMinutes }, { documentClient }, { getPlatform }] = await Promise.all([
    import('../../functions/metrics/aggregator'),
    import('../../functions/metrics/fold'),
    import('../../layers/aws/dynamodb'),
    import('../../layers/runtime/platform'),
  ]);
  const platform = await getPlatform();
  const seed = 5;
  const tenantId = idFor('ten', seed, 'metrics-cost');
  const fleet = makeFleet({ hosts: HOSTS, seed, tenantId, duplicates: 0, silence: 0, spikes: 0.003 });

  await registerFleet(runtime, tenantId, fleet, seed);

  // every request's consumed capacity, summed by operation. DynamoDB Local reports none for
  // PartiQL statements: theirs is counted from each item before and after (as DynamoDB charges a
  // write, refused or not, and its index entries), read aside by a client of the bench's own
  const consumed = { read: 0, write: 0, requests: new Map<string, number>() };
  const itemsOf = async (keys: { pk: string; sk: string }[]) => {
    const found = new Map<string, Record<string, AttributeValue>>();
    let pending: Record<string, AttributeValue>[] | undefined = keys.map(({ pk, sk }) => ({
      pk: { S: pk },
      sk: { S: sk },
    }));
    while (pending && pending.length > 0) {
      const answer: BatchGetItemCommandOutput = await runtime.clients.dynamodb.send(
        new BatchGetItemCommand({
          RequestItems: { [runtime.names.table]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      for (const item of answer.Responses?.[runtime.names.table] ?? []) {
        found.set(`${item.pk?.S}/${item.sk?.S}`, item);
      }
      pending = answer.UnprocessedKeys?.[runtime.names.table]?.Keys;
    }
    return keys.map(({ pk, sk }) => found.get(`${pk}/${sk}`));
  };
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      const name = String(context.commandName);
      consumed.requests.set(name, (consumed.requests.get(name) ?? 0) + 1);
      if (name === 'BatchExecuteStatementCommand') {
        const keys = (input.Statements as { Statement: string; Parameters: unknown[] }[]).map(statementKey);
        const before = await itemsOf(keys);
        const result = await next(args);
        const after = await itemsOf(keys);
        consumed.write += keys.reduce((n, _, i) => n + writeUnitsOf(before[i], after[i]), 0);
        return result;
      }
      const result = await next(args);
      const output = result.output as { ConsumedCapacity?: unknown };
      const capacities = [output.ConsumedCapacity].flat().filter(Boolean) as {
        ReadCapacityUnits?: number;
        WriteCapacityUnits?: number;
        CapacityUnits?: number;
      }[];
      for (const c of capacities) {
        const isWrite = /Put|Update|Delete|TransactWrite|BatchWrite/.test(name);
        const units = c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0);
        if (isWrite) consumed.write += units;
        else consumed.read += units;
      }
      return result;
    },
    { step: 'initialize', name: 'consumedCapacity' },
  );

  // samples: each host every 10 s at its own second; each shard's records batched as the event
  // source mapping batches them (its window, or its batch size, whichever comes first)
  const shards = metricsStream.shardCount;
  const start = Math.floor((Date.now() - (MINUTES + 10) * 60_000) / 60_000) * 60_000;
  let sequence = 1_000_000;
  let batches = 0;
  let samples = 0;
  let sampleBytes = 0;
  let aggregateMs = 0;
  let foldMs = 0;
  let foldRuns = 0;
  type KinesisRecord = { kinesis: { data: string; sequenceNumber: string; partitionKey: string } };
  const buffers: KinesisRecord[][] = Array.from({ length: shards }, () => []);
  const windowStarts = Array.from({ length: shards }, () => 0);
  const deliver = async (shard: number) => {
    const buffer = buffers[shard] ?? [];
    const batch = buffer.splice(0, BATCH_SIZE);
    if (batch.length === 0) return;
    const began = performance.now();
    const answer = await handler({ Records: batch } as unknown as KinesisStreamEvent);
    aggregateMs += performance.now() - began;
    batches += 1;
    if (answer.batchItemFailures.length > 0) throw new Error('a batch did not aggregate whole');
  };
  const shardOf = (serverId: string) =>
    [...serverId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % shards;
  let pendingTick: ReturnType<typeof fleet.tick> = [];
  for (let second = 0; second < MINUTES * 60; second += 1) {
    const at = start + second * 1000;
    if (second % INTERVAL_S === 0) pendingTick = fleet.tick(new Date(at));
    // the hosts whose turn within the interval this second is
    const from = Math.floor(((second % INTERVAL_S) * HOSTS) / INTERVAL_S);
    const to = Math.floor((((second % INTERVAL_S) + 1) * HOSTS) / INTERVAL_S);
    for (const { serverId, record } of pendingTick.slice(from, to)) {
      const data = Buffer.from(JSON.stringify({ ...record, at: new Date(at).toISOString() }));
      sampleBytes += data.length;
      samples += 1;
      sequence += 1;
      buffers[shardOf(serverId)]?.push({
        kinesis: { data: data.toString('base64'), sequenceNumber: String(sequence), partitionKey: serverId },
      });
    }
    for (let shard = 0; shard < shards; shard += 1) {
      const buffer = buffers[shard] ?? [];
      while (buffer.length >= BATCH_SIZE) await deliver(shard);
      if (buffer.length > 0 && second + 1 - (windowStarts[shard] ?? 0) >= WINDOW_S) {
        await deliver(shard);
        windowStarts[shard] = second + 1;
      } else if (buffer.length === 0) {
        windowStarts[shard] = second + 1;
      }
    }
    if ((second + 1) % (60 * scheduledTasks['rollup-fold'].everyMinutes) === 0) {
      const began = performance.now();
      await foldClosedMinutes({ ...platform, clock: { now: () => new Date(at + 1000) } });
      foldMs += performance.now() - began;
      foldRuns += 1;
    }
  }
  for (let shard = 0; shard < shards; shard += 1) await deliver(shard);
  // the minutes still open fold afterwards, as the next sweeps would
  const began = performance.now();
  await foldClosedMinutes({ ...platform, clock: { now: () => new Date(start + (MINUTES + 10) * 60_000) } });
  foldMs += performance.now() - began;

  const hostMinutes = HOSTS * MINUTES;
  const perHostMonth = (value: number) => (value / hostMinutes) * (MONTH_S / 60);
  const per1000 = (value: number) => perHostMonth(value) * 1000;
  const writeUnits = per1000(consumed.write);
  const readUnits = per1000(consumed.read);
  const aggregatorGbS = per1000(aggregateMs / 1000) * 1; // 1,024 MB functions
  const foldGbS = ((foldMs / 1000) * (MONTH_S / 60 / Math.max(1, foldRuns + 1)) * 1000) / HOSTS;
  const invocations = per1000(batches);
  const putUnits = per1000(samples * Math.ceil(sampleBytes / samples / 25_600));
  const shardsFor1000 = Math.max(
    1,
    Math.ceil(((1000 / INTERVAL_S) * (sampleBytes / samples)) / 1_000_000),
    shards,
  );
  // storage: a minute kept 2 days, an hour 90, a day 730 (the items' sizes as measured below)
  const sizes = await (async () => {
    const { rollupKeys } = await import('../../layers/model/rollups');
    const first = fleet.hosts[0]?.serverId ?? '';
    const read = async (resolution: '1m' | '1h' | '1d') => {
      const page = await platform.store.query({
        pk: rollupKeys.partition(tenantId, first, resolution),
        limit: 3,
        tenantId,
        scope: 'bench',
      });
      return Math.max(
        0,
        ...page.items.map((item) => itemSize(marshall(item, { removeUndefinedValues: true }))),
      );
    };
    return { minute: await read('1m'), hour: await read('1h'), day: await read('1d') };
  })();
  const storageGb = ((sizes.minute * 2 * 1440 + sizes.hour * 90 * 24 + sizes.day * 730) * 1000) / 1e9;
  const schedulerRuns = (MONTH_S / 60) * 2; // the fold and uptime sweeps, every minute, whatever the fleet

  const rows: [string, string, number][] = [
    ['Kinesis shard-hours', `${shardsFor1000} shards x 720 h`, shardsFor1000 * 720 * PRICES.kinesisShardHour],
    ['Kinesis PUT payload units', `${(putUnits / 1e6).toFixed(1)} M`, putUnits * PRICES.kinesisPutUnit],
    [
      'Lambda requests (aggregator)',
      `${(invocations / 1e6).toFixed(2)} M`,
      invocations * PRICES.lambdaRequest,
    ],
    [
      'Lambda GB-seconds (aggregator, fold sweep)',
      `${((aggregatorGbS + foldGbS) / 1000).toFixed(1)} k`,
      (aggregatorGbS + foldGbS) * PRICES.lambdaGbSecondArm,
    ],
    [
      'DynamoDB write request units',
      `${(writeUnits / 1e6).toFixed(1)} M`,
      writeUnits * PRICES.writeRequestUnit,
    ],
    ['DynamoDB read request units', `${(readUnits / 1e6).toFixed(1)} M`, readUnits * PRICES.readRequestUnit],
    ['DynamoDB storage (rollups)', `${storageGb.toFixed(1)} GB`, storageGb * PRICES.storageGbMonth],
    [
      'EventBridge Scheduler',
      `${(schedulerRuns / 1000).toFixed(0)} k runs`,
      schedulerRuns * PRICES.schedulerInvocation,
    ],
    ['SES (say 200 alert emails)', '200', 200 * PRICES.sesEmail],
  ];
  const total = rows.reduce((sum, [, , cost]) => sum + cost, 0);
  console.log(
    `${HOSTS} hosts, a sample every ${INTERVAL_S} s for ${MINUTES} simulated minutes; batches of at most ${BATCH_SIZE} over a ${WINDOW_S} s window on each of ${shards} shards (${(samples / batches).toFixed(0)} samples a batch)`,
  );
  console.log(
    `measured: ${samples} samples (${(sampleBytes / samples).toFixed(0)} bytes each) in ${batches} batches; DynamoDB ${consumed.write.toFixed(0)} write units, ${consumed.read.toFixed(0)} read units; requests ${JSON.stringify(Object.fromEntries(consumed.requests))}`,
  );
  console.log(
    `per host-minute: ${(consumed.write / hostMinutes).toFixed(2)} write units, ${(consumed.read / hostMinutes).toFixed(2)} read units; aggregator ${(aggregateMs / batches).toFixed(1)} ms a batch here; rollup items ${sizes.minute}/${sizes.hour}/${sizes.day} bytes (minute/hour/day)`,
  );
  console.log('\nPer 1,000 hosts a month (us-east-1 list prices):');
  console.log('| item | amount | USD |');
  console.log('| --- | --- | ---: |');
  for (const [item, amount, cost] of rows) console.log(`| ${item} | ${amount} | ${cost.toFixed(2)} |`);
  console.log(`| **total** | | **${total.toFixed(2)}** |`);
  console.log(
    `\nratio DynamoDB writes / all: ${((writeUnits * PRICES.writeRequestUnit) / total).toFixed(2)}`,
  );
} finally {
  await runtime.stop();
}

/** The key a PartiQL write names: its `pk` and `sk` values, by the place of their `?`s. */
function statementKey({ Statement, Parameters }: { Statement: string; Parameters: unknown[] }) {
  const parameterNamed = (name: string) => {
    const marker = new RegExp(`(?:'${name}': |"${name}" = )\\?`).exec(Statement);
    if (!marker) throw new Error(`a statement without its ${name}: ${Statement}`);
    const questionMarks = Statement.slice(0, marker.index + marker[0].length).split('?').length - 1;
    return String(Parameters[questionMarks - 1]);
  };
  return { pk: parameterNamed('pk'), sk: parameterNamed('sk') };
}
