import { createHash } from 'node:crypto';
import { errors } from '../errors/app-error';
import { idempotencyKeys } from '../model/request-records';
import { ConditionFailedError, type Store, type StoredItem } from '../store/store';
import type { HttpResult } from './route';

const TTL_SECONDS = 24 * 3600;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,255}$/;

interface IdempotencyRecord extends StoredItem {
  requestHash: string;
  state: 'in-progress' | 'done';
  /** until when the first request may still be running; after it, a retry takes the key over */
  inProgressUntil?: number;
  response?: HttpResult;
  expiresAt: number;
}

/** A request under an Idempotency-Key: the answer to replay, or the hooks that settle the key. */
export interface IdempotentRequest {
  replay?: HttpResult;
  /** keeps the first answer for replays */
  record(result: HttpResult): Promise<void>;
  /** frees the key of a request that did not take effect */
  release(): Promise<void>;
}

const settled = (replay: HttpResult): IdempotentRequest => ({
  replay: { ...replay, headers: { ...replay.headers, 'Idempotent-Replayed': 'true' } },
  record: async () => undefined,
  release: async () => undefined,
});

/**
 * Idempotency-Key on POST, with the semantics of Powertools' idempotency: the same key and
 * body within 24 hours replays the first response; the same key with another body answers
 * 422; a retry while the first is still running answers 409, but only for as long as the
 * first can run (`inProgressSeconds`, the function's timeout): a request that crashed without
 * settling its key leaves it to the next retry instead of blocking it for a day. Records live
 * in the tenant's own partition.
 */
export function makeIdempotency(store: Store, inProgressSeconds = 60) {
  async function begin(scope: {
    tenantId: string;
    /** who sends it: a user, an API token, or `public` */
    caller: string;
    operationId: string;
    key: string;
    body: unknown;
  }): Promise<IdempotentRequest> {
    if (!KEY_PATTERN.test(scope.key)) {
      throw errors.validation([{ path: 'Idempotency-Key', message: 'Use 1 to 255 letters, digits or _.:-' }]);
    }
    const key = idempotencyKeys.item(scope.tenantId, scope.caller, scope.operationId, scope.key);
    const requestHash = createHash('sha256')
      .update(JSON.stringify(scope.body ?? null))
      .digest('base64url');
    const now = store.nowSeconds();
    const hooks: IdempotentRequest = {
      record: async (response) => {
        await store.update(key, { state: 'done', response, inProgressUntil: undefined });
      },
      release: () => store.remove(key),
    };
    try {
      await store.create<IdempotencyRecord>({
        ...key,
        requestHash,
        state: 'in-progress',
        inProgressUntil: now + inProgressSeconds,
        expiresAt: now + TTL_SECONDS,
      });
      return hooks;
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
    const existing = await store.get<IdempotencyRecord>(key, true);
    if (!existing) return begin(scope);
    if (existing.requestHash !== requestHash) throw errors.idempotencyMismatch();
    if (existing.state === 'done' && existing.response) return settled(existing.response);
    if ((existing.inProgressUntil ?? 0) > now) throw errors.idempotencyInProgress();
    // The first request's time is up without an answer: it crashed. This retry takes the key,
    // unless another retry took it first.
    try {
      await store.update(
        key,
        { inProgressUntil: now + inProgressSeconds },
        { expectedVersion: existing.version ?? 1 },
      );
    } catch (error) {
      if (error instanceof ConditionFailedError) throw errors.idempotencyInProgress();
      throw error;
    }
    return hooks;
  }

  return { begin };
}
