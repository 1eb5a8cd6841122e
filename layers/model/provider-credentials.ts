import type { StoredItem } from '../store/store';
import { tenantPartition } from './keys';
import type { CloudProviderName } from './servers';

/** What the API shows of saved credentials: never the token, only its last four characters. */
export interface CredentialsItem extends StoredItem {
  entity: 'provider-credentials';
  provider: CloudProviderName;
  tokenHint: string;
  parameterName: string;
  validatedAt: string;
  createdAt: string;
}

export const credentialsKeys = {
  item: (tenantId: string, provider: string) => ({
    pk: tenantPartition(tenantId),
    sk: `PROVIDER#${provider}`,
  }),
  prefix: 'PROVIDER#',
};
