import type { Permission } from '../auth/permissions';
import type { Role } from '../auth/tokens';
import type { StoredItem } from '../store/store';
import { tenantPartition } from './keys';

/** The token's own record, found by its id (the part of the token before the secret). */
export interface ApiTokenItem extends StoredItem {
  entity: 'api-token';
  id: string;
  tenantId: string;
  name: string;
  /** SHA-256 of the secret part; the secret itself is shown once and never stored */
  secretHash: string;
  scopes: Permission[];
  createdBy: { userId: string; role: Role };
  /** the reseller's usage key value the authorizer hands API Gateway for this token */
  usageKey?: string;
  allowedCidrs: string[];
  tokenExpiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  /** the source addresses it has been used from, newest last (a use from another one is audited) */
  knownIps?: string[];
  revokedAt: string | null;
  createdAt: string;
}

export const apiTokenKeys = {
  item: (tokenId: string) => ({ pk: `TOKEN#${tokenId}`, sk: 'TOKEN' }),
  /** the tenant's link to the token, so its tokens list with one Query */
  link: (tenantId: string, tokenId: string) => ({ pk: tenantPartition(tenantId), sk: `TOKEN#${tokenId}` }),
  linkPrefix: 'TOKEN#',
};

/** The public prefix that makes a leaked token recognisable to secret scanners. */
export const TOKEN_PREFIX = 'vhp_';

export const toApiToken = (item: ApiTokenItem) => ({
  id: item.id,
  name: item.name,
  scopes: item.scopes,
  allowedCidrs: item.allowedCidrs,
  expiresAt: item.tokenExpiresAt,
  lastUsedAt: item.lastUsedAt,
  lastUsedIp: item.lastUsedIp,
  revokedAt: item.revokedAt,
  createdAt: item.createdAt,
});
