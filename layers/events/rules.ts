/**
 * The platform's domain events and the EventBridge rules that route them: one definition read by
 * the CDK app (rules on the stage's bus) and by the local runtime's bus, which matches the same
 * patterns.
 */
export const eventSources = {
  alerts: 'vip-hosting-panel.alerts',
  uptime: 'vip-hosting-panel.uptime',
} as const;

/** Each alert transition is one event; its detail-type names the transition. */
export const alertDetailTypes = {
  pending: 'Alert pending',
  firing: 'Alert firing',
  resolved: 'Alert resolved',
  cleared: 'Alert cleared',
} as const;

/** An uptime check's incident opening (down) and closing (up). */
export const uptimeDetailTypes = {
  down: 'Uptime check down',
  up: 'Uptime check up',
} as const;

/** The functions rules deliver to (infra/stacks/alerts-stack.ts builds each). */
export type EventTarget = 'alert-notifier';

export interface EventRule {
  description: string;
  pattern: Record<string, unknown>;
  target: EventTarget;
}

export const eventRules = {
  // firing and resolved alerts notify their rule's emails and webhooks, unless silenced
  'alert-notifications': {
    description: "Firing and resolved alerts, not silenced: their rule's emails and webhooks",
    pattern: {
      source: [eventSources.alerts],
      'detail-type': [alertDetailTypes.firing, alertDetailTypes.resolved],
      detail: { silenced: [false] },
    },
    target: 'alert-notifier',
  },
  // an uptime check's incident opening and closing notify its emails and webhooks
  'uptime-notifications': {
    description: "Uptime incidents opened and closed: their check's emails and webhooks",
    pattern: { source: [eventSources.uptime] },
    target: 'alert-notifier',
  },
} as const satisfies Record<string, EventRule>;

export type EventRuleName = keyof typeof eventRules;
