import type { Role } from '../auth/tokens';
import type { StoredItem } from '../store/store';
import { tenantPartition } from './keys';

/** An invitation, found by the hash of its token (the token is only in the email). */
export interface InvitationItem extends StoredItem {
  entity: 'invitation';
  id: string;
  tenantId: string;
  email: string;
  role: Role;
  invitedBy: string;
  /** the hash of its token, so that its tenant's link can revoke it (absent on the oldest) */
  tokenHash?: string;
  createdAt: string;
  expiresAt: number;
}

export const invitationKeys = {
  byToken: (tokenHash: string) => ({ pk: `INVITE#${tokenHash}`, sk: 'INVITE' }),
  /** the tenant's link to a pending invitation (it expires with it) */
  link: (tenantId: string, invitationId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `INVITE#${invitationId}`,
  }),
  linkPrefix: 'INVITE#',
};

export const INVITATION_TTL_SECONDS = 7 * 24 * 3600;

export const toInvitation = (item: InvitationItem) => ({
  id: item.id,
  email: item.email,
  role: item.role,
  createdAt: item.createdAt,
  expiresAt: new Date(item.expiresAt * 1000).toISOString(),
});
