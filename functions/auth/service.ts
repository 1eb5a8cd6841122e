import { randomBytes } from 'node:crypto';
import { decoyHash, hashPassword, verifyPassword } from '../../layers/auth/passwords';
import { readStanding } from '../../layers/auth/tenancy';
import { hashToken, newRefreshToken, type Principal } from '../../layers/auth/tokens';
import { errors } from '../../layers/errors/app-error';
import { count } from '../../layers/http/rate-limit';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { actionLines, type PublicUrls } from '../../layers/mail/mailer';
import {
  type LoginAttemptsItem,
  loginAttemptKeys,
  recordLoginFailure,
} from '../../layers/model/login-attempts';
import { rateCounterKeys } from '../../layers/model/request-records';
import {
  type PasswordResetItem,
  type RefreshFamilyItem,
  type RefreshTokenItem,
  sessionKeys,
} from '../../layers/model/sessions';
import type { TenantKind } from '../../layers/model/tenants';
import { type EmailItem, type UserItem, userKeys } from '../../layers/model/users';
import { ConditionFailedError, type Store } from '../../layers/store/store';
import { makeCreateTenant } from '../tenants/service';
import { useSecondFactor } from './two-factor';

export interface AuthDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  signer: { sign(principal: Principal): Promise<{ token: string; expiresIn: number }> };
  refreshTokenTtlSeconds: number;
  /** the failures before each login counter slows attempts down (LOCKOUT's by default) */
  lockout?: { pair?: number; address?: number; account?: number };
  /** records auth events in the user's tenant audit log, with the request's IP and user agent */
  audit?: AuthAudit;
}

export type AuthAudit = (event: {
  tenantId: string;
  userId: string;
  action: 'auth.login.succeeded' | 'auth.login.failed' | 'auth.login.locked' | 'auth.refresh.reused';
  result: 'succeeded' | 'failed' | 'denied';
  status: number;
}) => Promise<void>;

/** Signup: a new top-level tenant (a customer, or a reseller that will have customers) and its owner. */
export function makeSignup(deps: Pick<AuthDeps, 'store' | 'clock' | 'ids'>) {
  const createTenant = makeCreateTenant(deps);
  return (input: { email: string; password: string; name: string; tenantName: string; kind: TenantKind }) =>
    createTenant({
      name: input.tenantName,
      kind: input.kind,
      owner: { email: input.email, name: input.name, password: input.password },
    });
}

/**
 * Brute-force protection that hands nobody a lockout. Failed logins are counted within a
 * 15-minute window three ways: per (email, source address), per source address, and per email
 * from anywhere. Past its threshold each counter slows further attempts down (a lock that
 * starts at 30 s and doubles with every further failure, up to the window) instead of refusing
 * the account for everyone: an attacker's failures from one address hold back only that
 * address. A spread attack reaches the per-email limit; then a login still gets through with
 * the right password and a valid second factor, from an address that is not itself held back.
 */
export const LOCKOUT = {
  windowSeconds: 15 * 60,
  firstLockSeconds: 30,
  /** failures before each counter starts slowing attempts down */
  pair: 5,
  address: 20,
  account: 50,
} as const;

/** How long a counter holds attempts back after its `failures`-th failure, if at all. */
export const lockSeconds = (failures: number, threshold: number): number =>
  failures < threshold
    ? 0
    : Math.min(LOCKOUT.windowSeconds, LOCKOUT.firstLockSeconds * 2 ** (failures - threshold));

