import type { Role } from '../auth/tokens';
import type { StoredItem } from '../store/store';
import { tenantPartition } from './keys';

export interface UserItem extends StoredItem {
  entity: 'user';
  id: string;
  tenantId: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
  /** a TOTP secret waiting for its first code */
  totpPendingSecret?: string;
  totpSecret?: string;
  totpEnabledAt?: string;
  /** the last time step a code was accepted for: a code works once */
  totpLastStep?: number;
  recoveryCodeHashes?: string[];
  /** sessions (refresh-token families) started before this moment are over: set by password changes */
  sessionsValidAfter?: string;
  createdAt: string;
}

/** Claims an email address platform-wide and points at its user. */
export interface EmailItem extends StoredItem {
  entity: 'email';
  tenantId: string;
  userId: string;
}

export const userKeys = {
  item: (tenantId: string, userId: string) => ({ pk: tenantPartition(tenantId), sk: `USER#${userId}` }),
  prefix: 'USER#',
  /** an email address's claim, platform-wide */
  email: (email: string) => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'EMAIL' }),
};

export const toUser = (item: UserItem) => ({
  id: item.id,
  email: item.email,
  name: item.name,
  role: item.role,
  twoFactorEnabled: item.totpEnabledAt !== undefined,
  createdAt: item.createdAt,
});
