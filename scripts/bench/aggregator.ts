/**
 * DynamoDB requests the metrics aggregator makes for one Kinesis batch, processed as it is
 * (grouped by server and minute: one read-merge-write per group, one latest-sample write per
 * server) against the same records handed over one at a time, as a per-record batch processor
 * (Powertools' BatchProcessor) calls its record handler. One run, printed as a ratio.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisStreamEvent } from 'aws-lambda';
import { ulid } from 'ulid';
import { startLocalRuntime } from '../local/runtime';

const SERVERS = 10;
const SAMPLES_PER_SERVER = 20;

const runtime = await startLocalRuntime({ port: 0, logLevel: 'SILENT', metricsIntervalMs: 3_600_000 });
try {
  const [{ handler }, { documentClient }] = await Promise.all([
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
  const start = Date.parse('2026-12-01T10:00:00Z');
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
} finally {
  await runtime.stop();
}
