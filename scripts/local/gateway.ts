import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
  Context,
} from 'aws-lambda';
import {
  AUTHORIZER_CACHE_SECONDS,
  corsPreflight,
  GATEWAY_MAX_BODY_BYTES,
  type GatewayResponseType,
  gatewayProblem,
  gatewayResponses,
  methodNotAllowed,
} from '../../functions/gateway';
import { problemType } from '../../layers/errors/app-error';
import type { RouteSpec } from '../../layers/http/route';

type ProxyHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult & { stream?: AsyncIterable<string> }>;
type Authorizer = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export interface GatewayOptions {
  routes: readonly RouteSpec[];
  handlers: Record<string, ProxyHandler>;
  authorizer: Authorizer;
  stage: string;
  region: string;
  corsOrigins: string;
  /** usage plans: every route with the authorizer requires the usage key it names */
  usageKeys?: { admit(value: string | undefined): 'ok' | 'forbidden' | 'throttled' };
}

interface CompiledRoute {
  spec: RouteSpec;
  pattern: RegExp;
  names: string[];
}

const API_ID = 'local';
const ACCOUNT = '000000000000';

function compile(spec: RouteSpec): CompiledRoute {
  const names: string[] = [];
  const source = spec.path
    .split('/')
    .map((segment) => {
      const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(segment)?.[1];
      if (!parameter) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(parameter);
      return '([^/]+)';
    })
    .join('/');
  return { spec, pattern: new RegExp(`^${source}$`), names };
}

/**
 * The methods of the routes a path matched. Two templates can match one path (`/x/{id}` and
 * `/x/new`); API Gateway picks the literal one, so only the most literal template's methods count.
 */
function allowedMethods(matches: readonly CompiledRoute[]): string[] {
  const literalness = (r: CompiledRoute) => -r.names.length;
  const best = Math.max(...matches.map(literalness));
  return [...new Set(matches.filter((m) => literalness(m) === best).map((m) => m.spec.method))];
}

/** The request body, or undefined when it is larger than API Gateway accepts. */
function readBody(request: IncomingMessage): Promise<Buffer[] | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > GATEWAY_MAX_BODY_BYTES ? undefined : chunks));
    request.on('error', reject);
  });
}

