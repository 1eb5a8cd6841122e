/**
 * DynamoDB requests the metrics aggregator makes for one Kinesis batch, processed as it is
 * (grouped by server and minute: one read-merge-write per group, one latest-sample write per
 * server) against the same records handed over one at a time, as a per-record batch processor
 * (Powertools' BatchProcessor) calls its record handler. Then a fleet's batch (10,000 samples
 * from 1,000 hosts): writes per bucket touched, and CPU time against only parsing. One run,
 * printed as ratios.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { makeFleet } from '../loadgen';
import { startLocalRuntime } from '../local/runtime';

const SERVERS = 10;
const SAMPLES_PER_SERVER = 20;

const runtime = await startLocalRuntime({ port: 0, logLevel: 'SILENT', metricsIntervalMs: 3_600_000 });
try {
  const [{ handler, parse }, { documentClient }] = await Promise.all([
    import('../../functions/metrics/aggregator'),
    import('../../layers/aws/clients'),
  ]);
  const counts = new Map<string, number>();
  documentClient().middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown');
      counts.set(name, (counts.get(name) ?? 0) + 1);
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
  const total = () => [...counts.values()].reduce((a, b) => a + b, 0);

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
  // samples each, 10 s apart), as one Kinesis batch. Writes per bucket touched, and the
  // aggregator's CPU time against only parsing the same records.
  const fleet = makeFleet({ hosts: 1000, seed: 3, tenantId, duplicates: 0, silence: 0, spikes: 0.003 });
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
  const buckets = new Set<string>();
  const hosts = new Set<string>();
  for (const record of fleetRecords) {
    const sample = parse(record);
    if (!sample) throw new Error('the fleet made a record the aggregator refuses');
    buckets.add(`${sample.serverId}/${sample.at.slice(0, 16)}`);
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
  const writes = (counts.get('PutItemCommand') ?? 0) + (counts.get('UpdateItemCommand') ?? 0);
  const ms = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  console.log(
    `\nOne batch of ${fleetRecords.length} v2 samples from ${hosts.size} hosts, one run: ${buckets.size} minute buckets and ${hosts.size} latest snapshots touched`,
  );
  console.log(
    `  DynamoDB writes ${writes} for ${buckets.size + hosts.size} buckets: ${(writes / (buckets.size + hosts.size)).toFixed(2)} writes per bucket (reads: ${counts.get('GetItemCommand') ?? 0} GetItem, ${counts.get('BatchGetItemCommand') ?? 0} BatchGetItem) ${JSON.stringify(Object.fromEntries(counts))}`,
  );
  console.log(
    `  CPU: aggregating ${ms(aggregateCpu).toFixed(0)} ms, only parsing ${ms(parseCpu).toFixed(0)} ms: ${(ms(aggregateCpu) / ms(parseCpu)).toFixed(1)}x`,
  );
  // system time is mostly the sockets to DynamoDB Local on loopback, where the kernel also does
  // the receiving side's work; user time is the aggregator's own code and the SDK's
  console.log(
    `  of which user ${(aggregateCpu.user / 1000).toFixed(0)} ms (${(aggregateCpu.user / 1000 / ms(parseCpu)).toFixed(1)}x parsing), system ${(aggregateCpu.system / 1000).toFixed(0)} ms`,
  );
} finally {
  await runtime.stop();
}
