import { createHash, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { AwsServiceError } from './aws-json-protocol';

interface Message {
  id: string;
  body: string;
  sentAt: number;
  firstReceivedAt?: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

interface Queue {
  name: string;
  url: string;
  arn: string;
  visibilityTimeoutSeconds: number;
  /** redrive: after this many receives the next receive moves the message to `deadLetter` */
  maxReceiveCount?: number;
  deadLetter?: Queue;
  messages: Message[];
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * The SQS stand-in (AWS JSON 1.0, `AmazonSQS.<Operation>`): queues with a visibility timeout,
 * receive counts and a redrive policy to a dead-letter queue, and an event source mapping that
 * invokes a handler with the SQSEvent Lambda builds, deletes what it did not report as failed
 * (ReportBatchItemFailures) and leaves the rest to come back when their visibility ends.
 */
export function makeLocalSqs(options: { endpoint: string; account: string; region: string }) {
  const queues = new Map<string, Queue>();
  const byUrl = (url: unknown) => {
    const queue = queues.get(String(url));
    if (!queue)
      throw new AwsServiceError('AWS.SimpleQueueService.NonExistentQueue', `No queue ${String(url)}`);
    return queue;
  };
  const send = (queue: Queue, body: string, delaySeconds = 0) => {
    const message: Message = {
      id: randomUUID(),
      body,
      sentAt: Date.now(),
      receiveCount: 0,
      visibleAt: Date.now() + delaySeconds * 1000,
    };
    queue.messages.push(message);
    return { MessageId: message.id, MD5OfMessageBody: md5(body) };
  };
  const findByHandle = (queue: Queue, handle: unknown) => {
    const message = queue.messages.find((m) => m.receiptHandle === handle);
    if (!message) throw new AwsServiceError('ReceiptHandleIsInvalid', 'The receipt handle is not valid');
    return message;
  };
  /** Takes up to `max` visible messages, hiding them for the visibility timeout; redrives the over-received. */
  const receive = (queue: Queue, max: number) => {
    const now = Date.now();
    const taken: Message[] = [];
    for (const message of [...queue.messages]) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      if (queue.deadLetter && queue.maxReceiveCount && message.receiveCount >= queue.maxReceiveCount) {
        queue.messages.splice(queue.messages.indexOf(message), 1);
        const { receiptHandle: _r, ...rest } = message;
        queue.deadLetter.messages.push({ ...rest, visibleAt: now });
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + queue.visibilityTimeoutSeconds * 1000;
      message.receiptHandle = randomUUID();
      taken.push(message);
    }
    return taken;
  };
  const remove = (queue: Queue, message: Message) => {
    const at = queue.messages.indexOf(message);
    if (at >= 0) queue.messages.splice(at, 1);
  };

  return {
    createQueue(
      name: string,
      settings: { visibilityTimeoutSeconds: number; maxReceiveCount?: number; deadLetter?: string },
    ) {
      const url = `${options.endpoint}/${options.account}/${name}`;
      const deadLetter = settings.deadLetter
        ? queues.get(`${options.endpoint}/${options.account}/${settings.deadLetter}`)
        : undefined;
      const queue: Queue = {
        name,
        url,
        arn: `arn:aws:sqs:${options.region}:${options.account}:${name}`,
        visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
        ...(settings.maxReceiveCount ? { maxReceiveCount: settings.maxReceiveCount } : {}),
        ...(deadLetter ? { deadLetter } : {}),
        messages: [],
      };
      queues.set(url, queue);
      return url;
    },
    /** the bodies a queue holds now (visible or not) */
    bodies: (url: string) => byUrl(url).messages.map((m) => m.body),
    operations: {
      SendMessage: (input: Record<string, unknown>) =>
        send(byUrl(input.QueueUrl), String(input.MessageBody ?? ''), Number(input.DelaySeconds ?? 0)),
      SendMessageBatch(input: Record<string, unknown>) {
        const queue = byUrl(input.QueueUrl);
        const entries = (input.Entries ?? []) as { Id: string; MessageBody: string; DelaySeconds?: number }[];
        if (entries.length === 0 || entries.length > 10) {
          throw new AwsServiceError('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', '1 to 10 entries');
        }
        return {
          Successful: entries.map((e) => ({ Id: e.Id, ...send(queue, e.MessageBody, e.DelaySeconds ?? 0) })),
          Failed: [],
        };
      },
      ReceiveMessage(input: Record<string, unknown>) {
        const queue = byUrl(input.QueueUrl);
        return {
          Messages: receive(queue, Number(input.MaxNumberOfMessages ?? 1)).map((m) => ({
            MessageId: m.id,
            ReceiptHandle: m.receiptHandle,
            Body: m.body,
            MD5OfBody: md5(m.body),
            Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
          })),
        };
      },
      DeleteMessage(input: Record<string, unknown>) {
        const queue = byUrl(input.QueueUrl);
        remove(queue, findByHandle(queue, input.ReceiptHandle));
        return {};
      },
      ChangeMessageVisibility(input: Record<string, unknown>) {
        const queue = byUrl(input.QueueUrl);
        const message = findByHandle(queue, input.ReceiptHandle);
        const seconds = Number(input.VisibilityTimeout);
        if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) {
          throw new AwsServiceError('InvalidParameterValue', 'VisibilityTimeout must be 0 to 43200');
        }
        message.visibleAt = Date.now() + seconds * 1000;
        return {};
      },
      GetQueueAttributes(input: Record<string, unknown>) {
        const queue = byUrl(input.QueueUrl);
        const now = Date.now();
        return {
          Attributes: {
            ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.visibleAt <= now).length),
            ApproximateNumberOfMessagesNotVisible: String(
              queue.messages.filter((m) => m.visibleAt > now).length,
            ),
            QueueArn: queue.arn,
          },
        };
      },
    },
    /**
     * Lambda's event source mapping on a queue: polls, invokes with up to `batchSize` records,
     * deletes the records not reported failed. A handler that throws fails the whole batch.
     */
    startMapping(
      url: string,
      mapping: {
        batchSize: number;
        handler: (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;
        pollIntervalMs?: number;
        log?: (message: string) => void;
      },
    ) {
      const queue = byUrl(url);
      let running = true;
      let busy: Promise<void> = Promise.resolve();
      const tick = async () => {
        const batch = receive(queue, mapping.batchSize);
        if (batch.length === 0) return;
        const event: SQSEvent = {
          Records: batch.map((m) => ({
            messageId: m.id,
            receiptHandle: m.receiptHandle ?? '',
            body: m.body,
            attributes: {
              ApproximateReceiveCount: String(m.receiveCount),
              SentTimestamp: String(m.sentAt),
              SenderId: options.account,
              ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? Date.now()),
            },
            messageAttributes: {},
            md5OfBody: md5(m.body),
            eventSource: 'aws:sqs',
            eventSourceARN: queue.arn,
            awsRegion: options.region,
          })),
        };
        try {
          const response = await mapping.handler(event);
          const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
          for (const message of batch) if (!failed.has(message.id)) remove(queue, message);
        } catch (error) {
          mapping.log?.(`queue ${queue.name}: the batch failed: ${String(error)}`);
        }
      };
      const timer = setInterval(() => {
        if (!running) return;
        busy = busy.then(tick).catch(() => undefined);
      }, mapping.pollIntervalMs ?? 100);
      timer.unref();
      return async () => {
        running = false;
        clearInterval(timer);
        await busy;
      };
    },
  };
}
