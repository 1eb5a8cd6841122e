import type { Principal } from '../../layers/auth/tokens';
import {
  hashRecoveryCode,
  newRecoveryCodes,
  newTotpSecret,
  otpauthUri,
  verifyTotp,
} from '../../layers/auth/totp';
import { errors } from '../../layers/errors/app-error';
import type { Clock } from '../../layers/ids/ids';
import { type UserItem, userKeys } from '../../layers/model/users';
import { ConditionFailedError, type Store } from '../../layers/store/store';

const ISSUER = 'VIP Hosting Panel';

interface Deps {
  store: Store;
  clock: Clock;
}

async function currentUser(deps: Deps, principal: Principal): Promise<UserItem> {
  const user = await deps.store.get<UserItem>(userKeys.item(principal.tenantId, principal.userId), true);
  if (!user) throw errors.unauthorized();
  return user;
}

const invalidCode = () => errors.validation([{ path: 'body.code', message: 'Invalid or already used code' }]);

/**
 * Accepts a TOTP code once (its time step must be newer than the last one used) or a recovery
 * code once (it is removed). Both are conditional writes, so two requests racing with the
 * same code cannot both pass.
 */
export async function useSecondFactor(deps: Deps, user: UserItem, code: string): Promise<boolean> {
  const key = userKeys.item(user.tenantId, user.id);
  try {
    if (/^\d{6}$/.test(code)) {
      const step = user.totpSecret ? verifyTotp(user.totpSecret, code, deps.clock.now()) : undefined;
      if (step === undefined) return false;
      await deps.store.update(
        key,
        { totpLastStep: step },
        // a code works once: a step at or before the last one accepted is refused
        { where: { belowOrAbsent: { totpLastStep: step } } },
      );
      return true;
    }
    const hash = hashRecoveryCode(code);
    if (!user.recoveryCodeHashes?.includes(hash)) return false;
    await deps.store.update(
      key,
      { recoveryCodeHashes: user.recoveryCodeHashes.filter((h) => h !== hash) },
      { expectedVersion: user.version ?? 1 },
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionFailedError) return false;
    throw error;
  }
}

/** A fresh secret, kept pending until a code proves the app has it. */
export function makeStartTotpEnrollment(deps: Deps) {
  return async (principal: Principal) => {
    const user = await currentUser(deps, principal);
    if (user.totpEnabledAt) throw errors.conflict('Two-factor authentication is already on.');
    const secret = newTotpSecret();
    await deps.store.update(userKeys.item(user.tenantId, user.id), { totpPendingSecret: secret });
    return { secret, otpauthUri: otpauthUri(secret, ISSUER, user.email) };
  };
}

/** Turns 2FA on with a first valid code and hands out ten single-use recovery codes. */
export function makeConfirmTotpEnrollment(deps: Deps) {
  return async (principal: Principal, code: string) => {
    const user = await currentUser(deps, principal);
    if (user.totpEnabledAt) throw errors.conflict('Two-factor authentication is already on.');
    if (!user.totpPendingSecret) throw errors.conflict('Start an enrollment first.');
    const step = verifyTotp(user.totpPendingSecret, code, deps.clock.now());
    if (step === undefined) throw invalidCode();
    const recovery = newRecoveryCodes();
    try {
      await deps.store.update(
        userKeys.item(user.tenantId, user.id),
        {
          totpSecret: user.totpPendingSecret,
          totpPendingSecret: undefined,
          totpEnabledAt: deps.clock.now().toISOString(),
          totpLastStep: step,
          recoveryCodeHashes: recovery.hashes,
        },
        { expectedVersion: user.version ?? 1 },
      );
    } catch (error) {
      if (error instanceof ConditionFailedError)
        throw errors.conflict('The account changed meanwhile; try again.');
      throw error;
    }
    return { recoveryCodes: recovery.codes };
  };
}

/** Turns 2FA off; it takes a valid second factor, so a stolen session alone cannot. */
export function makeDisableTotp(deps: Deps) {
  return async (principal: Principal, code: string) => {
    const user = await currentUser(deps, principal);
    if (!user.totpEnabledAt) return;
    if (!(await useSecondFactor(deps, user, code))) throw invalidCode();
    await deps.store.update(userKeys.item(user.tenantId, user.id), {
      totpSecret: undefined,
      totpEnabledAt: undefined,
      totpLastStep: undefined,
      recoveryCodeHashes: undefined,
    });
  };
}
