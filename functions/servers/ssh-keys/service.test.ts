import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, ulidIds } from '../../../layers/ids/ids';
import type { OperationItem } from '../../../layers/model/operations';
import { type SshKeyItem, sshKeyKeys } from '../../../layers/model/ssh-keys';
import type { Store } from '../../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../../test/support/dynamodb';
import { parsePublicKey, settleSshKey, settleSshKeyOfCancelled } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
const tenantId = ids.next('ten');
const serverId = ids.next('srv');
const scratch = mkdtempSync(join(tmpdir(), 'vip-ssh-keys-'));

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
});

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await dynamo?.stop();
});

/** A key pair made by OpenSSH's ssh-keygen: its public line and the fingerprint ssh-keygen prints. */
function keyPair(type: string, bits?: number) {
  const path = join(scratch, ids.next('key'));
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(bits ? ['-b', String(bits)] : []),
    '-N',
    '',
    '-C',
    'ops@example',
    '-f',
    path,
  ]);
  const line = readFileSync(`${path}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], {
    encoding: 'utf8',
  }).split(' ')[1];
  return { line, fingerprint };
}

async function key(status: SshKeyItem['status'], operationId: string) {
  const id = ids.next('key');
  await store.put<SshKeyItem>({
    ...sshKeyKeys.item(tenantId, serverId, id),
    entity: 'ssh-key',
    id,
    serverId,
    name: 'ops',
    publicKey: 'ssh-ed25519 AAAA',
    fingerprint: 'SHA256:x',
    status,
    lastOperationId: operationId,
    createdAt: clock.now().toISOString(),
  });
  return id;
}

const read = (id: string) => store.get<SshKeyItem>(sshKeyKeys.item(tenantId, serverId, id), true);
const settle = (keyId: string, operationId: string, kind: string, succeeded: boolean) =>
  settleSshKey(store, { tenantId, serverId, operationId, kind, keyId }, succeeded);

describe('Service: SSH keys', () => {
  it('reads the public lines ssh-keygen writes, with the fingerprint ssh-keygen prints', () => {
    for (const [type, bits] of [['ed25519'], ['rsa', 3072], ['ecdsa', 256], ['ecdsa', 521]] as const) {
      const { line, fingerprint } = keyPair(type, bits);
      expect(parsePublicKey(line), type).toEqual({ publicKey: line, fingerprint });
      expect(parsePublicKey(`  ${line}\n`)?.fingerprint).toBe(fingerprint);
    }
  });

  it('refuses what is not a key: another type than its blob names, no blob, unknown types', () => {
    const { line } = keyPair('ed25519');
    const [, blob] = line.split(' ');
    expect(parsePublicKey(`ssh-rsa ${blob}`)).toBeUndefined();
    expect(parsePublicKey('ssh-ed25519')).toBeUndefined();
    expect(parsePublicKey(`ssh-dss ${blob}`)).toBeUndefined();
    expect(parsePublicKey(`ssh-ed25519 ${blob} comment\nssh-ed25519 ${blob}`)).toBeUndefined();
    expect(parsePublicKey('ssh-ed25519 AAAA')).toBeUndefined();
  });

  it('follows its latest command: authorised, gone once revoked, failed otherwise, and only once', async () => {
    const authorizing = await key('authorizing', 'op_1');
    await settle(authorizing, 'op_1', 'authorize-ssh-key', true);
    expect((await read(authorizing))?.status).toBe('authorized');
    // a later ending of the same command changes nothing
    await settle(authorizing, 'op_1', 'authorize-ssh-key', false);
    expect((await read(authorizing))?.status).toBe('authorized');

    const revoking = await key('revoking', 'op_2');
    await settle(revoking, 'op_1', 'revoke-ssh-key', true);
    expect((await read(revoking))?.status).toBe('revoking');
    await settle(revoking, 'op_2', 'revoke-ssh-key', true);
    expect(await read(revoking)).toBeUndefined();

    const failing = await key('revoking', 'op_3');
    await settle(failing, 'op_3', 'revoke-ssh-key', false);
    expect((await read(failing))?.status).toBe('failed');
  });

  it('marks the key of a cancelled command failed, found by its operation', async () => {
    const other = await key('authorizing', 'op_4');
    const cancelled = await key('authorizing', 'op_5');
    await settleSshKeyOfCancelled(store, {
      id: 'op_5',
      tenantId,
      targetId: serverId,
      kind: 'authorize-ssh-key',
    } as OperationItem);
    expect((await read(cancelled))?.status).toBe('failed');
    expect((await read(other))?.status).toBe('authorizing');
  });
});
