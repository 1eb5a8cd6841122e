import { type LocalRuntime, startLocalRuntime } from '../local/runtime';

/** The local runtime as the benchmarks run it: quiet, short workflow waits, metrics out of the way. */
export const startBenchRuntime = () =>
  startLocalRuntime({ port: 0, logLevel: 'ERROR', waitMs: 100, metricsIntervalMs: 60_000 });

/**
 * A tenant of the benchmark's own on a runtime: its owner signed in, a JSON client that sends
 * the owner's token, and a wait for an operation to end.
 */
export async function benchTenant(runtime: LocalRuntime, email: string) {
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return {
      status: response.status,
      location: response.headers.get('location'),
      // biome-ignore lint/suspicious/noExplicitAny: the API's answers, read as the benchmark needs them
      json: (await response.json().catch(() => ({}))) as Record<string, any>,
    };
  };
  const credentials = { email, password: 'benchmark password' };
  await send('POST', '/v1/auth/signup', { ...credentials, name: 'Bench', tenantName: 'Bench' });
  const login = (await send('POST', '/v1/auth/login', credentials)).json;
  const auth = { authorization: `Bearer ${login.accessToken}` };
  const call = (method: string, path: string, body?: unknown) => send(method, path, body, auth);
  return {
    /** the tenant's own path: /v1/tenants/<id> */
    tenant: `/v1/tenants/${login.tenantId}`,
    call,
    send,
    /** waits for an operation (by its path, as a Location names it) to end, and answers it */
    async ended(path: string) {
      for (;;) {
        const operation = (await call('GET', path)).json;
        if (operation.status === 'succeeded' || operation.status === 'failed') return operation;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
