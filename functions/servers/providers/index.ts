import { getConfig } from '../../../layers/config/config';
import type { ServerItem } from '../entity';
import { localProvider } from './local';
import type { HostProvider } from './provider';

/** The client for a server's provider. */
export function providerFor(server: Pick<ServerItem, 'provider'>): HostProvider {
  switch (server.provider) {
    case 'local': {
      const endpoint = getConfig().LOCAL_PROVIDER_ENDPOINT;
      if (!endpoint)
        throw new Error('LOCAL_PROVIDER_ENDPOINT is not set: the local provider runs only with npm start');
      return localProvider(endpoint);
    }
  }
}
