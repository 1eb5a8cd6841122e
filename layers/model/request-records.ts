import { tenantSubPartition } from './keys';

/** Rate-limit counters: a signed-in principal's in its tenant, sign-ins by address and by email. */
export const rateCounterKeys = {
  principals: (tenantId: string) => tenantSubPartition(tenantId, 'RATE'),
  signInsFrom: (sourceIp: string) => `RATE#ip#${sourceIp}`,
  signInsOf: (email: string) => `RATE#account#${email.trim().toLowerCase()}`,
  /** the password-reset emails sent to an address */
  resetMailsTo: (email: string) => `RATE#reset-mail#${email.trim().toLowerCase()}`,
};

/**
 * Idempotency-Key records, in the partition of the tenant acted on, each caller's keys its own
 * (a user, an API token, or `public` on the routes that need no sign-in), so two callers that
 * happen to pick the same key never see each other's answers.
 */
export const idempotencyKeys = {
  item: (tenantId: string, caller: string, operationId: string, key: string) => ({
    pk: tenantSubPartition(tenantId, 'IDEM'),
    sk: `${caller}#${operationId}#${key}`,
  }),
};
