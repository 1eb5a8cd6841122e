import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../ids/ids';
import { decoyHash, hashPassword, setPasswordCost, verifyPassword } from './passwords';
import { generateSecrets, type PlatformSecrets } from './secrets';
import { makeTokenSigner, makeTokenVerifier, principalCodec } from './tokens';

const clock: Clock = { now: () => new Date('2026-11-27T10:00:00Z') };
const settings = { issuer: 'https://issuer.test', audience: 'vip', accessTokenTtlSeconds: 900 };
const principal = { tenantId: 'ten_1', userId: 'usr_1', role: 'owner' as const, twoFactor: false };
const issuedAt = Math.floor(clock.now().getTime() / 1000);
let secrets: PlatformSecrets;

beforeAll(async () => {
  secrets = await generateSecrets(clock.now());
});

describe('Module: access tokens', () => {
  it('verifies a token it signed and returns the principal', async () => {
    const { token } = await (await makeTokenSigner(secrets, settings, clock)).sign(principal);
    await expect(makeTokenVerifier(secrets, settings, clock).verify(token)).resolves.toEqual({
      ...principal,
      issuedAt,
    });
  });

  it('carries the session, and a login-as session minted by an API token carries its limits', async () => {
    const minted = {
      ...principal,
      role: 'admin' as const,
      sessionId: 'rt_1',
      scopes: ['servers:read' as const, 'sites:read' as const],
      allowedCidrs: ['198.51.100.0/24'],
      actor: { userId: 'usr_9', tenantId: 'ten_9', tokenId: 'tok_9' },
    };
    const { token } = await (await makeTokenSigner(secrets, settings, clock)).sign(minted, 60);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({
      sid: 'rt_1',
      scope: 'servers:read sites:read',
      cidr: ['198.51.100.0/24'],
      act: { sub: 'usr_9', tid: 'ten_9', tok: 'tok_9' },
    });
    const verified = await makeTokenVerifier(secrets, settings, clock).verify(token);
    expect(verified).toEqual({ ...minted, issuedAt });
    // through the authorizer's context and back, everything but the addresses (the authorizer checks those)
    const { allowedCidrs: _checked, ...carried } = verified;
    expect(principalCodec.decode(principalCodec.encode(verified))).toEqual(carried);
  });

  it('keeps an API token with no scopes at no scopes through the authorizer context', () => {
    const token = { ...principal, tokenId: 'tok_1', scopes: [] };
    expect(principalCodec.decode(principalCodec.encode(token))).toEqual(token);
    expect(principalCodec.decode(principalCodec.encode(principal))).toEqual(principal);
  });

  it('carries the second factor (amr) and a login-as actor (act), with a shorter lifetime', async () => {
    const impersonation = {
      ...principal,
      tenantId: 'ten_2',
      role: 'admin' as const,
      twoFactor: true,
      actor: { userId: 'usr_1', tenantId: 'ten_1' },
    };
    const { token, expiresIn } = await (await makeTokenSigner(secrets, settings, clock)).sign(
      impersonation,
      300,
    );
    expect(expiresIn).toBe(300);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({ amr: ['pwd', 'otp'], act: { sub: 'usr_1', tid: 'ten_1' } });
    expect(claims.exp - claims.iat).toBe(300);
    await expect(makeTokenVerifier(secrets, settings, clock).verify(token)).resolves.toEqual({
      ...impersonation,
      issuedAt,
    });
  });

  it('rejects an expired token', async () => {
    const { token } = await (await makeTokenSigner(secrets, settings, clock)).sign(principal);
    const later = { now: () => new Date(clock.now().getTime() + 901_000) };
    await expect(makeTokenVerifier(secrets, settings, later).verify(token)).rejects.toThrow();
  });

  it('rejects a wrong audience or issuer', async () => {
    const { token } = await (await makeTokenSigner(secrets, settings, clock)).sign(principal);
    await expect(
      makeTokenVerifier(secrets, { ...settings, audience: 'other' }, clock).verify(token),
    ).rejects.toThrow();
    await expect(
      makeTokenVerifier(secrets, { ...settings, issuer: 'https://evil' }, clock).verify(token),
    ).rejects.toThrow();
  });

  it('rejects alg none', async () => {
    const token = new UnsecuredJWT({ tid: 'ten_1', role: 'owner' })
      .setSubject('usr_1')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setExpirationTime('5m')
      .encode();
    await expect(makeTokenVerifier(secrets, settings, clock).verify(token)).rejects.toThrow();
  });

  it('rejects an HS256 token keyed with the public key', async () => {
    const publicJwk = secrets.signingKeys[0]?.publicJwk ?? {};
    const token = await new SignJWT({ tid: 'ten_1', role: 'owner' })
      .setProtectedHeader({ alg: 'HS256', kid: secrets.signingKeys[0]?.kid ?? '', typ: 'at+jwt' })
      .setSubject('usr_1')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt(Math.floor(clock.now().getTime() / 1000))
      .setExpirationTime(Math.floor(clock.now().getTime() / 1000) + 60)
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await expect(makeTokenVerifier(secrets, settings, clock).verify(token)).rejects.toThrow();
  });

  it('rejects a token signed by a key with an unknown kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ tid: 'ten_1', role: 'owner' })
      .setProtectedHeader({ alg: 'ES256', kid: 'unknown', typ: 'at+jwt' })
      .setSubject('usr_1')
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setExpirationTime(Math.floor(clock.now().getTime() / 1000) + 60)
      .sign(privateKey);
    await expect(makeTokenVerifier(secrets, settings, clock).verify(token)).rejects.toThrow();
  });

  it('keeps verifying tokens of an older key after a new key is added first', async () => {
    const { token } = await (await makeTokenSigner(secrets, settings, clock)).sign(principal);
    const next = await generateSecrets(clock.now());
    const rotated = { ...secrets, signingKeys: [...next.signingKeys, ...secrets.signingKeys] };
    await expect(makeTokenVerifier(rotated, settings, clock).verify(token)).resolves.toEqual({
      ...principal,
      issuedAt,
    });
    const fresh = await (await makeTokenSigner(rotated, settings, clock)).sign(principal);
    const [header] = fresh.token.split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString()).kid).toBe(next.signingKeys[0]?.kid);
    expect(await exportJWK((await generateKeyPair('ES256')).publicKey)).toHaveProperty('kty', 'EC');
  });
});

describe('Module: passwords', () => {
  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    await expect(verifyPassword('correct horse battery staple', hash)).resolves.toBe(true);
    await expect(verifyPassword('wrong horse battery staple', hash)).resolves.toBe(false);
  });

  it('hashes new passwords at the cost set, and verifies a hash made at another', async () => {
    const strong = await hashPassword('a password kept from before');
    setPasswordCost(12);
    try {
      const light = await hashPassword('a password set in a test');
      expect(light).toMatch(/^scrypt\$4096\$8\$1\$/);
      await expect(verifyPassword('a password set in a test', light)).resolves.toBe(true);
      await expect(verifyPassword('a password kept from before', strong)).resolves.toBe(true);
    } finally {
      setPasswordCost(15);
    }
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password here')).not.toBe(await hashPassword('same password here'));
  });

  it('has a decoy hash no password matches', async () => {
    await expect(verifyPassword('', await decoyHash())).resolves.toBe(false);
  });
});
