import { problemType } from '../layers/errors/app-error';

/** How long API Gateway caches an authorizer's answer per token; token revocation takes effect within it. */
export const AUTHORIZER_CACHE_SECONDS = 60;

/** The largest body API Gateway passes on; handlers enforce their own, smaller limit. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Stands for the authorizer's own words in a gateway response: `$context.authorizer.detail`
 * in API Gateway's template, the Deny's context locally.
 */
export const AUTHORIZER_DETAIL = '$context.authorizer.detail';

export interface GatewayResponse {
  status: number;
  code: string;
  title: string;
  detail: string;
  headers?: Record<string, string>;
}

/**
 * The answers API Gateway itself gives, before any handler runs, as problem+json. The CDK
 * app installs them as gateway responses; the local gateway answers with the same bodies.
 */
export const gatewayResponses = {
  UNAUTHORIZED: {
    status: 401,
    code: 'unauthorized',
    title: 'Unauthorized',
    detail: 'A valid bearer token is required.',
    headers: { 'WWW-Authenticate': 'Bearer' },
  },
  // The authorizer denies a token it refuses, saying why in its context's `detail`.
  ACCESS_DENIED: {
    status: 401,
    code: 'unauthorized',
    title: 'Unauthorized',
    detail: AUTHORIZER_DETAIL,
    headers: { 'WWW-Authenticate': 'Bearer' },
  },
  INVALID_API_KEY: {
    status: 403,
    code: 'forbidden',
    title: 'Forbidden',
    detail: 'This caller has no usage plan.',
  },
  MISSING_AUTHENTICATION_TOKEN: {
    status: 404,
    code: 'not-found',
    title: 'Not found',
    detail: 'There is no such route.',
  },
  REQUEST_TOO_LARGE: {
    status: 413,
    code: 'payload-too-large',
    title: 'Payload too large',
    detail: 'The request is too large.',
  },
  THROTTLED: {
    status: 429,
    code: 'rate-limited',
    title: 'Too many requests',
    detail: 'Slow down and retry later.',
  },
  DEFAULT_5XX: {
    status: 502,
    code: 'internal-error',
    title: 'Internal error',
    detail: 'Something went wrong on our side.',
  },
} satisfies Record<string, GatewayResponse>;

export type GatewayResponseType = keyof typeof gatewayResponses;

/** The problem body for a gateway response, with the request id filled in (`$context.requestId` in AWS). */
export function gatewayProblem(
  type: GatewayResponseType,
  requestId: string,
  instance: string,
  authorizerDetail = AUTHORIZER_DETAIL,
) {
  const response: GatewayResponse = gatewayResponses[type];
  return {
    type: problemType(response.code),
    title: response.title,
    status: response.status,
    detail: response.detail === AUTHORIZER_DETAIL ? authorizerDetail : response.detail,
    instance,
    requestId,
  };
}

/**
 * The answer to a CORS preflight of a path (204): the methods it has and the headers the web
 * app sends. API Gateway gives it from the same mock `ANY` method as the 405 (which OPTIONS
 * reaches, as no resource defines it), the local gateway from its route table.
 */
export function corsPreflight(methods: readonly string[], origin: string) {
  return {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': [...new Set(methods)].sort().concat('OPTIONS').join(','),
      'Access-Control-Allow-Headers': 'Authorization,Content-Type,Idempotency-Key,If-Match,X-Request-Id',
      'Access-Control-Max-Age': '600',
    },
  };
}

/**
 * The answer to a method a path does not have: 405 with `Allow`. API Gateway gives it from a
 * mock `ANY` method on each resource (a method of the resource's own wins over ANY); the
 * local gateway from its route table.
 */
export function methodNotAllowed(methods: readonly string[], requestId: string, instance: string) {
  const allow = [...new Set(methods)].sort();
  return {
    status: 405,
    headers: { Allow: [...allow, 'OPTIONS'].join(', ') },
    body: {
      type: problemType('method-not-allowed'),
      title: 'Method not allowed',
      status: 405,
      detail: `This path answers ${[...allow, 'OPTIONS'].join(', ')}.`,
      instance,
      requestId,
    },
  };
}
