import { problemType } from '../layers/errors/app-error';

/** How long API Gateway caches an authorizer's answer per token; token revocation takes effect within it. */
export const AUTHORIZER_CACHE_SECONDS = 60;

/** The largest body API Gateway passes on; handlers enforce their own, smaller limit. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

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
  ACCESS_DENIED: {
    status: 403,
    code: 'forbidden',
    title: 'Forbidden',
    detail: 'You are not allowed to do this.',
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
export function gatewayProblem(type: GatewayResponseType, requestId: string, instance: string) {
  const response: GatewayResponse = gatewayResponses[type];
  return {
    type: problemType(response.code),
    title: response.title,
    status: response.status,
    detail: response.detail,
    instance,
    requestId,
  };
}
