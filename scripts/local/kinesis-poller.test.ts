import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKinesisLocal } from '../../test/support/kinesis';
import { eventually } from '../../test/support/runtime';
import { type EventSourceMapping, startKinesisPoller } from './kinesis-poller';

let kinesis: Awaited<ReturnType<typeof startKinesisLocal>>;

beforeAll(async () => {
  kinesis = await startKinesisLocal();
});

afterAll(async () => {
  await kinesis?.stop();
});

async function put(stream: string, values: string[]) {
  await kinesis.client.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: values.map((v) => ({ PartitionKey: 'one-shard', Data: Buffer.from(v) })),
    }),
  );
}

const decode = (event: KinesisStreamEvent) =>
  event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());

async function withPoller(
  stream: string,
  handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>,
  overrides: Partial<EventSourceMapping> = {},
) {
  const streamArn = await kinesis.createStream(stream);
  const discarded: string[][] = [];
  const poller = startKinesisPoller({
    client: kinesis.client,
    mapping: {
      streamName: stream,
      streamArn,
      region: 'us-east-1',
      batchSize: 10,
      maxBatchingWindowMs: 50,
      maxRetryAttempts: 2,
      bisectBatchOnFunctionError: true,
      ...overrides,
    },
    handler,
    pollIntervalMs: 50,
    onDiscard: (records) =>
      discarded.push(records.map((r) => Buffer.from(r.Data ?? new Uint8Array()).toString())),
    log: () => undefined,
  });
  return { poller, discarded };
}

describe('Module: local Kinesis event source mapping', () => {
  it('delivers KinesisStreamEvents in order with the record fields Lambda sets', async () => {
    const seen: KinesisStreamEvent[] = [];
    const { poller } = await withPoller('ordered', async (event) => {
      seen.push(event);
      return { batchItemFailures: [] };
    });
    await put('ordered', ['a', 'b', 'c']);
    await eventually(async () => (seen.flatMap(decode).length >= 3 ? true : undefined), 15_000);
    await poller.stop();
    expect(seen.flatMap(decode)).toEqual(['a', 'b', 'c']);
    expect(seen[0]?.Records[0]).toMatchObject({
      eventSource: 'aws:kinesis',
      eventSourceARN: expect.stringContaining(':stream/ordered'),
      kinesis: { partitionKey: 'one-shard', sequenceNumber: expect.any(String) },
    });
  });

  it('redelivers from the first reported failure, and only from there', async () => {
    const deliveries: string[][] = [];
    let failedOnce = false;
    const { poller } = await withPoller('partial', async (event) => {
      const values = decode(event);
      deliveries.push(values);
      const failing = event.Records.find((r) => Buffer.from(r.kinesis.data, 'base64').toString() === 'y');
      if (failing && !failedOnce) {
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: failing.kinesis.sequenceNumber }] };
      }
      return { batchItemFailures: [] };
    });
    await put('partial', ['x', 'y', 'z']);
    await eventually(async () => (deliveries.length >= 2 ? true : undefined), 15_000);
    await poller.stop();
    expect(deliveries[0]).toEqual(['x', 'y', 'z']);
    expect(deliveries[1]).toEqual(['y', 'z']);
    expect(deliveries.flat().filter((v) => v === 'x')).toHaveLength(1);
  });

  it('bisects a batch whose handler throws, and sends what keeps failing to the on-failure destination', async () => {
    const deliveries: string[][] = [];
    const { poller, discarded } = await withPoller('poison', async (event) => {
      const values = decode(event);
      deliveries.push(values);
      if (values.includes('poison')) throw new Error('cannot process');
      return { batchItemFailures: [] };
    });
    await put('poison', ['ok-1', 'poison', 'ok-2', 'ok-3']);
    await eventually(async () => (discarded.length > 0 ? true : undefined), 20_000);
    await poller.stop();
    expect(discarded).toEqual([['poison']]);
    const succeeded = deliveries.filter((d) => !d.includes('poison')).flat();
    expect(succeeded).toEqual(expect.arrayContaining(['ok-1', 'ok-2', 'ok-3']));
  });
});
