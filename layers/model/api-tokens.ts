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

export const apiTokenStatuses = ['active', 'revoked', 'expired', 'creator-removed'] as const;

/** Whether a token works, given the moment and whether its creator is still a member. */
export function apiTokenStatus(
  item: Pick<ApiTokenItem, 'revokedAt' | 'tokenExpiresAt'>,
  at: Date,
  creatorIsMember: boolean,
): (typeof apiTokenStatuses)[number] {
  if (item.revokedAt) return 'revoked';
  if (item.tokenExpiresAt && Date.parse(item.tokenExpiresAt) <= at.getTime()) return 'expired';
  return creatorIsMember ? 'active' : 'creator-removed';
}

export const toApiToken = (item: ApiTokenItem, at: Date, creatorIsMember: boolean) => ({
  id: item.id,
  name: item.name,
  scopes: item.scopes,
  allowedCidrs: item.allowedCidrs,
  expiresAt: item.tokenExpiresAt,
  lastUsedAt: item.lastUsedAt,
  lastUsedIp: item.lastUsedIp,
  revokedAt: item.revokedAt,
  createdAt: item.createdAt,
  createdBy: { userId: item.createdBy.userId },
  status: apiTokenStatus(item, at, creatorIsMember),
});
