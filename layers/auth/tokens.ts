import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, importJWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import * as z from 'zod';
import type { Clock } from '../ids/ids';
import { type Permission, type Role, roles } from './permissions';
import { JWT_ALG, type PlatformSecrets } from './secrets';

export { type Role, roles };

/** Who is calling, as established by the authorizer from a verified token. */
export interface Principal {
  tenantId: string;
  userId: string;
  role: Role;
  /** set when the caller uses an API token: it may do only these, within its creator's role */
  scopes?: Permission[];
  tokenId?: string;
  /** whether the session was started with a second factor (the `amr` claim holds `otp`) */
  twoFactor?: boolean;
  /**
   * set while someone of a tenant above acts as this tenant (login-as): who really acts, and
   * the API token they acted through, if they did
   */
  actor?: { userId: string; tenantId: string; tokenId?: string };
  /** the sign-in session (refresh-token family) a user's access token belongs to */
  sessionId?: string;
  /** when a user's access token was issued (seconds since the epoch) */
  issuedAt?: number;
  /** the only addresses the session may be used from (a login-as session minted by a limited token) */
  allowedCidrs?: string[];
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  tid: z.string().min(1),
  role: z.enum(roles),
  /** RFC 8693 actor claim: the reseller's user acting as this tenant, and the API token it used */
  act: z
    .object({ sub: z.string().min(1), tid: z.string().min(1), tok: z.string().min(1).optional() })
    .optional(),
  /** RFC 8176 authentication methods: `pwd`, and `otp` when a second factor was given */
  amr: z.array(z.string()).optional(),
  /** the sign-in session (refresh-token family) */
  sid: z.string().min(1).optional(),
  iat: z.number().int(),
  /** RFC 8693 scope: what a session minted by an API token may do, space-separated */
  scope: z.string().optional(),
  /** the addresses a session minted by an address-limited API token may be used from */
  cidr: z.array(z.string()).optional(),
});

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
}

/** Signs access tokens with the newest key, naming it in the `kid` header. */
export async function makeTokenSigner(secrets: PlatformSecrets, settings: TokenSettings, clock: Clock) {
  const current = secrets.signingKeys[0];
  if (!current) throw new Error('No signing key');
  const key = await importJWK(current.privateJwk, JWT_ALG);
  return {
    async sign(principal: Principal, ttlSeconds = settings.accessTokenTtlSeconds) {
      const issuedAt = Math.floor(clock.now().getTime() / 1000);
      const claims = {
        tid: principal.tenantId,
        role: principal.role,
        amr: principal.twoFactor ? ['pwd', 'otp'] : ['pwd'],
        ...(principal.actor
          ? {
              act: {
                sub: principal.actor.userId,
                tid: principal.actor.tenantId,
                ...(principal.actor.tokenId ? { tok: principal.actor.tokenId } : {}),
              },
            }
          : {}),
        ...(principal.sessionId ? { sid: principal.sessionId } : {}),
        ...(principal.scopes ? { scope: principal.scopes.join(' ') } : {}),
        ...(principal.allowedCidrs?.length ? { cidr: principal.allowedCidrs } : {}),
      };
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: JWT_ALG, kid: current.kid, typ: 'at+jwt' })
        .setSubject(principal.userId)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .setJti(randomBytes(12).toString('base64url'))
        .sign(key);
      return { token, expiresIn: ttlSeconds };
    },
  };
}

/**
 * Verifies access tokens against every published public key (so keys can rotate), with the
 * algorithm pinned: `alg: none` and HMAC tokens are rejected whatever they claim.
 */
export function makeTokenVerifier(
  secrets: PlatformSecrets,
  settings: Omit<TokenSettings, 'accessTokenTtlSeconds'>,
  clock: Clock,
) {
  const jwks = createLocalJWKSet({ keys: secrets.signingKeys.map((k) => k.publicJwk) });
  return {
    async verify(token: string): Promise<Principal> {
      const { payload } = await jwtVerify<JWTPayload>(token, jwks, {
        algorithms: [JWT_ALG],
        issuer: settings.issuer,
        audience: settings.audience,
        currentDate: clock.now(),
        typ: 'at+jwt',
      });
      const claims = claimsSchema.parse(payload);
      return {
        tenantId: claims.tid,
        userId: claims.sub,
        role: claims.role,
        twoFactor: claims.amr?.includes('otp') ?? false,
        issuedAt: claims.iat,
        ...(claims.sid ? { sessionId: claims.sid } : {}),
        ...(claims.scope !== undefined
          ? { scopes: claims.scope.split(' ').filter(Boolean) as Permission[] }
          : {}),
        ...(claims.cidr ? { allowedCidrs: claims.cidr } : {}),
        ...(claims.act
          ? {
              actor: {
                userId: claims.act.sub,
                tenantId: claims.act.tid,
                ...(claims.act.tok ? { tokenId: claims.act.tok } : {}),
              },
            }
          : {}),
      };
    },
  };
}

/** Opaque refresh tokens: random, handed out once, stored only as a SHA-256 hash. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = `vrt_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('base64url');

/**
 * The principal as the authorizer hands it to API Gateway (a flat map of strings, its
 * `context`) and as handlers read it back from the request: one codec for both sides.
 */
export const principalCodec = {
  encode(principal: Principal): Record<string, string> {
    return {
      tenantId: principal.tenantId,
      userId: principal.userId,
      role: principal.role,
      twoFactor: principal.twoFactor ? 'true' : 'false',
      ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
      ...(principal.scopes ? { scopes: principal.scopes.join(',') } : {}),
      ...(principal.sessionId ? { sessionId: principal.sessionId } : {}),
      ...(principal.issuedAt !== undefined ? { issuedAt: String(principal.issuedAt) } : {}),
      ...(principal.actor
        ? {
            actorUserId: principal.actor.userId,
            actorTenantId: principal.actor.tenantId,
            ...(principal.actor.tokenId ? { actorTokenId: principal.actor.tokenId } : {}),
          }
        : {}),
    };
  },
  /** undefined when the context does not hold a well-formed principal */
  decode(context: Record<string, unknown> | null | undefined): Principal | undefined {
    const { tenantId, userId, role, scopes, tokenId, twoFactor, sessionId, issuedAt } = context ?? {};
    const { actorUserId, actorTenantId, actorTokenId } = context ?? {};
    if (typeof tenantId !== 'string' || typeof userId !== 'string' || !roles.includes(role as Role)) {
      return undefined;
    }
    const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
    const token = text(tokenId);
    const session = text(sessionId);
    const actorToken = text(actorTokenId);
    const issued = Number(issuedAt);
    return {
      tenantId,
      userId,
      role: role as Role,
      twoFactor: twoFactor === 'true' || twoFactor === true,
      ...(token ? { tokenId: token } : {}),
      // an API token always carries its scopes (none at all is none)
      ...(typeof scopes === 'string' || token
        ? {
            scopes: String(scopes ?? '')
              .split(',')
              .filter(Boolean) as Permission[],
          }
        : {}),
      ...(session ? { sessionId: session } : {}),
      ...(issuedAt !== undefined && Number.isInteger(issued) ? { issuedAt: issued } : {}),
      ...(text(actorUserId) && text(actorTenantId)
        ? {
            actor: {
              userId: actorUserId as string,
              tenantId: actorTenantId as string,
              ...(actorToken ? { tokenId: actorToken } : {}),
            },
          }
        : {}),
    };
  },
};
