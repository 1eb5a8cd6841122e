import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { jsonFile } from './json-file';

export interface EventSourceMapping {
  streamName: string;
  streamArn: string;
  region: string;
  /** the same numbers the CDK event source mapping is configured with */
  batchSize: number;
  maxBatchingWindowMs: number;
  maxRetryAttempts: number;
  bisectBatchOnFunctionError: boolean;
}

export interface KinesisPollerOptions {
  client: KinesisClient;
  mapping: EventSourceMapping;
  handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;
  checkpointPath?: string | undefined;
  pollIntervalMs: number;
  /** the on-failure destination: records given up on after every retry */
  onDiscard: (records: _Record[], reason: string) => void;
  log: (message: string) => void;
}

/**
 * Lambda's Kinesis event source mapping, locally: per shard, read a batch (waiting up to the
 * batching window for it to fill), build the same KinesisStreamEvent, invoke the handler and
 * checkpoint only what succeeded. ReportBatchItemFailures resumes from the first failed
 * record; a thrown error bisects the batch; after maxRetryAttempts the records go to the
 * on-failure destination and the shard moves on.
 */
export function startKinesisPoller(options: KinesisPollerOptions) {
  const { client, mapping } = options;
  const checkpoints = jsonFile(options.checkpointPath, {} as Record<string, string>);
  /** per shard: how far behind its newest record the poller reads, as Lambda's IteratorAge */
  const progress: Record<string, { iteratorAgeMs: number; millisBehindLatest: number; delivered: number }> =
    {};
  const progressOf = (shardId: string) => {
    progress[shardId] ??= { iteratorAgeMs: 0, millisBehindLatest: 0, delivered: 0 };
    return progress[shardId];
  };
  let running = true;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const toEvent = (records: _Record[], shardId: string): KinesisStreamEvent => ({
    Records: records.map((r) => ({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${r.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      eventSourceARN: mapping.streamArn,
      awsRegion: mapping.region,
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/local-aggregator',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey ?? '',
        sequenceNumber: r.SequenceNumber ?? '',
        data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp ?? new Date()).getTime() / 1000,
      },
    })),
  });

  /** Delivers a batch until it is done; returns how many leading records are settled. */
  async function deliver(records: _Record[], shardId: string, attempt = 0): Promise<void> {
    if (records.length === 0) return;
    let failedFrom: number | undefined;
    try {
      const response = await options.handler(toEvent(records, shardId));
      const failures = response?.batchItemFailures ?? [];
      if (failures.length > 0) {
        const ids = new Set(failures.map((f) => f.itemIdentifier));
        failedFrom = records.findIndex((r) => ids.has(r.SequenceNumber ?? ''));
        if (failedFrom < 0) failedFrom = 0;
      }
    } catch (error) {
      options.log(`aggregator threw on ${records.length} records: ${(error as Error).message}`);
      if (mapping.bisectBatchOnFunctionError && records.length > 1 && attempt < mapping.maxRetryAttempts) {
        const half = Math.ceil(records.length / 2);
        await deliver(records.slice(0, half), shardId, attempt + 1);
        await deliver(records.slice(half), shardId, attempt + 1);
        return;
      }
      failedFrom = 0;
    }
    if (failedFrom === undefined) {
      commit(shardId, records.at(-1));
      const shard = progressOf(shardId);
      shard.delivered += records.length;
      const age = Date.now() - (records[0]?.ApproximateArrivalTimestamp?.getTime() ?? Date.now());
      shard.iteratorAgeMs = Math.max(shard.iteratorAgeMs, age);
      return;
    }
    commit(shardId, failedFrom > 0 ? records[failedFrom - 1] : undefined);
    const rest = records.slice(failedFrom);
    if (attempt >= mapping.maxRetryAttempts) {
      options.onDiscard(rest, `gave up after ${attempt + 1} attempts`);
      commit(shardId, rest.at(-1));
      return;
    }
    await sleep(Math.min(100 * 2 ** attempt, 2000));
    if (running) await deliver(rest, shardId, attempt + 1);
  }

  function commit(shardId: string, record: _Record | undefined) {
    if (!record?.SequenceNumber) return;
    checkpoints.data[shardId] = record.SequenceNumber;
    checkpoints.save();
  }

  async function pollShard(shardId: string) {
    const after = checkpoints.data[shardId];
    let iterator = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: mapping.streamName,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      )
    ).ShardIterator;
    let buffer: _Record[] = [];
    let windowStart = Date.now();
    while (running && iterator) {
      const result = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: mapping.batchSize }),
      );
      iterator = result.NextShardIterator;
      buffer.push(...(result.Records ?? []));
      const shard = progressOf(shardId);
      shard.millisBehindLatest = result.MillisBehindLatest ?? 0;
      const windowOver = Date.now() - windowStart >= mapping.maxBatchingWindowMs;
      if (buffer.length >= mapping.batchSize || (buffer.length > 0 && windowOver)) {
        const batch = buffer.slice(0, mapping.batchSize);
        buffer = buffer.slice(mapping.batchSize);
        await deliver(batch, shardId);
        windowStart = Date.now();
      } else if (buffer.length === 0) {
        windowStart = Date.now();
      }
      if ((result.Records ?? []).length === 0) await sleep(options.pollIntervalMs);
    }
  }

  const done = (async () => {
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: mapping.streamName }));
    await Promise.all(
      Shards.map(async (shard) => {
        while (running) {
          try {
            await pollShard(shard.ShardId ?? '');
          } catch (error) {
            if (!running) return;
            options.log(`shard ${shard.ShardId}: ${(error as Error).message}; polling again`);
            await sleep(1000);
          }
        }
      }),
    );
  })();

  return {
    /** each shard's progress since the last call (the oldest record's age at delivery, at most) */
    progress: () => {
      const read = structuredClone(progress);
      for (const shard of Object.values(progress)) shard.iteratorAgeMs = 0;
      return read;
    },
    async stop() {
      running = false;
      wake?.();
      await done.catch(() => undefined);
    },
  };
}
