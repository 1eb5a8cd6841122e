import { hashPassword } from '../../layers/auth/passwords';
import { tenantKey } from '../../layers/auth/tenancy';
import type { Role } from '../../layers/auth/tokens';
import type { StoredItem } from '../../layers/store/store';

export const tenantKinds = ['reseller', 'customer'] as const;
export type TenantKind = (typeof tenantKinds)[number];

/** How deep the tenant tree goes: a top-level tenant is at depth 1. */
export const MAX_TENANT_DEPTH = 3;

export interface TenantItem extends StoredItem {
  entity: 'tenant';
  id: string;
  name: string;
  kind: TenantKind;
  /** `deleting` while its items are being removed: nobody of it signs in any more */
  status: 'active' | 'suspended' | 'deleting';
  parentId?: string;
  /** every tenant above this one, top first: a tenant may act on another only if it is among them */
  ancestors: string[];
  suspension?: { reason: string; at: string; by: string };
  /** its users must sign in with a second factor before they may do anything but enroll */
  requireTwoFactor?: boolean;
  /** a reseller's API Gateway usage key, once it has one */
  usageKeyId?: string;
  createdAt: string;
  updatedAt?: string;
}

/** A parent's link to a direct child, so a reseller lists its customers with one Query. */
export interface ChildLinkItem extends StoredItem {
  entity: 'child';
  id: string;
  name: string;
  kind: TenantKind;
  status: TenantItem['status'];
  createdAt: string;
}

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

/** A password reset, found by the hash of its emailed token; it works once, within an hour. */
export interface PasswordResetItem extends StoredItem {
  entity: 'password-reset';
  tenantId: string;
  userId: string;
  expiresAt: number;
}

/** Failed logins counted for brute-force protection (functions/auth/service.ts LOCKOUT); an unknown email counts like a known one. */
export interface LoginAttemptsItem extends StoredItem {
  entity: 'login-attempts';
  failures: number;
  lockedUntil?: number;
  expiresAt: number;
}

export const authKeys = {
  tenant: tenantKey,
  child: (parentId: string, childId: string) => ({ pk: `T#${parentId}`, sk: `CHILD#${childId}` }),
  childPrefix: 'CHILD#',
  user: (tenantId: string, userId: string) => ({ pk: `T#${tenantId}`, sk: `USER#${userId}` }),
  email: (email: string) => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'EMAIL' }),
  refreshToken: (hash: string) => ({ pk: `RT#${hash}`, sk: 'RT' }),
  refreshFamily: (family: string) => ({ pk: `RTF#${family}`, sk: 'RTF' }),
  passwordReset: (hash: string) => ({ pk: `RESET#${hash}`, sk: 'RESET' }),
  /** failed logins of an email, from one source address or (without one) from anywhere */
  loginAttempts: (email: string, sourceIp?: string) => ({
    pk: `LOGIN#${email.toLowerCase()}`,
    sk: sourceIp === undefined ? 'ATTEMPTS' : `ATTEMPTS#${sourceIp}`,
  }),
  /** failed logins from one source address, whatever the emails */
  loginAttemptsFrom: (sourceIp: string) => ({ pk: `LOGIN-IP#${sourceIp}`, sk: 'ATTEMPTS' }),
};

export const toTenant = (item: TenantItem) => ({
  id: item.id,
  name: item.name,
  kind: item.kind,
  status: item.status,
  parentId: item.parentId ?? null,
  suspension: item.suspension ?? null,
  requireTwoFactor: item.requireTwoFactor ?? false,
  createdAt: item.createdAt,
});

export const toUser = (item: UserItem) => ({
  id: item.id,
  email: item.email,
  name: item.name,
  role: item.role,
  twoFactorEnabled: item.totpEnabledAt !== undefined,
  createdAt: item.createdAt,
});

/** A new user with its password hashed, and the claim that makes its email address its own. */
export async function newUser(input: {
  tenantId: string;
  userId: string;
  email: string;
  name: string;
  role: Role;
  password: string;
  now: string;
}): Promise<{ user: UserItem; claim: EmailItem }> {
  const user: UserItem = {
    ...authKeys.user(input.tenantId, input.userId),
    entity: 'user',
    id: input.userId,
    tenantId: input.tenantId,
    email: input.email,
    name: input.name,
    role: input.role,
    passwordHash: await hashPassword(input.password),
    createdAt: input.now,
    version: 1,
  };
  const claim: EmailItem = {
    ...authKeys.email(input.email),
    entity: 'email',
    tenantId: input.tenantId,
    userId: input.userId,
  };
  return { user, claim };
}
