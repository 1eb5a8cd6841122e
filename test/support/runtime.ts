import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../scripts/local/runtime';
import { uniqueName } from './dynamodb';
import { planLimits } from './fixtures';

export { planLimits };

/**
 * The whole local control plane on free ports, in memory, with short waits, on the run's
 * shared engines with a table and stream of its own. Test files sign
 * up and log in far more often than a person does, so unless a file sets them, the rate
 * limits and the per-address login slow-down are lifted well above what a file sends
 * (test/e2e/tenancy/rate-limits.test.ts and functions/auth/service.test.ts check them).
 */
export function startTestRuntime(options: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  process.env.AUTH_RATE_LIMIT_PER_MINUTE ??= '100000';
  process.env.AUTH_ACCOUNT_RATE_LIMIT_PER_MINUTE ??= '100000';
  process.env.LOGIN_FAILURES_PER_ADDRESS ??= '100000';
  // new password hashes at 1/8 of production's cost: every file signs up many users
  process.env.PASSWORD_SCRYPT_LOG2_N ??= '12';
  process.env.DEFAULT_REQUESTS_PER_MINUTE ??= '100000';
  // a rule made by a test is evaluated by the next batch, not half a minute later
  process.env.ALERT_CONFIG_CACHE_SECONDS ??= '0';
  return startLocalRuntime({
    port: 0,
    engines: inject('engines'),
    instance: uniqueName('test'),
    dataDir: undefined,
    waitMs: 100,
    retryIntervalMs: 50,
    metricsIntervalMs: 400,
    // samples reach the rollups within a second, not AWS's 30 s window
    metricsBatchingWindowMs: 500,
    hostBootDelayMs: 100,
    // a file that needs the database engines running asks for them (most servers' stacks name one)
    databaseEngines: false,
    logLevel: 'SILENT',
    log: (message) => {
      if (/shutdown/.test(message)) process.stderr.write(`[local runtime] ${message}\n`);
    },
    ...options,
  });
}

/** A small HTTP client for the local gateway that keeps the last token. */
export function apiClient(baseUrl: string) {
  return {
    async call(
      method: string,
      path: string,
      options: {
        token?: string | undefined;
        body?: unknown;
        raw?: string;
        headers?: Record<string, string>;
      } = {},
    ) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['content-type'] = 'application/json';
      }
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: response.status, headers: response.headers, json, text };
    },
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Logs a user in: its tenant, tokens and id, and the password it used. */
async function logIn(api: ReturnType<typeof apiClient>, email: string, password: string) {
  const login = await api.call('POST', '/v1/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return {
    tenantId: login.json.tenantId as string,
    token: login.json.accessToken as string,
    refreshToken: login.json.refreshToken as string,
    userId: login.json.userId as string,
    password,
  };
}

