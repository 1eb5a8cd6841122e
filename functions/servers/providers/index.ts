import { getConfig } from '../../../layers/config/config';
import type { CloudProviderName, ProviderName } from '../../../layers/model/servers';
import { type AwsAccessKey, type AwsRole, awsProvider } from './aws';
import { customProvider } from './custom';
import { digitalOceanProvider } from './digitalocean';
import { hetznerProvider } from './hetzner';
import { localProvider } from './local';
import type { CloudProvider, HostProvider } from './provider';
import { vultrProvider } from './vultr';

/**
 * A cloud provider's client with a tenant's saved secret: an API token, or for AWS an access
 * key or a role to assume (JSON). `region` is where a server lives, for a provider whose API is regional (EC2).
 */
export function cloudProviderClient(
  provider: CloudProviderName,
  token: string,
  region?: string,
): CloudProvider {
  const config = getConfig();
  switch (provider) {
    case 'aws':
      return awsProvider({
        key: JSON.parse(token) as AwsAccessKey | AwsRole,
        region,
        endpoint: config.EC2_ENDPOINT,
        stsEndpoint: config.STS_ENDPOINT,
      });
    case 'hetzner':
      return hetznerProvider({ baseUrl: config.HETZNER_API_URL, token });
    case 'digitalocean':
      return digitalOceanProvider({ baseUrl: config.DIGITALOCEAN_API_URL, token });
    case 'vultr':
      return vultrProvider({ baseUrl: config.VULTR_API_URL, token });
  }
}

/** The client for a server's provider; a cloud provider needs the tenant's token. */
export function providerFor(
  server: { id: string; provider: ProviderName; region?: string },
  token?: string,
): HostProvider {
  if (server.provider === 'custom') return customProvider(server.id);
  if (server.provider === 'local') {
    const endpoint = getConfig().LOCAL_PROVIDER_ENDPOINT;
    if (!endpoint)
      throw new Error('LOCAL_PROVIDER_ENDPOINT is not set: the local provider runs only with npm start');
    return localProvider(endpoint);
  }
  if (!token) throw new Error(`No credentials for ${server.provider}`);
  return cloudProviderClient(server.provider, token, server.region);
}
