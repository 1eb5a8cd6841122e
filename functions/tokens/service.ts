import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { recordAudit } from '../../layers/audit/audit';
import { allows, type Permission } from '../../layers/auth/permissions';
import type { Principal } from '../../layers/auth/tokens';
import { errors } from '../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { type ApiTokenItem, apiTokenKeys, apiTokenStatus, TOKEN_PREFIX } from '../../layers/model/api-tokens';
import { type UserItem, userKeys } from '../../layers/model/users';
import type { Store } from '../../layers/store/store';
import { putItem, putNew } from '../../layers/store/writes';

/** How many source addresses a token remembers; a use from any other is audited. */
const KNOWN_IPS_KEPT = 50;

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest();

/** Whether an address falls in one of the CIDR blocks (IPv4 or IPv6). */
export function ipAllowed(ip: string, cidrs: string[]): boolean {
  if (cidrs.length === 0) return true;
  const family = isIP(ip);
  if (family === 0) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', prefix = ''] = cidr.split('/');
    const type = isIP(network) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(network, Number(prefix), type);
  }
  return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

export interface TokenDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
}

/**
 * Creates an API token for a tenant. The token is `vhp_<id>_<secret>`: handed out once,
 * stored as a hash. Its scopes must be ones the creator's role allows.
 */
export function makeCreateApiToken({ store, clock, ids }: TokenDeps) {
  return async (
    tenantId: string,
    creator: Principal,
    input: { name: string; scopes: Permission[]; expiresAt?: string | undefined; allowedCidrs: string[] },
    usageKey?: string,
  ) => {
    const denied = input.scopes.filter((scope) => !allows(creator, scope));
    if (denied.length > 0) {
      throw errors.validation(
        denied.map((scope) => ({ path: 'body.scopes', message: `Your role cannot grant ${scope}` })),
      );
    }
    const now = clock.now().toISOString();
    const id = ids.next('tok');
    const secret = randomBytes(32).toString('base64url');
    const item: ApiTokenItem = {
      ...apiTokenKeys.item(id),
      entity: 'api-token',
      id,
      tenantId,
      name: input.name,
      secretHash: hashSecret(secret).toString('base64url'),
      scopes: [...new Set(input.scopes)],
      createdBy: { userId: creator.userId, role: creator.role },
      ...(usageKey ? { usageKey } : {}),
      allowedCidrs: input.allowedCidrs,
      tokenExpiresAt: input.expiresAt ?? null,
      lastUsedAt: null,
      lastUsedIp: null,
      revokedAt: null,
      createdAt: now,
      version: 1,
    };
    const { secretHash: _hash, pk: _pk, sk: _sk, usageKey: _usageKey, ...summary } = item;
    await store.transact([
      putNew(item),
      putItem({ ...apiTokenKeys.link(tenantId, id), ...summary, entity: 'api-token-link' }),
    ]);
    return { item, token: `${TOKEN_PREFIX}${id.slice(4)}_${secret}` };
  };
}

/** Revokes a token of the tenant; the authorizer's cache lets it work at most that long after. */
export function makeRevokeApiToken({ store, clock }: TokenDeps) {
  return async (tenantId: string, tokenId: string) => {
    const item = await store.get<ApiTokenItem>(apiTokenKeys.item(tokenId), true);
    if (!item || item.tenantId !== tenantId) throw errors.notFound('token');
    const at = clock.now().toISOString();
    await store.update(apiTokenKeys.item(tokenId), { revokedAt: item.revokedAt ?? at });
    await store.update(apiTokenKeys.link(tenantId, tokenId), { revokedAt: item.revokedAt ?? at });
  };
}

/**
 * Checks an API token as the authorizer sees it: its secret (constant time), revocation,
 * expiry and IP allow-list. Records when and from where it was last used.
 */
export async function verifyApiToken(
  deps: Pick<TokenDeps, 'store' | 'clock'> & { auditRetentionDays: number },
  token: string,
  request: { sourceIp: string; userAgent?: string; requestId?: string },
): Promise<(Principal & { usageKey?: string }) | undefined> {
  const checked = await checkApiToken(deps, token, request);
  return checked.ok ? checked.principal : undefined;
}

/**
 * Why an API token was refused. Only a caller who holds the token's secret learns more than
 * `invalid`: its revocation, expiry, allow-list or creator's departure speaks of its own token alone.
 */
export type ApiTokenRefusal = 'invalid' | 'revoked' | 'expired' | 'address-not-allowed' | 'creator-removed';

/**
 * `verifyApiToken`, telling why a token was refused. A token acts with its creator's role as it
 * is now, not as it was when the token was made (a demoted admin's token is demoted with them),
 * within its own scopes; it stops working once its creator leaves the tenant.
 */
export async function checkApiToken(
  deps: Pick<TokenDeps, 'store' | 'clock'> & { auditRetentionDays: number },
  token: string,
  { sourceIp, userAgent = '', requestId = '' }: { sourceIp: string; userAgent?: string; requestId?: string },
): Promise<
  { ok: true; principal: Principal & { usageKey?: string } } | { ok: false; reason: ApiTokenRefusal }
> {
  const refused = (reason: ApiTokenRefusal) => ({ ok: false, reason }) as const;
  const match = /^vhp_([0-9a-z]{26})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match?.[1] || !match[2]) return refused('invalid');
  const id = `tok_${match[1]}`;
  const item = await deps.store.get<ApiTokenItem>(apiTokenKeys.item(id));
  if (!item) return refused('invalid');
  const expected = Buffer.from(item.secretHash, 'base64url');
  const actual = hashSecret(match[2]);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return refused('invalid');
  const now = deps.clock.now();
  const state = apiTokenStatus(item, now, true);
  if (state !== 'active') return refused(state);
  if (!ipAllowed(sourceIp, item.allowedCidrs)) return refused('address-not-allowed');
  // read consistently: a member removed or demoted a moment ago is already so
  const creator = await deps.store.get<UserItem>(userKeys.item(item.tenantId, item.createdBy.userId), true);
  if (!creator) return refused('creator-removed');
  const knownIps = item.knownIps ?? [];
  const newIp = !knownIps.includes(sourceIp);
  await deps.store.update(apiTokenKeys.item(id), {
    lastUsedAt: now.toISOString(),
    lastUsedIp: sourceIp,
    ...(newIp ? { knownIps: [...knownIps, sourceIp].slice(-KNOWN_IPS_KEPT) } : {}),
  });
  if (newIp) {
    await recordAudit(
      { store: deps.store, clock: deps.clock, retentionDays: deps.auditRetentionDays },
      {
        tenantId: item.tenantId,
        actor: {
          userId: item.createdBy.userId,
          tenantId: item.tenantId,
          role: creator.role,
          tokenId: id,
        },
        action: 'auth.token.new-ip',
        target: `api-token:${id}`,
        result: 'succeeded',
        status: 200,
        ip: sourceIp,
        userAgent,
        requestId,
        detail: { firstUse: knownIps.length === 0 },
      },
    );
  }
  return {
    ok: true,
    principal: {
      tenantId: item.tenantId,
      userId: item.createdBy.userId,
      role: creator.role,
      scopes: item.scopes,
      tokenId: item.id,
      ...(item.usageKey ? { usageKey: item.usageKey } : {}),
    },
  };
}
