import { Readable } from 'node:stream';
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpSecurityHeaders from '@middy/http-security-headers';
import type * as z from 'zod';
import type { Principal } from '../auth/tokens';
import { getConfig } from '../config/config';
import type { Platform } from '../runtime/platform';
import type { ContextDefinition } from './context';
import { headerValue, jsonBody, problemErrors, requestContext } from './middlewares';
import { admission } from './pipeline/admission';
import { audit } from './pipeline/audit';
import { currency } from './pipeline/currency';
import { idempotency } from './pipeline/idempotency';
import { matchRoute } from './pipeline/match-route';
import { permission } from './pipeline/permission';
import { principal } from './pipeline/principal';
import { rateLimits } from './pipeline/rate-limits';
import { requestParts } from './pipeline/request-parts';
import { standing } from './pipeline/standing';
import { type ApiResult, errors, isRead, type PipelineEvent, routed } from './pipeline/state';
import { tenancy } from './pipeline/tenancy';
import { tenantStore } from './pipeline/tenant-store';
import type { HttpResult, RouteSpec } from './route';

export type { ApiResult } from './pipeline/state';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What an implementation receives: validated parts of the request and the verified principal. */
export interface ApiRequest<R extends RouteSpec> {
  params: Out<R['params']>;
  query: Out<R['query']>;
  body: Out<R['body']>;
  principal: R['auth'] extends 'user' ? Principal : undefined;
  headers: (name: string) => string | undefined;
  /** the body as the client sent it, for a signature computed over its bytes (webhooks) */
  rawBody: string;
  requestId: string;
  sourceIp: string;
  platform: Platform;
}

export type Implementation<R extends RouteSpec> = (request: ApiRequest<R>) => Promise<HttpResult>;

export type Implementations<Routes extends readonly RouteSpec[]> = {
  [K in Routes[number]['operationId']]: Implementation<Extract<Routes[number], { operationId: K }>>;
};

const toResponse = (result: HttpResult): ApiResult => ({
  statusCode: result.status,
  headers: {
    ...(result.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    'Cache-Control': 'no-store',
    ...result.headers,
  },
  body: result.body === undefined ? '' : JSON.stringify(result.body),
  ...(result.stream ? { stream: result.stream } : {}),
});

/**
 * The Lambda handler of one bounded context: the request pipeline, one middleware per concern
 * (layers/http/pipeline), then the route's implementation with what they settled. In order:
 * route, principal, tenant standing, the caller's currency and rate limits (begun beside the
 * work), tenancy of the path, admission of a write, permission, query and body, the tenant's
 * store, Idempotency-Key;
 * on the way out the rate-limit headers and the audit entry; any error as problem+json.
 */
export function makeContextHandler<const Routes extends readonly RouteSpec[]>(
  context: ContextDefinition<Routes>,
  implementations: Implementations<Routes>,
  options: {
    /**
     * Answer through Lambda response streaming (API Gateway's STREAM transfer mode): middy
     * writes the status and headers, then pipes the body, which a streaming route yields
     * piece by piece. Without it, a streamed body stays on the result for the caller to write.
     */
    streamifyResponse?: boolean;
  } = {},
) {
  const impls = implementations as Record<string, Implementation<RouteSpec>>;
  const config = getConfig();

  const handle = async (event: PipelineEvent): Promise<ApiResult> => {
    const state = routed(event);
    const implementation = impls[state.spec.operationId];
    if (!implementation) throw errors.notFound('route');
    const run = async (): Promise<HttpResult> => {
      const replay = state.idempotency?.replay;
      if (replay) return replay;
      const result = await implementation({
        params: state.params,
        query: state.query,
        body: state.body,
        principal: state.principal,
        headers: (name: string) => headerValue(event, name),
        rawBody: event.isBase64Encoded
          ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
          : (event.body ?? ''),
        requestId: event.requestIdResolved ?? event.requestContext.requestId,
        sourceIp: event.requestContext.identity?.sourceIp ?? '',
        platform: state.store ? { ...state.platform, store: state.store } : state.platform,
      } as ApiRequest<RouteSpec>);
      await state.idempotency?.record(result);
      // settled: nothing that fails from here on frees the key
      delete state.idempotency;
      return result;
    };
    if (!isRead(state.spec)) return toResponse(await run());
    // A read changes nothing, so it ran while the checks did; a caller they stop gets no answer.
    const [work, ...checks] = await Promise.allSettled([run(), ...state.checks]);
    for (const checked of checks) if (checked.status === 'rejected') throw checked.reason;
    if (work.status === 'rejected') throw work.reason;
    return toResponse(work.value);
  };

  // for middy's response streaming, a streamed body is a Readable and nothing else rides along
  const answer = async (event: PipelineEvent): Promise<ApiResult> => {
    const result = await handle(event);
    if (!options.streamifyResponse || !result.stream) return result;
    const { stream, ...rest } = result;
    return { ...rest, body: Readable.from(stream) as never };
  };

  return middy<PipelineEvent, ApiResult>({ streamifyResponse: options.streamifyResponse ?? false })
    .use(
      httpCors({
        origins: config.CORS_ORIGINS.split(','),
        exposeHeaders:
          'Location,ETag,X-Request-Id,Retry-After,RateLimit-Policy,RateLimit-Limit,RateLimit-Remaining,RateLimit-Reset',
      }),
    )
    .use(
      httpSecurityHeaders({
        poweredBy: false,
        reportTo: false,
        contentSecurityPolicy: { 'default-src': "'none'", 'frame-ancestors': "'none'" },
      }),
    )
    .use(problemErrors())
    .use(requestContext())
    .use(jsonBody({ maxBytes: config.MAX_BODY_BYTES }))
    .use(matchRoute(context))
    .use(audit())
    .use(principal())
    .use(standing())
    .use(currency())
    .use(rateLimits())
    .use(tenancy())
    .use(admission())
    .use(permission())
    .use(requestParts())
    .use(tenantStore())
    .use(idempotency())
    .handler(answer);
}
