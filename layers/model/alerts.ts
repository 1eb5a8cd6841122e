import type { StoredItem, TransactItem } from '../store/store';
import { tenantPartition } from './keys';

/** What a rule watches: a gauge of the latest sample, a percentile of the minute, or a service. */
export const alertComparisons = ['>', '>=', '<', '<='] as const;
export type AlertComparison = (typeof alertComparisons)[number];
export const alertSeverities = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof alertSeverities)[number];
export const alertStates = ['ok', 'pending', 'firing'] as const;
export type AlertState = (typeof alertStates)[number];
/** What a transition is: pending (the condition holds), firing (for long enough), resolved, cleared (pending that never fired). */
export const alertTransitions = ['pending', 'firing', 'resolved', 'cleared'] as const;
export type AlertTransition = (typeof alertTransitions)[number];

export type AlertScope =
  | { kind: 'all' }
  | { kind: 'server'; serverId: string }
  | { kind: 'tag'; tag: string };

/**
 * A tenant's alert rule: `metric comparison threshold` for `forSeconds` on the servers of its
 * scope. The metric is an observation's key (functions/alerts/observation.ts): a gauge
 * (`cpuPercent`), a percentile of the current minute (`cpuPercent.p95`) or a service
 * (`service.phpFpm`, 1 up, 0 down).
 */
export interface AlertRuleItem extends StoredItem {
  entity: 'alert-rule';
  id: string;
  tenantId: string;
  name: string;
  metric: string;
  comparison: AlertComparison;
  threshold: number;
  forSeconds: number;
  /** a firing alert resolves once the condition has not held for this long (flapping stays firing) */
  recoverSeconds: number;
  severity: AlertSeverity;
  scope: AlertScope;
  enabled: boolean;
  emails: string[];
  webhooks: { url: string }[];
  /** signs the rule's webhooks (HMAC-SHA256); shown once, when the rule is made */
  webhookSecret: string;
  createdAt: string;
  updatedAt: string;
  /** a rule on a server's silence is in the heartbeat index */
  gsi1pk?: string;
  gsi1sk?: string;
}

/** A silence: no notification for what it matches while it is active; a maintenance window repeats weekly. */
export interface SilenceItem extends StoredItem {
  entity: 'silence';
  id: string;
  tenantId: string;
  comment: string;
  /** what it silences; every given field must match (none: every alert of the tenant) */
  match: { ruleId?: string; serverId?: string; tag?: string };
  startsAt: string;
  endsAt?: string;
  /** a maintenance window: weekly on these days (0 Sunday), from `start` (UTC) for `durationMinutes` */
  repeat?: { weekdays: number[]; start: string; durationMinutes: number };
  createdAt: string;
}

/** One rule's state on one server: ok, pending since a time, or firing since one. */
export interface AlertStateItem extends StoredItem {
  entity: 'alert-state';
  tenantId: string;
  ruleId: string;
  serverId: string;
  state: AlertState;
  /** when the condition began to hold (pending and firing) */
  since?: string;
  /** when a firing alert's condition stopped holding, while it waits out the rule's recovery */
  clearingSince?: string;
  firedAt?: string;
  lastValue?: number;
  /** the newest observation evaluated: an older one changes nothing */
  evaluatedAt: string;
  version: number;
}

/** One transition of one rule on one server, kept for the rule's history. */
export interface AlertEventItem extends StoredItem {
  entity: 'alert-event';
  id: string;
  tenantId: string;
  ruleId: string;
  ruleName: string;
  serverId: string;
  serverName: string;
  transition: AlertTransition;
  severity: AlertSeverity;
  metric: string;
  comparison: AlertComparison;
  threshold: number;
  value: number;
  at: string;
  silenced: boolean;
  expiresAt: number;
}

/** The alerts firing now, one entry each, on one item the dashboard reads with the counters. */
export interface FiringAlertsItem extends StoredItem {
  entity: 'firing-alerts';
  firing: Record<
    string,
    {
      ruleId: string;
      ruleName: string;
      serverId: string;
      severity: AlertSeverity;
      since: string;
      value: number;
    }
  >;
  count?: number;
}

/** The marker that one event's notifications went out (delivery is at least once, effect once). */
export interface AlertNotifiedItem extends StoredItem {
  entity: 'alert-notified';
  expiresAt: number;
}

/**
 * Alerts' keys, all in the tenant's partition: rules and silences under one prefix (the
 * evaluation reads both with one query), states by rule then server, history by rule then time.
 */
