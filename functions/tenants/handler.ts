import { recordAudit } from '../../layers/audit/audit';
import type { Principal } from '../../layers/auth/tokens';
import { AppError, errors } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { updateIfMatch } from '../../layers/http/conditional';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created, etag, ok, versionFromIfMatch } from '../../layers/http/route';
import { type ApiTokenItem, apiTokenKeys } from '../../layers/model/api-tokens';
import { type ChildLinkItem, type TenantItem, tenantKeys, toTenant } from '../../layers/model/tenants';
import type { Platform } from '../../layers/runtime/platform';
import { reapplySite } from '../sites/service';
import { tenantsContext } from './context';
import { makeCreateTenant, makeDeleteCustomer } from './service';
import { markSubtreeSuspended } from './suspension';

/** Loads a direct customer of the reseller; anything else answers 404. */
async function customerOf(
  store: Parameters<typeof makeCreateTenant>[0]['store'],
  parentId: string,
  customerId: string,
) {
  const customer = await store.get<TenantItem>(tenantKeys.item(customerId));
  if (!customer || customer.parentId !== parentId) throw errors.notFound('customer');
  return customer;
}

/**
 * Sets a customer's status on its record and on the reseller's link to it, then marks its
 * resources and those of every tenant below it.
 */
async function setStatus(
  platform: Platform,
  parentId: string,
  customer: TenantItem,
  status: TenantItem['status'],
  suspension: TenantItem['suspension'],
  requestId: string,
) {
  if (customer.status === 'deleting') throw errors.conflict('The customer is being deleted.');
  const updated = await platform.store.update<TenantItem>(tenantKeys.item(customer.id), {
    status,
    suspension,
    updatedAt: platform.clock.now().toISOString(),
  });
  await platform.store.update(tenantKeys.child(parentId, customer.id), { status });
  await markSubtreeSuspended(
    platform.store,
    customer.id,
    status === 'suspended',
    platform.clock.now().toISOString(),
    async (site) => {
      // a site in the middle of a change, or on a server that is not active, keeps its mark and
      // takes it with its next change
      await ignoring(AppError, () => reapplySite(platform, site, requestId));
    },
  );
  return updated;
}

/**
 * The session a login-as mints: an admin of the customer's tenant that names who really acts.
 * Minted through an API token (or by a session that was), it keeps the token's limits: its
 * scopes, its allowed addresses and at most its remaining lifetime, and it ends with the token.
 */
async function loginAsSession(platform: Platform, principal: Principal, customerId: string) {
  // a nested login-as keeps naming the user who really acts, and the token they acted through
  const tokenId = principal.tokenId ?? principal.actor?.tokenId;
  const actor = {
    ...(principal.actor ?? { userId: principal.userId, tenantId: principal.tenantId }),
    ...(tokenId ? { tokenId } : {}),
  };
  let expiresIn = platform.config.IMPERSONATION_TTL_SECONDS;
  let allowedCidrs: string[] = [];
  if (tokenId) {
    const token = await platform.store.get<ApiTokenItem>(apiTokenKeys.item(tokenId), true);
    if (!token) throw errors.unauthorized();
    allowedCidrs = token.allowedCidrs;
    if (token.tokenExpiresAt) {
      const left = Math.floor((Date.parse(token.tokenExpiresAt) - platform.clock.now().getTime()) / 1000);
      expiresIn = Math.min(expiresIn, left);
      if (expiresIn <= 0) throw errors.unauthorized('This API token has expired.');
    }
  }
  const session: Principal & { actor: typeof actor } = {
    tenantId: customerId,
    userId: actor.userId,
    role: 'admin',
    actor,
    ...(principal.scopes ? { scopes: principal.scopes } : {}),
    ...(allowedCidrs.length > 0 ? { allowedCidrs } : {}),
  };
  return { session, expiresIn };
}

export const handler = makeContextHandler(tenantsContext, {
  createCustomer: async ({ params, body, platform }) => {
    const parent = await platform.store.get<TenantItem>(tenantKeys.item(params.tenantId));
    if (!parent) throw errors.notFound('tenant');
    const { tenant } = await makeCreateTenant(platform)(body, parent);
    return created(toTenant(tenant), `/v1/tenants/${params.tenantId}/customers/${tenant.id}`, {
      ETag: etag(tenant.version),
    });
  },
  listCustomers: async ({ params, query, platform }) =>
    listPage<ChildLinkItem, object>(
      platform.store,
      {
        tenantId: params.tenantId,
        pk: tenantKeys.item(params.tenantId).pk,
        skPrefix: tenantKeys.childPrefix,
        scope: 'customers',
        query,
      },
      (c) => ({ id: c.id, name: c.name, kind: c.kind, status: c.status, createdAt: c.createdAt }),
    ),
  getCustomer: async ({ params, platform }) => {
    const customer = await customerOf(platform.store, params.tenantId, params.customerId);
    return ok(toTenant(customer), { ETag: etag(customer.version) });
  },
  suspendCustomer: async ({ params, body, principal, platform, requestId }) => {
    const customer = await customerOf(platform.store, params.tenantId, params.customerId);
    const suspension = { reason: body.reason, at: platform.clock.now().toISOString(), by: principal.userId };
    return ok(
      toTenant(await setStatus(platform, params.tenantId, customer, 'suspended', suspension, requestId)),
    );
  },
  impersonateCustomer: async ({ params, body, principal, platform, sourceIp, requestId, headers }) => {
    const customer = await customerOf(platform.store, params.tenantId, params.customerId);
    if (customer.status !== 'active') throw errors.conflict('The customer is suspended.');
    const { session, expiresIn } = await loginAsSession(platform, principal, customer.id);
    const { token } = await platform.signer.sign(session, expiresIn);
    const { actor, role } = session;
    await recordAudit(
      { store: platform.store, clock: platform.clock, retentionDays: platform.config.AUDIT_RETENTION_DAYS },
      {
        tenantId: customer.id,
        actor: { userId: actor.userId, tenantId: actor.tenantId, role, impersonatedBy: actor },
        action: 'auth.impersonation.started',
        target: `tenant:${customer.id}`,
        result: 'succeeded',
        status: 200,
        ip: sourceIp,
        userAgent: headers('user-agent') ?? '',
        requestId,
        detail: {
          reason: body.reason,
          expiresIn,
          ...(actor.tokenId ? { tokenId: actor.tokenId, scopes: session.scopes ?? [] } : {}),
        },
      },
    );
    return ok({ tokenType: 'Bearer', accessToken: token, expiresIn, tenantId: customer.id, role, actor });
  },
  unsuspendCustomer: async ({ params, platform, requestId }) => {
    const customer = await customerOf(platform.store, params.tenantId, params.customerId);
    return ok(toTenant(await setStatus(platform, params.tenantId, customer, 'active', undefined, requestId)));
  },
  deleteCustomer: async ({ params, headers, platform }) => {
    const customer = await customerOf(platform.store, params.tenantId, params.customerId);
    await makeDeleteCustomer(platform)(customer, versionFromIfMatch(headers('if-match')));
    return { status: 204 };
  },
  updateCustomer: async ({ params, body, headers, platform }) => {
    const customer = await customerOf(platform.store, params.tenantId, params.customerId);
    const updated = await updateIfMatch<TenantItem>(
      platform.store,
      tenantKeys.item(customer.id),
      { name: body.name, updatedAt: platform.clock.now().toISOString() },
      headers('if-match'),
      customer.version,
    );
    await platform.store.update(tenantKeys.child(params.tenantId, customer.id), { name: body.name });
    return ok(toTenant(updated), { ETag: etag(updated.version) });
  },
});
