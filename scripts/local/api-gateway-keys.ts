import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

interface ApiKey {
  id: string;
  name: string;
  value: string;
  enabled: boolean;
  tags: Record<string, string>;
  createdDate: number;
}

interface UsagePlan {
  id: string;
  name: string;
  throttle: { rateLimit: number; burstLimit: number };
  quota?: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH' };
  keyIds: string[];
}

type Answer = { status: number; body: unknown };

const restError = (status: number, type: string, message: string): Answer => ({
  status,
  body: { __type: type, message },
});

/**
 * API Gateway's API keys and usage plans, locally: the management calls the tokens context
 * makes (CreateApiKey, GetApiKeys, CreateUsagePlanKey over API Gateway's REST-JSON protocol)
 * and what the gateway does with a key the authorizer names: unknown or disabled keys are
 * refused, and each key is throttled by its plan (a token bucket of rate and burst) and
 * held to its plan's quota. Keys persist in the data directory.
 */
export function makeLocalApiKeys(options: { registryPath?: string | undefined }) {
  const keys = new Map<string, ApiKey>();
  const plans = new Map<string, UsagePlan>();
  const buckets = new Map<string, { tokens: number; at: number; used: number; periodStart: number }>();

  const save = () => {
    if (options.registryPath) writeFileSync(options.registryPath, JSON.stringify([...keys.values()]));
  };
  if (options.registryPath && existsSync(options.registryPath)) {
    for (const key of JSON.parse(readFileSync(options.registryPath, 'utf8')) as ApiKey[])
      keys.set(key.id, key);
  }

  function createApiKey(input: {
    name?: string;
    value?: string;
    enabled?: boolean;
    tags?: Record<string, string>;
  }) {
    const value = input.value ?? randomBytes(20).toString('base64url');
    if (value.length < 20)
      return restError(400, 'BadRequestException', 'API key value must be at least 20 characters');
    if ([...keys.values()].some((k) => k.value === value)) {
      return restError(409, 'ConflictException', 'API key with this value already exists');
    }
    const key: ApiKey = {
      id: randomBytes(5).toString('hex'),
      name: input.name ?? value,
      value,
      enabled: input.enabled ?? false,
      tags: input.tags ?? {},
      createdDate: Date.now() / 1000,
    };
    keys.set(key.id, key);
    save();
    return {
      status: 201,
      body: { id: key.id, name: key.name, enabled: key.enabled, createdDate: key.createdDate },
    };
  }

  function attach(planId: string, keyId: string): Answer {
    const plan = plans.get(planId);
    if (!plan) return restError(404, 'NotFoundException', 'Invalid Usage Plan identifier specified');
    const key = keys.get(keyId);
    if (!key) return restError(404, 'NotFoundException', 'Invalid API Key identifier specified');
    if (plan.keyIds.includes(keyId))
      return restError(409, 'ConflictException', 'Usage Plan Key already exists');
    plan.keyIds.push(keyId);
    return { status: 201, body: { id: keyId, type: 'API_KEY', name: key.name } };
  }

  return {
    /** A usage plan as the CDK app defines it; keys that name it in their tags rejoin it after a restart. */
    definePlan(plan: Omit<UsagePlan, 'keyIds'>, keyValues: string[] = []) {
      const keyIds = [...keys.values()].filter((k) => k.tags['usage-plan'] === plan.id).map((k) => k.id);
      plans.set(plan.id, { ...plan, keyIds });
      for (const value of keyValues) {
        const created = createApiKey({ name: value, value, enabled: true, tags: { 'usage-plan': plan.id } });
        const existing = [...keys.values()].find((k) => k.value === value);
        if (existing) attach(plan.id, existing.id);
        else if (created.status !== 201)
          throw new Error(`usage key ${value}: ${JSON.stringify(created.body)}`);
      }
    },

    /** Serves a management request, or answers undefined when it is not one. */
    handle(method: string, url: string, body: string): Answer | undefined {
      const { pathname, searchParams } = new URL(url, 'http://local');
      if (method === 'POST' && pathname === '/apikeys') return createApiKey(JSON.parse(body || '{}'));
      if (method === 'GET' && pathname === '/apikeys') {
        const nameQuery = searchParams.get('name') ?? '';
        const items = [...keys.values()]
          .filter((k) => k.name.startsWith(nameQuery))
          .map((k) => ({ id: k.id, name: k.name, enabled: k.enabled, tags: k.tags }));
        return { status: 200, body: { item: items } };
      }
      if (method === 'GET' && pathname === '/usageplans') {
        return { status: 200, body: { item: [...plans.values()].map((p) => ({ id: p.id, name: p.name })) } };
      }
      const planKeys = /^\/usageplans\/([^/]+)\/keys$/.exec(pathname);
      if (method === 'POST' && planKeys?.[1]) {
        const input = JSON.parse(body || '{}') as { keyId?: string };
        const answer = attach(planKeys[1], input.keyId ?? '');
        const key = keys.get(input.keyId ?? '');
        if (answer.status === 201 && key) {
          key.tags['usage-plan'] = planKeys[1];
          save();
        }
        return answer;
      }
      return undefined;
    },

    /**
     * What API Gateway does with the usage key an authorizer returned on a method that
     * requires one: `forbidden` for an unknown, disabled or planless key, `throttled` past
     * the plan's rate and burst or its quota, else `ok`.
     */
    admit(value: string | undefined, now = Date.now()): 'ok' | 'forbidden' | 'throttled' {
      const key = value ? [...keys.values()].find((k) => k.value === value) : undefined;
      const plan = key?.enabled ? [...plans.values()].find((p) => p.keyIds.includes(key.id)) : undefined;
      if (!key || !plan) return 'forbidden';
      const { rateLimit, burstLimit } = plan.throttle;
      const periodMs = { DAY: 86_400_000, WEEK: 604_800_000, MONTH: 2_592_000_000 }[
        plan.quota?.period ?? 'DAY'
      ];
      const periodStart = Math.floor(now / periodMs) * periodMs;
      const bucket = buckets.get(key.id) ?? { tokens: burstLimit, at: now, used: 0, periodStart };
      bucket.tokens = Math.min(burstLimit, bucket.tokens + ((now - bucket.at) / 1000) * rateLimit);
      bucket.at = now;
      if (bucket.periodStart !== periodStart) Object.assign(bucket, { used: 0, periodStart });
      buckets.set(key.id, bucket);
      if (bucket.tokens < 1 || (plan.quota && bucket.used >= plan.quota.limit)) return 'throttled';
      bucket.tokens -= 1;
      bucket.used += 1;
      return 'ok';
    },

    /** The plan a key value belongs to, for tests and the operator's eye. */
    planOf(value: string): string | undefined {
      const key = [...keys.values()].find((k) => k.value === value);
      return key ? [...plans.values()].find((p) => p.keyIds.includes(key.id))?.id : undefined;
    },
  };
}

export type LocalApiKeys = ReturnType<typeof makeLocalApiKeys>;
