/**
 * DynamoDB requests the metrics aggregator makes for one Kinesis batch, processed as it is
 * (grouped by server and minute: the minutes read 100 to a request, one conditional write per
 * group and one latest-sample write per server, 25 to a request) against the same records handed
 * over one at a time, as a per-record batch processor (Powertools' BatchProcessor) calls its
 * record handler. Then a fleet's batch (10,000 samples from 1,000 hosts): writes and requests per
 * bucket touched, CPU time against only parsing, and the floor of any aggregator writing one
 * item per bucket. One run, printed as ratios.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { makeFleet } from '../loadgen';
import { startLocalRuntime } from '../local/runtime';
import { registerFleet } from './support';

const SERVERS = 10;
const SAMPLES_PER_SERVER = 20;

const runtime = await startLocalRuntime({ port: 0, logLevel: 'SILENT', metricsIntervalMs: 3_600_000 });
try {
  const [{ handler, parse }, { documentClient }, { getPlatform }] = await Promise.all([
    import('../../functions/metrics/aggregator'),
    import('../../layers/aws/dynamodb'),
    import('../../layers/runtime/platform'),
  ]);
  const counts = new Map<string, number>();
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      // a batch of PartiQL writes: one write of an item each
      const statements = (args.input as { Statements?: unknown[] }).Statements;
      if (statements) counts.set('statements', (counts.get('statements') ?? 0) + statements.length);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const tenantId = `ten_${ulid().toLowerCase()}`;
  const servers = Array.from({ length: SERVERS }, () => `srv_${ulid().toLowerCase()}`);
  // recent: minutes older than their retention (2 days) read as gone
  const start = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;
  const records = (offsetMinutes: number) =>
    servers.flatMap((serverId) =>
      Array.from({ length: SAMPLES_PER_SERVER }, (_, i) => {
        // every ten seconds, so a server's samples span two minutes
        const sample = {
          sampleId: randomUUID(),
          tenantId,
          serverId,
          at: new Date(start + offsetMinutes * 60_000 + i * 10_000).toISOString(),
          cpuPercent: 10 + i,
          memoryUsedPercent: 40,
          memoryTotalBytes: 4e9,
          diskUsedPercent: 30,
          diskTotalBytes: 8e10,
          load1: 0.5,
          load5: 0.4,
          load15: 0.3,
          networkRxBytesPerSecond: 1000,
          networkTxBytesPerSecond: 2000,
        };
        return {
          kinesis: {
            data: Buffer.from(JSON.stringify(sample)).toString('base64'),
            sequenceNumber: `${offsetMinutes}${String(i).padStart(6, '0')}`,
            partitionKey: serverId,
          },
        };
      }),
    );
  const event = (recs: unknown[]) => ({ Records: recs }) as unknown as KinesisStreamEvent;
  // requests: a batch of statements is one
  const total = () =>
    [...counts.entries()].reduce((n, [name, count]) => (name === 'statements' ? n : n + count), 0);

  const batch = records(0);
  counts.clear();
  await handler(event(batch));
  const grouped = total();
  const groupedDetail = Object.fromEntries(counts);

  counts.clear();
  for (const record of records(10)) await handler(event([record]));
  const perRecord = total();
  const perRecordDetail = Object.fromEntries(counts);

  console.log(`One batch of ${batch.length} samples from ${SERVERS} servers (two minutes each), one run`);
  console.log(
    `grouped (as the aggregator runs):   ${grouped} DynamoDB requests ${JSON.stringify(groupedDetail)}`,
  );
  console.log(
    `one record at a time (BatchProcessor): ${perRecord} DynamoDB requests ${JSON.stringify(perRecordDetail)}`,
  );
  console.log(`ratio per-record / grouped: ${(perRecord / grouped).toFixed(1)}x`);

  // A fleet's batch: 10,000 version 2 samples from 1,000 hosts (the load generator's fleet, ten
  // samples each, 10 s apart, registered as servers with two alert rules), as one Kinesis batch.
  // Writes per bucket touched, and the aggregator's CPU time against only parsing the same records.
  const fleet = makeFleet({ hosts: 1000, seed: 3, tenantId, duplicates: 0, silence: 0, spikes: 0.003 });
  await registerFleet(runtime, tenantId, fleet, 3);
  const fleetRecords = Array.from({ length: 10 }, (_, tick) =>
    fleet.tick(new Date(start + 60 * 60_000 + 5_000 + tick * 10_000)),
  )
    .flat()
    .map(({ serverId, record }, i) => ({
      kinesis: {
        data: Buffer.from(JSON.stringify(record)).toString('base64'),
        sequenceNumber: String(1_000_000 + i),
        partitionKey: serverId,
      },
    })) as unknown as KinesisStreamEvent['Records'];
  const buckets = new Map<string, { serverId: string; minute: string }>();
  const hosts = new Set<string>();
  for (const record of fleetRecords) {
    const sample = parse(record);
    if (!sample) throw new Error('the fleet made a record the aggregator refuses');
    buckets.set(`${sample.serverId}/${sample.at.slice(0, 16)}`, {
      serverId: sample.serverId,
      minute: sample.at.slice(0, 16),
    });
    hosts.add(sample.serverId);
  }
  const parseStart = process.cpuUsage();
  for (const record of fleetRecords) parse(record);
  const parseCpu = process.cpuUsage(parseStart);
  counts.clear();
  const aggregateStart = process.cpuUsage();
  const answer = await handler(event(fleetRecords));
  const aggregateCpu = process.cpuUsage(aggregateStart);
  if (answer.batchItemFailures.length > 0) throw new Error('the fleet batch did not aggregate whole');
  const writes =
    (counts.get('PutItemCommand') ?? 0) +
    (counts.get('UpdateItemCommand') ?? 0) +
    (counts.get('statements') ?? 0);
  const requests = total();
  const ms = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  console.log(
    `\nOne batch of ${fleetRecords.length} v2 samples from ${hosts.size} hosts, one run: ${buckets.size} minute buckets and ${hosts.size} latest snapshots touched`,
  );
  console.log(
    `  DynamoDB: ${writes} item writes for ${buckets.size + hosts.size} buckets, ${(writes / (buckets.size + hosts.size)).toFixed(2)} per bucket, in ${requests} requests (${(requests / (buckets.size + hosts.size)).toFixed(3)} per bucket, reads included) ${JSON.stringify(Object.fromEntries(counts))}`,
  );
  console.log(
    `  CPU: aggregating ${ms(aggregateCpu).toFixed(0)} ms, only parsing ${ms(parseCpu).toFixed(0)} ms: ${(ms(aggregateCpu) / ms(parseCpu)).toFixed(1)}x`,
  );
  // system time is mostly the sockets to DynamoDB Local on loopback, where the kernel also does
  // the receiving side's work; user time is the aggregator's own code and the SDK's
  console.log(
    `  of which user ${(aggregateCpu.user / 1000).toFixed(0)} ms (${(aggregateCpu.user / 1000 / ms(parseCpu)).toFixed(1)}x parsing), system ${(aggregateCpu.system / 1000).toFixed(0)} ms`,
  );

  // The floor of one item per (host, bucket) through the SDK, however a bucket were encoded and
  // merged: parse, read the batch's minutes (BatchGetItem, 100 to a request), write each bucket
  // once, every item one opaque 1 KB attribute (nothing decoded, merged or encoded). Written as
  // the aggregator writes (each on the version read, 25 to a BatchExecuteStatement) and with no
  // condition at all (BatchWriteItem, 25 to a request): no aggregator on this model costs less.
  const { store } = await getPlatform();
  const opaque = [
    ...[...buckets.values()].map(({ serverId, minute }) => ({ pk: `BENCH#FLOOR#${serverId}`, sk: minute })),
    ...[...hosts].map((serverId) => ({ pk: 'BENCH#FLOOR#LATEST', sk: serverId })),
  ].map((key) => ({ ...key, body: Buffer.alloc(1024, 1), version: 1 }));
  const minuteKeys = opaque.slice(0, buckets.size).map(({ pk, sk }) => ({ pk, sk }));
  await store.putAllIfVersion(
    opaque.map((item) => ({ item })),
    48,
  );
  const floor = async (write: () => Promise<unknown>) => {
    const started = process.cpuUsage();
    for (const record of fleetRecords) parse(record);
    await Promise.all(
      Array.from({ length: Math.ceil(minuteKeys.length / 100) }, (_, i) =>
        store.batchGet(minuteKeys.slice(i * 100, i * 100 + 100), true),
      ),
    );
    await write();
    return ms(process.cpuUsage(started));
  };
  const conditional = await floor(async () => {
    const outcomes = await store.putAllIfVersion(
      opaque.map((item) => ({ item: { ...item, version: 2 }, read: item })),
      48,
    );
    if (outcomes.some((o) => o !== 'written')) throw new Error('the floor write did not hold');
  });
  const unconditional = await floor(() =>
    Promise.all(
      Array.from({ length: Math.ceil(opaque.length / 25) }, async (_, i) => {
        let requests = opaque.slice(i * 25, i * 25 + 25).map((Item) => ({ PutRequest: { Item } }));
        while (requests.length > 0) {
          const answer = await documentClient().send(
            new BatchWriteCommand({ RequestItems: { [runtime.names.table]: requests } }),
          );
          requests = (answer.UnprocessedItems?.[runtime.names.table] ?? []) as typeof requests;
        }
      }),
    ),
  );
  console.log(
    `  floor of one item per bucket (parse, read ${minuteKeys.length} and write ${opaque.length} opaque 1 KB items): ${conditional.toFixed(0)} ms written on their versions (${(conditional / ms(parseCpu)).toFixed(1)}x parsing), ${unconditional.toFixed(0)} ms with no condition (${(unconditional / ms(parseCpu)).toFixed(1)}x)`,
  );
} finally {
  await runtime.stop();
}
