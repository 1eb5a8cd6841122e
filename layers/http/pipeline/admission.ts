import { isRead, type Middleware, routed } from './state';

/**
 * A write waits for the checks begun beside it (standing, rate limits) before anything of it
 * runs; a read goes on, and the handler holds its answer until they passed.
 */
export const admission = (): Middleware => ({
  before: async (request) => {
    const state = routed(request.event);
    if (!isRead(state.spec)) await Promise.all(state.checks);
  },
});
