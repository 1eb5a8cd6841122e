/**
 * EventBridge's event pattern matching, for the local bus: a pattern is an object whose leaves
 * are arrays of what a field may be (any one matches). Supported, as EventBridge documents
 * them: exact values (strings, numbers, booleans, null), `prefix`, `suffix`, `anything-but`
 * (values or a prefix), `numeric` ranges, `exists`, and nested objects; a field of the event
 * that is an array matches when any of its elements does.
 */
export type EventPattern = { [field: string]: EventPattern | readonly unknown[] };

type Matcher = Record<string, unknown>;

function matchesNumeric(value: unknown, conditions: readonly unknown[]): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1] as number;
    const holds =
      (op === '=' && value === bound) ||
      (op === '<' && value < bound) ||
      (op === '<=' && value <= bound) ||
      (op === '>' && value > bound) ||
      (op === '>=' && value >= bound);
    if (!holds) return false;
  }
  return true;
}

function matchesOne(value: unknown, condition: unknown): boolean {
  if (condition === null || typeof condition !== 'object') return value === condition;
  const matcher = condition as Matcher;
  if ('prefix' in matcher) return typeof value === 'string' && value.startsWith(String(matcher.prefix));
  if ('suffix' in matcher) return typeof value === 'string' && value.endsWith(String(matcher.suffix));
  if ('numeric' in matcher) return matchesNumeric(value, matcher.numeric as unknown[]);
  if ('anything-but' in matcher) {
    const but = matcher['anything-but'];
    if (but !== null && typeof but === 'object' && !Array.isArray(but)) {
      return !matchesOne(value, but);
    }
    const excluded = Array.isArray(but) ? but : [but];
    return value !== undefined && !excluded.includes(value);
  }
  throw new Error(`Unsupported event pattern matcher: ${JSON.stringify(condition)}`);
}

function matchesField(value: unknown, conditions: readonly unknown[]): boolean {
  const exists = conditions.find(
    (c): c is { exists: boolean } => c !== null && typeof c === 'object' && 'exists' in (c as Matcher),
  );
  if (exists) return exists.exists === (value !== undefined);
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => conditions.some((c) => matchesOne(v, c)));
}

/** Whether an event (the whole envelope: source, detail-type, detail, …) matches a pattern. */
export function matchesPattern(event: unknown, pattern: EventPattern): boolean {
  const object = (event ?? {}) as Record<string, unknown>;
  return Object.entries(pattern).every(([field, condition]) =>
    Array.isArray(condition)
      ? matchesField(object[field], condition)
      : object[field] !== null &&
        typeof object[field] === 'object' &&
        matchesPattern(object[field], condition as EventPattern),
  );
}
