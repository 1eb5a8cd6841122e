import { Readable } from 'node:stream';
import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type * as z from 'zod';
import { recordAudit } from '../audit/audit';
import { type Permission, refusal } from '../auth/permissions';
import { canActOn, type TenantStanding, tenantStanding } from '../auth/tenancy';
import { type Principal, roles } from '../auth/tokens';
import { getConfig } from '../config/config';
import { AppError, errors } from '../errors/app-error';
import { logger } from '../observability/logger';
import { getPlatform, type Platform } from '../runtime/platform';
import type { ContextDefinition } from './context';
import { makeIdempotency } from './idempotency';
import { type ApiEvent, headerValue, jsonBody, problemErrors, requestContext } from './middlewares';
import { admit, against, count, type RateLimitState } from './rate-limit';
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
  const { tenantId, userId, role, scopes, tokenId, actorUserId, actorTenantId, twoFactor } =
    context as Record<string, unknown>;
  if (
    typeof tenantId !== 'string' ||
    typeof userId !== 'string' ||
    !roles.includes(role as Principal['role'])
  ) {
    throw errors.unauthorized();
  }
  return {
    tenantId,
    userId,
    role: role as Principal['role'],
    twoFactor: twoFactor === 'true' || twoFactor === true,
    ...(typeof tokenId === 'string' && tokenId
      ? {
          tokenId,
          scopes: String(scopes ?? '')
            .split(',')
            .filter(Boolean) as Permission[],
        }
      : {}),
    ...(typeof actorUserId === 'string' && typeof actorTenantId === 'string' && actorUserId
      ? { actor: { userId: actorUserId, tenantId: actorTenantId } }
      : {}),
  };
}

/**
 * Every mutation by a signed-in caller goes into the audit log of the tenant it acted on (or,
 * when it was refused as not its own, of the caller's tenant), whatever its outcome. A failed
 * audit write is logged and never changes the answer.
 */
async function audit(
  platform: Platform,
  event: ApiEvent,
  spec: RouteSpec,
  principal: Principal,
  tenantId: string,
  status: number,
  location?: string,
): Promise<void> {
  try {
    await recordAudit(
      { store: platform.store, clock: platform.clock, retentionDays: platform.config.AUDIT_RETENTION_DAYS },
      {
        tenantId,
        actor: {
          userId: principal.userId,
          tenantId: principal.tenantId,
          role: principal.role,
          ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
          ...(principal.actor ? { impersonatedBy: principal.actor } : {}),
        },
        action: spec.operationId,
        target: location ?? event.path,
        result:
          status < 400
            ? 'succeeded'
            : status === 401 || status === 403 || status === 404
              ? 'denied'
              : 'failed',
        status,
        ip: event.requestContext.identity?.sourceIp ?? '',
        userAgent: headerValue(event, 'user-agent') ?? '',
        requestId: event.requestIdResolved ?? event.requestContext.requestId,
      },
    );
  } catch (error) {
    logger.error('Audit entry not written', { error: error as Error, action: spec.operationId });
  }
}

const withHeaders = (response: ApiResult, headers: Record<string, string>): ApiResult => ({
  ...response,
  headers: { ...response.headers, ...headers },
});

/** A refusal carries the RateLimit headers of the request it refuses, as an answer would. */
const carried = (headers: Record<string, string>, error: unknown): unknown => {
  if (error instanceof AppError) {
    for (const [name, value] of Object.entries(headers)) error.headers[name] ??= value;
  }
  return error;
};

const carrying = <T>(headers: Record<string, string>, work: Promise<T>): Promise<T> =>
  work.catch((error: unknown) => {
    throw carried(headers, error);
  });

/**
 * Counts the request against its rate limits, in parallel with everything else: a user
 * route per principal (user or API token) at its tenant plan's rate, a sign-in route per
 * source address and per account named in the body.
 */
