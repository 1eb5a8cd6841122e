import type { StoredItem } from '../store/store';

/** Failed logins counted for brute-force protection (functions/auth/service.ts LOCKOUT); an unknown email counts like a known one. */
export interface LoginAttemptsItem extends StoredItem {
  entity: 'login-attempts';
  failures: number;
  lockedUntil?: number;
  expiresAt: number;
}

export const loginAttemptKeys = {
  /** failed logins of an email, from one source address or (without one) from anywhere */
  forEmail: (email: string, sourceIp?: string) => ({
    pk: `LOGIN#${email.toLowerCase()}`,
    sk: sourceIp === undefined ? 'ATTEMPTS' : `ATTEMPTS#${sourceIp}`,
  }),
  /** failed logins from one source address, whatever the emails */
  fromAddress: (sourceIp: string) => ({ pk: `LOGIN-IP#${sourceIp}`, sk: 'ATTEMPTS' }),
};
