import type { ItemKey, StoredItem, TransactItem } from './items';

/**
 * What must hold of an item for a write to go through, in words; the store turns it into a
 * condition expression with placeholders for every name and value, so no caller writes one.
 */
export interface Conditions {
  /** the item exists (true) or not (false); unset, no requirement */
  exists?: boolean;
  equals?: Record<string, unknown>;
  absent?: readonly string[];
  /** the attribute is absent or below the value */
  belowOrAbsent?: Record<string, number | string>;
  above?: Record<string, number>;
  oneOf?: Record<string, readonly unknown[]>;
}

/** A change to an item's attributes: set (undefined removes), add to numbers, and the version bumped. */
export interface Change {
  set?: Record<string, unknown>;
  add?: Record<string, number>;
  /** bump `version` (default true), so optimistic readers see the change */
  bumpVersion?: boolean;
}

/** Placeholders for names and values, numbered apart within one expression. */
export class Placeholders {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private n = 0;
  constructor(private readonly prefix: string) {}
  name(attribute: string): string {
    const path = attribute.split('.').map((part) => {
      const found = Object.entries(this.names).find(([, v]) => v === part)?.[0];
      if (found) return found;
      this.n += 1;
      const placeholder = `#${this.prefix}${this.n}`;
      this.names[placeholder] = part;
      return placeholder;
    });
    return path.join('.');
  }
  value(value: unknown): string {
    this.n += 1;
    const placeholder = `:${this.prefix}${this.n}`;
    this.values[placeholder] = value;
    return placeholder;
  }
}

/** The condition expression of `where`, or undefined when it asks nothing. */
export function conditionOf(where: Conditions, p: Placeholders): string | undefined {
  const parts: string[] = [];
  if (where.exists === true) parts.push(`attribute_exists(${p.name('pk')})`);
  if (where.exists === false) parts.push(`attribute_not_exists(${p.name('pk')})`);
  for (const [a, v] of Object.entries(where.equals ?? {})) parts.push(`${p.name(a)} = ${p.value(v)}`);
  for (const a of where.absent ?? []) parts.push(`attribute_not_exists(${p.name(a)})`);
  for (const [a, v] of Object.entries(where.belowOrAbsent ?? {})) {
    const name = p.name(a);
    parts.push(`(attribute_not_exists(${name}) OR ${name} < ${p.value(v)})`);
  }
  for (const [a, v] of Object.entries(where.above ?? {})) parts.push(`${p.name(a)} > ${p.value(v)}`);
  for (const [a, vs] of Object.entries(where.oneOf ?? {})) {
    parts.push(`${p.name(a)} IN (${vs.map((v) => p.value(v)).join(', ')})`);
  }
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

/** The update expression of a change. */
export function updateOf(change: Change, p: Placeholders): string {
  const sets: string[] = [];
  const removes: string[] = [];
  const adds: string[] = [];
  for (const [a, v] of Object.entries(change.set ?? {})) {
    if (v === undefined) removes.push(p.name(a));
    else sets.push(`${p.name(a)} = ${p.value(v)}`);
  }
  if (change.bumpVersion ?? true) {
    const version = p.name('version');
    sets.push(`${version} = if_not_exists(${version}, ${p.value(0)}) + ${p.value(1)}`);
  }
  for (const [a, v] of Object.entries(change.add ?? {})) adds.push(`${p.name(a)} ${p.value(v)}`);
  return [
    sets.length > 0 ? `SET ${sets.join(', ')}` : '',
    adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
    removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

const withCondition = (where: Conditions, p: Placeholders) => {
  const condition = conditionOf(where, p);
  return condition ? { ConditionExpression: condition } : {};
};

const placeholders = (p: Placeholders) => ({
  ...(Object.keys(p.names).length > 0 ? { ExpressionAttributeNames: p.names } : {}),
  ...(Object.keys(p.values).length > 0 ? { ExpressionAttributeValues: p.values } : {}),
});

/** A transaction's put of a new item: it fails when the key is taken. */
export function putNew(item: StoredItem): TransactItem {
  const p = new Placeholders('n');
  return {
    Put: { Item: { version: 1, ...item }, ...withCondition({ exists: false }, p), ...placeholders(p) },
  };
}

/**
 * A transaction's put of a whole item over the version read (none: only while there is none),
 * for read-merge-write inside a transaction.
 */
export function putOverVersion(item: StoredItem, expectedVersion: number | undefined): TransactItem {
  const p = new Placeholders('v');
  const where: Conditions =
    expectedVersion === undefined ? { exists: false } : { equals: { version: expectedVersion } };
  return { Put: { Item: item, ...withCondition(where, p), ...placeholders(p) } };
}

/** A transaction's put of a whole item, whatever was there. */
export const putItem = (item: StoredItem): TransactItem => ({ Put: { Item: item } });

/** A transaction's delete; by default only of an item that exists. */
export function deleteItem(key: ItemKey, where: Conditions = { exists: true }): TransactItem {
  const p = new Placeholders('d');
  return { Delete: { Key: key, ...withCondition(where, p), ...placeholders(p) } };
}

/** A transaction's check that an item holds what `where` says (exists, by default), writing nothing. */
export function conditionCheck(key: ItemKey, where: Conditions = { exists: true }): TransactItem {
  const p = new Placeholders('c');
  return {
    ConditionCheck: {
      Key: key,
      ConditionExpression: conditionOf(where, p) ?? `attribute_exists(${p.name('pk')})`,
      ...placeholders(p),
    },
  } as TransactItem;
}

/** A transaction's update; by default only of an item that exists. */
export function updateItem(key: ItemKey, change: Change, where: Conditions = { exists: true }): TransactItem {
  const p = new Placeholders('u');
  const expression = updateOf(change, p);
  return {
    Update: { Key: key, UpdateExpression: expression, ...withCondition(where, p), ...placeholders(p) },
  };
}

/** A transaction's item under a name, so a refusal can say it was this one (TransactionFailedError.refusedBy). */
export const named = (name: string, item: TransactItem): TransactItem => ({ ...item, name });
