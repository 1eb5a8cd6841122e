import { createHash } from 'node:crypto';
import { errors } from '../errors/app-error';
import { ConditionFailedError, type Store, type StoredItem } from '../store/store';
import type { HttpResult } from './route';

const TTL_SECONDS = 24 * 3600;
const KEY_PATTERN = /^[A-Za-z0-9_.:-]{1,255}$/;

interface IdempotencyRecord extends StoredItem {
  requestHash: string;
  state: 'in-progress' | 'done';
  response?: HttpResult;
  expiresAt: number;
}

/**
 * Idempotency-Key on POST: the same key and body within 24 hours replays the first
 * response; the same key with another body answers 422; a retry while the first is still
 * running answers 409. Records live in the tenant's own partition.
 */
export function makeIdempotency(store: Store) {
  const itemKey = (tenantId: string, operationId: string, key: string) => ({
    pk: `T#${tenantId}#IDEM`,
    sk: `${operationId}#${key}`,
  });

  return {
    async run(
      scope: { tenantId: string; operationId: string; key: string; body: unknown },
      execute: () => Promise<HttpResult>,
    ): Promise<HttpResult> {
      if (!KEY_PATTERN.test(scope.key)) {
        throw errors.validation([
          { path: 'Idempotency-Key', message: 'Use 1 to 255 letters, digits or _.:-' },
        ]);
      }
      const key = itemKey(scope.tenantId, scope.operationId, scope.key);
      const requestHash = createHash('sha256')
        .update(JSON.stringify(scope.body ?? null))
        .digest('base64url');
      try {
        await store.create<IdempotencyRecord>({
          ...key,
          requestHash,
          state: 'in-progress',
          expiresAt: store.nowSeconds() + TTL_SECONDS,
        });
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        const existing = await store.get<IdempotencyRecord>(key, true);
        if (!existing) return this.run(scope, execute);
        if (existing.requestHash !== requestHash) throw errors.idempotencyMismatch();
        if (existing.state !== 'done' || !existing.response) throw errors.idempotencyInProgress();
        return {
          ...existing.response,
          headers: { ...existing.response.headers, 'Idempotent-Replayed': 'true' },
        };
      }
      let response: HttpResult;
      try {
        response = await execute();
      } catch (error) {
        // The request did not take effect: free the key so a corrected retry can run.
        await store.remove(key);
        throw error;
      }
      await store.update(key, { state: 'done', response });
      return response;
    },
  };
}
