import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { makeCreateTenant } from '../../../functions/tenants/service';
import { type startDynamoDbLocal, startTestStore } from '../../../test/support/dynamodb';
import type { AuditItem } from '../../audit/audit';
import { type Principal, principalCodec } from '../../auth/tokens';
import { AppError } from '../../errors/app-error';
import { type Clock, ulidIds } from '../../ids/ids';
import { auditKeys } from '../../model/audit-log';
import { type TenantItem, tenantKeys } from '../../model/tenants';
import type { Platform } from '../../runtime/platform';
import type { Store } from '../../store/store';
import { defineContext } from '../context';
import { route } from '../route';
import { admission } from './admission';
import { audit } from './audit';
import { idempotency } from './idempotency';
import { matchRoute } from './match-route';
import { permission } from './permission';
import { principal } from './principal';
import { rateLimits } from './rate-limits';
import { requestParts } from './request-parts';
import { standing } from './standing';
import type { ApiResult, Middleware, PipelineEvent } from './state';
import { tenancy } from './tenancy';
import { tenantStore } from './tenant-store';

/**
 * Each middleware of the request pipeline alone, against DynamoDB Local: a request object as
 * middy hands it over, the state the middlewares before it would have settled, one call.
 */
let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let platform: Platform;
let now = new Date('2026-12-01T10:00:00Z');
const clock: Clock = { now: () => now };
let reseller: TenantItem;
let customer: TenantItem;
let stranger: TenantItem;
const scopedStores: string[] = [];

const tenantParams = z.strictObject({ tenantId: z.string().regex(/^ten_[0-9a-z]{26}$/, 'Not a tenant id') });
const probeContext = defineContext({
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
const [readRoute, writeRoute, signInRoute, hookRoute] = probeContext.routes;

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  platform = {
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
      scopedStores.push(tenantId);
      return store;
    },
  } as unknown as Platform;
  const create = makeCreateTenant({ store, clock, ids: platform.ids });
  const owner = (email: string) => ({ email, name: 'O', password: 'a long enough password' });
  reseller = (await create({ name: 'R', kind: 'reseller', owner: owner('r@example.com') })).tenant;
  customer = (await create({ name: 'C', kind: 'customer', owner: owner('c@example.com') }, reseller)).tenant;
  stranger = (await create({ name: 'S', kind: 'customer', owner: owner('s@example.com') })).tenant;
});

afterAll(async () => {
  await dynamo?.stop();
});

const who = (tenant: TenantItem, extra: Partial<Principal> = {}): Principal => ({
  tenantId: tenant.id,
  userId: 'usr_01jdtesttesttesttesttesttt',
  role: 'owner',
  twoFactor: false,
  ...extra,
});

