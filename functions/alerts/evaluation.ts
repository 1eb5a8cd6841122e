import { createHash } from 'node:crypto';
import { publish } from '../../layers/events/bus';
import { alertDetailTypes, eventSources } from '../../layers/events/rules';
import {
  type AlertEventItem,
  type AlertRuleItem,
  type AlertStateItem,
  type AlertTransition,
  alertKeys,
  firingChange,
  type SilenceItem,
} from '../../layers/model/alerts';
import { tenantPartition } from '../../layers/model/keys';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { type TransactItem, TransactionFailedError } from '../../layers/store/store';
import { conditionCheck, named, putNew, putOverVersion } from '../../layers/store/writes';
import { inScope, type Observation, type ServerFacts, silenced, step } from './evaluate';

interface TenantConfig {
  readAt: number;
  rules: AlertRuleItem[];
  silences: SilenceItem[];
}

/** Each tenant's rules and silences as last read, for ALERT_CONFIG_CACHE_SECONDS. */
const configs = new Map<string, TenantConfig>();
/** Servers' names and tags as last read, for as long. */
const servers = new Map<string, { readAt: number; facts: ServerFacts | undefined }>();

/** Forgets what was read (tests change rules between evaluations). */
export function forgetAlertConfig(): void {
  configs.clear();
  servers.clear();
}

async function configOf(platform: Platform, tenantId: string): Promise<TenantConfig> {
  const maxAge = platform.config.ALERT_CONFIG_CACHE_SECONDS * 1000;
  const cached = configs.get(tenantId);
  if (cached && Date.now() - cached.readAt < maxAge) return cached;
  const rules: AlertRuleItem[] = [];
  const silences: SilenceItem[] = [];
  for await (const page of platform.store.pages<AlertRuleItem | SilenceItem>({
    pk: tenantPartition(tenantId),
    skPrefix: alertKeys.configPrefix,
    consistent: true,
  })) {
    for (const item of page) {
      if (item.entity === 'alert-rule') rules.push(item);
      else silences.push(item);
    }
  }
  const config = { readAt: Date.now(), rules, silences };
  if (configs.size > 5000) configs.clear();
  configs.set(tenantId, config);
  return config;
}

async function serverFacts(
  platform: Platform,
  wanted: { tenantId: string; serverId: string }[],
): Promise<Map<string, ServerFacts | undefined>> {
  const maxAge = platform.config.ALERT_CONFIG_CACHE_SECONDS * 1000;
  const found = new Map<string, ServerFacts | undefined>();
  const missing = wanted.filter(({ serverId }) => {
    const cached = servers.get(serverId);
    if (cached && Date.now() - cached.readAt < maxAge) {
      found.set(serverId, cached.facts);
      return false;
    }
    return true;
  });
  for (let i = 0; i < missing.length; i += 100) {
    const chunk = missing.slice(i, i + 100);
    const items = await platform.store.batchGet<ServerItem>(
      chunk.map((s) => serverKeys.item(s.tenantId, s.serverId)),
      true,
    );
    for (const { serverId } of chunk) {
      const item = items.find((s) => s.id === serverId);
      const facts = item ? { id: item.id, name: item.name, tags: item.tags ?? [] } : undefined;
      if (servers.size > 20_000) servers.clear();
      servers.set(serverId, { readAt: Date.now(), facts });
      found.set(serverId, facts);
    }
  }
  return found;
}

/** A transition's id, the same however often it is computed: what notifications deduplicate on. */
export const alertEventId = (ruleId: string, serverId: string, transition: AlertTransition, at: string) =>
  `alev_${createHash('sha256').update(`${ruleId}/${serverId}/${transition}/${at}`).digest('hex').slice(0, 26)}`;

export interface Evaluated {
  tenantId: string;
  serverId: string;
  /** the server's observation, of at least the metrics its rules watch */
  observe: (watched: ReadonlySet<string>) => Observation;
}

interface Change {
  rule: AlertRuleItem;
  server: ServerFacts;
  current: AlertStateItem | undefined;
  next: AlertStateItem;
  transition?: AlertTransition;
  value: number;
  silenced: boolean;
}

/**
 * Evaluates every enabled rule of each server's tenant whose scope takes the server in, against
 * the server's newest observation in the batch. Only transitions (and a firing alert's recovery
 * starting or stopping) write; each is one transaction, conditional on the state's version as
 * read: the state, the transition in the rule's history (its key fixed by the rule, server, time
 * and transition, so a redelivered batch cannot record it twice) and the firing item the
 * dashboard reads. The transition's event is put on the bus first: at least once, with an id
 * the notifications deduplicate on.
 */
