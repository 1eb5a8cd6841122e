import middy from '@middy/core';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/api';
import { signupBody } from '../../functions/auth/spec';
import { credentialsSecret } from '../../functions/servers/providers/credentials';
import { createServerBody } from '../../functions/servers/spec';
import { AppError, errors } from '../errors/app-error';
import { cloudProviders } from '../model/servers';
import { databaseEngines, nodeVersions, phpVersions, webServers } from '../model/stack';
import { type ApiEvent, jsonBody, problemErrors, requestContext } from './middlewares';
import { toProblem } from './problem';
import { versionFromIfMatch } from './route';
import { parsePart } from './validation';

const context = {
  awsRequestId: 'req-1',
  functionName: 'test',
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

function event(
  body: string | null,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
): ApiEvent {
  return {
    body,
    headers,
    isBase64Encoded: false,
    httpMethod: 'POST',
    path: '/v1/things',
    resource: '/v1/things',
    requestContext: { requestId: 'gw-request-id' },
  } as unknown as ApiEvent;
}

const kit = (handler: (e: ApiEvent) => Promise<APIGatewayProxyResult>) =>
  middy<ApiEvent, APIGatewayProxyResult>()
    .use(problemErrors())
    .use(requestContext())
    .use(jsonBody({ maxBytes: 100 }))
    .handler(handler);

const echo = kit(async (e) => ({ statusCode: 200, body: JSON.stringify(e.parsedBody ?? null) }));

describe('Module: HTTP kit middlewares', () => {
  it('parses a JSON body and tags the response with the request id', async () => {
    const response = await echo(event('{"a":1}'), context);
    expect(response).toMatchObject({ statusCode: 200, body: '{"a":1}' });
    expect(response.headers?.['X-Request-Id']).toBe('gw-request-id');
  });

  it('keeps a well-formed X-Request-Id from the client and ignores a malformed one', async () => {
    const kept = await echo(
      event('{}', { 'content-type': 'application/json', 'x-request-id': 'client-abc-123' }),
      context,
    );
    expect(kept.headers?.['X-Request-Id']).toBe('client-abc-123');
    const ignored = await echo(
      event('{}', { 'content-type': 'application/json', 'x-request-id': 'bad id\n' }),
      context,
    );
    expect(ignored.headers?.['X-Request-Id']).toBe('gw-request-id');
  });

  it('answers 413, 415 and 400 as problem+json for oversized, non-JSON and malformed bodies', async () => {
    const tooLarge = await echo(event(JSON.stringify({ x: 'y'.repeat(200) })), context);
    const notJson = await echo(event('a=b', { 'content-type': 'text/plain' }), context);
    const malformed = await echo(event('{"a":'), context);
    expect([tooLarge.statusCode, notJson.statusCode, malformed.statusCode]).toEqual([413, 415, 400]);
    for (const response of [tooLarge, notJson, malformed]) {
      expect(response.headers?.['Content-Type']).toBe('application/problem+json');
      expect(JSON.parse(response.body).errors[0].path).toBe('body');
    }
  });

  it('turns an unexpected error into a 500 that reveals nothing', async () => {
    const failing = kit(async () => {
      throw new Error('connection string postgres://secret@db');
    });
    const response = await failing(event(null), context);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret');
    expect(JSON.parse(response.body)).toMatchObject({
      title: 'Internal error',
      status: 500,
      requestId: 'gw-request-id',
    });
  });
});

describe('Module: problem rendering', () => {
  it('renders an exposed AppError with its field errors and extensions', () => {
    const problem = toProblem(errors.validation([{ path: 'body.name', message: 'Required' }]), 'r1', '/v1/x');
    expect(problem).toEqual({
      type: 'https://docs.vip-hosting-panel.dev/problems/validation-failed',
      title: 'Validation failed',
      status: 400,
      detail: 'The request is not valid.',
      instance: '/v1/x',
      requestId: 'r1',
      errors: [{ path: 'body.name', message: 'Required' }],
    });
  });

  it('hides the detail of a 5xx AppError', () => {
    const problem = toProblem(
      new AppError('db-down', 503, 'Table unreachable', { detail: 'host 10.0.0.1' }),
      'r2',
      '/',
    );
    expect(problem).toMatchObject({ status: 503, title: 'Internal error' });
    expect(JSON.stringify(problem)).not.toContain('10.0.0.1');
  });
});

/** Every way a request part can be wrong must end in a 400 naming fields under that part, never another error. */
function expectOnlyValidationErrors(schema: Parameters<typeof parsePart>[0], value: unknown, part = 'body') {
  try {
    parsePart(schema, value, part);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.status).toBe(400);
    expect(appError.errors?.length).toBeGreaterThan(0);
    for (const field of appError.errors ?? []) expect(field.path.startsWith(part)).toBe(true);
    return false;
  }
}

