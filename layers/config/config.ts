import * as z from 'zod';

const optionalUrl = z.url().optional();

/** The environment every runtime component reads; validated once per process. */
export const configSchema = z.object({
  STAGE: z.string().min(1).default('local'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  TABLE_NAME: z.string().min(3),
  METRICS_STREAM_NAME: z.string().min(1),
  SECRETS_PARAMETER_NAME: z.string().startsWith('/'),
  /** the workflows' state machine ARNs up to the workflow's name (layers/config/resources.ts stateMachineArn) */
  STATE_MACHINE_ARN_PREFIX: z.string().startsWith('arn:'),
  /** the host documents' names up to the document's own (layers/config/resources.ts documentName) */
  DOCUMENT_NAME_PREFIX: z.string().min(1),
  /** the IAM role hybrid-activated hosts assume (the SSM service role for managed instances) */
  HOST_ACTIVATION_ROLE: z.string().min(1).default('vip-managed-host'),
  JWT_ISSUER: z.string().min(1).default('https://api.vip-hosting-panel.local'),
  JWT_AUDIENCE: z.string().min(1).default('vip-hosting-panel'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().positive().default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 24 * 3600),
  /** a login-as (impersonation) token lives this long and cannot be refreshed */
  IMPERSONATION_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** how often an unknown key id may make a function read the signing keys again */
  SIGNING_KEYS_RELOAD_THROTTLE_SECONDS: z.coerce.number().min(0).max(3600).default(10),
  /** how long a function instance trusts a tenant's status: a suspension takes effect within it */
  TENANT_STATUS_CACHE_SECONDS: z.coerce.number().min(0).max(60).default(2),
  /** requests a minute per source address, and per account named in the body, on the sign-in routes */
  /** sign-in requests a minute from one source address */
  AUTH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** failed logins from one address, over all emails, before it is slowed down (an office's NAT may want more) */
  LOGIN_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  /** sign-in requests a minute naming one email, from all addresses together */
  AUTH_ACCOUNT_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /** requests a minute per user or API token when the tenant's plan sets no limit */
  DEFAULT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  CORS_ORIGINS: z.string().default('*'),
  /** Endpoints are set only by the local runtime; in AWS the SDK resolves them itself. */
  DYNAMODB_ENDPOINT: optionalUrl,
  KINESIS_ENDPOINT: optionalUrl,
  SSM_ENDPOINT: optionalUrl,
  LOGS_ENDPOINT: optionalUrl,
  ROUTE53_ENDPOINT: optionalUrl,
  SFN_ENDPOINT: optionalUrl,
  SES_ENDPOINT: optionalUrl,
  STS_ENDPOINT: optionalUrl,
  APIGATEWAY_ENDPOINT: optionalUrl,
  S3_ENDPOINT: optionalUrl,
  KMS_ENDPOINT: optionalUrl,
  EVENTS_ENDPOINT: optionalUrl,
  SQS_ENDPOINT: optionalUrl,
  /** how long metrics rollups are kept at each resolution */
  METRICS_RETENTION_MINUTE_DAYS: z.coerce.number().int().min(1).max(90).default(2),
  METRICS_RETENTION_HOUR_DAYS: z.coerce.number().int().min(1).max(800).default(90),
  METRICS_RETENTION_DAY_DAYS: z.coerce.number().int().min(1).max(3650).default(730),
  /** a minute is folded into its hour and day this long after it ends; later samples are late */
  METRICS_FOLD_GRACE_SECONDS: z.coerce.number().int().min(60).max(3600).default(300),
  /** the platform's EventBridge bus, which alert transitions are put on */
  EVENT_BUS_NAME: z.string().min(1).default('vip-local-events'),
  /** the SQS queue of alert webhooks to deliver (the alerts stack's) */
  WEBHOOK_QUEUE_URL: optionalUrl,
  /** a failed webhook is tried again after this many seconds, doubled each time (up to 15 minutes) */
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().int().min(0).max(900).default(30),
  /** alert webhooks may go to loopback or plain HTTP (a local runtime only) */
  WEBHOOK_TARGETS_LOCAL: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** how long the aggregator trusts a tenant's alert rules and silences it has read */
  ALERT_CONFIG_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(30),
  /** uptime checks may probe loopback and private addresses (a local runtime only) */
  UPTIME_TARGETS_LOCAL: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** a CA file uptime probes trust besides the system's (a local runtime's own CA) */
  UPTIME_CA_FILE: z.string().min(1).optional(),
  /** how long each probe's result is kept in its check's history */
  UPTIME_RESULT_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  /** how long an alert rule's history is kept */
  ALERT_HISTORY_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** the KMS key tenants' backup data keys are made under (the data stack's key) */
  BACKUP_KEY_ID: z.string().min(1).optional(),
  /** customers' backup storage may be on loopback or plain HTTP (a local runtime only) */
  BACKUP_TARGETS_LOCAL: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** the platform's bucket for backups (the data stack's) */
  BACKUPS_BUCKET: z.string().min(3).default('vip-backups'),
  /** the usage plan (by name) a reseller's usage key joins when it creates its first API token */
  RESELLER_USAGE_PLAN_NAME: z.string().min(1).optional(),
  /**
   * The role API functions assume, tagged with the tenant a request acts on, to reach that
   * tenant's items only (layers/auth/tenant-policy.ts). Unset, handlers use their own role.
   */
  TENANT_DATA_ROLE_ARN: z.string().startsWith('arn:').optional(),
  /** the address invitations and resets are sent from (a verified SES identity in AWS) */
  MAIL_FROM: z.string().min(3).default('VIP Hosting Panel <no-reply@vip-hosting-panel.local>'),
  /** the web app, whose pages links in emails open; unset, emails give the API call alone */
  APP_URL: z.url().optional(),
  /**
   * The platform's own domains (comma-separated), which no site may take or cover with a
   * wildcard; the registrable domains of APP_URL and API_URL are always among them.
   */
  PLATFORM_DOMAINS: z.string().optional(),
  /** the API's public address, for the API calls emails show (the local runtime sets its own) */
  API_URL: z.url().optional(),
  LOCAL_PROVIDER_ENDPOINT: optionalUrl,
  /**
   * How long an Idempotency-Key's first request may run before a retry may take the key over
   * (a request that crashed never settles it); at least the API functions' timeout.
   */
  IDEMPOTENCY_IN_PROGRESS_SECONDS: z.coerce.number().int().min(1).default(60),
  /** scrypt's cost for new password hashes, as log2 of N (15: 32 MiB, tens of milliseconds) */
  PASSWORD_SCRYPT_LOG2_N: z.coerce.number().int().min(10).max(20).default(15),
  /** the hybrid-activation setup tool a custom server's install command fetches; unset, AWS's own */
  SSM_SETUP_CLI_URL: optionalUrl,
  /** the providers' public APIs; tests point them at local fakes */
  HETZNER_API_URL: z.url().default('https://api.hetzner.cloud/v1'),
  DIGITALOCEAN_API_URL: z.url().default('https://api.digitalocean.com/v2'),
  VULTR_API_URL: z.url().default('https://api.vultr.com/v2'),
  /** how often an operation's event stream reads it, and how long one stream lasts before the client reconnects */
  OPERATION_EVENTS_POLL_MS: z.coerce.number().int().min(100).default(1000),
  OPERATION_EVENTS_MAX_SECONDS: z.coerce.number().int().min(5).max(840).default(300),
  /** the AWS account the platform runs in: tenants' roles trust it to manage their EC2 */
  PLATFORM_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/)
    .default('000000000000'),
  /** EC2's endpoint for every region; unset in AWS, where each region has its own */
  EC2_ENDPOINT: optionalUrl,
  /** pushes a site's deploy webhook takes from one address per minute */
  WEBHOOK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  /** a local runtime lets sites deploy from file:// repositories on its own machine */
  LOCAL_REPOSITORIES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** the ACME directory sites' certificates are ordered from (pebble on a local runtime) */
  ACME_DIRECTORY_URL: z.url().default('https://acme-v02.api.letsencrypt.org/directory'),
  /** a CA file the ACME client trusts besides the system's (a local runtime's pebble) */
  ACME_CA_FILE: z.string().min(1).optional(),
  /** the contact the platform's ACME account gives (expiry notices from the CA) */
  ACME_CONTACT_EMAIL: z.email().optional(),
  /** an ACME certificate is renewed this many days before it expires */
  CERTIFICATE_RENEW_DAYS: z.coerce.number().int().min(1).max(60).default(30),
  /** the KMS key provider credentials are encrypted with (Parameter Store's own key when unset) */
  CREDENTIALS_KMS_KEY_ID: z.string().min(1).optional(),
});

export type Config = z.infer<typeof configSchema>;

let cached: Config | undefined;

/** Parses the process environment once and returns the same object afterwards. */
export function getConfig(): Config {
  if (!cached) {
    const parsed = configSchema.safeParse(process.env);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`Invalid configuration: ${fields}`);
    }
    cached = parsed.data;
  }
  return cached;
}

/** Forgets the parsed configuration; the local runtime calls it after it sets the environment. */
export function resetConfig(): void {
  cached = undefined;
}
