import { tenantPartition } from './keys';
import type { ServerStatus } from './servers';

/**
 * A tenant's counters item: its servers by status (kept in the same transaction as every
 * status change, so the dashboard reads counts, never a scan), its owners, its plan's limits
 * and its use of each quota (functions/plans/quota.ts).
 */
export const counterKeys = {
  item: (tenantId: string) => ({ pk: tenantPartition(tenantId), sk: 'COUNTERS' }),
};

/** The attribute that counts a tenant's servers in one status. */
export const counterAttribute = (status: ServerStatus): string => `servers_${status}`;
