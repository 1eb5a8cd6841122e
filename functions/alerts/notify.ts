import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent } from 'aws-lambda';
import { sqsClient } from '../../layers/aws/sqs';
import { eventSources } from '../../layers/events/rules';
import { sendMail } from '../../layers/mail/mailer';
import { type AlertNotifiedItem, type AlertRuleItem, alertKeys } from '../../layers/model/alerts';
import { type UptimeCheckItem, uptimeKeys } from '../../layers/model/uptime';
import { logger } from '../../layers/observability/logger';
import { getPlatform, type Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import type { eventDetail } from './evaluation';

export type AlertEventDetail = ReturnType<typeof eventDetail>;

/** An uptime incident's event (functions/uptime/sweep.ts). */
export interface UptimeEventDetail {
  eventId: string;
  tenantId: string;
  checkId: string;
  checkName: string;
  url: string;
  transition: 'down' | 'up';
  incidentId: string;
  openedAt: string;
  closedAt: string | null;
  cause: string;
  statusCode: number | null;
  latencyMs: number;
  at: string;
}

/** What sends notifications: an alert rule or an uptime check, each with its emails, webhooks and secret. */
export type NotifierKind = 'alert-rule' | 'uptime-check';

/** What the webhook queue carries: one delivery of one event to one endpoint. */
export interface WebhookMessage {
  tenantId: string;
  owner: { kind: NotifierKind; id: string };
  eventId: string;
  url: string;
  body: string;
}

/** The rule or check an event is of: who is told, and with which secret. */
export async function notifierOf(
  store: Platform['store'],
  tenantId: string,
  owner: WebhookMessage['owner'],
): Promise<Pick<AlertRuleItem, 'emails' | 'webhooks' | 'webhookSecret'> | undefined> {
  return owner.kind === 'alert-rule'
    ? store.get<AlertRuleItem>(alertKeys.rule(tenantId, owner.id))
    : store.get<UptimeCheckItem>(uptimeKeys.check(tenantId, owner.id));
}

const NOTIFIED_DAYS = 7;

function uptimeMailOf(detail: UptimeEventDetail) {
  const down = detail.transition === 'down';
  return {
    subject: `${down ? 'DOWN' : 'UP'}: ${detail.checkName} (${detail.url})`,
    text: [
      down
        ? `${detail.checkName} is down since ${detail.openedAt}: ${detail.cause}`
        : `${detail.checkName} is up again at ${detail.at}, after an outage from ${detail.openedAt}.`,
      '',
      `URL: ${detail.url}`,
      `Incident: ${detail.incidentId}`,
    ].join('\n'),
  };
}

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
 * The target of the alert-notifications and uptime-notifications rules: a firing or resolved
 * alert, or an uptime incident opened or closed, emailed to its rule's (or check's) addresses
 * and queued for each of its webhooks. EventBridge delivers at least once; a marker per event
 * makes the effect once (and is taken back when sending fails, so the retry sends).
 */
export async function handler(
  event: EventBridgeEvent<string, AlertEventDetail | UptimeEventDetail>,
): Promise<void> {
  const platform = await getPlatform();
  const uptime = event.source === eventSources.uptime;
  const detail = event.detail;
  const owner: WebhookMessage['owner'] = uptime
    ? { kind: 'uptime-check', id: (detail as UptimeEventDetail).checkId }
    : { kind: 'alert-rule', id: (detail as AlertEventDetail).ruleId };
  const notifier = await notifierOf(platform.store, detail.tenantId, owner);
  if (!notifier) return;
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
    const mail = uptime ? uptimeMailOf(detail as UptimeEventDetail) : mailOf(detail as AlertEventDetail);
    for (const to of notifier.emails) await sendMail({ to, ...mail });
    const body = JSON.stringify({ type: `${uptime ? 'uptime' : 'alert'}.${detail.transition}`, ...detail });
    const messages: WebhookMessage[] = notifier.webhooks.map((w) => ({
      tenantId: detail.tenantId,
      owner,
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
