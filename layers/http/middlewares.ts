import type middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { errors } from '../errors/app-error';
import { logger, metrics, withCorrelation } from '../observability/logger';
import { problemResponse } from './problem';

/** The proxy event as the kit hands it on: the body already parsed, the request id settled. */
export interface ApiEvent extends APIGatewayProxyEvent {
  parsedBody?: unknown;
  requestIdResolved?: string;
}

type Middleware = middy.MiddlewareObj<ApiEvent, APIGatewayProxyResult>;

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Settles the request id (API Gateway's, or a well-formed X-Request-Id the client sent) and
 * the correlation id every log line of this request, its workflow and its host commands carry.
 */
export const requestContext = (): Middleware => ({
  before: (request) => {
    const event = request.event;
    const sent = headerValue(event, 'x-request-id');
    const id = sent && REQUEST_ID_PATTERN.test(sent) ? sent : event.requestContext.requestId;
    event.requestIdResolved = id;
    withCorrelation(id);
    logger.addContext(request.context);
  },
  after: (request) => {
    if (request.response) {
      request.response.headers = {
        ...request.response.headers,
        'X-Request-Id': request.event.requestIdResolved ?? '',
      };
    }
  },
});

/** Parses a JSON body, refusing oversized bodies (413), other media types (415) and malformed JSON (400). */
export const jsonBody = (options: { maxBytes: number }): Middleware => ({
  before: (request) => {
    const event = request.event;
    if (event.body === null || event.body === undefined || event.body === '') return;
    const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    if (Buffer.byteLength(raw, 'utf8') > options.maxBytes) throw errors.payloadTooLarge(options.maxBytes);
    const type = headerValue(event, 'content-type') ?? '';
    if (!/^application\/([a-z.+-]*\+)?json\s*(;|$)/i.test(type)) throw errors.unsupportedMediaType();
    try {
      event.parsedBody = JSON.parse(raw);
    } catch (cause) {
      throw errors.malformedJson(cause instanceof Error ? cause.message : 'The body is not valid JSON.');
    }
  },
});

/** Renders every error as problem+json; a non-AppError is logged with its stack and counted, and the client sees only a 500. */
export const problemErrors = (): Middleware => ({
  onError: (request) => {
    const event = request.event;
    const requestId = event.requestIdResolved ?? event.requestContext?.requestId ?? 'unknown';
    const response = problemResponse(request.error, requestId, event.path ?? '/');
    if (response.statusCode >= 500) {
      logger.error('Unhandled error', { error: request.error as Error });
      metrics.addMetric('UnhandledError', 'Count', 1);
      metrics.publishStoredMetrics();
    }
    request.response = {
      ...response,
      headers: { ...response.headers, 'X-Request-Id': requestId },
    };
  },
});

/** A request header, case-insensitively. */
export function headerValue(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
