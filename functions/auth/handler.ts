import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { created, ok } from '../../layers/http/route';
import { authKeys, type TenantItem, toTenant, toUser } from './entity';
import { makeLogin, makeLogout, makeRefresh, makeSignup } from './service';
import { authRoutes } from './spec';
import { makeConfirmTotpEnrollment, makeDisableTotp, makeStartTotpEnrollment } from './two-factor';

export const handler = makeContextHandler(authRoutes, {
  signup: async ({ body, platform }) => {
    const { tenant, user } = await makeSignup(platform)(body);
    return created({ tenant: toTenant(tenant), user: toUser(user) }, `/v1/tenants/${tenant.id}`);
  },
  login: async ({ body, platform }) =>
    ok(
      await makeLogin({ ...platform, refreshTokenTtlSeconds: platform.config.REFRESH_TOKEN_TTL_SECONDS })(
        body,
      ),
    ),
  refresh: async ({ body, platform }) =>
    ok(
      await makeRefresh({ ...platform, refreshTokenTtlSeconds: platform.config.REFRESH_TOKEN_TTL_SECONDS })(
        body,
      ),
    ),
  logout: async ({ body, platform }) => {
    await makeLogout({ ...platform, refreshTokenTtlSeconds: platform.config.REFRESH_TOKEN_TTL_SECONDS })(
      body,
    );
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
  getTenant: async ({ params, platform }) => {
    const tenant = await platform.store.get<TenantItem>(authKeys.tenant(params.tenantId));
    if (!tenant) throw errors.notFound('tenant');
    return ok(toTenant(tenant));
  },
});
