import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from 'aws-lambda';
import { sqsClient } from '../../layers/aws/clients';
import { sendMail } from '../../layers/mail/mailer';
import { type AlertNotifiedItem, type AlertRuleItem, alertKeys } from '../../layers/model/alerts';
import { logger } from '../../layers/observability/logger';
import { getPlatform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import type { eventDetail } from './evaluation';

export type AlertEventDetail = ReturnType<typeof eventDetail>;

/** What the webhook queue carries: one delivery of one event to one endpoint. */
export interface WebhookMessage {
  tenantId: string;
  ruleId: string;
  eventId: string;
  url: string;
  body: string;
}

const NOTIFIED_DAYS = 7;

function mailOf(detail: AlertEventDetail) {
  const firing = detail.transition === 'firing';
  return {
    subject: `[${detail.severity}] ${firing ? 'FIRING' : 'RESOLVED'}: ${detail.ruleName} on ${detail.serverName}`,
    text: [
      `${detail.ruleName} is ${firing ? 'firing' : 'resolved'} on ${detail.serverName} (${detail.serverId}).`,
      '',
      `${detail.metric} ${detail.comparison} ${detail.threshold}: ${detail.value} at ${detail.at}`,
      firing ? `The condition has held since ${detail.since}.` : `It had fired since ${detail.since}.`,
      '',
      `Rule: ${detail.ruleId}`,
    ].join('\n'),
  };
}

/**
 * The target of the alert-notifications rule: a firing or resolved alert emailed to its rule's
 * addresses and queued for each of its webhooks. EventBridge delivers at least once; a marker
 * per event makes the effect once (and is taken back when sending fails, so the retry sends).
 */
export async function handler(event: EventBridgeEvent<string, AlertEventDetail>): Promise<void> {
  const platform = await getPlatform();
  const detail = event.detail;
  const rule = await platform.store.get<AlertRuleItem>(alertKeys.rule(detail.tenantId, detail.ruleId));
  if (!rule) return;
  const marker: AlertNotifiedItem = {
    ...alertKeys.notified(detail.tenantId, detail.eventId),
    entity: 'alert-notified',
    expiresAt: Math.floor(platform.clock.now().getTime() / 1000) + NOTIFIED_DAYS * 86_400,
  };
  try {
    await platform.store.create(marker);
  } catch (error) {
    if (error instanceof ConditionFailedError) {
      logger.info('Alert event already notified', { eventId: detail.eventId });
      return;
    }
    throw error;
  }
  try {
    const mail = mailOf(detail);
    for (const to of rule.emails) await sendMail({ to, ...mail });
    const body = JSON.stringify({ type: `alert.${detail.transition}`, ...detail });
    const messages: WebhookMessage[] = rule.webhooks.map((w) => ({
      tenantId: rule.tenantId,
      ruleId: rule.id,
      eventId: detail.eventId,
      url: w.url,
      body,
    }));
    for (let i = 0; i < messages.length; i += 10) {
      const result = await sqsClient().send(
        new SendMessageBatchCommand({
          QueueUrl: platform.config.WEBHOOK_QUEUE_URL,
          Entries: messages
            .slice(i, i + 10)
            .map((m, n) => ({ Id: String(n), MessageBody: JSON.stringify(m) })),
        }),
      );
      if (result.Failed?.length) throw new Error(`SQS refused ${result.Failed.length} webhook messages`);
    }
  } catch (error) {
    await platform.store.remove(alertKeys.notified(detail.tenantId, detail.eventId));
    throw error;
  }
}
