import { decoyHash, hashPassword, verifyPassword } from '../../layers/auth/passwords';
import { hashToken, newRefreshToken, type Principal } from '../../layers/auth/tokens';
import { errors } from '../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { ConditionFailedError, type Store, TransactionFailedError } from '../../layers/store/store';
import { serverKeys } from '../servers/entity';
import { authKeys, type EmailItem, type RefreshTokenItem, type TenantItem, type UserItem } from './entity';

export interface AuthDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  signer: { sign(principal: Principal): Promise<{ token: string; expiresIn: number }> };
  refreshTokenTtlSeconds: number;
}

/** Creates the tenant, its owner and the email claim in one transaction: all three or none. */
export function makeSignup({ store, clock, ids }: Pick<AuthDeps, 'store' | 'clock' | 'ids'>) {
  return async (input: { email: string; password: string; name: string; tenantName: string }) => {
    const now = clock.now().toISOString();
    const tenantId = ids.next('ten');
    const userId = ids.next('usr');
    const tenant: TenantItem = {
      ...authKeys.tenant(tenantId),
      entity: 'tenant',
      id: tenantId,
      name: input.tenantName,
      status: 'active',
      createdAt: now,
      version: 1,
    };
    const user: UserItem = {
      ...authKeys.user(tenantId, userId),
      entity: 'user',
      id: userId,
      tenantId,
      email: input.email,
      name: input.name,
      role: 'owner',
      passwordHash: await hashPassword(input.password),
      createdAt: now,
      version: 1,
    };
    const claim: EmailItem = { ...authKeys.email(input.email), entity: 'email', tenantId, userId };
    const notExists = { ConditionExpression: 'attribute_not_exists(pk)' };
    try {
      await store.transact([
        { Put: { Item: tenant, ...notExists } },
        { Put: { Item: user, ...notExists } },
        { Put: { Item: claim, ...notExists } },
        { Put: { Item: { ...serverKeys.counters(tenantId), entity: 'counters' }, ...notExists } },
      ]);
    } catch (error) {
      if (error instanceof TransactionFailedError && error.reasons[2] === 'ConditionalCheckFailed') {
        throw errors.conflict('An account with this email already exists.', 'body.email');
      }
      throw error;
    }
    return { tenant, user };
  };
}

/** Issues an access token and a stored, single-use refresh token. */
async function issueTokens(deps: AuthDeps, principal: Principal) {
  const access = await deps.signer.sign(principal);
  const refresh = newRefreshToken();
  await deps.store.create<RefreshTokenItem>({
    ...authKeys.refreshToken(refresh.hash),
    entity: 'refresh-token',
    tenantId: principal.tenantId,
    userId: principal.userId,
    expiresAt: deps.store.nowSeconds() + deps.refreshTokenTtlSeconds,
  });
  return {
    tokenType: 'Bearer' as const,
    accessToken: access.token,
    expiresIn: access.expiresIn,
    refreshToken: refresh.token,
    tenantId: principal.tenantId,
    userId: principal.userId,
  };
}

/** Checks a password in constant time; an unknown email costs the same hash and gets the same answer. */
export function makeLogin(deps: AuthDeps) {
  return async (input: { email: string; password: string }) => {
    const claim = await deps.store.get<EmailItem>(authKeys.email(input.email));
    const user = claim
      ? await deps.store.get<UserItem>(authKeys.user(claim.tenantId, claim.userId))
      : undefined;
    const valid = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()));
    if (!user || !valid) throw errors.invalidCredentials();
    const tenant = await deps.store.get<TenantItem>(authKeys.tenant(user.tenantId));
    if (tenant?.status !== 'active') throw errors.invalidCredentials();
    return issueTokens(deps, { tenantId: user.tenantId, userId: user.id, role: user.role });
  };
}

/** Rotates a refresh token: the old one is deleted conditionally, so it works exactly once. */
export function makeRefresh(deps: AuthDeps) {
  return async (input: { refreshToken: string }) => {
    const key = authKeys.refreshToken(hashToken(input.refreshToken));
    const stored = await deps.store.get<RefreshTokenItem>(key, true);
    if (!stored) throw errors.unauthorized('The refresh token is not valid.');
    try {
      await deps.store.remove(key, { mustExist: true });
    } catch (error) {
      if (error instanceof ConditionFailedError) {
        throw errors.unauthorized('The refresh token is not valid.');
      }
      throw error;
    }
    const user = await deps.store.get<UserItem>(authKeys.user(stored.tenantId, stored.userId));
    if (!user) throw errors.unauthorized('The refresh token is not valid.');
    return issueTokens(deps, { tenantId: user.tenantId, userId: user.id, role: user.role });
  };
}