/** Issues an access token and a stored, single-use refresh token in the given (or a new) family. */
async function issueTokens(deps: AuthDeps, principal: Principal, family?: string) {
  const refresh = newRefreshToken();
  const expiresAt = deps.store.nowSeconds() + deps.refreshTokenTtlSeconds;
  const familyId = family ?? deps.ids.next('rt');
  // the access token names its session, so a logout or a refresh token's reuse ends it too
  const access = await deps.signer.sign({ ...principal, sessionId: familyId });
  if (!family) {
    await deps.store.create<RefreshFamilyItem>({
      ...sessionKeys.refreshFamily(familyId),
      entity: 'refresh-family',
      tenantId: principal.tenantId,
      userId: principal.userId,
      twoFactor: principal.twoFactor ?? false,
      createdAt: deps.clock.now().toISOString(),
      expiresAt,
    });
  }
  await deps.store.create<RefreshTokenItem>({
    ...sessionKeys.refreshToken(refresh.hash),
    entity: 'refresh-token',
    tenantId: principal.tenantId,
    userId: principal.userId,
    family: familyId,
    expiresAt,
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

/**
 * Checks a password in constant time; an unknown email costs the same hash and gets the same
 * answer, and is counted and slowed down the same way (so a slow-down reveals nothing). See
 * LOCKOUT for how failures hold attempts back; a success clears its own address's count.
 */
export function makeLogin(deps: AuthDeps) {
  return async (input: { email: string; password: string; otp?: string | undefined; sourceIp: string }) => {
    const now = deps.store.nowSeconds();
    const counters = {
      pair: loginAttemptKeys.forEmail(input.email, input.sourceIp),
      address: loginAttemptKeys.fromAddress(input.sourceIp),
      account: loginAttemptKeys.forEmail(input.email),
    };
    const [pair, address, account] = await Promise.all(
      [counters.pair, counters.address, counters.account].map((key) =>
        deps.store.get<LoginAttemptsItem>(key, true),
      ),
    );
    const heldUntil = (item: LoginAttemptsItem | undefined) =>
      item?.lockedUntil && item.lockedUntil > now ? item.lockedUntil : 0;
    const here = Math.max(heldUntil(pair), heldUntil(address));
    if (here) throw errors.locked(here - now);
    const claim = await deps.store.get<EmailItem>(userKeys.email(input.email));
    const user = claim
      ? await deps.store.get<UserItem>(userKeys.item(claim.tenantId, claim.userId))
      : undefined;
    const valid = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash()));
    // While the email is under a spread attack, an address that has failed for it is held
    // back; an address that has not (the owner's, signing in from somewhere new) still gets
    // through with the right password, and with a valid second factor any address does.
    const accountHeld = heldUntil(account);
    const failedHere = (pair?.expiresAt ?? 0) > now && (pair?.failures ?? 0) > 0;
    const stranger = accountHeld > 0 && failedHere;
    if (stranger) {
      const secondFactor =
        user?.totpEnabledAt && input.otp && valid && (await useSecondFactor(deps, user, input.otp));
      if (!secondFactor) throw errors.locked(accountHeld - now, 'account');
    }
    const standing = user && valid ? await readStanding(deps.store, user.tenantId) : undefined;
    const fail = async () => {
      const locks = await Promise.all([
        recordFailure(deps, counters.pair, pair, now, deps.lockout?.pair ?? LOCKOUT.pair),
        recordFailure(deps, counters.address, address, now, deps.lockout?.address ?? LOCKOUT.address),
        recordFailure(deps, counters.account, account, now, deps.lockout?.account ?? LOCKOUT.account),
      ]);
      if (user) {
        const event = { tenantId: user.tenantId, userId: user.id, status: 401 } as const;
        await deps.audit?.({ ...event, action: 'auth.login.failed', result: 'denied' });
        if (locks.some(Boolean))
          await deps.audit?.({ ...event, action: 'auth.login.locked', result: 'denied' });
      }
      return errors.invalidCredentials();
    };
    if (!user || !valid || !standing?.active) throw await fail();
    // every wrong one-time code counts, the account slowed down or not
    if (user.totpEnabledAt && !stranger) {
      if (!input.otp) throw errors.secondFactorRequired();
      if (!(await useSecondFactor(deps, user, input.otp))) throw await fail();
    }
    if (pair) await deps.store.remove(counters.pair);
    await deps.audit?.({
      tenantId: user.tenantId,
      userId: user.id,
      action: 'auth.login.succeeded',
      result: 'succeeded',
      status: 200,
    });
    return issueTokens(deps, {
      tenantId: user.tenantId,
      userId: user.id,
      role: user.role,
      twoFactor: user.totpEnabledAt !== undefined,
    });
  };
}

/**
 * Counts one failure on a counter, starting a new window when the last one ran out, and locks
 * it for `lockSeconds` once it is past its threshold. Answers whether it is now locked.
 */
async function recordFailure(
  deps: AuthDeps,
  key: { pk: string; sk: string },
  previous: LoginAttemptsItem | undefined,
  now: number,
  threshold: number,
): Promise<boolean> {
  const fresh = !previous || previous.expiresAt <= now;
  const failures = fresh ? 1 : previous.failures + 1;
  const lock = lockSeconds(failures, threshold);
  const windowEnds = fresh ? now + LOCKOUT.windowSeconds : previous.expiresAt;
  await recordLoginFailure(deps.store, key, {
    fresh,
    lockedUntil: lock ? now + lock : undefined,
    // a lock outlives the window it started in, so the counter is kept until it ends
    expiresAt: Math.max(windowEnds, lock ? now + lock : 0),
  });
  return lock > 0;
}

const invalidRefresh = () => errors.unauthorized('The refresh token is not valid.');

/**
 * Rotates a refresh token: each works once. Presenting one that was already used means it
 * leaked, so its whole family (every token rotated from the same login) is revoked.
 */
export function makeRefresh(deps: AuthDeps) {
  return async (input: { refreshToken: string }) => {
    const key = sessionKeys.refreshToken(hashToken(input.refreshToken));
    const stored = await deps.store.get<RefreshTokenItem>(key, true);
    if (!stored) throw invalidRefresh();
    const family = await deps.store.get<RefreshFamilyItem>(sessionKeys.refreshFamily(stored.family), true);
    if (!family || family.revokedAt) throw invalidRefresh();
    try {
      await deps.store.update(
        key,
        { usedAt: deps.clock.now().toISOString() },
        { where: { absent: ['usedAt'] } },
      );
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      await revokeFamily(deps, stored.family, 'reuse');
      await deps.audit?.({
        tenantId: stored.tenantId,
        userId: stored.userId,
        action: 'auth.refresh.reused',
        result: 'denied',
        status: 401,
      });
      throw invalidRefresh();
    }
    const user = await deps.store.get<UserItem>(userKeys.item(stored.tenantId, stored.userId));
    if (!user) throw invalidRefresh();
    if (user.sessionsValidAfter && family.createdAt < user.sessionsValidAfter) throw invalidRefresh();
    if (!(await readStanding(deps.store, user.tenantId)).active) throw invalidRefresh();
    return issueTokens(
      deps,
      { tenantId: user.tenantId, userId: user.id, role: user.role, twoFactor: family.twoFactor ?? false },
      stored.family,
    );
  };
}

async function revokeFamily(deps: AuthDeps, family: string, because: 'reuse' | 'logout') {
  try {
    await deps.store.update(sessionKeys.refreshFamily(family), {
      revokedAt: deps.clock.now().toISOString(),
      revokedBecause: because,
    });
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error;
  }
}

/** Logout ends the session: the refresh token's family is revoked. Unknown tokens are accepted silently. */
export function makeLogout(deps: AuthDeps) {
  return async (input: { refreshToken: string }) => {
    const stored = await deps.store.get<RefreshTokenItem>(
      sessionKeys.refreshToken(hashToken(input.refreshToken)),
      true,
    );
    if (stored) await revokeFamily(deps, stored.family, 'logout');
  };
}

const RESET_TTL_SECONDS = 3600;

/** The most password-reset emails an address gets in an hour; more requests send nothing. */
export const RESET_MAILS_PER_HOUR = 3;

/**
 * Starts a password reset: for a known email, a single-use token valid one hour goes out by
 * email, at most RESET_MAILS_PER_HOUR an hour. The answer is the same whether the email is
 * known or not, and whether a mail went out.
 */
export function makeRequestPasswordReset(
  deps: AuthDeps & {
    sendMail: (mail: { to: string; subject: string; text: string }) => Promise<unknown>;
    urls: PublicUrls;
  },
) {
  return async (input: { email: string }) => {
    // counted for unknown emails too, so the answer and its cost say nothing of the email
    const mails = await count(
      deps.store,
      { pk: rateCounterKeys.resetMailsTo(input.email), subject: 'reset-mail', windowSeconds: 3600 },
      deps.clock.now().getTime(),
      { exact: true, limit: RESET_MAILS_PER_HOUR },
    );
    const claim = await deps.store.get<EmailItem>(userKeys.email(input.email));
    if (!claim || mails.count > RESET_MAILS_PER_HOUR) return;
    const token = `vpr_${randomBytes(32).toString('base64url')}`;
    await deps.store.create<PasswordResetItem>({
      ...sessionKeys.passwordReset(hashToken(token)),
      entity: 'password-reset',
      tenantId: claim.tenantId,
      userId: claim.userId,
      createdAt: deps.clock.now().toISOString(),
      expiresAt: deps.store.nowSeconds() + RESET_TTL_SECONDS,
    });
    await deps.sendMail({
      to: input.email,
      subject: 'Reset your VIP Hosting Panel password',
      text: [
        'Someone asked to reset the password of this account. If it was you, choose a new one within an hour:',
        ...actionLines(deps.urls, {
          page: 'password-reset',
          token,
          apiPath: '/v1/auth/password-reset/confirm',
          apiBody: { password: 'your new password' },
        }),
        '',
        'If it was not you, ignore this email.',
      ].join('\n'),
    });
  };
}

/** Sets a new password and ends every session of the user. */
async function setPassword(deps: AuthDeps, user: UserItem, password: string) {
  await deps.store.update(userKeys.item(user.tenantId, user.id), {
    passwordHash: await hashPassword(password),
    sessionsValidAfter: deps.clock.now().toISOString(),
  });
}

/** Completes a password reset with the emailed token (once); every existing session ends. */
export function makeConfirmPasswordReset(deps: AuthDeps) {
  return async (input: { token: string; password: string }) => {
    const key = sessionKeys.passwordReset(hashToken(input.token));
    const reset = await deps.store.get<PasswordResetItem>(key, true);
    if (!reset) throw errors.validation([{ path: 'body.token', message: 'Invalid or expired reset token' }]);
    try {
      await deps.store.remove(key, { mustExist: true });
    } catch (error) {
      if (error instanceof ConditionFailedError) {
        throw errors.validation([{ path: 'body.token', message: 'Invalid or expired reset token' }]);
      }
      throw error;
    }
    const user = await deps.store.get<UserItem>(userKeys.item(reset.tenantId, reset.userId), true);
    // a token made before the password last changed (a newer reset used) is dead
    const superseded =
      user?.sessionsValidAfter !== undefined && (reset.createdAt ?? '') < user.sessionsValidAfter;
    if (!user || superseded) {
      throw errors.validation([{ path: 'body.token', message: 'Invalid or expired reset token' }]);
    }
    await setPassword(deps, user, input.password);
  };
}

/** Changes the password of the signed-in user; other sessions end, and this one gets new tokens. */
export function makeChangePassword(deps: AuthDeps) {
  return async (principal: Principal, input: { currentPassword: string; newPassword: string }) => {
    const user = await deps.store.get<UserItem>(userKeys.item(principal.tenantId, principal.userId), true);
    if (!user) throw errors.unauthorized();
    if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
      throw errors.validation([{ path: 'body.currentPassword', message: 'Not the current password' }]);
    }
    await setPassword(deps, user, input.newPassword);
    return issueTokens(deps, {
      tenantId: user.tenantId,
      userId: user.id,
      role: user.role,
      twoFactor: principal.twoFactor ?? false,
    });
  };
}
