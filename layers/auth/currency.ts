import { type ApiTokenItem, apiTokenKeys, apiTokenStatus } from '../model/api-tokens';
import { type RefreshFamilyItem, sessionKeys } from '../model/sessions';
import { type UserItem, userKeys } from '../model/users';
import type { ItemKey, Store, StoredItem } from '../store/store';
import { can, type Permission } from './permissions';
import type { Principal, Role } from './tokens';

/**
 * What a principal is worth now: a token's claims and the authorizer's cached answer say what
 * held when they were made; this says what holds at this moment.
 */
export type Currency =
  | { ok: true; role: Role }
  | { ok: false; reason: 'member-removed' | 'session-ended' | 'token-revoked' | 'token-expired' };

/** Who acts, in which tenant, through which token and session: the records that decide it. */
function recordsOf(principal: Principal) {
  const acting = principal.actor ?? { userId: principal.userId, tenantId: principal.tenantId };
  const tokenId = principal.actor ? principal.actor.tokenId : principal.tokenId;
  return {
    user: userKeys.item(acting.tenantId, acting.userId),
    token: tokenId ? apiTokenKeys.item(tokenId) : undefined,
    session:
      !tokenId && !principal.actor && principal.sessionId
        ? sessionKeys.refreshFamily(principal.sessionId)
        : undefined,
  };
}

const sameKey = (a: ItemKey, b: StoredItem) => a.pk === b.pk && a.sk === b.sk;

/**
 * Reads, in one consistent BatchGetItem, the acting user's membership, the API token acted
 * through and the sign-in session, and judges the principal by them: a removed member, a
 * revoked or expired token, a session ended by a password change, a logout or a refresh token's
 * reuse end access at once; a changed role takes effect at once. A login-as session keeps the
 * role it was minted with in the customer's tenant, while its actor stays a member who may
 * still log in as a customer.
 */
export async function currencyOf(store: Store, principal: Principal, at: Date): Promise<Currency> {
  const keys = recordsOf(principal);
  const found = await store.batchGet<StoredItem>(
    [keys.user, ...(keys.token ? [keys.token] : []), ...(keys.session ? [keys.session] : [])],
    true,
  );
  const user = found.find((item) => sameKey(keys.user, item)) as UserItem | undefined;
  if (!user) return { ok: false, reason: 'member-removed' };
  if (keys.token) {
    const token = found.find((item) => sameKey(keys.token as ItemKey, item)) as ApiTokenItem | undefined;
    const status = token ? apiTokenStatus(token, at, true) : 'revoked';
    if (status === 'revoked') return { ok: false, reason: 'token-revoked' };
    if (status === 'expired') return { ok: false, reason: 'token-expired' };
  } else if (!principal.actor) {
    const issued = principal.issuedAt ?? 0;
    if (user.sessionsValidAfter && issued * 1000 < Date.parse(user.sessionsValidAfter) - 999) {
      return { ok: false, reason: 'session-ended' };
    }
    if (keys.session) {
      const session = found.find((item) => sameKey(keys.session as ItemKey, item)) as
        | RefreshFamilyItem
        | undefined;
      if (!session || session.revokedAt) return { ok: false, reason: 'session-ended' };
    }
  }
  if (principal.actor) {
    // the actor must still be allowed to log in as a customer; the session's own role stays
    return can(user.role, 'customers:impersonate' satisfies Permission)
      ? { ok: true, role: principal.role }
      : { ok: false, reason: 'member-removed' };
  }
  return { ok: true, role: user.role };
}

/** What a caller whose principal no longer holds is told. */
export const currencyDetails: Record<Exclude<Currency, { ok: true }>['reason'], string> = {
  'member-removed': 'You are no longer a member of this tenant.',
  'session-ended': 'This session has ended; sign in again.',
  'token-revoked': 'This API token has been revoked.',
  'token-expired': 'This API token has expired.',
};
