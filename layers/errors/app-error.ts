/** A field-level validation message, as rendered in problem+json `errors`. */
export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  detail?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  extensions?: Record<string, unknown>;
  cause?: unknown;
  /** shown to the client as it is; by default only 4xx are (a 503 for an unavailable upstream is too) */
  expose?: boolean;
}

/**
 * The one error model. `expose` errors are the caller's mistakes and reach the client as
 * they are; anything else becomes a logged 500 with no internals.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(code: string, status: number, title: string, options: AppErrorOptions = {}) {
    super(title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.expose = options.expose ?? status < 500;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/** The catalogue: every error a client can see, with its status and title. */
export const errors = {
  validation: (errors: FieldError[], detail = 'The request is not valid.') =>
    new AppError('validation-failed', 400, 'Validation failed', { detail, errors }),
  malformedJson: (detail: string) =>
    new AppError('malformed-json', 400, 'Malformed JSON', {
      detail,
      errors: [{ path: 'body', message: detail }],
    }),
  invalidCursor: () =>
    new AppError('invalid-cursor', 400, 'Invalid cursor', {
      detail: 'The cursor is not valid for this list.',
      errors: [{ path: 'cursor', message: 'Invalid cursor' }],
    }),
  unauthorized: (detail = 'A valid bearer token is required.') =>
    new AppError('unauthorized', 401, 'Unauthorized', {
      detail,
      headers: { 'WWW-Authenticate': 'Bearer' },
    }),
  invalidCredentials: () =>
    new AppError('invalid-credentials', 401, 'Invalid credentials', {
      detail: 'The email or password is not correct.',
    }),
  secondFactorRequired: () =>
    new AppError('second-factor-required', 401, 'Second factor required', {
      detail:
        'This account uses two-factor authentication: send the code from the authenticator app (or a recovery code) as otp.',
      errors: [{ path: 'body.otp', message: 'Required for this account' }],
    }),
  twoFactorEnrollmentRequired: () =>
    new AppError('two-factor-enrollment-required', 403, 'Two-factor authentication required', {
      detail:
        'This account requires two-factor authentication. Enroll (POST /v1/auth/2fa/totp, then confirm), then log in again with a code.',
    }),
  tenantSuspended: () =>
    new AppError('tenant-suspended', 403, 'Account suspended', {
      detail: 'This account is suspended. Contact your provider.',
    }),
  forbidden: (detail = 'You are not allowed to do this.') =>
    new AppError('forbidden', 403, 'Forbidden', { detail }),
  notFound: (what = 'resource') =>
    new AppError('not-found', 404, 'Not found', { detail: `The ${what} does not exist.` }),
  methodNotAllowed: () => new AppError('method-not-allowed', 405, 'Method not allowed'),
  conflict: (detail: string, path?: string) =>
    new AppError('conflict', 409, 'Conflict', {
      detail,
      ...(path ? { errors: [{ path, message: detail }] } : {}),
    }),
  quotaExceeded: (quota: string, limit: number, used: number) =>
    new AppError('quota-exceeded', 409, 'Quota exceeded', {
      detail: `The plan allows ${limit} ${quota} and ${used} are in use.`,
      extensions: { quota, limit, used },
    }),
  preconditionFailed: () =>
    new AppError('precondition-failed', 412, 'Precondition failed', {
      detail: 'The resource has changed since you read it (If-Match does not match its ETag).',
    }),
  payloadTooLarge: (limit: number) =>
    new AppError('payload-too-large', 413, 'Payload too large', {
      detail: `The body is larger than ${limit} bytes.`,
      errors: [{ path: 'body', message: `At most ${limit} bytes` }],
    }),
  unsupportedMediaType: () =>
    new AppError('unsupported-media-type', 415, 'Unsupported media type', {
      detail: 'Send the body as application/json.',
      errors: [{ path: 'body', message: 'Content-Type must be application/json' }],
    }),
  locked: (retryAfterSeconds: number, scope: 'address' | 'account' = 'address') =>
    new AppError('too-many-attempts', 429, 'Too many attempts', {
      detail:
        scope === 'account'
          ? 'This email address has had many failed logins from many places. Sign in with the password and a second-factor code (otp), or try again later.'
          : 'Too many failed logins from this address. Try again later.',
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    }),
  rateLimited: (retryAfterSeconds: number, headers: Record<string, string>) =>
    new AppError('rate-limited', 429, 'Too many requests', {
      detail: `Rate limit reached: try again in ${retryAfterSeconds} s.`,
      headers: { ...headers, 'Retry-After': String(retryAfterSeconds) },
    }),
  providerUnavailable: (provider: string, retryAfterSeconds = 30) =>
    new AppError('provider-unavailable', 503, 'Provider unavailable', {
      detail: `${provider} did not answer or is limiting requests; try again shortly.`,
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
      expose: true,
    }),
  idempotencyMismatch: () =>
    new AppError('idempotency-key-reused', 422, 'Idempotency key reused', {
      detail: 'This Idempotency-Key was used with a different request.',
      errors: [{ path: 'Idempotency-Key', message: 'Reused with a different request' }],
    }),
  idempotencyInProgress: () =>
    new AppError('idempotency-key-in-progress', 409, 'Request in progress', {
      detail: 'A request with this Idempotency-Key is still being processed.',
      headers: { 'Retry-After': '1' },
    }),
} as const;

/** The problem `type` URI for an error code. */
export const problemType = (code: string): string => `https://docs.vip-hosting-panel.dev/problems/${code}`;
