import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, ulidIds } from '../../../layers/ids/ids';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import type { ServerStack } from '../../../layers/model/stack';
import type { Store } from '../../../layers/store/store';
import { putNew } from '../../../layers/store/writes';
import { type startDynamoDbLocal, startTestStore } from '../../../test/support/dynamodb';
import { refusal } from '../../../test/support/refusal';
import {
  machineArn,
  startStepFunctions,
  unreachableStepFunctions,
  waitingMachine,
} from '../../../test/support/step-functions';
import { defineOperationKinds, serverOperationKinds } from '../operation-kinds';
import { type CommandInput, makeRunCommand } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
let stepFunctions: Awaited<ReturnType<typeof startStepFunctions>>;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
const tenantId = ids.next('ten');
const machines = {
  'run-command': machineArn('vip-test-run-command'),
  'backup-site': machineArn('vip-test-backup-site'),
  'restore-site': machineArn('vip-test-restore-site'),
};
const documentName = (document: string) => `vip-test-${document}`;
const kinds = serverOperationKinds;
/** A kind another context declares in its own folder: servers runs it knowing nothing of it. */
const { 'add-widget': addWidget } = defineOperationKinds<{ widgetId: string }>()({
  'add-widget': { workflow: 'run-command', document: 'database', cancel: false },
});
let run: ReturnType<typeof makeRunCommand>;
const stack: ServerStack = {
  webServer: 'nginx',
  phpVersions: ['8.2', '8.3'],
  database: 'mariadb',
  redis: false,
  nodeVersions: [],
};

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
  stepFunctions = await startStepFunctions(
    Object.fromEntries(Object.values(machines).map((arn) => [arn, waitingMachine])),
  );
  run = makeRunCommand({ store, clock, ids, sfn: stepFunctions.client, machines, documentName });
});

afterAll(async () => {
  await stepFunctions?.stop();
  await dynamo?.stop();
});

async function server() {
  const id = ids.next('srv');
  await store.put({
    ...serverKeys.item(tenantId, id),
    entity: 'server',
    id,
    tenantId,
    name: 'web',
    provider: 'local',
    status: 'active',
    instanceId: 'mi-0123456789abcdef0',
    stack,
  } as unknown as ServerItem);
  return id;
}

/** What the workflow of an operation was started with. */
const inputOf = (operationId: string): CommandInput & { stack?: ServerStack } => {
  const execution = stepFunctions.executions().find((e) => e.name === operationId);
  if (!execution) throw new Error(`no execution for ${operationId}`);
  return JSON.parse(execution.input) as CommandInput;
};

describe('Service: commands on a server', () => {
  it("restarts only what the server's stack has, each PHP version's unit by name", async () => {
    const id = await server();
    const { operation } = await run(tenantId, id, 'corr/1', {
      kind: kinds['restart-service'],
      service: 'php-fpm',
    });
    expect(operation).toMatchObject({ kind: 'restart-service', stepOrder: ['run'], targetId: id });
    expect(inputOf(operation.id)).toMatchObject({
      documentName: 'vip-test-run-command',
      instanceId: 'mi-0123456789abcdef0',
      parameters: {
        action: ['restart-service'],
        service: ['php8.2-fpm php8.3-fpm'],
        correlationId: ['corr1'],
      },
    });
    for (const service of ['redis', 'apache'] as const) {
      expect(
        await refusal(run(tenantId, id, 'c', { kind: kinds['restart-service'], service })),
      ).toMatchObject({
        status: 400,
        path: 'path.service',
      });
    }
  });

  it("sends a recipe's script and a key's public line base64-encoded, as the document reads them", async () => {
    const id = await server();
    const script = "#!/bin/sh\necho 'it ran' > /tmp/proof\n";
    const recipe = await run(tenantId, id, 'c', { kind: kinds['run-recipe'], script });
    expect(
      Buffer.from(inputOf(recipe.operation.id).parameters.scriptBase64?.[0] ?? '', 'base64').toString(),
    ).toBe(script);
    const key =
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG4rT3vTt99Ox5kndS4HmgTrKBT8SKzhK4rhGkEVGlCI ops@example';
    const authorized = await run(tenantId, id, 'c', {
      kind: kinds['authorize-ssh-key'],
      publicKey: key,
      subject: { keyId: 'key_01jkey0000000000000000000' },
    });
    const input = inputOf(authorized.operation.id);
    expect(input.keyId).toBe('key_01jkey0000000000000000000');
    expect(Buffer.from(input.parameters.publicKeyBase64?.[0] ?? '', 'base64').toString()).toBe(key);
  });

  it('runs a stack change alone on the server through the bootstrap, and lets the server go if it cannot start', async () => {
    const id = await server();
    const grown = { ...stack, redis: true };
    const changed = await run(tenantId, id, 'c', { kind: kinds['change-stack'], stack: () => grown });
    expect(inputOf(changed.operation.id)).toMatchObject({
      documentName: 'vip-test-bootstrap-server',
      stack: grown,
      parameters: { redis: ['yes'], phpVersions: ['8.2 8.3'] },
    });
    expect(await store.get(serverKeys.item(tenantId, id), true)).toMatchObject({
      stackOperationId: changed.operation.id,
    });
    expect(
      (await refusal(run(tenantId, id, 'c', { kind: kinds['run-recipe'], script: 'true' }))).status,
    ).toBe(409);

    const other = await server();
    const sfn = unreachableStepFunctions();
    try {
      const failing = makeRunCommand({ store, clock, ids, sfn, machines, documentName });
      await expect(
        failing(tenantId, other, 'c', { kind: kinds['change-stack'], stack: () => grown }),
      ).rejects.toThrow();
    } finally {
      sfn.destroy();
    }
    expect(await store.get<ServerItem>(serverKeys.item(tenantId, other), true)).not.toHaveProperty(
      'stackOperationId',
    );
  });

  it("runs another context's kind by its document, with its subject and parameters, and writes its items with the operation", async () => {
    const id = await server();
    const widgetId = ids.next('wdg');
    const { operation } = await run(tenantId, id, 'c', {
      kind: addWidget,
      subject: { widgetId },
      parameters: { action: 'create', name: 'shop' },
      alongside: (operationId) => [
        putNew({ pk: serverKeys.item(tenantId, id).pk, sk: `TESTMARK#${operationId}`, entity: 'test-mark' }),
      ],
    });
    expect(inputOf(operation.id)).toMatchObject({
      kind: 'add-widget',
      documentName: 'vip-test-database',
      widgetId,
      parameters: { action: ['create'], name: ['shop'], correlationId: ['c'] },
    });
    expect(
      await store.get({ pk: serverKeys.item(tenantId, id).pk, sk: `TESTMARK#${operation.id}` }, true),
    ).toBeDefined();
    // and records how a cancel takes it back, for the cancel route, which knows no other context's kinds
    expect(operation).toMatchObject({ kind: 'add-widget', workflow: 'run-command', cancel: false });
  });
});
