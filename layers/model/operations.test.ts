import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newOperation } from '../../functions/operations/service';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { type Clock, ulidIds } from '../ids/ids';
import type { Store } from '../store/store';
import { type OperationItem, operationKeys, recordSteps } from './operations';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
const tenantId = ids.next('ten');

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
});

afterAll(async () => {
  await dynamo?.stop();
});

async function operation() {
  const item = newOperation({
    tenantId,
    operationId: ids.next('op'),
    kind: 'reboot-server',
    targetId: ids.next('srv'),
    steps: ['reboot', 'healthCheck'],
    correlationId: 'c',
    now: clock.now().toISOString(),
  });
  await store.put(item);
  return { tenantId, operationId: item.id };
}

const read = (ref: { operationId: string }) =>
  store.get<OperationItem>(operationKeys.item(tenantId, ref.operationId), true);

describe('Model: recording an operation’s steps', () => {
  it('records step changes and the operation’s own fields in one update', async () => {
    const ref = await operation();
    const at = '2026-12-01T09:00:05.000Z';
    expect(
      await recordSteps(
        store,
        ref,
        at,
        { reboot: { status: 'running', startedAt: at } },
        { status: 'running' },
      ),
    ).toBe(true);
    expect(await read(ref)).toMatchObject({
      status: 'running',
      updatedAt: at,
      steps: { reboot: { status: 'running', startedAt: at }, healthCheck: { status: 'pending' } },
    });
  });

  it('ends an operation with no step changed, or with a step whose changes are all left out', async () => {
    const ref = await operation();
    const error = { code: 'workflow-not-started', message: 'The reboot workflow could not be started.' };
    expect(await recordSteps(store, ref, 'at-1', {}, { status: 'failed', error })).toBe(true);
    expect(await read(ref)).toMatchObject({ status: 'failed', error });
    // a step of left-out fields, as a task that has no output passes it
    const other = await operation();
    expect(
      await recordSteps(store, other, 'at-2', { reboot: { output: undefined } } as never, {
        status: 'failed',
      }),
    ).toBe(true);
    expect((await read(other))?.steps.reboot).toEqual({ status: 'pending' });
  });

  it('changes nothing once the operation has ended', async () => {
    const ref = await operation();
    await recordSteps(store, ref, 'at-1', {}, { status: 'succeeded' });
    expect(
      await recordSteps(store, ref, 'at-2', { reboot: { status: 'failed' } }, { status: 'failed' }),
    ).toBe(false);
    expect(await read(ref)).toMatchObject({ status: 'succeeded', updatedAt: 'at-1' });
  });
});
