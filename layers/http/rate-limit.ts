import { errors } from '../errors/app-error';
import type { Store } from '../store/store';

/** What is counted: one subject's requests in fixed windows of `windowSeconds`. */
export interface RateCounter {
  /** the partition the counter lives in */
  pk: string;
  /** who is counted: an address, an account, a principal */
  subject: string;
  windowSeconds: number;
}

export interface Counted {
  count: number;
  /** seconds until the window ends */
  reset: number;
  windowSeconds: number;
}

export interface RateLimitState extends Counted {
  limit: number;
  remaining: number;
  /** this request went over the limit */
  exceeded: boolean;
}

/** Adds `delta` to a window's counter in DynamoDB and answers the shared total. */
async function addToWindow(
  store: Store,
  counter: RateCounter,
  windowStart: number,
  delta: number,
): Promise<number> {
  const windowEnd = windowStart + counter.windowSeconds * 1000;
  const { count } = await store.increment(
    { pk: counter.pk, sk: `RL#${counter.subject}#${windowStart}` },
    { count: delta },
    // kept a window longer than needed, so a clock a little behind never finds it gone
    { entity: 'rate-limit', expiresAt: Math.ceil(windowEnd / 1000) + counter.windowSeconds },
  );
  return count ?? delta;
}

/** What this function instance knows of a window: the shared total it last read, and what it has not added yet. */
interface LocalWindow {
  windowStart: number;
  shared: number;
  pending: number;
  lastFlush: number;
  flushing?: Promise<void> | undefined;
}

const windows = new Map<string, LocalWindow>();

async function flush(store: Store, counter: RateCounter, local: LocalWindow): Promise<number> {
  const delta = local.pending;
  local.pending = 0;
  local.lastFlush = Date.now();
  try {
    const total = await addToWindow(store, counter, local.windowStart, delta);
    local.shared = Math.max(local.shared, total);
    return total;
  } catch (error) {
    local.pending += delta;
    throw error;
  }
}

/**
 * Counts one request in a fixed-window counter shared by every function instance (an atomic
 * DynamoDB ADD, expiring by TTL after its window).
 *
 * With `exact`, every request waits for its own ADD. Otherwise, while this instance's
 * estimate (the shared total it last read plus what it has counted since) is below half the
 * limit, the request goes on at once and the instance adds its count in the background at
 * most once a second; from half the limit on, every request waits for the shared total. So
 * a principal far from its limit costs no request on the way, and one near it is counted exactly.
 */
export async function count(
  store: Store,
  counter: RateCounter,
  nowMs: number,
  options: { exact: boolean; limit: number },
): Promise<Counted> {
  const windowMs = counter.windowSeconds * 1000;
  const windowStart = Math.floor(nowMs / windowMs) * windowMs;
  const reset = Math.max(1, Math.ceil((windowStart + windowMs - nowMs) / 1000));
  const key = `${counter.pk}\n${counter.subject}`;
  let local = windows.get(key);
  if (!local || local.windowStart !== windowStart) {
    if (windows.size > 10_000) windows.clear();
    local = { windowStart, shared: 0, pending: 0, lastFlush: 0 };
    windows.set(key, local);
  }
  local.pending += 1;
  const estimate = local.shared + local.pending;
  if (!options.exact && estimate < options.limit / 2) {
    if (!local.flushing && Date.now() - local.lastFlush >= 1000) {
      const window = local;
      window.flushing = flush(store, counter, window)
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => {
          window.flushing = undefined;
        });
    }
    return { count: estimate, reset, windowSeconds: counter.windowSeconds };
  }
  await local.flushing;
  return { count: await flush(store, counter, local), reset, windowSeconds: counter.windowSeconds };
}

/** A count held against its limit. */
export const against = (counted: Counted, limit: number): RateLimitState => ({
  ...counted,
  limit,
  remaining: Math.max(0, limit - counted.count),
  exceeded: counted.count > limit,
});

/** The RateLimit headers (IETF httpapi draft) of the tightest limit. */
export function rateLimitHeaders(states: RateLimitState[]): Record<string, string> {
  const tightest = [...states].sort((a, b) => a.remaining - b.remaining || b.reset - a.reset)[0];
  if (!tightest) return {};
  return {
    'RateLimit-Policy': states.map((s) => `${s.limit};w=${s.windowSeconds}`).join(', '),
    'RateLimit-Limit': String(tightest.limit),
    'RateLimit-Remaining': String(tightest.remaining),
    'RateLimit-Reset': String(tightest.reset),
  };
}

/** The headers for the states; throws 429 with Retry-After when any limit is used up. */
export function admit(states: RateLimitState[]): Record<string, string> {
  const headers = rateLimitHeaders(states);
  const exceeded = states.filter((s) => s.exceeded);
  if (exceeded.length > 0) throw errors.rateLimited(Math.max(...exceeded.map((s) => s.reset)), headers);
  return headers;
}
