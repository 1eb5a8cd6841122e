import { monotonicFactory } from 'ulid';

/** Generates prefixed ULIDs; injectable so tests can predict ids. */
export interface IdGenerator {
  next(prefix: IdPrefix): string;
}

/**
 * An id's type prefix: two to five lowercase letters. Each belongs to the context that owns
 * the entity (its definition's `idPrefixes`; a test holds every prefix the code uses to one).
 */
export type IdPrefix = string;

const PREFIX = /^[a-z]{2,5}$/;

export function ulidIds(): IdGenerator {
  const ulid = monotonicFactory();
  return {
    next: (prefix) => {
      if (!PREFIX.test(prefix)) throw new Error(`Not an id prefix: ${prefix}`);
      return `${prefix}_${ulid().toLowerCase()}`;
    },
  };
}

/** An injectable clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
