import type { Role } from '../../layers/auth/tokens';
import type { StoredItem } from '../../layers/store/store';

export interface TenantItem extends StoredItem {
  entity: 'tenant';
  id: string;
  name: string;
  status: 'active' | 'suspended';
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
  expiresAt: number;
}

export const authKeys = {
  tenant: (tenantId: string) => ({ pk: `T#${tenantId}`, sk: 'TENANT' }),
  user: (tenantId: string, userId: string) => ({ pk: `T#${tenantId}`, sk: `USER#${userId}` }),
  email: (email: string) => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'EMAIL' }),
  refreshToken: (hash: string) => ({ pk: `RT#${hash}`, sk: 'RT' }),
};

export const toTenant = (item: TenantItem) => ({
  id: item.id,
  name: item.name,
  status: item.status,
  createdAt: item.createdAt,
});

export const toUser = (item: UserItem) => ({
  id: item.id,
  email: item.email,
  name: item.name,
  role: item.role,
  createdAt: item.createdAt,
});
