import { ProviderAuthError, ProviderRequestError, ProviderTransientError } from './provider';

export interface JsonApiOptions {
  /** for messages: "Hetzner Cloud" */
  provider: string;
  baseUrl: string;
  token: string;
  /** the provider's error message in a failed answer's body */
  errorMessage: (body: unknown) => string | undefined;
  /** per request; a provider that does not answer in time is a transient fault */
  timeoutMs?: number;
}

/** Seconds to wait from a Retry-After header, or from RateLimit-Reset (epoch seconds or seconds). */
function retryAfter(headers: Headers): number | undefined {
  const retry = Number(headers.get('retry-after'));
  if (Number.isFinite(retry) && retry > 0) return retry;
  const reset = Number(headers.get('ratelimit-reset'));
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  return reset > 1e9 ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : reset;
}

/**
 * A bearer-token JSON API client as the cloud providers' public APIs need: 429, 5xx and
 * network failures become ProviderTransientError (the workflow retries them with backoff),
 * 401/403 ProviderAuthError, other 4xx ProviderRequestError with the provider's message.
 */
export function jsonApi(options: JsonApiOptions) {
  const base = options.baseUrl.replace(/\/$/, '');
  return async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    accept: (status: number) => boolean = (status) => status >= 200 && status < 300,
  ): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
      });
    } catch (cause) {
      throw new ProviderTransientError(`${options.provider} did not answer ${method} ${path}`, { cause });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (accept(response.status)) return { status: response.status, body: parsed as T };
    const message = `${options.provider} answered ${response.status}: ${options.errorMessage(parsed) ?? (text.slice(0, 200) || 'no details')}`;
    if (response.status === 429 || response.status >= 500) {
      throw new ProviderTransientError(message, { retryAfterSeconds: retryAfter(response.headers) });
    }
    if (response.status === 401 || response.status === 403) throw new ProviderAuthError(message);
    throw new ProviderRequestError(message, response.status);
  };
}