export async function evaluateAlerts(platform: Platform, evaluated: readonly Evaluated[]): Promise<number> {
  const withRules: { entry: Evaluated; rules: AlertRuleItem[]; silences: SilenceItem[] }[] = [];
  for (const entry of evaluated) {
    const config = await configOf(platform, entry.tenantId);
    const rules = config.rules.filter((r) => r.enabled);
    if (rules.length > 0) withRules.push({ entry, rules, silences: config.silences });
  }
  if (withRules.length === 0) return 0;
  const facts = await serverFacts(
    platform,
    withRules.map(({ entry }) => ({ tenantId: entry.tenantId, serverId: entry.serverId })),
  );
  const pairs: { entry: Evaluated; rule: AlertRuleItem; server: ServerFacts; silences: SilenceItem[] }[] = [];
  for (const { entry, rules, silences } of withRules) {
    const server = facts.get(entry.serverId);
    if (!server) continue;
    for (const rule of rules) if (inScope(rule, server)) pairs.push({ entry, rule, server, silences });
  }
  const states = new Map<string, AlertStateItem>();
  for (let i = 0; i < pairs.length; i += 100) {
    const items = await platform.store.batchGet<AlertStateItem>(
      pairs.slice(i, i + 100).map((p) => alertKeys.state(p.entry.tenantId, p.rule.id, p.server.id)),
      true,
    );
    for (const item of items) states.set(item.sk, item);
  }
  const watched = new Map<Evaluated, Set<string>>();
  for (const { entry, rule } of pairs) watched.set(entry, (watched.get(entry) ?? new Set()).add(rule.metric));
  const observations = new Map<Evaluated, Observation>();
  const changes: Change[] = [];
  for (const { entry, rule, server, silences } of pairs) {
    let observation = observations.get(entry);
    if (!observation) {
      observation = entry.observe(watched.get(entry) ?? new Set());
      observations.set(entry, observation);
    }
    const key = alertKeys.state(entry.tenantId, rule.id, server.id);
    const current = states.get(key.sk);
    const result = step(rule, current, observation, {
      ...key,
      tenantId: entry.tenantId,
      serverId: server.id,
    });
    if (!result) continue;
    const recovering = result.state.clearingSince !== current?.clearingSince;
    if (!result.transition && !recovering) continue;
    changes.push({
      rule,
      server,
      current,
      next: result.state,
      value: result.value,
      silenced: silenced(silences, rule, server, observation.at),
      ...(result.transition ? { transition: result.transition } : {}),
    });
  }
  const transitions = changes.filter((c) => c.transition);
  await publish(
    transitions.map((c) => ({
      source: eventSources.alerts,
      detailType: alertDetailTypes[c.transition as AlertTransition],
      resources: [c.rule.id, c.server.id],
      detail: eventDetail(c),
    })),
  );
  await Promise.all(changes.map((change) => commit(platform, change)));
  metrics.addMetric('AlertTransitions', 'Count', transitions.length);
  return transitions.length;
}

export function eventDetail(c: Change) {
  const transition = c.transition as AlertTransition;
  return {
    eventId: alertEventId(c.rule.id, c.server.id, transition, c.next.evaluatedAt),
    tenantId: c.rule.tenantId,
    ruleId: c.rule.id,
    ruleName: c.rule.name,
    serverId: c.server.id,
    serverName: c.server.name,
    transition,
    state: c.next.state,
    severity: c.rule.severity,
    metric: c.rule.metric,
    comparison: c.rule.comparison,
    threshold: c.rule.threshold,
    value: c.value,
    at: c.next.evaluatedAt,
    since: c.next.since ?? c.current?.since ?? c.next.evaluatedAt,
    silenced: c.silenced,
  };
}

async function commit(platform: Platform, change: Change): Promise<void> {
  const { rule, server, next, transition } = change;
  // the rule still there: one deleted since this instance read the tenant's rules leaves nothing behind
  const items: TransactItem[] = [
    putOverVersion(next, change.current?.version),
    named('rule', conditionCheck(alertKeys.rule(rule.tenantId, rule.id))),
  ];
  if (transition) {
    const detail = eventDetail(change);
    const event: AlertEventItem = {
      ...alertKeys.event(rule.tenantId, rule.id, next.evaluatedAt, server.id, transition),
      entity: 'alert-event',
      id: detail.eventId,
      tenantId: rule.tenantId,
      ruleId: rule.id,
      ruleName: rule.name,
      serverId: server.id,
      serverName: server.name,
      transition,
      severity: rule.severity,
      metric: rule.metric,
      comparison: rule.comparison,
      threshold: rule.threshold,
      value: change.value,
      at: next.evaluatedAt,
      silenced: change.silenced,
      expiresAt:
        Math.floor(Date.parse(next.evaluatedAt) / 1000) + platform.config.ALERT_HISTORY_DAYS * 86_400,
    };
    items.push(putNew(event));
    if (transition === 'firing') {
      items.push(
        firingChange(rule.tenantId, rule.id, server.id, {
          ruleId: rule.id,
          ruleName: rule.name,
          serverId: server.id,
          severity: rule.severity,
          since: next.since ?? next.evaluatedAt,
          value: change.value,
        }),
      );
    }
    if (transition === 'resolved') items.push(firingChange(rule.tenantId, rule.id, server.id, undefined));
  }
  try {
    await platform.store.transact(items);
  } catch (error) {
    if (!(error instanceof TransactionFailedError)) throw error;
    if (error.refusedBy('rule')) {
      logger.info('Alert rule deleted under its evaluation', { ruleId: rule.id });
      return;
    }
    // another delivery of the same observation got there first: what it wrote is this
    const now = await platform.store.get<AlertStateItem>(
      alertKeys.state(rule.tenantId, rule.id, server.id),
      true,
    );
    if (now && now.evaluatedAt >= next.evaluatedAt) return;
    logger.warn('Alert state changed under its evaluation', {
      ruleId: rule.id,
      serverId: server.id,
      reasons: error.reasons,
    });
    throw error;
  }
}
