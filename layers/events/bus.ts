import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { eventsClient } from '../aws/events';
import { getConfig } from '../config/config';

export interface DomainEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  /** the ids of the resources the event is about */
  resources?: string[];
}

/** PutEvents takes at most this many entries. */
const BATCH = 10;

/**
 * Puts events on the platform's bus (locally, the in-process bus). Entries EventBridge refuses
 * are put again a few times; any still refused make it throw, so the caller's delivery is retried.
 */
export async function publish(events: readonly DomainEvent[]): Promise<void> {
  const bus = getConfig().EVENT_BUS_NAME;
  for (let i = 0; i < events.length; i += BATCH) {
    let entries: PutEventsRequestEntry[] = events.slice(i, i + BATCH).map((event) => ({
      EventBusName: bus,
      Source: event.source,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
      Resources: event.resources ?? [],
    }));
    for (let attempt = 1; entries.length > 0; attempt += 1) {
      const result = await eventsClient().send(new PutEventsCommand({ Entries: entries }));
      if (!result.FailedEntryCount) break;
      if (attempt >= 3) {
        throw new Error(
          `EventBridge refused ${result.FailedEntryCount} events: ${result.Entries?.find((e) => e.ErrorCode)?.ErrorCode}`,
        );
      }
      entries = entries.filter((_, n) => result.Entries?.[n]?.ErrorCode);
    }
  }
}
