import { Agent, request } from 'node:http';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { documentClient } from '../../layers/aws/dynamodb';
import { serverKeys } from '../../layers/model/servers';
import { getPlatform } from '../../layers/runtime/platform';
import { startBenchRuntime } from './support';

/**
 * One run, every figure interleaved round by round so all see the same state of DynamoDB
 * Local's JVM (it keeps getting faster as its JIT warms up):
 * - GET /v1/tenants/{id}/servers/{id} through the local gateway against a raw GetItem of the
 *   same item (target: p50 within 1.5x);
 * - the authorizer's own cost (a user JWT; an API token, which costs a GetItem and an
 *   UpdateItem) and the gateway with its authorizer cache on and off, each as a ratio to the
 *   bare handler invoked with the authorizer's context already in the event;
 * - the DynamoDB requests an authenticated GET costs.
 * Prints figures and ratios; it never fails on a timing.
 */
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 500);
const WARMUP = 300;
// The benchmark principal's plan allows the load it sends (the default is 600 a minute).
process.env.DEFAULT_REQUESTS_PER_MINUTE = '1000000';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

type Stats = { p50: number; p99: number };

async function measure(runs: Record<string, () => Promise<unknown>>): Promise<Record<string, Stats>> {
  const entries = Object.entries(runs);
  for (let i = 0; i < WARMUP; i += 1) for (const [, run] of entries) await run();
  const samples = new Map<string, number[]>(entries.map(([name]) => [name, []]));
  for (let i = 0; i < ITERATIONS; i += 1) {
    for (const [name, run] of entries) {
      const start = process.hrtime.bigint();
      await run();
      samples.get(name)?.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return Object.fromEntries(
    [...samples].map(([name, s]) => {
      s.sort((x, y) => x - y);
      return [name, { p50: percentile(s, 50), p99: percentile(s, 99) }];
    }),
  );
}

const context = { functionName: 'bench', awsRequestId: 'bench' } as Context;

async function main() {
  const runtime = await startBenchRuntime();
  try {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${runtime.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, string>>);
    const credentials = { email: 'bench@example.com', password: 'benchmark password' };
    await post('/v1/auth/signup', { ...credentials, name: 'Bench', tenantName: 'Bench' });
    const login = await post('/v1/auth/login', credentials);
    const jwt = login.accessToken as string;
    const tenantId = login.tenantId as string;
    const server = await post(`/v1/tenants/${tenantId}/servers`, { name: 'bench-1', provider: 'local' }, jwt);
    const apiToken = (
      await post(`/v1/tenants/${tenantId}/api-tokens`, { name: 'bench', scopes: ['servers:read'] }, jwt)
    ).token as string;
    const path = `/v1/tenants/${tenantId}/servers/${server.id}`;
    const key = serverKeys.item(tenantId, String(server.id));

    // A plain keep-alive HTTP client, as a load tool would be, so the client's own cost stays small.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const viaGateway = (token: string, cacheSeconds: number) => () => {
      runtime.gateway.setAuthorizerCacheSeconds(cacheSeconds);
      return new Promise<void>((resolve, reject) => {
        const req = request(
          `${runtime.url}${path}`,
          { agent, headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`GET answered ${res.statusCode}`)),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    };
    const rawGetItem = () =>
      runtime.clients.dynamodb.send(
        new GetItemCommand({ TableName: runtime.names.table, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }),
      );

    // The same modules the gateway runs, invoked in-process.
    const { handler: serversHandler } = await import('../../functions/servers/handler');
    const { handler: authorizer } = await import('../../functions/auth/authorizer');
    const authorizerEvent = (token: string) =>
      ({
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:local:000000000000:local/local/GET${path}`,
        headers: { Authorization: `Bearer ${token}` },
        requestContext: { identity: { sourceIp: '127.0.0.1' }, requestId: 'bench' },
      }) as unknown as APIGatewayRequestAuthorizerEvent;
    const { context: principalContext } = await authorizer(authorizerEvent(jwt));
    const handlerEvent = {
      httpMethod: 'GET',
      resource: '/v1/tenants/{tenantId}/servers/{serverId}',
      path,
      pathParameters: { tenantId, serverId: server.id },
      headers: {},
      multiValueHeaders: {},
      queryStringParameters: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        requestId: 'bench',
        identity: { sourceIp: '127.0.0.1' },
        authorizer: { principalId: login.userId, ...principalContext },
      },
    } as unknown as APIGatewayProxyEvent;
    const bareHandler = async () => {
      const result = await serversHandler(handlerEvent, context);
      if (result.statusCode !== 200) throw new Error(`handler answered ${result.statusCode}`);
    };

    // The authorizer figures first; then, with DynamoDB Local's JIT warm, the 1.5x target pair on its own.
    const authorizerFigures = await measure({
      handler: bareHandler,
      authorizerJwt: () => authorizer(authorizerEvent(jwt)),
      authorizerToken: () => authorizer(authorizerEvent(apiToken)),
      gatewayCachedAgain: viaGateway(jwt, 60),
      gatewayUncached: viaGateway(jwt, 0),
      gatewayTokenUncached: viaGateway(apiToken, 0),
    });
    const r = {
      ...authorizerFigures,
      ...(await measure({ raw: rawGetItem, gatewayCached: viaGateway(jwt, 60) })),
    };

    // DynamoDB requests per authenticated GET through the gateway, authorizer cache warm.
    const commands = new Map<string, number>();
    // the function's own client (the checks around the handler) and the tenant's session (the handler's reads)
    const clients = [documentClient(), (await getPlatform()).storeFor(tenantId).client];
    for (const client of clients) {
      client.middlewareStack.add(
        (next, ctx) => async (args) => {
          commands.set(ctx.commandName ?? '?', (commands.get(ctx.commandName ?? '?') ?? 0) + 1);
          return next(args);
        },
        { step: 'initialize', name: 'benchCount' },
      );
    }
    const counted = 200;
    const get = viaGateway(jwt, 60);
    await get();
    commands.clear();
    const started = Date.now();
    for (let i = 0; i < counted; i += 1) await get();
    const seconds = (Date.now() - started) / 1000;
    for (const client of clients) client.middlewareStack.remove('benchCount');
    runtime.gateway.setAuthorizerCacheSeconds(60);

    const row = (label: string, s: Stats | undefined) =>
      `${label.padEnd(44)} p50 ${s?.p50.toFixed(2)} ms   p99 ${s?.p99.toFixed(2)} ms`;
    const ratio = (a: number | undefined, b: number | undefined) => ((a ?? 0) / (b ?? 1)).toFixed(2);
    const out = [
      `One run, ${ITERATIONS} rounds after ${WARMUP} warm-up in each of two interleaved phases`,
      row('raw GetItem', r.raw),
      row('GET via gateway (authorizer cache on)', r.gatewayCached),
      '',
      row('bare servers handler (in-process)', r.handler),
      row('authorizer, user JWT (in-process)', r.authorizerJwt),
      row('authorizer, API token (in-process)', r.authorizerToken),
      row('GET via gateway, authorizer cache on', r.gatewayCachedAgain),
      row('GET via gateway, authorizer cache off', r.gatewayUncached),
      row('GET via gateway, API token, cache off', r.gatewayTokenUncached),
      '',
      `ratio gateway/raw GetItem: p50 ${ratio(r.gatewayCached?.p50, r.raw?.p50)}x (target <= 1.5x), p99 ${ratio(r.gatewayCached?.p99, r.raw?.p99)}x`,
      `authorizer / bare handler, p50: cache hit ~0 (a lookup at the gateway); JWT ${ratio(r.authorizerJwt?.p50, r.handler?.p50)}x; API token ${ratio(r.authorizerToken?.p50, r.handler?.p50)}x`,
      `added by the authorizer at the gateway (cache off - cache on) / bare handler, p50: JWT ${ratio((r.gatewayUncached?.p50 ?? 0) - (r.gatewayCachedAgain?.p50 ?? 0), r.handler?.p50)}x; API token ${ratio((r.gatewayTokenUncached?.p50 ?? 0) - (r.gatewayCachedAgain?.p50 ?? 0), r.handler?.p50)}x`,
      `DynamoDB requests per authenticated GET (cache warm, ${counted} GETs in ${seconds.toFixed(1)} s): ${[
        ...commands,
      ]
        .map(([name, n]) => `${name} ${(n / counted).toFixed(2)}`)
        .join(', ')}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await runtime.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
