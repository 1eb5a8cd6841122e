import type middy from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { TenantStanding } from '../../auth/tenancy';
import type { Principal } from '../../auth/tokens';
import { errors } from '../../errors/app-error';
import type { Platform } from '../../runtime/platform';
import type { Store } from '../../store/store';
import type { ContextDefinition } from '../context';
import type { ApiEvent } from '../middlewares';
import type { HttpResult, RouteSpec } from '../route';

/** A proxy result, with the body of a route that streams as pieces to write as they come. */
export type ApiResult = APIGatewayProxyResult & { stream?: AsyncIterable<string> };

/** What the pipeline has settled about a request so far; each middleware adds its part. */
export interface RouteState {
  context: ContextDefinition;
  spec: RouteSpec;
  platform: Platform;
  /** the verified caller of a signed-in route */
  principal?: Principal;
  /** the caller's tenant standing, read once for the standing check and the rate limit */
  standing?: Promise<TenantStanding>;
  /** the validated path parameters */
  params?: unknown;
  /** the validated query and body */
  query?: unknown;
  body?: unknown;
  /** the tenant the path names, once the caller may act on it */
  target?: string;
  /** the store the implementation gets: the tenant's own for a tenant-scoped context */
  store?: Store;
  /**
   * Checks that run beside the work: each resolves when the caller may go on and rejects with
   * the problem that stops it. A write waits for them before it runs; a read runs meanwhile
   * and answers only once they passed (a suspended or limited caller gets no answer).
   */
  checks: Promise<unknown>[];
  /** the RateLimit headers of the request, once it was counted */
  limitHeaders?: Promise<Record<string, string>>;
  /** an Idempotency-Key's replayed answer, or the hook that records the first answer */
  idempotency?: { replay?: HttpResult; record(result: HttpResult): Promise<void>; release(): Promise<void> };
}

export type PipelineEvent = ApiEvent & { routed?: RouteState };

export type Middleware = middy.MiddlewareObj<PipelineEvent, ApiResult>;

/** The route state, which the routing middleware set; a middleware before it is a wiring mistake. */
export function routed(event: PipelineEvent): RouteState {
  if (!event.routed) throw new Error('The route is not settled yet: matchRoute must come first');
  return event.routed;
}

/** Whether the route changes nothing, so its work may run beside the checks. */
export const isRead = (spec: RouteSpec) => spec.method === 'GET';

/** A check that must not surface as an unhandled rejection while nobody waits for it yet. */
export function check<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}

export { errors };
