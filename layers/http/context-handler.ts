import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod';
import { can } from '../auth/permissions';
import { canActOn } from '../auth/tenancy';
import { type Principal, roles } from '../auth/tokens';
import { getConfig } from '../config/config';
import { errors } from '../errors/app-error';
import { getPlatform, type Platform } from '../runtime/platform';
import { makeIdempotency } from './idempotency';
import { type ApiEvent, headerValue, jsonBody, problemErrors, requestContext } from './middlewares';
import type { HttpResult, RouteSpec } from './route';
import { parsePart } from './validation';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What an implementation receives: validated parts of the request and the verified principal. */
export interface ApiRequest<R extends RouteSpec> {
  params: Out<R['params']>;
  query: Out<R['query']>;
  body: Out<R['body']>;
  principal: R['auth'] extends 'user' ? Principal : undefined;
  headers: (name: string) => string | undefined;
  requestId: string;
  sourceIp: string;
  platform: Platform;
}

export type Implementation<R extends RouteSpec> = (request: ApiRequest<R>) => Promise<HttpResult>;

export type Implementations<Routes extends readonly RouteSpec[]> = {
  [K in Routes[number]['operationId']]: Implementation<Extract<Routes[number], { operationId: K }>>;
};

/** Reads the principal the authorizer put in the request context; absent or malformed means 401. */
function principalFrom(event: ApiEvent): Principal {
  const context = event.requestContext.authorizer ?? {};
  const { tenantId, userId, role } = context as Record<string, unknown>;
  if (
    typeof tenantId !== 'string' ||
    typeof userId !== 'string' ||
    !roles.includes(role as Principal['role'])
  ) {
    throw errors.unauthorized();
  }
  return { tenantId, userId, role: role as Principal['role'] };
}

const toResponse = (result: HttpResult): APIGatewayProxyResult => ({
  statusCode: result.status,
  headers: {
    ...(result.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    'Cache-Control': 'no-store',
    ...result.headers,
  },
  body: result.body === undefined ? '' : JSON.stringify(result.body),
});

/**
 * The Lambda handler of one bounded context: it dispatches on API Gateway's resource path
 * and method to the route's implementation, after parsing and validating every part of the
 * request and checking that a tenant-scoped path names the caller's own tenant (anything
 * else answers 404, exactly as a missing resource does).
 */
export function makeContextHandler<const Routes extends readonly RouteSpec[]>(
  routes: Routes,
  implementations: Implementations<Routes>,
) {
  const byKey = new Map(routes.map((r) => [`${r.method} ${r.path}`, r]));
  const impls = implementations as Record<string, Implementation<RouteSpec>>;
  const config = getConfig();

  const dispatch = async (event: ApiEvent): Promise<APIGatewayProxyResult> => {
    const spec = byKey.get(`${event.httpMethod} ${event.resource}`);
    const implementation = spec ? impls[spec.operationId] : undefined;
    if (!spec || !implementation) throw errors.notFound('route');
    const platform = await getPlatform();
    const principal = spec.auth === 'user' ? principalFrom(event) : undefined;
    const params = spec.params ? parsePart(spec.params, event.pathParameters ?? {}, 'path') : undefined;
    if (principal && params && 'tenantId' in params && typeof params.tenantId === 'string') {
      if (!(await canActOn(platform.store, principal.tenantId, params.tenantId)))
        throw errors.notFound('tenant');
    }
    if (principal && (!spec.permission || !can(principal.role, spec.permission))) {
      throw errors.forbidden(`Your role (${principal.role}) does not allow this.`);
    }
    const query = spec.query ? parsePart(spec.query, event.queryStringParameters ?? {}, 'query') : undefined;
    if (!spec.body && event.parsedBody !== undefined) {
      throw errors.validation([{ path: 'body', message: 'This route takes no body' }]);
    }
    const body = spec.body ? parsePart(spec.body, event.parsedBody, 'body') : undefined;
    const request = {
      params,
      query,
      body,
      principal,
      headers: (name: string) => headerValue(event, name),
      requestId: event.requestIdResolved ?? event.requestContext.requestId,
      sourceIp: event.requestContext.identity?.sourceIp ?? '',
      platform,
    } as ApiRequest<RouteSpec>;
    const idempotencyKey = spec.idempotent ? headerValue(event, 'idempotency-key') : undefined;
    const run = () => implementation(request);
    const result =
      idempotencyKey !== undefined
        ? await makeIdempotency(platform.store).run(
            {
              tenantId: principal?.tenantId ?? 'public',
              operationId: spec.operationId,
              key: idempotencyKey,
              body: event.parsedBody,
            },
            run,
          )
        : await run();
    return toResponse(result);
  };

  return middy<ApiEvent, APIGatewayProxyResult>()
    .use(httpCors({ origins: config.CORS_ORIGINS.split(','), exposeHeaders: 'Location,ETag,X-Request-Id' }))
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
    .handler(dispatch);
}
