import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../../layers/store/table-definition';

type Item = Record<string, AttributeValue>;

/**
 * An item's size as DynamoDB counts it for capacity (the "Item sizes and formats" rules): each
 * attribute's name in UTF-8 bytes plus its value: a string its UTF-8 bytes, a binary its bytes,
 * a number 1 byte per pair of digits plus 1 (below), a boolean or null 1 byte, a list or map 3
 * bytes plus 1 byte an element (and a map's names), a set its elements. For the writes DynamoDB
 * Local does not report capacity of (PartiQL statements).
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((size, [name, value]) => size + utf8(name) + valueSize(value), 0);
}

const units = (bytes: number) => Math.ceil(bytes / 1024);

/** An item's entry in an index: undefined when it lacks the index's keys. */
function entryIn(index: (typeof tableDefinition.indexes)[number], item: Item | undefined): Item | undefined {
  if (!item?.[index.partitionKey] || !item[index.sortKey]) return undefined;
  if (index.projection.type === 'ALL') return item;
  const names = [
    tableDefinition.partitionKey,
    tableDefinition.sortKey,
    index.partitionKey,
    index.sortKey,
    ...index.projection.attributes,
  ];
  return Object.fromEntries(names.flatMap((name) => (item[name] ? [[name, item[name]]] : [])));
}

/** A value with its maps' names in order, to compare two reads of the same attribute. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : 1)))
      : v,
  );

const same = (a: Item, b: Item, name: string) => canonical(a[name]) === canonical(b[name]);

/**
 * Write units of one write of an item, `before` and `after` it (absent where there is none), as
 * DynamoDB charges them: the larger of the two sizes, at least 1 unit (a write refused by its
 * condition too); and for each index, a put of the new entry, a delete of the old, both when
 * the index key changes, one write the size of the larger when a projected attribute changes.
 */
export function writeUnitsOf(before: Item | undefined, after: Item | undefined): number {
  let total = Math.max(1, units(Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0)));
  for (const index of tableDefinition.indexes) {
    const old = entryIn(index, before);
    const next = entryIn(index, after);
    if (!old && !next) continue;
    if (!old || !next) {
      total += units(itemSize((old ?? next) as Item));
      continue;
    }
    if (!same(old, next, index.partitionKey) || !same(old, next, index.sortKey)) {
      total += units(itemSize(old)) + units(itemSize(next));
      continue;
    }
    const names = new Set([...Object.keys(old), ...Object.keys(next)]);
    if ([...names].some((name) => !same(old, next, name))) {
      total += units(Math.max(itemSize(old), itemSize(next)));
    }
  }
  return total;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * A number: its digits in pairs either side of the decimal point (base 100), leading and
 * trailing pairs of zeros left out, 1 byte a pair, 1 more, and 1 more for a negative one; zero
 * is 1 byte.
 */
function numberSize(text: string): number {
  const negative = text.startsWith('-');
  const [mantissa = '', exponent = '0'] = text.replace(/^[-+]/, '').toLowerCase().split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');
  // the decimal point moved by the exponent
  const shift = Number(exponent);
  let digits = whole + fraction;
  let point = whole.length + shift;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  let integer = digits.slice(0, point);
  let decimals = digits.slice(point);
  if (integer.length % 2 === 1) integer = `0${integer}`;
  if (decimals.length % 2 === 1) decimals = `${decimals}0`;
  const pairs = (integer + decimals).match(/../g) ?? [];
  let from = 0;
  let to = pairs.length;
  while (from < to && pairs[from] === '00') from += 1;
  while (to > from && pairs[to - 1] === '00') to -= 1;
  if (to === from) return 1;
  return to - from + 1 + (negative ? 1 : 0);
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.length, 0);
  if (value.L !== undefined) return value.L.reduce((n, v) => n + 1 + valueSize(v), 3);
  if (value.M !== undefined) {
    return Object.entries(value.M).reduce((n, [name, v]) => n + 1 + utf8(name) + valueSize(v), 3);
  }
  return 0;
}
