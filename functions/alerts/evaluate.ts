import type {
  AlertComparison,
  AlertRuleItem,
  AlertStateItem,
  AlertTransition,
  SilenceItem,
} from '../../layers/model/alerts';

/** What a rule is evaluated against: one server's values at one time, by metric name. */
export interface Observation {
  at: string;
  values: Record<string, number>;
}

export interface ServerFacts {
  id: string;
  name: string;
  tags: readonly string[];
}

const compare: Record<AlertComparison, (value: number, threshold: number) => boolean> = {
  '>': (v, t) => v > t,
  '>=': (v, t) => v >= t,
  '<': (v, t) => v < t,
  '<=': (v, t) => v <= t,
};

/** Whether a rule's scope takes in a server. */
export function inScope(rule: AlertRuleItem, server: ServerFacts): boolean {
  const { scope } = rule;
  if (scope.kind === 'server') return scope.serverId === server.id;
  if (scope.kind === 'tag') return server.tags.includes(scope.tag);
  return true;
}

const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

/** Whether a silence is in effect at a time: between its bounds, and in its window when it repeats. */
export function silenceActive(silence: SilenceItem, at: string): boolean {
  const time = Date.parse(at);
  if (time < Date.parse(silence.startsAt)) return false;
  if (silence.endsAt && time >= Date.parse(silence.endsAt)) return false;
  const { repeat } = silence;
  if (!repeat) return true;
  const [hours = 0, minutes = 0] = repeat.start.split(':').map(Number);
  // the window that began today or on one of the days before, as long as it lasts
  for (let daysBack = 0; daysBack * 1440 < repeat.durationMinutes + 1440; daysBack += 1) {
    const day = new Date(time - daysBack * 86_400_000);
    if (!repeat.weekdays.includes(day.getUTCDay())) continue;
    const start = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hours, minutes);
    if (time >= start && time < start + repeat.durationMinutes * 60_000) return true;
  }
  return false;
}

/** Whether any silence in effect at the time matches the rule on the server. */
export function silenced(
  silences: readonly SilenceItem[],
  rule: AlertRuleItem,
  server: ServerFacts,
  at: string,
): boolean {
  return silences.some(
    (s) =>
      (!s.match.ruleId || s.match.ruleId === rule.id) &&
      (!s.match.serverId || s.match.serverId === server.id) &&
      (!s.match.tag || server.tags.includes(s.match.tag)) &&
      silenceActive(s, at),
  );
}

export interface Step {
  state: AlertStateItem;
  transition?: AlertTransition;
  value: number;
}

/**
 * One rule on one server, one observation later: ok → pending when the condition holds,
 * pending → firing once it has held for the rule's `forSeconds` (or ok again, cleared, when it
 * stops first), firing → resolved once it has not held for `recoverSeconds`. An observation no
 * newer than the last evaluated, or without the rule's metric, changes nothing (undefined).
 */
export function step(
  rule: AlertRuleItem,
  current: AlertStateItem | undefined,
  observation: Observation,
  base: Pick<AlertStateItem, 'pk' | 'sk' | 'tenantId' | 'serverId'>,
): Step | undefined {
  const value = observation.values[rule.metric];
  if (value === undefined) return undefined;
  if (current && observation.at <= current.evaluatedAt) return undefined;
  const holds = compare[rule.comparison](value, rule.threshold);
  const at = observation.at;
  const previous = current?.state ?? 'ok';
  const next: AlertStateItem = {
    ...base,
    entity: 'alert-state',
    ruleId: rule.id,
    state: previous,
    ...(current?.since ? { since: current.since } : {}),
    ...(current?.clearingSince ? { clearingSince: current.clearingSince } : {}),
    ...(current?.firedAt ? { firedAt: current.firedAt } : {}),
    lastValue: value,
    evaluatedAt: at,
    version: (current?.version ?? 0) + 1,
  };
  const becomes = (state: AlertStateItem['state'], changes: Partial<AlertStateItem>) => {
    const { since: _s, clearingSince: _c, firedAt: _f, ...rest } = next;
    return { ...rest, state, ...changes } as AlertStateItem;
  };
  if (previous === 'ok') {
    if (!holds) return { state: next, value };
    if (rule.forSeconds === 0) {
      return { state: becomes('firing', { since: at, firedAt: at }), transition: 'firing', value };
    }
    return { state: becomes('pending', { since: at }), transition: 'pending', value };
  }
  if (previous === 'pending') {
    if (!holds) return { state: becomes('ok', {}), transition: 'cleared', value };
    const since = current?.since ?? at;
    if (seconds(since, at) >= rule.forSeconds) {
      return { state: becomes('firing', { since, firedAt: at }), transition: 'firing', value };
    }
    return { state: next, value };
  }
  // firing
  if (holds) {
    const { clearingSince: _c, ...kept } = next;
    return { state: kept as AlertStateItem, value };
  }
  const clearingSince = current?.clearingSince ?? at;
  if (seconds(clearingSince, at) >= rule.recoverSeconds) {
    return { state: becomes('ok', {}), transition: 'resolved', value };
  }
  return { state: { ...next, clearingSince }, value };
}
