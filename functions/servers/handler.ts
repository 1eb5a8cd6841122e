import { sfnClient, ssmClient } from '../../layers/aws/clients';
import { stateMachineArn } from '../../layers/config/resources';
import { errors } from '../../layers/errors/app-error';
import { updateIfMatch } from '../../layers/http/conditional';
import { makeContextHandler } from '../../layers/http/context-handler';
import { arrayPage, listPage } from '../../layers/http/list';
import { accepted, etag, ok, versionFromIfMatch } from '../../layers/http/route';
import { tenantPartition } from '../../layers/model/keys';
import { toOperation } from '../../layers/model/operations';
import { type CredentialsItem, credentialsKeys } from '../../layers/model/provider-credentials';
import { type ServerItem, serverKeys, toServer } from '../../layers/model/servers';
import { type SshKeyItem, sshKeyKeys, toSshKey } from '../../layers/model/ssh-keys';
import type { Platform } from '../../layers/runtime/platform';
import { putNew, updateItem } from '../../layers/store/writes';
import type { WorkflowName } from '../../step-functions/workflows';
import { makeCancelOperation } from './cancel';
import { makeRunCommand } from './commands';
import { serversContext } from './context';
import { makeDeleteServer } from './decommission';
import {
  awsTrustPolicy,
  credentialsSecret,
  deleteCredentials,
  saveCredentials,
  toCredentials,
} from './providers/credentials';
import { providerChoices, resolvePlacement } from './providers/placement';
import { makeRebootServer } from './reboot';
import { makeCreateServer } from './service';
import { parsePublicKey } from './ssh-keys';
import { grownStack } from './stack';

/** The state machine of one of the workflows this context starts. */
const machineArn = (platform: Platform, workflow: WorkflowName) =>
  stateMachineArn(platform.config.STATE_MACHINE_ARN_PREFIX, workflow);

const runCommand = (platform: Platform) =>
  makeRunCommand({
    ...platform,
    sfn: sfnClient(),
    stateMachineArn: machineArn(platform, 'run-command'),
    documents: {
      runCommand: platform.config.RUN_COMMAND_DOCUMENT_NAME,
      bootstrap: platform.config.BOOTSTRAP_DOCUMENT_NAME,
    },
  });

export const handler = makeContextHandler(serversContext, {
  createServer: async ({ params, body, requestId, platform }) => {
    const createServer = makeCreateServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: machineArn(platform, 'provision-server'),
    });
    const placement = await resolvePlacement(platform.store, params.tenantId, body);
    const { server, operation } = await createServer(params.tenantId, { ...body, ...placement }, requestId);
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  deleteServer: async ({ params, requestId, headers, platform }) => {
    const deleteServer = makeDeleteServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: machineArn(platform, 'decommission-server'),
    });
    const { server, operation } = await deleteServer(
      params.tenantId,
      params.serverId,
      requestId,
      versionFromIfMatch(headers('if-match')),
    );
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  cancelOperation: async ({ params, principal, requestId, platform }) => {
    const cancel = makeCancelOperation({
      ...platform,
      sfn: sfnClient(),
      ssm: ssmClient(),
      stateMachineArn: machineArn(platform, 'decommission-server'),
      stateMachineArnPrefix: platform.config.STATE_MACHINE_ARN_PREFIX,
      runCommandDocument: platform.config.RUN_COMMAND_DOCUMENT_NAME,
    });
    const cancelled = await cancel(params.tenantId, params.operationId, principal, requestId);
    if (!cancelled.decommissioning) return ok(toOperation(cancelled.operation));
    const { server, operation } = cancelled;
    return accepted(
      { ...toServer(server), operation: toOperation(operation) },
      `/v1/tenants/${params.tenantId}/operations/${operation.id}`,
    );
  },
  authorizeSshKey: async ({ params, body, requestId, platform }) => {
    const parsed = parsePublicKey(body.publicKey);
    if (!parsed) throw errors.validation([{ path: 'body.publicKey', message: 'Not an OpenSSH public key' }]);
    const existing = await platform.store.query<SshKeyItem>({
      pk: tenantPartition(params.tenantId),
      skPrefix: sshKeyKeys.prefix(params.serverId),
      limit: 100,
      tenantId: params.tenantId,
      scope: 'ssh-keys',
    });
    if (existing.items.some((k) => k.fingerprint === parsed.fingerprint)) {
      throw errors.conflict('This key is already on the server.', 'body.publicKey');
    }
    const keyId = platform.ids.next('key');
    let key: SshKeyItem | undefined;
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: 'authorize-ssh-key',
      publicKey: parsed.publicKey,
      keyId,
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
        pk: tenantPartition(params.tenantId),
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
      kind: 'revoke-ssh-key',
      publicKey: key.publicKey,
      keyId: key.id,
      alongside: (operationId) => [
        updateItem(keyRef, { set: { status: 'revoking', lastOperationId: operationId }, bumpVersion: false }),
      ],
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
  restartService: async ({ params, requestId, platform }) => {
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: 'restart-service',
      service: params.service,
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
  changeStack: async ({ params, body, requestId, platform }) => {
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: 'change-stack',
      stack: (current) => grownStack(current, body),
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
  rebootServer: async ({ params, body, requestId, platform }) => {
    const reboot = makeRebootServer({
      ...platform,
      sfn: sfnClient(),
      stateMachineArn: machineArn(platform, 'reboot-server'),
    });
    const operation = await reboot(params.tenantId, params.serverId, requestId, body?.mode ?? 'graceful');
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
  runRecipe: async ({ params, body, requestId, platform }) => {
    const { operation } = await runCommand(platform)(params.tenantId, params.serverId, requestId, {
      kind: 'run-recipe',
      script: body.script,
    });
    return accepted(toOperation(operation), `/v1/tenants/${params.tenantId}/operations/${operation.id}`);
  },
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
        pk: tenantPartition(params.tenantId),
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
  listServers: async ({ params, query, platform }) => {
    const page = await platform.store.query<ServerItem>({
      pk: tenantPartition(params.tenantId),
      skPrefix: serverKeys.prefix,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      // a cursor works only with the filters it was made with
      scope: `servers?${query.status ?? ''}&${query.provider ?? ''}&${query.tag ?? ''}`,
      filter: { equals: { status: query.status, provider: query.provider }, contains: { tags: query.tag } },
    });
    return ok({ items: page.items.map(toServer), nextCursor: page.nextCursor });
  },
  updateServer: async ({ params, body, headers, platform }) => {
    const item = await platform.store.get<ServerItem>(
      serverKeys.item(params.tenantId, params.serverId),
      true,
    );
    if (!item) throw errors.notFound('server');
    const updated = await updateIfMatch<ServerItem>(
      platform.store,
      serverKeys.item(params.tenantId, params.serverId),
      {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.tags !== undefined ? { tags: body.tags } : {}),
        updatedAt: platform.clock.now().toISOString(),
      },
      headers('if-match'),
      item.version,
    );
    return ok(toServer(updated), { ETag: etag(updated.version) });
  },
  getServer: async ({ params, platform }) => {
    const item = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!item) throw errors.notFound('server');
    return ok(toServer(item), { ETag: etag(item.version) });
  },
});
