import type * as z from 'zod';
import type { Permission } from '../auth/permissions';
import { errors } from '../errors/app-error';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/**
 * One route of the API, written once: the CDK builds API Gateway resources from it, the
 * local gateway matches requests with it, handlers validate with its schemas and the
 * OpenAPI document is generated from it.
 */
export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  /** API Gateway resource path, for example `/v1/tenants/{tenantId}/servers/{serverId}` */
  path: string;
  /** the bounded context, which is the Lambda function that serves the route */
  context: string;
  auth: 'none' | 'user';
  /** what a user route needs (docs/permissions.md); a role without it answers 403 */
  permission?: Permission;
  summary: string;
  tags: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /**
   * `sign-in`: a public route that guesses could be made against (login, signup, resets), so it
   * is limited per source address and per account named in the body. Every user route is
   * limited per principal by the tenant's plan.
   */
  rateLimit?: 'sign-in' | 'webhook';
  /** POST routes that honour Idempotency-Key */
  idempotent?: boolean;
  responses: Record<number, ResponseSpec>;
}

/** Declares a route with its literal types kept. */
export const route = <const R extends RouteSpec>(spec: R): R => spec;

export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** a streamed body (server-sent events), written as it comes; `body` is then unused */
  stream?: AsyncIterable<string>;
}

/** 200 with a server-sent event stream. */
export const eventStream = (stream: AsyncIterable<string>): HttpResult => ({
  status: 200,
  stream,
  headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' },
});

/** 201 with the resource and its Location. */
export const created = (
  body: unknown,
  location: string,
  headers: Record<string, string> = {},
): HttpResult => ({
  status: 201,
  body,
  headers: { Location: location, ...headers },
});

/** 202 for long work, pointing at the operation. */
export const accepted = (body: unknown, location: string): HttpResult => ({
  status: 202,
  body,
  headers: { Location: location },
});

export const ok = (body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  status: 200,
  body,
  headers,
});

/** A strong ETag from an item version. */
export const etag = (version: number | undefined): string => `"v${version ?? 0}"`;

/** A strong ETag (`"v3"`) or a weak one (`W/"v3"`) both name version 3. */
export const versionFromIfMatch = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const match = /^(?:W\/)?"v(\d+)"$/.exec(value.trim());
  const version = Number(match?.[1]);
  // a version no item can have (past 2^53, say) cannot match: 412, as any stale one
  if (!match?.[1] || !Number.isSafeInteger(version)) throw errors.preconditionFailed();
  return version;
};
