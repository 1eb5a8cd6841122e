import { errors } from '../../../layers/errors/app-error';
import type { Implementations } from '../../../layers/http/context-handler';
import { arrayPage, listPage } from '../../../layers/http/list';
import { ok } from '../../../layers/http/route';
import { type CredentialsItem, credentialsKeys } from '../../../layers/model/provider-credentials';
import {
  awsTrustPolicy,
  credentialsSecret,
  deleteCredentials,
  saveCredentials,
  toCredentials,
} from './credentials';
import { providerChoices } from './placement';
import type { providersRoutes } from './routes';

/** The providers routes of the servers context. */
export const providersImplementations: Implementations<typeof providersRoutes> = {
  putProviderCredentials: async ({ params, body, platform }) =>
    ok(
      toCredentials(
        await saveCredentials(
          platform,
          params.tenantId,
          params.provider,
          credentialsSecret(params.provider, body, params.tenantId),
        ),
      ),
    ),
  listProviderRegions: async ({ params, query, platform }) => {
    const { regions } = await providerChoices(
      platform.store,
      params.tenantId,
      params.provider,
      undefined,
      'path.provider',
    );
    return arrayPage(
      platform.cursors,
      { tenantId: params.tenantId, scope: `regions:${params.provider}`, query },
      regions,
    );
  },
  listProviderSizes: async ({ params, query, platform }) => {
    if (params.provider === 'aws' && query.region === undefined) {
      throw errors.validation([
        { path: 'query.region', message: 'Required for aws: its sizes are per region' },
      ]);
    }
    const { regions, sizes } = await providerChoices(
      platform.store,
      params.tenantId,
      params.provider,
      query.region,
      'path.provider',
    );
    if (params.provider === 'aws' && !regions.some((r) => r.id === query.region)) {
      throw errors.validation([{ path: 'query.region', message: 'Not an aws region' }]);
    }
    const scope = `sizes:${params.provider}:${query.region ?? ''}`;
    return arrayPage(platform.cursors, { tenantId: params.tenantId, scope, query }, sizes);
  },
  getAwsTrustPolicy: async ({ params, platform }) =>
    ok(awsTrustPolicy(platform.config.PLATFORM_ACCOUNT_ID, params.tenantId)),
  listProviderCredentials: async ({ params, query, platform }) =>
    listPage<CredentialsItem, ReturnType<typeof toCredentials>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: credentialsKeys.prefix,
        scope: 'provider-credentials',
        query,
      },
      toCredentials,
    ),
  deleteProviderCredentials: async ({ params, platform }) => {
    await deleteCredentials(platform, params.tenantId, params.provider);
    return { status: 204 };
  },
};