describe('Property: request schemas', () => {
  it('answers any JSON value sent as a create-server body with a result or a field-level 400', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectOnlyValidationErrors(createServerBody, value);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every well-formed create-server body', () => {
    const valid = fc.record({
      name: fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/),
      provider: fc.constant('local'),
      stack: fc.record(
        {
          webServer: fc.constantFrom(...webServers),
          phpVersions: fc.uniqueArray(fc.constantFrom(...phpVersions)),
          database: fc.constantFrom(null, ...databaseEngines),
          redis: fc.boolean(),
          nodeVersions: fc.uniqueArray(fc.constantFrom(...nodeVersions)),
        },
        { requiredKeys: [] },
      ),
    });
    fc.assert(
      fc.property(valid, (body) => {
        expect(expectOnlyValidationErrors(createServerBody, body)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("answers anything sent to any route's body, query or path with a result or a field-level 400", () => {
    const parts = routes.flatMap((route) =>
      (['body', 'query', 'params'] as const)
        .filter((part) => route[part] !== undefined)
        .map((part) => ({ route, part, schema: route[part] as Parameters<typeof parsePart>[0] })),
    );
    expect(parts.length).toBeGreaterThan(40);
    for (const { part, schema } of parts) {
      // bodies are any JSON; query strings and path parameters are always strings
      const value = part === 'body' ? fc.jsonValue() : fc.dictionary(fc.string(), fc.string());
      fc.assert(
        fc.property(value, (v) => {
          expectOnlyValidationErrors(schema, v, part === 'params' ? 'path' : part);
        }),
        { numRuns: 60, examples: [[{}]] },
      );
    }
  });

  it("answers any mix of credential fields with the provider's secret or 400s naming exactly the wrong fields", () => {
    const field = (value: string) => fc.option(fc.constant(value), { nil: undefined });
    const body = fc.record({
      token: field('a-provider-token'),
      accessKeyId: field('AKIAIOSFODNN7EXAMPLE'),
      secretAccessKey: field('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'),
      roleArn: field('arn:aws:iam::111122223333:role/vip-hosting-panel'),
    });
    fc.assert(
      fc.property(fc.constantFrom(...cloudProviders), body, (provider, given) => {
        const wanted =
          provider !== 'aws'
            ? ['token']
            : given.roleArn !== undefined
              ? ['roleArn']
              : ['accessKeyId', 'secretAccessKey'];
        const sent = Object.keys(given).filter((k) => given[k as keyof typeof given] !== undefined);
        const wrong = [
          ...wanted.filter((k) => !sent.includes(k)),
          ...sent.filter((k) => !wanted.includes(k)),
        ].map((k) => `body.${k}`);
        try {
          const { secret } = credentialsSecret(provider, given, 'ten_a');
          expect(wrong).toEqual([]);
          if (wanted.includes('roleArn'))
            expect(JSON.parse(secret)).toEqual({ roleArn: given.roleArn, externalId: 'ten_a' });
        } catch (error) {
          expect((error as AppError).status).toBe(400);
          expect(((error as AppError).errors ?? []).map((e) => e.path).sort()).toEqual(wrong.sort());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('names every unknown field of a signup body', () => {
    const extra = fc.dictionary(
      fc
        .string({ minLength: 1 })
        .filter((k) => !['email', 'password', 'name', 'tenantName', '__proto__'].includes(k)),
      fc.jsonValue(),
      { minKeys: 1, maxKeys: 4 },
    );
    fc.assert(
      fc.property(extra, (fields) => {
        const body = {
          email: 'a@example.com',
          password: 'long enough password',
          name: 'A',
          tenantName: 'T',
          ...fields,
        };
        try {
          parsePart(signupBody, body, 'body');
          throw new Error('accepted unknown fields');
        } catch (error) {
          const paths = ((error as AppError).errors ?? []).map((e) => e.path);
          for (const key of Object.keys(fields)) expect(paths).toContain(`body.${key}`);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('Module: conditional requests', () => {
  it('reads a version from a strong or weak ETag, and answers 412 for one no item can have', () => {
    expect(versionFromIfMatch('"v3"')).toBe(3);
    expect(versionFromIfMatch('W/"v3"')).toBe(3);
    expect(versionFromIfMatch(undefined)).toBeUndefined();
    for (const value of ['"v99999999999999999999999"', `"v${'9'.repeat(400)}"`, '"3"', '*']) {
      expect(() => versionFromIfMatch(value), value).toThrow(expect.objectContaining({ status: 412 }));
    }
  });
});
