import { ulid } from 'ulid';
import type { Clock } from '../ids/ids';
import { auditKeys } from '../model/audit-log';
import type { Store, StoredItem } from '../store/store';

export interface AuditEntryInput {
  /** the tenant whose log the entry goes in */
  tenantId: string;
  actor: {
    userId: string | null;
    tenantId: string | null;
    role?: string | undefined;
    email?: string | undefined;
    tokenId?: string | undefined;
    /** set on every entry caused by a login-as session: the reseller's user who really acted */
    impersonatedBy?: { userId: string; tenantId: string } | undefined;
  };
  /** what was done: the route's operationId, or an auth event such as `auth.login.failed` */
  action: string;
  /** what it was done to, for example `server:srv_…` */
  target: string | null;
  result: 'succeeded' | 'failed' | 'denied';
  status: number;
  ip: string;
  userAgent: string;
  requestId: string;
  detail?: Record<string, unknown>;
}

export interface AuditItem extends StoredItem, Omit<AuditEntryInput, 'tenantId'> {
  entity: 'audit';
  id: string;
  tenantId: string;
  at: string;
}

/**
 * Appends an entry to a tenant's audit log. Entries are never updated: the API has no route
 * that changes or deletes them, and they expire by TTL after the retention period.
 */
export async function recordAudit(
  deps: { store: Store; clock: Clock; retentionDays: number },
  entry: AuditEntryInput,
): Promise<AuditItem> {
  const { store } = deps;
  const now = deps.clock.now();
  const at = now.toISOString();
  const id = `aud_${ulid(now.getTime()).toLowerCase()}`;
  const item: AuditItem = {
    pk: auditKeys.partition(entry.tenantId),
    sk: `${at}#${id}`,
    entity: 'audit',
    id,
    at,
    ...entry,
    expiresAt: Math.floor(now.getTime() / 1000) + deps.retentionDays * 24 * 3600,
  };
  await store.create(item);
  return item;
}
