import { tenantSubPartition } from './keys';

/** Audit entries live in their own partition per tenant, sorted by time. */
export const auditKeys = {
  partition: (tenantId: string) => tenantSubPartition(tenantId, 'AUDIT'),
};
