import type { StoredItem } from '../store/store';

export interface RefreshTokenItem extends StoredItem {
  entity: 'refresh-token';
  tenantId: string;
  userId: string;
  /** every token rotated from one login shares a family; reusing any of them revokes it whole */
  family: string;
  usedAt?: string;
  expiresAt: number;
}

export interface RefreshFamilyItem extends StoredItem {
  entity: 'refresh-family';
  tenantId: string;
  userId: string;
  revokedAt?: string;
  revokedBecause?: 'reuse' | 'logout';
  /** whether the login that started the family gave a second factor */
  twoFactor?: boolean;
  createdAt: string;
  expiresAt: number;
}

/**
 * A password reset, found by the hash of its emailed token; it works once, within an hour, and
 * not once the password has changed since it was made (a newer reset used, say).
 */
export interface PasswordResetItem extends StoredItem {
  entity: 'password-reset';
  tenantId: string;
  userId: string;
  createdAt?: string;
  expiresAt: number;
}

/** Sessions are found by the hashes of their tokens, before any tenant is known. */
export const sessionKeys = {
  refreshToken: (hash: string) => ({ pk: `RT#${hash}`, sk: 'RT' }),
  refreshFamily: (family: string) => ({ pk: `RTF#${family}`, sk: 'RTF' }),
  passwordReset: (hash: string) => ({ pk: `RESET#${hash}`, sk: 'RESET' }),
};