async function countRequest(
  platform: Platform,
  spec: RouteSpec,
  event: ApiEvent,
  principal: Principal | undefined,
  standing: Promise<TenantStanding> | undefined,
): Promise<RateLimitState[]> {
  const now = platform.clock.now().getTime();
  const { config, store } = platform;
  if (principal && standing) {
    const subject = principal.tokenId ?? principal.actor?.userId ?? principal.userId;
    const limit = (await standing).requestsPerMinute ?? config.DEFAULT_REQUESTS_PER_MINUTE;
    const counter = { pk: `T#${principal.tenantId}#RATE`, subject, windowSeconds: 60 };
    return [against(await count(store, counter, now, { exact: false, limit }), limit)];
  }
  if (spec.rateLimit !== 'sign-in') return [];
  const ip = event.requestContext.identity?.sourceIp ?? 'unknown';
  const email = (event.parsedBody as { email?: unknown } | undefined)?.email;
  // Per source address, and per email from anywhere at a higher limit that only a spread
  // attack reaches, so nobody can use up an account's sign-ins from one address.
  const counters = [
    { pk: `RATE#ip#${ip}`, subject: 'sign-in', windowSeconds: 60, limit: config.AUTH_RATE_LIMIT_PER_MINUTE },
  ];
  if (typeof email === 'string' && email.length <= 254) {
    counters.push({
      pk: `RATE#account#${email.trim().toLowerCase()}`,
      subject: 'sign-in',
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

/** A proxy result, with the body of a route that streams as pieces to write as they come. */
export type ApiResult = APIGatewayProxyResult & { stream?: AsyncIterable<string> };

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
 * The Lambda handler of one bounded context: it dispatches on API Gateway's resource path
 * and method to the route's implementation, after parsing and validating every part of the
 * request and checking that a tenant-scoped path names the caller's own tenant (anything
 * else answers 404, exactly as a missing resource does).
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
  // A context that touches only the data of the tenant in the path gets a store under that
  // tenant's credentials (invariant 3); the checks around it keep the function's own.
  const tenantData = context.data.scope === 'tenant';
  const byKey = new Map(context.routes.map((r) => [`${r.method} ${r.path}`, r]));
  const impls = implementations as Record<string, Implementation<RouteSpec>>;
  const config = getConfig();

  const dispatch = async (event: ApiEvent): Promise<ApiResult> => {
    const spec = byKey.get(`${event.httpMethod} ${event.resource}`);
    const implementation = spec ? impls[spec.operationId] : undefined;
    if (!spec || !implementation) throw errors.notFound('route');
    const platform = await getPlatform();
    const principal = spec.auth === 'user' ? principalFrom(event) : undefined;
    // Suspension takes effect within TENANT_STATUS_CACHE_SECONDS: the caller's tenant is checked alongside the work.
    const standing = principal
      ? tenantStanding(platform.store, principal.tenantId, platform.config.TENANT_STATUS_CACHE_SECONDS)
      : undefined;
    standing?.catch(() => undefined);
    // Resolves when the caller may go on; throws the problem that stops it.
    const admitted = async () => {
      if (!principal || !standing) return;
      const { active, requireTwoFactor } = await standing;
      if (!active) throw errors.tenantSuspended();
      // A tenant that requires 2FA lets a password-only session do nothing but enroll.
      const passwordOnly = !principal.twoFactor && !principal.tokenId && !principal.actor;
      if (requireTwoFactor && passwordOnly && spec.permission !== 'account:write') {
        throw errors.twoFactorEnrollmentRequired();
      }
    };
    const limits = countRequest(platform, spec, event, principal, standing);
    limits.catch(() => undefined);
    const params = spec.params ? parsePart(spec.params, event.pathParameters ?? {}, 'path') : undefined;
    const target =
      params && 'tenantId' in params && typeof params.tenantId === 'string' ? params.tenantId : undefined;
    if (principal && target && !(await canActOn(platform.store, principal.tenantId, target))) {
      if (spec.method !== 'GET') await audit(platform, event, spec, principal, principal.tenantId, 404);
      throw errors.notFound('tenant');
    }
    if (!principal) {
      const limitHeaders = admit(await limits);
      return withHeaders(
        await carrying(
          limitHeaders,
          handle(event, spec, implementation, platform, principal, params, target),
        ),
        limitHeaders,
      );
    }
    if (spec.method === 'GET') {
      // A read changes nothing, so it runs while the tenant and the rate limit are checked;
      // a suspended or limited caller gets no answer.
      const [response, admission, limited] = await Promise.allSettled([
        handle(event, spec, implementation, platform, principal, params, target),
        admitted(),
        limits.then(admit),
      ]);
      if (admission.status === 'rejected') throw admission.reason;
      if (limited.status === 'rejected') throw limited.reason;
      if (response.status === 'rejected') throw carried(limited.value, response.reason);
      return withHeaders(response.value, limited.value);
    }
    let status = 500;
    let location: string | undefined;
    try {
      await admitted();
      const limitHeaders = admit(await limits);
      const response = withHeaders(
        await carrying(
          limitHeaders,
          handle(event, spec, implementation, platform, principal, params, target),
        ),
        limitHeaders,
      );
      status = response.statusCode;
      location = response.headers?.Location as string | undefined;
      return response;
    } catch (error) {
      status = error instanceof AppError ? error.status : 500;
      throw error;
    } finally {
      await audit(platform, event, spec, principal, target ?? principal.tenantId, status, location);
    }
  };

  async function handle(
    event: ApiEvent,
    spec: RouteSpec,
    implementation: Implementation<RouteSpec>,
    platform: Platform,
    principal: Principal | undefined,
    params: unknown,
    /** the tenant the path names, when it names one */
    target: string | undefined,
  ): Promise<ApiResult> {
    const refused = principal ? refusal(principal, spec.permission) : undefined;
    if (refused) throw errors.forbidden(refused);
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
      platform: target && tenantData ? { ...platform, store: platform.storeFor(target) } : platform,
    } as ApiRequest<RouteSpec>;
    const idempotencyKey = spec.idempotent ? headerValue(event, 'idempotency-key') : undefined;
    const run = () => implementation(request);
    const result =
      idempotencyKey !== undefined
        ? await makeIdempotency(platform.store).run(
            {
              // keyed by the tenant acted on, so a reseller's key for one customer never replays for another
              tenantId: target ?? principal?.tenantId ?? 'public',
              operationId: spec.operationId,
              key: idempotencyKey,
              body: event.parsedBody,
            },
            run,
          )
        : await run();
    return toResponse(result);
  }

  // for middy's response streaming, a streamed body is a Readable and nothing else rides along
  const answer = async (event: ApiEvent): Promise<ApiResult> => {
    const result = await dispatch(event);
    if (!options.streamifyResponse || !result.stream) return result;
    const { stream, ...rest } = result;
    return { ...rest, body: Readable.from(stream) as never };
  };

  return middy<ApiEvent, ApiResult>({ streamifyResponse: options.streamifyResponse ?? false })
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
    .handler(answer);
}