export const alertKeys = {
  configPrefix: 'ALERTCFG#',
  rulePrefix: 'ALERTCFG#RULE#',
  silencePrefix: 'ALERTCFG#SILENCE#',
  rule: (tenantId: string, ruleId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `ALERTCFG#RULE#${ruleId}`,
  }),
  silence: (tenantId: string, silenceId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `ALERTCFG#SILENCE#${silenceId}`,
  }),
  statePrefix: (ruleId: string) => `ALERTSTATE#${ruleId}#`,
  state: (tenantId: string, ruleId: string, serverId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `ALERTSTATE#${ruleId}#${serverId}`,
  }),
  historyPrefix: (ruleId: string) => `ALERTEVENT#${ruleId}#`,
  event: (tenantId: string, ruleId: string, at: string, serverId: string, transition: AlertTransition) => ({
    pk: tenantPartition(tenantId),
    sk: `ALERTEVENT#${ruleId}#${at}#${serverId}#${transition}`,
  }),
  firing: (tenantId: string) => ({ pk: tenantPartition(tenantId), sk: 'ALERTS#FIRING' }),
  notified: (tenantId: string, eventId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `ALERTNOTIFIED#${eventId}`,
  }),
};

/**
 * Rules on a server's silence, across tenants, in gsi1: the heartbeat sweep finds them (and
 * their tenants) with one Query.
 */
export const heartbeatRuleIndex = {
  partition: 'ALERTHEARTBEAT',
  keys: (tenantId: string, ruleId: string) => ({ gsi1pk: 'ALERTHEARTBEAT', gsi1sk: `${tenantId}#${ruleId}` }),
};

/** The key of an alert in the firing item's map: one rule on one server. */
export const firingKey = (ruleId: string, serverId: string) => `${ruleId}_${serverId}`;

/** The firing item, made empty where there is none, so transitions can set entries of its map. */
export const firingItemIfAbsent = (tenantId: string): TransactItem => ({
  Update: {
    Key: alertKeys.firing(tenantId),
    UpdateExpression: 'SET #entity = :entity, #firing = if_not_exists(#firing, :empty)',
    ExpressionAttributeNames: { '#entity': 'entity', '#firing': 'firing' },
    ExpressionAttributeValues: { ':entity': 'firing-alerts', ':empty': {} },
  },
});

/** An alert entering the firing item (`entry`) or leaving it (undefined), counted. */
export function firingChange(
  tenantId: string,
  ruleId: string,
  serverId: string,
  entry: FiringAlertsItem['firing'][string] | undefined,
): TransactItem {
  const names = { '#firing': 'firing', '#key': firingKey(ruleId, serverId), '#count': 'count' };
  return entry
    ? {
        Update: {
          Key: alertKeys.firing(tenantId),
          UpdateExpression: 'SET #firing.#key = :entry ADD #count :one',
          ConditionExpression: 'attribute_exists(#firing) AND attribute_not_exists(#firing.#key)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':entry': entry, ':one': 1 },
        },
      }
    : {
        Update: {
          Key: alertKeys.firing(tenantId),
          UpdateExpression: 'REMOVE #firing.#key ADD #count :minusOne',
          ConditionExpression: 'attribute_exists(#firing.#key)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':minusOne': -1 },
        },
      };
}

/** A rule as the API shows it: never its webhook secret. */
export function toAlertRule(item: AlertRuleItem) {
  return {
    id: item.id,
    name: item.name,
    metric: item.metric,
    comparison: item.comparison,
    threshold: item.threshold,
    forSeconds: item.forSeconds,
    recoverSeconds: item.recoverSeconds,
    severity: item.severity,
    scope: item.scope,
    enabled: item.enabled,
    emails: item.emails,
    webhooks: item.webhooks,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version ?? 1,
  };
}

export function toSilence(item: SilenceItem) {
  return {
    id: item.id,
    comment: item.comment,
    match: item.match,
    startsAt: item.startsAt,
    endsAt: item.endsAt ?? null,
    repeat: item.repeat ?? null,
    createdAt: item.createdAt,
  };
}

export function toAlertEvent(item: AlertEventItem) {
  return {
    id: item.id,
    ruleId: item.ruleId,
    serverId: item.serverId,
    serverName: item.serverName,
    transition: item.transition,
    severity: item.severity,
    value: item.value,
    threshold: item.threshold,
    at: item.at,
    silenced: item.silenced,
  };
}
