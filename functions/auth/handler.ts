import { recordAudit } from '../../layers/audit/audit';
import { errors } from '../../layers/errors/app-error';
import { updateIfMatch } from '../../layers/http/conditional';
import type { ApiRequest } from '../../layers/http/context-handler';
import { makeContextHandler } from '../../layers/http/context-handler';
import type { RouteSpec } from '../../layers/http/route';
import { created, etag, ok } from '../../layers/http/route';
import { publicUrls, sendMail } from '../../layers/mail/mailer';
import { type TenantItem, tenantKeys, toTenant } from '../../layers/model/tenants';
import { toUser } from '../../layers/model/users';
import { authContext } from './context';
import {
  type AuthDeps,
  makeChangePassword,
  makeConfirmPasswordReset,
  makeLogin,
  makeLogout,
  makeRefresh,
  makeRequestPasswordReset,
  makeSignup,
} from './service';
import { makeConfirmTotpEnrollment, makeDisableTotp, makeStartTotpEnrollment } from './two-factor';

/** The auth services' dependencies, with auth events going to the user's tenant audit log. */
function authDeps(
  request: Pick<ApiRequest<RouteSpec>, 'platform' | 'sourceIp' | 'headers' | 'requestId'>,
): AuthDeps {
  const { platform } = request;
  return {
    ...platform,
    refreshTokenTtlSeconds: platform.config.REFRESH_TOKEN_TTL_SECONDS,
    lockout: { address: platform.config.LOGIN_FAILURES_PER_ADDRESS },
    audit: async (event) => {
      await recordAudit(
        { store: platform.store, clock: platform.clock, retentionDays: platform.config.AUDIT_RETENTION_DAYS },
        {
          tenantId: event.tenantId,
          actor: { userId: event.userId, tenantId: event.tenantId },
          action: event.action,
          target: `user:${event.userId}`,
          result: event.result,
          status: event.status,
          ip: request.sourceIp,
          userAgent: request.headers('user-agent') ?? '',
          requestId: request.requestId,
        },
      );
    },
  };
}

export const handler = makeContextHandler(authContext, {
  signup: async ({ body, platform }) => {
    const { tenant, user } = await makeSignup(platform)(body);
    return created({ tenant: toTenant(tenant), user: toUser(user) }, `/v1/tenants/${tenant.id}`);
  },
  login: async (request) =>
    ok(await makeLogin(authDeps(request))({ ...request.body, sourceIp: request.sourceIp })),
  refresh: async (request) => ok(await makeRefresh(authDeps(request))(request.body)),
  logout: async (request) => {
    await makeLogout(authDeps(request))(request.body);
    return { status: 204 };
  },
  startTotpEnrollment: async ({ principal, platform }) =>
    ok(await makeStartTotpEnrollment(platform)(principal)),
  confirmTotpEnrollment: async ({ principal, body, platform }) =>
    ok(await makeConfirmTotpEnrollment(platform)(principal, body.code)),
  disableTotp: async ({ principal, body, platform }) => {
    await makeDisableTotp(platform)(principal, body.code);
    return { status: 204 };
  },
  requestPasswordReset: async (request) => {
    await makeRequestPasswordReset({
      ...authDeps(request),
      sendMail,
      urls: publicUrls(request.platform.config),
    })(request.body);
    return { status: 202 };
  },
  confirmPasswordReset: async (request) => {
    await makeConfirmPasswordReset(authDeps(request))(request.body);
    return { status: 204 };
  },
  changePassword: async (request) =>
    ok(await makeChangePassword(authDeps(request))(request.principal, request.body)),
  updateTenant: async ({ params, body, headers, platform, principal }) => {
    const tenant = await platform.store.get<TenantItem>(tenantKeys.item(params.tenantId), true);
    if (!tenant) throw errors.notFound('tenant');
    // lifting a two-factor requirement takes a user who signed in with a second factor: not a
    // password-only session (a reseller's staff on its customer, say), an API token or a login-as
    const lifting = tenant.requireTwoFactor === true && body.requireTwoFactor === false;
    if (lifting && (!principal.twoFactor || principal.tokenId || principal.actor)) {
      throw errors.forbidden(
        'Lifting a two-factor requirement takes a session signed in with a second factor.',
      );
    }
    const updated = await updateIfMatch<TenantItem>(
      platform.store,
      tenantKeys.item(tenant.id),
      {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.requireTwoFactor !== undefined ? { requireTwoFactor: body.requireTwoFactor } : {}),
        updatedAt: platform.clock.now().toISOString(),
      },
      headers('if-match'),
      tenant.version,
    );
    if (body.name !== undefined && tenant.parentId) {
      await platform.store.update(tenantKeys.child(tenant.parentId, tenant.id), { name: body.name });
    }
    return ok(toTenant(updated), { ETag: etag(updated.version) });
  },
  getTenant: async ({ params, platform }) => {
    const tenant = await platform.store.get<TenantItem>(tenantKeys.item(params.tenantId));
    if (!tenant) throw errors.notFound('tenant');
    return ok(toTenant(tenant));
  },
});
