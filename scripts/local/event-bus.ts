import { randomUUID } from 'node:crypto';
import { type EventTarget, eventRules } from '../../layers/events/rules';
import { AwsServiceError } from './aws-json-protocol';
import { type EventPattern, matchesPattern } from './event-pattern';

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/**
 * The in-process EventBridge bus: PutEvents (AWS JSON 1.1, `AWSEvents.PutEvents`) builds each
 * event's envelope as EventBridge does, matches it against the same rules the CDK app creates
 * (layers/events/rules.ts) and invokes each matching rule's target asynchronously, retried with
 * backoff as EventBridge retries a Lambda target; what never succeeds is handed to `onDiscard`.
 */
export function makeLocalEventBus(options: {
  busName: string;
  account: string;
  region: string;
  targets: Record<EventTarget, (event: BusEvent) => Promise<unknown>>;
  retryAttempts?: number;
  retryDelayMs?: number;
  onDiscard?: (event: BusEvent, rule: string, error: unknown) => void;
  log?: (message: string) => void;
}) {
  const pending = new Set<Promise<void>>();
  const received: BusEvent[] = [];
  const deliver = async (rule: string, target: EventTarget, event: BusEvent) => {
    const attempts = options.retryAttempts ?? 3;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await options.targets[target](event);
        return;
      } catch (error) {
        if (attempt >= attempts) {
          options.log?.(`event ${event.id} to ${target} (rule ${rule}) failed: ${String(error)}`);
          options.onDiscard?.(event, rule, error);
          return;
        }
        await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 200) * 2 ** (attempt - 1)));
      }
    }
  };
  return {
    /** every event put on the bus, in order */
    received,
    /** resolves once every target invoked so far has finished (with its retries) */
    async settle(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    operations: {
      PutEvents(input: Record<string, unknown>) {
        const entries = (input.Entries ?? []) as {
          EventBusName?: string;
          Source?: string;
          DetailType?: string;
          Detail?: string;
          Resources?: string[];
        }[];
        if (entries.length === 0 || entries.length > 10) {
          throw new AwsServiceError('ValidationException', 'Entries must hold 1 to 10 entries');
        }
        const results = entries.map((entry) => {
          if (entry.EventBusName && entry.EventBusName !== options.busName) {
            return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `No bus ${entry.EventBusName}` };
          }
          let detail: Record<string, unknown>;
          try {
            detail = JSON.parse(entry.Detail ?? '{}') as Record<string, unknown>;
          } catch {
            return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' };
          }
          if (!entry.Source || !entry.DetailType) {
            return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source and DetailType are required' };
          }
          const event: BusEvent = {
            version: '0',
            id: randomUUID(),
            'detail-type': entry.DetailType,
            source: entry.Source,
            account: options.account,
            time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            region: options.region,
            resources: entry.Resources ?? [],
            detail,
          };
          received.push(event);
          for (const [name, rule] of Object.entries(eventRules)) {
            if (!matchesPattern(event, rule.pattern as unknown as EventPattern)) continue;
            const delivery = deliver(name, rule.target, event);
            pending.add(delivery);
            void delivery.finally(() => pending.delete(delivery));
          }
          return { EventId: event.id };
        });
        return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
      },
    },
  };
}
