import { tenantSubPartition } from './keys';

/** Rate-limit counters: a signed-in principal's in its tenant, sign-ins by address and by email. */
export const rateCounterKeys = {
  principals: (tenantId: string) => tenantSubPartition(tenantId, 'RATE'),
  signInsFrom: (sourceIp: string) => `RATE#ip#${sourceIp}`,
  signInsOf: (email: string) => `RATE#account#${email.trim().toLowerCase()}`,
};

/** Idempotency-Key records, in the partition of the tenant acted on. */
export const idempotencyKeys = {
  item: (tenantId: string, operationId: string, key: string) => ({
    pk: tenantSubPartition(tenantId, 'IDEM'),
    sk: `${operationId}#${key}`,
  }),
};