function lambdaContext(functionName: string, requestId: string): Context {
  const deadline = Date.now() + 29_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * A path segment as API Gateway hands it to a handler: percent-decoded, or as it came when it
 * is not valid percent-encoding (`%ZZ`), so the route's validation answers 400 naming it.
 */
export function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Answers every request on a server that is bound but not serving yet (the runtime still
 * starting its engines) with a 503 problem and Retry-After, so a client that polls for health
 * gets an answer at once and comes back, rather than a connection that hangs. The returned
 * function stops it, once the gateway serves.
 */
export function answerWhileStarting(server: Server): () => void {
  const starting = (request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    response.writeHead(503, { 'Content-Type': 'application/problem+json', 'Retry-After': '1' });
    response.end(
      JSON.stringify({
        type: problemType('starting'),
        title: 'Starting',
        status: 503,
        detail: 'The control plane is starting; try again in a moment.',
        instance: request.url ?? '/',
        requestId: randomUUID(),
      }),
    );
  };
  server.on('request', starting);
  return () => server.off('request', starting);
}

/**
 * API Gateway, locally: it matches the same route table, runs the same REQUEST authorizer
 * (caching its answer per token as API Gateway does), builds the same REST proxy event for
 * the bounded context's handler module and answers its own errors with the same gateway
 * responses the CDK app installs.
 */
export function makeGateway(options: GatewayOptions) {
  const compiled = options.routes.map(compile);
  const authorizerCache = new Map<string, { result: APIGatewayAuthorizerResult | 'deny'; until: number }>();
  let cacheSeconds = AUTHORIZER_CACHE_SECONDS;

  function send(response: ServerResponse, result: APIGatewayProxyResult) {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
    response.writeHead(result.statusCode, headers);
    response.end(result.body);
  }

  /** STREAM transfer mode: the status and headers, then each piece as the handler yields it. */
  async function sendStream(
    response: ServerResponse,
    result: APIGatewayProxyResult,
    stream: AsyncIterable<string>,
  ) {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
    response.writeHead(result.statusCode, headers);
    response.flushHeaders();
    const iterator = stream[Symbol.asyncIterator]();
    // a client that goes away ends the stream at the handler too
    response.once('close', () => void iterator.return?.());
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done || response.destroyed) break;
        response.write(next.value);
      }
    } finally {
      response.end();
    }
  }

  function gatewayError(
    response: ServerResponse,
    type: GatewayResponseType,
    requestId: string,
    path: string,
    authorizerDetail?: string,
  ) {
    const spec = gatewayResponses[type];
    send(response, {
      statusCode: spec.status,
      headers: {
        'Content-Type': 'application/problem+json',
        'Access-Control-Allow-Origin': options.corsOrigins.split(',')[0] ?? '*',
        'X-Request-Id': requestId,
        ...('headers' in spec ? spec.headers : {}),
      },
      body: JSON.stringify(gatewayProblem(type, requestId, path, authorizerDetail)),
    });
  }

  /** Runs the REQUEST authorizer, caching its answer per token and source IP as API Gateway does. */
  async function authorize(token: string, event: APIGatewayProxyEvent, methodArn: string) {
    const cacheKey = `${token} ${event.requestContext.identity.sourceIp}`;
    const cached = authorizerCache.get(cacheKey);
    if (cached && cached.until > Date.now()) return cached.result;
    let result: APIGatewayAuthorizerResult | 'deny';
    try {
      result = await options.authorizer({
        type: 'REQUEST',
        methodArn,
        resource: event.resource,
        path: event.path,
        httpMethod: event.httpMethod,
        headers: event.headers,
        multiValueHeaders: event.multiValueHeaders,
        pathParameters: event.pathParameters,
        queryStringParameters: event.queryStringParameters,
        multiValueQueryStringParameters: event.multiValueQueryStringParameters,
        stageVariables: event.stageVariables,
        requestContext: event.requestContext as APIGatewayRequestAuthorizerEvent['requestContext'],
      });
    } catch {
      result = 'deny';
    }
    if (cacheSeconds > 0) authorizerCache.set(cacheKey, { result, until: Date.now() + cacheSeconds * 1000 });
    return result;
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = (request.method ?? 'GET').toUpperCase();
    const chunks = await readBody(request);
    if (!chunks) {
      gatewayError(response, 'REQUEST_TOO_LARGE', requestId, url.pathname);
      return;
    }
    const matches = compiled.filter((r) => r.pattern.test(url.pathname));
    if (method === 'OPTIONS' && matches.length > 0) {
      const preflight = corsPreflight(allowedMethods(matches), options.corsOrigins.split(',')[0] ?? '*');
      response.writeHead(preflight.status, preflight.headers);
      response.end();
      return;
    }
    const route = matches.find((r) => r.spec.method === method);
    if (!route && matches.length > 0) {
      const answer = methodNotAllowed(allowedMethods(matches), requestId, url.pathname);
      send(response, {
        statusCode: answer.status,
        headers: {
          'Content-Type': 'application/problem+json',
          'Access-Control-Allow-Origin': options.corsOrigins.split(',')[0] ?? '*',
          'X-Request-Id': requestId,
          ...answer.headers,
        },
        body: JSON.stringify(answer.body),
      });
      return;
    }
    if (!route) {
      gatewayError(response, 'MISSING_AUTHENTICATION_TOKEN', requestId, url.pathname);
      return;
    }
    const values = route.pattern.exec(url.pathname)?.slice(1) ?? [];
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      const name = request.rawHeaders[i] ?? '';
      const value = request.rawHeaders[i + 1] ?? '';
      headers[name] = value;
      multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
    }
    const methodArn = `arn:aws:execute-api:${options.region}:${ACCOUNT}:${API_ID}/${options.stage}/${method}${route.spec.path}`;
    const query: Record<string, string> = {};
    const multiQuery: Record<string, string[]> = {};
    for (const [key, value] of url.searchParams) {
      query[key] = value;
      multiQuery[key] = [...(multiQuery[key] ?? []), value];
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const event: APIGatewayProxyEvent = {
      resource: route.spec.path,
      path: url.pathname,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: Object.keys(query).length > 0 ? query : null,
      multiValueQueryStringParameters: Object.keys(multiQuery).length > 0 ? multiQuery : null,
      pathParameters:
        route.names.length > 0
          ? Object.fromEntries(route.names.map((n, i) => [n, decodedSegment(values[i] ?? '')]))
          : null,
      stageVariables: null,
      body: body.length > 0 ? body : null,
      isBase64Encoded: false,
      requestContext: {
        accountId: ACCOUNT,
        apiId: API_ID,
        authorizer: null,
        httpMethod: method,
        path: `/${options.stage}${url.pathname}`,
        protocol: 'HTTP/1.1',
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: route.spec.operationId,
        resourcePath: route.spec.path,
        stage: options.stage,
        identity: {
          sourceIp,
          userAgent: String(request.headers['user-agent'] ?? ''),
          accessKey: null,
          accountId: null,
          apiKey: null,
          apiKeyId: null,
          caller: null,
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          user: null,
          userArn: null,
        },
      },
    };
    if (route.spec.auth === 'user') {
      // API Gateway answers 401 itself when the identity source (the Authorization header) is missing.
      const token = headers[Object.keys(headers).find((h) => h.toLowerCase() === 'authorization') ?? ''];
      const result = token ? await authorize(token, event, methodArn) : undefined;
      if (!result || result === 'deny') {
        gatewayError(response, 'UNAUTHORIZED', requestId, url.pathname);
        return;
      }
      const allowed = result.policyDocument.Statement.some((s) => 'Effect' in s && s.Effect === 'Allow');
      if (!allowed) {
        const detail = result.context?.detail;
        gatewayError(response, 'ACCESS_DENIED', requestId, url.pathname, String(detail ?? ''));
        return;
      }
      const usage = options.usageKeys?.admit(result.usageIdentifierKey ?? undefined);
      if (usage === 'forbidden') {
        gatewayError(response, 'INVALID_API_KEY', requestId, url.pathname);
        return;
      }
      if (usage === 'throttled') {
        gatewayError(response, 'THROTTLED', requestId, url.pathname);
        return;
      }
      event.requestContext.authorizer = {
        principalId: result.principalId,
        integrationLatency: 0,
        ...(result.context ?? {}),
      };
    }
    const handler = options.handlers[route.spec.context];
    if (!handler) throw new Error(`No handler module for context ${route.spec.context}`);
    try {
      const result = await handler(event, lambdaContext(route.spec.context, requestId));
      if (result.stream) await sendStream(response, result, result.stream);
      else send(response, result);
    } catch {
      // A Lambda that throws past its own error handling is a 502 at API Gateway; a stream
      // that breaks after its headers just ends.
      if (response.headersSent) response.end();
      else gatewayError(response, 'DEFAULT_5XX', requestId, url.pathname);
    }
  }

  return {
    /** Turns the authorizer cache off (0) or back on, as a benchmark compares both. */
    setAuthorizerCacheSeconds(seconds: number) {
      if (seconds === cacheSeconds) return;
      cacheSeconds = seconds;
      authorizerCache.clear();
    },
    listen(port: number, host = '127.0.0.1'): Promise<Server> {
      const server = this.serve(createServer());
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve(server));
      });
    },
    /** Answers the requests of a server that already listens (its port was needed earlier). */
    serve(server: Server): Server {
      server.on('request', (request: IncomingMessage, response: ServerResponse) => {
        handle(request, response).catch(() => {
          if (!response.headersSent) gatewayError(response, 'DEFAULT_5XX', randomUUID(), request.url ?? '/');
        });
      });
      server.keepAliveTimeout = 5_000;
      return server;
    },
  };
}
