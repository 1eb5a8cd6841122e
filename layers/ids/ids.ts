import { monotonicFactory } from 'ulid';

/** Generates prefixed ULIDs; injectable so tests can predict ids. */
export interface IdGenerator {
  next(prefix: IdPrefix): string;
}

export type IdPrefix = 'ten' | 'usr' | 'srv' | 'op' | 'req' | 'host' | 'rt' | 'tok' | 'inv' | 'plan' | 'key';

export function ulidIds(): IdGenerator {
  const ulid = monotonicFactory();
  return { next: (prefix) => `${prefix}_${ulid().toLowerCase()}` };
}

/** An injectable clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
