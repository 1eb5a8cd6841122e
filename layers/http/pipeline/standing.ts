import { tenantStanding } from '../../auth/tenancy';
import { check, errors, type Middleware, routed } from './state';

/**
 * The caller's tenant must be active (it and every tenant above it), and a tenant that
 * requires two-factor authentication lets a password-only session do nothing but enroll.
 * Checked beside the work; suspension takes effect within TENANT_STATUS_CACHE_SECONDS.
 */
export const standing = (): Middleware => ({
  before: (request) => {
    const state = routed(request.event);
    const { principal, platform, spec } = state;
    if (!principal) return;
    state.standing = check(
      tenantStanding(platform.store, principal.tenantId, platform.config.TENANT_STATUS_CACHE_SECONDS),
    );
    state.checks.push(
      check(
        state.standing.then(({ active, requireTwoFactor }) => {
          if (!active) throw errors.tenantSuspended();
          const passwordOnly = !principal.twoFactor && !principal.tokenId && !principal.actor;
          if (requireTwoFactor && passwordOnly && spec.permission !== 'account:write') {
            throw errors.twoFactorEnrollmentRequired();
          }
        }),
      ),
    );
  },
});
