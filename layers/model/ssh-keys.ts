import type { Store, StoredItem } from '../store/store';
import { tenantPartition } from './keys';

/** A public key authorised on a server, as the API shows it: never more than the key itself. */
export interface SshKeyItem extends StoredItem {
  entity: 'ssh-key';
  id: string;
  serverId: string;
  name: string;
  publicKey: string;
  fingerprint: string;
  status: 'authorizing' | 'authorized' | 'revoking' | 'failed';
  lastOperationId: string;
  createdAt: string;
}

export const sshKeyKeys = {
  item: (tenantId: string, serverId: string, keyId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `SSHKEY#${serverId}#${keyId}`,
  }),
  prefix: (serverId: string) => `SSHKEY#${serverId}#`,
};

export const toSshKey = (item: SshKeyItem) => ({
  id: item.id,
  name: item.name,
  publicKey: item.publicKey,
  fingerprint: item.fingerprint,
  status: item.status,
  lastOperationId: item.lastOperationId,
  createdAt: item.createdAt,
});

/** Every SSH key of a server, page after page. */
export async function* sshKeysOf(
  store: Store,
  tenantId: string,
  serverId: string,
): AsyncGenerator<SshKeyItem> {
  for await (const page of store.pages<SshKeyItem>({
    pk: tenantPartition(tenantId),
    skPrefix: sshKeyKeys.prefix(serverId),
  })) {
    yield* page;
  }
}
