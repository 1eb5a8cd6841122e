import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, expect } from 'vitest';
import * as z from 'zod';
import { makeCreateTenant } from '../../functions/tenants/service';
import { setPasswordCost } from '../../layers/auth/passwords';
import { type Principal, principalCodec } from '../../layers/auth/tokens';
import type { AppError } from '../../layers/errors/app-error';
import { defineContext } from '../../layers/http/context';
import type { ApiResult, Middleware, PipelineEvent } from '../../layers/http/pipeline/state';
import { route } from '../../layers/http/route';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import type { TenantItem } from '../../layers/model/tenants';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from './dynamodb';

/**
 * What the tests of the request pipeline's middlewares share: a context of four routes (a
 * read, an idempotent write, a rate-limited sign-in, a public hook), a request as middy hands
 * it to a middleware with what the earlier ones settled, and a platform over DynamoDB Local
 * with a reseller, its customer and a stranger.
 */
const tenantParams = z.strictObject({ tenantId: z.string().regex(/^ten_[0-9a-z]{26}$/, 'Not a tenant id') });
export const probeContext = defineContext({
  name: 'probe',
  routes: [
    route({
      operationId: 'readThing',
      method: 'GET',
      path: '/v1/tenants/{tenantId}/things',
      context: 'probe',
      auth: 'user',
      permission: 'servers:read',
      summary: 'read',
      tags: [],
      params: tenantParams,
      query: z.strictObject({ limit: z.coerce.number().int().max(100).default(25) }),
      responses: { 200: { description: 'ok' } },
    }),
    route({
      operationId: 'makeThing',
      method: 'POST',
      path: '/v1/tenants/{tenantId}/things',
      context: 'probe',
      auth: 'user',
      permission: 'servers:write',
      summary: 'write',
      tags: [],
      params: tenantParams,
      body: z.strictObject({ name: z.string() }),
      idempotent: true,
      responses: { 201: { description: 'ok' } },
    }),
    route({
      operationId: 'signIn',
      method: 'POST',
      path: '/v1/probe/sign-in',
      context: 'probe',
      auth: 'none',
      rateLimit: 'sign-in',
      summary: 'sign in',
      tags: [],
      body: z.strictObject({ email: z.string() }),
      responses: { 200: { description: 'ok' } },
    }),
    route({
      operationId: 'hook',
      method: 'POST',
      path: '/v1/hooks/tenants/{tenantId}/probe',
      context: 'probe',
      auth: 'none',
      rateLimit: 'webhook',
      summary: 'a public hook',
      tags: [],
      params: tenantParams,
      responses: { 202: { description: 'ok' } },
    }),
  ],
});
export const [readRoute, writeRoute, signInRoute, hookRoute] = probeContext.routes as unknown as [
  (typeof probeContext.routes)[number],
  (typeof probeContext.routes)[number],
  (typeof probeContext.routes)[number],
  (typeof probeContext.routes)[number],
];

export const who = (tenant: TenantItem, extra: Partial<Principal> = {}): Principal => ({
  tenantId: tenant.id,
  userId: 'usr_01jdtesttesttesttesttesttt',
  role: 'owner',
  twoFactor: false,
  ...extra,
});

interface RequestOptions {
  principal?: Principal;
  tenantId?: string;
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  ip?: string;
}

/** A request as middy hands it to a middleware, with what the earlier ones settled. */
function requestOn(
  platform: Platform,
  spec: (typeof probeContext.routes)[number],
  options: RequestOptions = {},
) {
  const event = {
    resource: spec.path,
    path: spec.path.replace('{tenantId}', options.tenantId ?? ''),
    httpMethod: spec.method,
    headers: options.headers ?? {},
    pathParameters: options.tenantId ? { tenantId: options.tenantId } : null,
    queryStringParameters: options.query ?? null,
    parsedBody: options.body,
    requestIdResolved: 'req-test-0001',
    requestContext: {
      requestId: 'req-test-0001',
      identity: { sourceIp: options.ip ?? '203.0.113.5' },
      authorizer: options.principal ? principalCodec.encode(options.principal) : null,
    },
    routed: {
      context: probeContext,
      spec,
      platform,
      checks: [],
      ...(options.principal ? { principal: options.principal } : {}),
    },
  } as unknown as PipelineEvent;
  return {
    event,
    context: {} as Context,
    response: undefined as ApiResult | undefined,
    error: undefined as unknown,
    internal: {},
  };
}

export type Request = ReturnType<typeof requestOn>;
export const before = (mw: Middleware, request: Request) => mw.before?.(request as never);
export const after = (mw: Middleware, request: Request) => mw.after?.(request as never);
export const onError = (mw: Middleware, request: Request) => mw.onError?.(request as never);
export const problem = (status: number, code?: string) =>
  expect.objectContaining({ status, ...(code ? { code } : {}) }) as unknown as AppError;

/**
 * The platform a middleware runs with, set up before the file's tests and taken down after:
 * a store over a table of the file's own, a clock the tests move on, the three tenants, and the
 * tenants whose scoped store was asked for.
 */
export function usePipelineFixture() {
  let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>> | undefined;
  let now = new Date('2026-12-01T10:00:00Z');
  const clock: Clock = { now: () => now };
  const fx = {
    store: undefined as unknown as Store,
    platform: undefined as unknown as Platform,
    reseller: undefined as unknown as TenantItem,
    customer: undefined as unknown as TenantItem,
    stranger: undefined as unknown as TenantItem,
    scopedStores: [] as string[],
    requestFor: (spec: (typeof probeContext.routes)[number], options: RequestOptions = {}) =>
      requestOn(fx.platform, spec, options),
    later: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
  beforeAll(async () => {
    // the tenants' owners need a password hash, not a strong one
    setPasswordCost(12);
    let store: Store;
    ({ dynamo, store } = await startTestStore(clock));
    fx.store = store;
    fx.platform = {
      store,
      clock,
      ids: ulidIds(),
      config: {
        TENANT_STATUS_CACHE_SECONDS: 0,
        DEFAULT_REQUESTS_PER_MINUTE: 600,
        AUTH_RATE_LIMIT_PER_MINUTE: 2,
        AUTH_ACCOUNT_RATE_LIMIT_PER_MINUTE: 60,
        WEBHOOK_RATE_LIMIT_PER_MINUTE: 2,
        AUDIT_RETENTION_DAYS: 30,
        IDEMPOTENCY_IN_PROGRESS_SECONDS: 60,
      },
      storeFor: (tenantId: string) => {
        fx.scopedStores.push(tenantId);
        return store;
      },
    } as unknown as Platform;
    const create = makeCreateTenant({ store, clock, ids: fx.platform.ids });
    const owner = (email: string) => ({ email, name: 'O', password: 'a long enough password' });
    fx.reseller = (await create({ name: 'R', kind: 'reseller', owner: owner('r@example.com') })).tenant;
    fx.customer = (
      await create({ name: 'C', kind: 'customer', owner: owner('c@example.com') }, fx.reseller)
    ).tenant;
    fx.stranger = (await create({ name: 'S', kind: 'customer', owner: owner('s@example.com') })).tenant;
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  return fx;
}
