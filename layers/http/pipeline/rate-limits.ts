import { AppError } from '../../errors/app-error';
import { rateCounterKeys } from '../../model/request-records';
import { admit, against, count, type RateLimitState } from '../rate-limit';
import type { PipelineEvent } from './state';
import { check, type Middleware, type RouteState, routed } from './state';

/**
 * Counts the request against its rate limits, beside everything else: a signed-in route per
 * principal (user or API token) at its tenant plan's rate, a sign-in route per source address
 * and per email named in the body (from all addresses, at a higher limit that only a spread
 * attack reaches), each route counted apart: password-reset requests for an email never use up
 * its owner's logins. Every answer of a counted route carries the RateLimit headers, refusals too.
 */
export const rateLimits = (): Middleware => ({
  before: (request) => {
    const state = routed(request.event);
    const counted = countRequest(state, request.event);
    if (!counted) return;
    state.limitHeaders = check(counted.then(admit));
    state.checks.push(state.limitHeaders);
  },
  after: async (request) => {
    const headers = await headersOf(request.event);
    if (request.response && headers) {
      request.response.headers = { ...request.response.headers, ...headers };
    }
  },
  onError: async (request) => {
    const headers = await headersOf(request.event).catch(() => undefined);
    if (!(request.error instanceof AppError) || !headers) return;
    for (const [name, value] of Object.entries(headers)) request.error.headers[name] ??= value;
  },
});

const headersOf = async (event: PipelineEvent) =>
  event.routed?.limitHeaders ? event.routed.limitHeaders : undefined;

function countRequest(state: RouteState, event: PipelineEvent): Promise<RateLimitState[]> | undefined {
  const { platform, spec, principal, standing } = state;
  const now = platform.clock.now().getTime();
  const { config, store } = platform;
  if (principal && standing) {
    return (async () => {
      const subject = principal.tokenId ?? principal.actor?.userId ?? principal.userId;
      const limit = (await standing).requestsPerMinute ?? config.DEFAULT_REQUESTS_PER_MINUTE;
      const counter = { pk: rateCounterKeys.principals(principal.tenantId), subject, windowSeconds: 60 };
      return [against(await count(store, counter, now, { exact: false, limit }), limit)];
    })();
  }
  const named = event.pathParameters?.tenantId;
  if (spec.rateLimit === 'webhook' && named && /^ten_[0-9a-hjkmnp-tv-z]{26}$/.test(named)) {
    // a public hook: per calling address, in the partition of the tenant its path names
    const ip = event.requestContext.identity?.sourceIp ?? 'unknown';
    const target = named;
    return (async () => {
      const counter = { pk: rateCounterKeys.principals(target), subject: `hook:${ip}`, windowSeconds: 60 };
      const limit = config.WEBHOOK_RATE_LIMIT_PER_MINUTE;
      return [against(await count(store, counter, now, { exact: true, limit }), limit)];
    })();
  }
  if (spec.rateLimit !== 'sign-in') return undefined;
  const ip = event.requestContext.identity?.sourceIp ?? 'unknown';
  const email = (event.parsedBody as { email?: unknown } | undefined)?.email;
  const counters = [
    {
      pk: rateCounterKeys.signInsFrom(ip),
      subject: spec.operationId,
      windowSeconds: 60,
      limit: config.AUTH_RATE_LIMIT_PER_MINUTE,
    },
  ];
  if (typeof email === 'string' && email.length <= 254) {
    counters.push({
      pk: rateCounterKeys.signInsOf(email),
      subject: spec.operationId,
      windowSeconds: 60,
      limit: config.AUTH_ACCOUNT_RATE_LIMIT_PER_MINUTE,
    });
  }
  return Promise.all(
    counters.map(async ({ limit, ...counter }) =>
      against(await count(store, counter, now, { exact: true, limit }), limit),
    ),
  );
}