/** Signs up a tenant and logs its owner in. */
export async function signUp(
  api: ReturnType<typeof apiClient>,
  email: string,
  kind: 'customer' | 'reseller' = 'customer',
) {
  const password = 'a long enough password';
  const signup = await api.call('POST', '/v1/auth/signup', {
    body: { email, password, name: 'Owner', tenantName: `Tenant of ${email}`, kind },
  });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${signup.text}`);
  return logIn(api, email, password);
}

/**
 * Invites an address into a tenant with a role, accepts the emailed invitation as its
 * recipient would, and logs the new member in.
 */
export async function joinAs(
  runtime: LocalRuntime,
  api: ReturnType<typeof apiClient>,
  inviter: { tenantId: string; token: string },
  email: string,
  role: 'admin' | 'developer' | 'billing' | 'read-only' | 'owner',
) {
  const invited = await api.call('POST', `/v1/tenants/${inviter.tenantId}/invitations`, {
    token: inviter.token,
    body: { email, role },
  });
  if (invited.status !== 201) throw new Error(`invitation failed: ${invited.status} ${invited.text}`);
  const mail = mailsTo(runtime, email).at(-1);
  const invitation = /(vin_[A-Za-z0-9_-]{43})/.exec(mail?.text ?? '')?.[1];
  if (!invitation) throw new Error(`no invitation mail for ${email}`);
  const password = 'a long enough password';
  const accepted = await api.call('POST', '/v1/invitations/accept', {
    body: { token: invitation, name: 'Member', password },
  });
  if (accepted.status !== 201) throw new Error(`accepting failed: ${accepted.status} ${accepted.text}`);
  return logIn(api, email, password);
}

/** Waits for an operation to end (succeeded or failed) and answers it. */
export const operationEnded = (api: ReturnType<typeof apiClient>, path: string, token: string) =>
  eventually(
    async () => {
      const response = await api.call('GET', path, { token });
      return ['succeeded', 'failed'].includes(response.json?.status) ? response.json : undefined;
    },
    45_000,
    `${path} to end`,
  );

/**
 * A reseller's customer on a plan of the reseller's with these limits (the rest as `planLimits`),
 * its owner logged in.
 */
export async function customerOnPlan(
  api: ReturnType<typeof apiClient>,
  emails: { reseller: string; customer: string },
  limits: Partial<typeof planLimits>,
) {
  const password = 'a long enough password';
  const reseller = await signUp(api, emails.reseller, 'reseller');
  const plan = await api.call('POST', `/v1/tenants/${reseller.tenantId}/plans`, {
    token: reseller.token,
    body: { name: `Plan for ${emails.customer}`, limits: { ...planLimits, ...limits } },
  });
  const customer = await api.call('POST', `/v1/tenants/${reseller.tenantId}/customers`, {
    token: reseller.token,
    body: { name: 'Customer', owner: { email: emails.customer, name: 'C', password } },
  });
  await api.call('PUT', `/v1/tenants/${reseller.tenantId}/customers/${customer.json.id}/plan`, {
    token: reseller.token,
    body: { planId: plan.json.id },
  });
  const login = await api.call('POST', '/v1/auth/login', { body: { email: emails.customer, password } });
  return { tenantId: login.json.tenantId as string, token: login.json.accessToken as string };
}

/**
 * Waits until nothing more can be on its way to a webhook: every target of the event bus has
 * run (the notifier has queued what it sends) and the webhook queue is empty (each message
 * was delivered, or has gone to the dead-letter queue). What has not arrived by then never will.
 */
export async function notificationsSettled(runtime: LocalRuntime): Promise<void> {
  await runtime.eventBus.settle();
  await eventually(
    async () => (runtime.webhooks.bodies(runtime.webhooks.queueUrl).length === 0 ? true : undefined),
    10_000,
    'the webhook queue to drain',
  );
}

/** How many metrics records the stream's consumer has delivered, over all shards. */
export const recordsDelivered = (runtime: LocalRuntime): number =>
  Object.values(runtime.metricsPoller.progress()).reduce((sum, shard) => sum + shard.delivered, 0);

/** The emails the runtime's SES stand-in sent to an address, oldest first. */
export function mailsTo(
  runtime: LocalRuntime,
  to: string,
): { to: string[]; subject: string; text: string }[] {
  let text = '';
  try {
    text = readFileSync(runtime.outboxPath, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { to: string[]; subject: string; text: string })
    .filter((m) => m.to.includes(to));
}

/**
 * The DynamoDB reads `call` makes, by command, through the function's own client (the checks
 * around a handler) and a tenant's session (the handler's reads). The aggregator runs in this
 * process too: its reads are consistent and are left out, as are the tenant's standing reads
 * (its TENANT record, read at most every 2 s per instance, which a loaded run may cross).
 */
export async function dynamoReadsDuring(tenantId: string, call: () => Promise<unknown>): Promise<string[]> {
  const { documentClient } = await import('../../layers/aws/dynamodb');
  const { getPlatform } = await import('../../layers/runtime/platform');
  const sent: string[] = [];
  const clients = [documentClient(), (await getPlatform()).storeFor(tenantId).client];
  const name = 'count-dynamodb-reads';
  for (const client of clients)
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { ConsistentRead?: boolean; Key?: { sk?: unknown } };
        const read = /^(GetItem|Query|BatchGetItem)Command$/.test(String(context.commandName));
        if (read && !input.ConsistentRead && input.Key?.sk !== 'TENANT')
          sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name },
    );
  try {
    await call();
  } finally {
    for (const client of clients) client.middlewareStack.remove(name);
  }
  return sent;
}
