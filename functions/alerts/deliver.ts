import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsClient } from '../../layers/aws/sqs';
import { webhookQueue } from '../../layers/config/resources';
import { guardedAgentFor, reachOf, refusedEndpoint } from '../../layers/net/public-address';
import { logger, metrics } from '../../layers/observability/logger';
import { getPlatform, type Platform } from '../../layers/runtime/platform';
import { notifierOf, type WebhookMessage } from './notify';
import { signatureHeader } from './signature';

/** How long a failed delivery waits before its next try: the base doubled per try, at most 15 minutes. */
export const retryDelaySeconds = (base: number, receiveCount: number) =>
  Math.min(900, base * 2 ** Math.max(0, receiveCount - 1));

/** Sends one webhook; true when the endpoint answered 2xx. */
async function deliver(platform: Platform, message: WebhookMessage): Promise<boolean> {
  const notifier = await notifierOf(platform.store, message.tenantId, message.owner);
  // a rule or check deleted since, or an endpoint removed from it: nothing to deliver
  if (!notifier?.webhooks.some((w) => w.url === message.url)) return true;
  const refused = await refusedEndpoint(message.url, platform.config.WEBHOOK_TARGETS_LOCAL);
  if (refused) {
    logger.warn('Webhook endpoint refused', { url: message.url, refused });
    return true;
  }
  try {
    const status = await post(message.url, message.body, platform.config.WEBHOOK_TARGETS_LOCAL, {
      'content-type': 'application/json',
      'user-agent': 'VIP-Hosting-Panel-Webhooks/1',
      'x-vip-event-id': message.eventId,
      'x-vip-signature': signatureHeader(notifier.webhookSecret, message.body, platform.clock.now()),
    });
    if (status >= 200 && status < 300) return true;
    logger.warn('Webhook answered an error', { url: message.url, status, eventId: message.eventId });
  } catch (error) {
    logger.warn('Webhook unreachable', { url: message.url, error: (error as Error).message });
  }
  return false;
}

/**
 * POSTs a body and answers the status, following no redirect; every connection is checked
 * against the runtime's reach as it is made, so a name that resolves elsewhere after the check
 * above still cannot reach the platform's network.
 */
function post(url: string, body: string, local: boolean, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        timeout: webhookQueue.requestTimeoutSeconds * 1000,
        agent: guardedAgentFor(url, reachOf(local)),
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`No answer within ${webhookQueue.requestTimeoutSeconds} s`)),
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * The webhook queue's consumer: each message is one event for one endpoint, signed with its
 * rule's secret. A failed one is reported alone (ReportBatchItemFailures) and hidden for a
 * growing delay; after the queue's maxReceiveCount tries SQS moves it to the dead-letter queue.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const platform = await getPlatform();
  const failures: { itemIdentifier: string }[] = [];
  await Promise.all(
    event.Records.map(async (record: SQSRecord) => {
      let delivered = false;
      try {
        delivered = await deliver(platform, JSON.parse(record.body) as WebhookMessage);
      } catch (error) {
        logger.error('Webhook delivery failed', { error: error as Error });
      }
      metrics.addMetric(delivered ? 'WebhooksDelivered' : 'WebhookFailures', 'Count', 1);
      if (delivered) return;
      failures.push({ itemIdentifier: record.messageId });
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
      await sqsClient()
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: platform.config.WEBHOOK_QUEUE_URL,
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: retryDelaySeconds(platform.config.WEBHOOK_RETRY_BASE_SECONDS, receiveCount),
          }),
        )
        .catch((error: unknown) => logger.warn('Could not delay a webhook retry', { error: error as Error }));
    }),
  );
  metrics.publishStoredMetrics();
  return { batchItemFailures: failures };
}
