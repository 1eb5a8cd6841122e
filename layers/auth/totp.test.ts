import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { hashRecoveryCode, newRecoveryCodes, otpauthUri, totpCode, verifyTotp } from './totp';

// RFC 6238, Appendix B: the seeds and the expected 8-digit codes.
const seeds = {
  SHA1: '12345678901234567890',
  SHA256: '12345678901234567890123456789012',
  SHA512: '1234567890123456789012345678901234567890123456789012345678901234',
};
const vectors: [number, keyof typeof seeds, string][] = [
  [59, 'SHA1', '94287082'],
  [59, 'SHA256', '46119246'],
  [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'],
  [1111111109, 'SHA256', '68084774'],
  [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'],
  [1111111111, 'SHA256', '67062674'],
  [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'],
  [1234567890, 'SHA256', '91819424'],
  [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'],
  [2000000000, 'SHA256', '90698825'],
  [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'],
  [20000000000, 'SHA256', '77737706'],
  [20000000000, 'SHA512', '47863826'],
];

describe('Module: TOTP (RFC 6238)', () => {
  for (const [seconds, algorithm, expected] of vectors) {
    it(`gives ${expected} at T=${seconds} with ${algorithm}`, () => {
      const secret = Secret.fromLatin1(seeds[algorithm]);
      expect(totpCode(secret, new Date(seconds * 1000), { algorithm, digits: 8, period: 30 })).toBe(expected);
    });
  }

  it('accepts the current code and its neighbours, and says which time step matched', () => {
    const secret = new Secret({ size: 20 });
    const at = new Date('2026-11-27T10:00:15Z');
    const step = Math.floor(at.getTime() / 30_000);
    expect(verifyTotp(secret.base32, totpCode(secret, at), at)).toBe(step);
    expect(verifyTotp(secret.base32, totpCode(secret, new Date(at.getTime() - 30_000)), at)).toBe(step - 1);
    expect(verifyTotp(secret.base32, totpCode(secret, new Date(at.getTime() + 90_000)), at)).toBeUndefined();
  });

  it('builds an otpauth URI an authenticator app reads', () => {
    const uri = new URL(otpauthUri('JBSWY3DPEHPK3PXP', 'VIP Hosting Panel', 'me@example.com'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.searchParams.get('secret')).toBe('JBSWY3DPEHPK3PXP');
    expect(uri.searchParams.get('issuer')).toBe('VIP Hosting Panel');
    expect(uri.searchParams.get('digits')).toBe('6');
  });

  it('makes distinct recovery codes and stores only their hashes', () => {
    const { codes, hashes } = newRecoveryCodes();
    expect(new Set(codes).size).toBe(10);
    expect(hashes).toEqual(codes.map(hashRecoveryCode));
    expect(hashes.join()).not.toContain(codes[0]);
    expect(hashRecoveryCode(` ${codes[0]?.toUpperCase()} `)).toBe(hashes[0]);
  });
});
