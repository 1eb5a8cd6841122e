import { makeIdempotency } from '../idempotency';
import { headerValue } from '../middlewares';
import { type Middleware, routed } from './state';

/**
 * Idempotency-Key on the POST routes that honour it: the same key and body replays the first
 * answer, another body answers 422, a retry while the first still runs answers 409 (until
 * the first's time is up: a crashed request frees its key). Keyed by the tenant acted on and the
 * caller (the API token, or the user who really acts), so a reseller's key for one customer
 * never replays for another, nor one member's key for another member.
 */
export const idempotency = (): Middleware => ({
  before: async (request) => {
    const state = routed(request.event);
    const { spec, platform, target, principal } = state;
    const key = spec.idempotent ? headerValue(request.event, 'idempotency-key') : undefined;
    if (key === undefined) return;
    state.idempotency = await makeIdempotency(
      platform.store,
      platform.config.IDEMPOTENCY_IN_PROGRESS_SECONDS,
    ).begin({
      tenantId: target ?? principal?.tenantId ?? 'public',
      caller: principal ? (principal.tokenId ?? principal.actor?.userId ?? principal.userId) : 'public',
      operationId: spec.operationId,
      key,
      body: request.event.parsedBody,
    });
  },
  onError: async (request) => {
    const state = request.event.routed;
    // a request that did not take effect frees its key, so a corrected retry can run
    if (state?.idempotency && !state.idempotency.replay) await state.idempotency.release();
  },
});
