import { errors } from '../../../layers/errors/app-error';
import type { Implementations } from '../../../layers/http/context-handler';
import { listPage } from '../../../layers/http/list';
import { accepted } from '../../../layers/http/route';
import { toOperation } from '../../../layers/model/operations';
import { type SshKeyItem, sshKeyKeys, sshKeysOf, toSshKey } from '../../../layers/model/ssh-keys';
import { putNew, updateItem } from '../../../layers/store/writes';
import { serverOperationKinds } from '../operation-kinds';
import { runCommand } from '../runs';
import type { sshKeysRoutes } from './routes';
import { parsePublicKey } from './service';

/** The ssh-keys routes of the servers context. */
export const sshKeysImplementations: Implementations<typeof sshKeysRoutes> = {
  authorizeSshKey: async ({ params, body, requestId, platform }) => {
    const parsed = parsePublicKey(body.publicKey);
    if (!parsed) throw errors.validation([{ path: 'body.publicKey', message: 'Not an OpenSSH public key' }]);
    for await (const existing of sshKeysOf(platform.store, params.tenantId, params.serverId)) {
      if (existing.fingerprint === parsed.fingerprint) {
        throw errors.conflict('This key is already on the server.', 'body.publicKey');
      }
    }
    const keyId = platform.ids.next('key');
    let key: SshKeyItem | undefined;
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: serverOperationKinds['authorize-ssh-key'],
      publicKey: parsed.publicKey,
      subject: { keyId },
      alongside: (operationId) => {
        key = {
          ...sshKeyKeys.item(params.tenantId, params.serverId, keyId),
          entity: 'ssh-key',
          id: keyId,
          serverId: params.serverId,
          name: body.name,
          ...parsed,
          status: 'authorizing',
          lastOperationId: operationId,
          createdAt: platform.clock.now().toISOString(),
        };
        return [putNew(key)];
      },
    });
    return accepted(
      { ...toSshKey(key as SshKeyItem), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  listSshKeys: async ({ params, query, platform }) =>
    listPage<SshKeyItem, ReturnType<typeof toSshKey>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: sshKeyKeys.prefix(params.serverId),
        scope: `ssh-keys:${params.serverId}`,
        query,
      },
      toSshKey,
    ),
  revokeSshKey: async ({ params, requestId, platform }) => {
    const keyRef = sshKeyKeys.item(params.tenantId, params.serverId, params.keyId);
    const key = await platform.store.get<SshKeyItem>(keyRef, true);
    if (!key) throw errors.notFound('SSH key');
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: serverOperationKinds['revoke-ssh-key'],
      publicKey: key.publicKey,
      subject: { keyId: key.id },
      alongside: (operationId) => [
        updateItem(keyRef, { set: { status: 'revoking', lastOperationId: operationId }, bumpVersion: false }),
      ],
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
};
