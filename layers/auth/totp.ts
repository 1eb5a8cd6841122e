import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 settings every authenticator app understands. */
export const TOTP_SETTINGS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;

/** A new 160-bit shared secret, base32 as authenticator apps take it. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

/** The otpauth:// URI an authenticator app scans as a QR code. */
export function otpauthUri(secret: string, issuer: string, account: string): string {
  return new TOTP({ issuer, label: account, secret: Secret.fromBase32(secret), ...TOTP_SETTINGS }).toString();
}

/** The code for a moment; `settings` lets tests use the RFC's other algorithms and lengths. */
export function totpCode(
  secret: Secret,
  at: Date,
  settings: { algorithm: string; digits: number; period: number } = TOTP_SETTINGS,
): string {
  return TOTP.generate({ secret, timestamp: at.getTime(), ...settings });
}

/**
 * Checks a code against the current time step and one step either side (clock drift). Returns
 * the time step it matched, so the caller can refuse a step that was already used (replay).
 */
export function verifyTotp(secret: string, code: string, at: Date): number | undefined {
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(secret),
    timestamp: at.getTime(),
    window: 1,
    ...TOTP_SETTINGS,
  });
  if (delta === null) return undefined;
  return Math.floor(at.getTime() / 1000 / TOTP_SETTINGS.period) + delta;
}

/** Ten single-use recovery codes (shown once) and the hashes that are stored instead. */
export function newRecoveryCodes(count = 10): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: count }, () => {
    const raw = randomBytes(8).toString('hex');
    return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8, 12)}-${raw.slice(12)}`;
  });
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

export const hashRecoveryCode = (code: string): string =>
  createHash('sha256').update(code.trim().toLowerCase()).digest('base64url');