/** A request as middy hands it to a middleware, with what the earlier ones settled. */
function requestFor(
  spec: (typeof probeContext.routes)[number],
  options: {
    principal?: Principal;
    tenantId?: string;
    body?: unknown;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    ip?: string;
  } = {},
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

type Request = ReturnType<typeof requestFor>;
const before = (mw: Middleware, request: Request) => mw.before?.(request as never);
const after = (mw: Middleware, request: Request) => mw.after?.(request as never);
const onError = (mw: Middleware, request: Request) => mw.onError?.(request as never);
const problem = (status: number, code?: string) =>
  expect.objectContaining({ status, ...(code ? { code } : {}) }) as unknown as AppError;

describe('Middleware: matchRoute', () => {
  it('finds the route by method and resource, or answers 404 for one the context lacks', async () => {
    const request = requestFor(readRoute);
    delete request.event.routed;
    await before(matchRoute(probeContext, { platform: async () => platform }), request);
    const settled = (request.event as PipelineEvent).routed;
    expect(settled?.spec.operationId).toBe('readThing');
    const wrong = requestFor(readRoute);
    wrong.event.httpMethod = 'DELETE';
    await expect(before(matchRoute(probeContext, { platform: async () => platform }), wrong)).rejects.toEqual(
      problem(404),
    );
  });
});

describe('Middleware: principal', () => {
  it("decodes the authorizer's principal and answers 401 to a malformed one", async () => {
    const request = requestFor(readRoute);
    request.event.requestContext.authorizer = principalCodec.encode(
      who(customer, { tokenId: 'tok_1', scopes: ['servers:read'] }),
    );
    await before(principal(), request);
    expect(request.event.routed?.principal).toMatchObject({
      tenantId: customer.id,
      tokenId: 'tok_1',
      scopes: ['servers:read'],
    });
    const forged = requestFor(readRoute);
    forged.event.requestContext.authorizer = { tenantId: customer.id, userId: 'u', role: 'root' };
    expect(() => before(principal(), forged)).toThrow(AppError);
  });
});

describe('Middleware: tenancy', () => {
  it('lets a caller act on its own tenant and a reseller on its customer, and answers 404 otherwise', async () => {
    const own = requestFor(readRoute, { principal: who(customer), tenantId: customer.id });
    await before(tenancy(), own);
    expect(own.event.routed?.target).toBe(customer.id);
    const down = requestFor(readRoute, { principal: who(reseller), tenantId: customer.id });
    await before(tenancy(), down);
    expect(down.event.routed?.target).toBe(customer.id);
    const across = requestFor(readRoute, { principal: who(stranger), tenantId: customer.id });
    await expect(before(tenancy(), across)).rejects.toEqual(problem(404));
    expect(across.event.routed?.target).toBeUndefined();
    const up = requestFor(readRoute, { principal: who(customer), tenantId: reseller.id });
    await expect(before(tenancy(), up)).rejects.toEqual(problem(404));
    const malformed = requestFor(readRoute, { principal: who(customer), tenantId: 'nope' });
    await expect(before(tenancy(), malformed)).rejects.toEqual(problem(400));
  });
});

describe('Middleware: standing', () => {
  it("refuses a suspended tenant's callers, and a password-only session where 2FA is required", async () => {
    await store.update(tenantKeys.item(stranger.id), { status: 'suspended' });
    const suspended = requestFor(readRoute, { principal: who(stranger) });
    await before(standing(), suspended);
    await expect(Promise.all(suspended.event.routed?.checks ?? [])).rejects.toEqual(
      problem(403, 'tenant-suspended'),
    );
    await store.update(tenantKeys.item(stranger.id), { status: 'active', requireTwoFactor: true });
    const passwordOnly = requestFor(readRoute, { principal: who(stranger) });
    await before(standing(), passwordOnly);
    await expect(Promise.all(passwordOnly.event.routed?.checks ?? [])).rejects.toBeInstanceOf(AppError);
    const withCode = requestFor(readRoute, { principal: who(stranger, { twoFactor: true }) });
    await before(standing(), withCode);
    await expect(Promise.all(withCode.event.routed?.checks ?? [])).resolves.toBeDefined();
    await store.update(tenantKeys.item(stranger.id), { requireTwoFactor: false });
  });
});

describe('Middleware: rateLimits', () => {
  it('counts a sign-in per address, puts the headers on the answer and on a refusal, and refuses past the limit', async () => {
    const ip = '198.51.100.77';
    const first = requestFor(signInRoute, { body: { email: 'a@example.com' }, ip });
    await before(rateLimits(), first);
    first.response = { statusCode: 200, headers: {}, body: '' };
    await after(rateLimits(), first);
    expect(first.response.headers).toMatchObject({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1' });
    const second = requestFor(signInRoute, { body: { email: 'a@example.com' }, ip });
    await before(rateLimits(), second);
    second.error = new AppError('invalid-credentials', 401, 'Invalid credentials');
    await onError(rateLimits(), second);
    expect((second.error as AppError).headers).toMatchObject({ 'RateLimit-Remaining': '0' });
    const third = requestFor(signInRoute, { body: { email: 'a@example.com' }, ip });
    await before(rateLimits(), third);
    await expect(Promise.all(third.event.routed?.checks ?? [])).rejects.toEqual(problem(429));
  });

  it('counts a public hook per calling address, in the partition of the tenant its path names', async () => {
    const tenantId = 'ten_01jh0000000000000000000hk1';
    const call = async (ip: string) => {
      const request = requestFor(hookRoute, { tenantId, ip });
      await before(rateLimits(), request);
      return Promise.all(request.event.routed?.checks ?? []);
    };
    await call('203.0.113.5');
    await call('203.0.113.5');
    await expect(call('203.0.113.5')).rejects.toEqual(problem(429));
    // another address has its own count
    await expect(call('203.0.113.6')).resolves.toBeDefined();
  });
});

describe('Middleware: admission', () => {
  it('holds a write until its checks pass, and lets a read go on', async () => {
    const failing = () => {
      const refused = Promise.reject(new AppError('tenant-suspended', 403, 'Suspended'));
      refused.catch(() => undefined);
      return refused;
    };
    const write = requestFor(writeRoute);
    write.event.routed?.checks.push(failing());
    await expect(before(admission(), write)).rejects.toEqual(problem(403));
    const read = requestFor(readRoute);
    read.event.routed?.checks.push(failing());
    await expect(before(admission(), read)).resolves.toBeUndefined();
  });
});

describe('Middleware: permission', () => {
  it('names the scope a token lacks', () => {
    const request = requestFor(writeRoute, {
      principal: who(customer, { tokenId: 'tok_1', scopes: ['servers:read'] }),
    });
    expect(() => before(permission(), request)).toThrow('Forbidden');
    try {
      before(permission(), request);
    } catch (error) {
      expect((error as AppError).detail).toBe('This API token lacks the scope servers:write.');
    }
    expect(() => before(permission(), requestFor(writeRoute, { principal: who(customer) }))).not.toThrow();
  });
});

describe('Middleware: requestParts', () => {
  it('validates query and body, and refuses a body where the route takes none', () => {
    const read = requestFor(readRoute, { query: { limit: '7' } });
    before(requestParts(), read);
    expect(read.event.routed?.query).toEqual({ limit: 7 });
    expect(() => before(requestParts(), requestFor(readRoute, { body: { x: 1 } }))).toThrow(AppError);
    expect(() => before(requestParts(), requestFor(writeRoute, { body: { name: 1 } }))).toThrow(AppError);
  });
});

describe('Middleware: tenantStore', () => {
  it('gives a tenant-scoped context the store of the tenant in the path', () => {
    const request = requestFor(readRoute);
    if (request.event.routed) request.event.routed.target = customer.id;
    before(tenantStore(), request);
    expect(scopedStores.at(-1)).toBe(customer.id);
    const platformWide = requestFor(readRoute);
    if (platformWide.event.routed) {
      platformWide.event.routed.target = customer.id;
      platformWide.event.routed.context = {
        ...probeContext,
        data: { scope: 'platform', reason: 'a test of it' },
      };
    }
    const before_ = scopedStores.length;
    before(tenantStore(), platformWide);
    expect(scopedStores).toHaveLength(before_);
    expect(platformWide.event.routed?.store).toBe(store);
  });
});

describe('Middleware: idempotency', () => {
  const keyed = (key: string, body: unknown) => {
    const request = requestFor(writeRoute, {
      principal: who(customer),
      tenantId: customer.id,
      body,
      headers: { 'Idempotency-Key': key },
    });
    if (request.event.routed) request.event.routed.target = customer.id;
    return request;
  };

  it('replays the first answer, refuses another body and a retry while the first runs', async () => {
    const first = keyed('k-1', { name: 'a' });
    await before(idempotency(), first);
    expect(first.event.routed?.idempotency?.replay).toBeUndefined();
    await expect(before(idempotency(), keyed('k-1', { name: 'a' }))).rejects.toEqual(problem(409));
    await first.event.routed?.idempotency?.record({ status: 201, body: { id: 'x' } });
    const again = keyed('k-1', { name: 'a' });
    await before(idempotency(), again);
    expect(again.event.routed?.idempotency?.replay).toMatchObject({ status: 201, body: { id: 'x' } });
    await expect(before(idempotency(), keyed('k-1', { name: 'b' }))).rejects.toEqual(problem(422));
  });

  it('frees the key of a request that failed, and of one that crashed once its time is up', async () => {
    const failed = keyed('k-2', { name: 'a' });
    await before(idempotency(), failed);
    failed.error = new AppError('conflict', 409, 'Conflict');
    await onError(idempotency(), failed);
    await expect(before(idempotency(), keyed('k-2', { name: 'a' }))).resolves.toBeUndefined();

    // a request that crashed never settles its key: a retry within its time still waits...
    await before(idempotency(), keyed('k-3', { name: 'a' }));
    await expect(before(idempotency(), keyed('k-3', { name: 'a' }))).rejects.toEqual(problem(409));
    // ...and after it takes the key over, once
    now = new Date(now.getTime() + 61_000);
    const retry = keyed('k-3', { name: 'a' });
    await before(idempotency(), retry);
    expect(retry.event.routed?.idempotency?.replay).toBeUndefined();
    await expect(before(idempotency(), keyed('k-3', { name: 'a' }))).rejects.toEqual(problem(409));
  });
});

describe('Middleware: audit', () => {
  const entries = async (tenantId: string) =>
    (await store.query<AuditItem>({ pk: auditKeys.partition(tenantId), limit: 100, tenantId, scope: 't' }))
      .items;

  it("records a write in the audit log of the tenant acted on, a refused one in the caller's, and no read", async () => {
    const write = requestFor(writeRoute, { principal: who(reseller), tenantId: customer.id });
    if (write.event.routed) write.event.routed.target = customer.id;
    write.response = { statusCode: 201, headers: { Location: '/v1/tenants/x/things/1' }, body: '' };
    await after(audit(), write);
    expect(await entries(customer.id)).toEqual([
      expect.objectContaining({
        action: 'makeThing',
        status: 201,
        result: 'succeeded',
        target: '/v1/tenants/x/things/1',
      }),
    ]);
    const refused = requestFor(writeRoute, { principal: who(stranger), tenantId: customer.id });
    refused.error = new AppError('not-found', 404, 'Not found');
    await onError(audit(), refused);
    expect(await entries(stranger.id)).toEqual([expect.objectContaining({ status: 404, result: 'denied' })]);
    const read = requestFor(readRoute, { principal: who(customer), tenantId: customer.id });
    read.response = { statusCode: 200, headers: {}, body: '' };
    await after(audit(), read);
    expect(await entries(customer.id)).toHaveLength(1);
  });
});
