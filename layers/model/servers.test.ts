import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { type Clock, ulidIds } from '../ids/ids';
import type { Store } from '../store/store';
import { fleetIndex, type ServerItem, serverKeys, setLatestSamples } from './servers';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const clock: Clock = { now: () => new Date('2026-12-03T12:00:00Z') };
const ids = ulidIds();
const tenantId = ids.next('ten');

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore(clock));
});

afterAll(async () => {
  await dynamo?.stop();
});

const at = (second: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, second)).toISOString();

describe('Module: servers, their newest samples', () => {
  it('keeps each server its newest sample and fleet entry, many servers a request, and nothing older', async () => {
    const servers = Array.from({ length: 60 }, () => ids.next('srv'));
    for (const serverId of servers) {
      await store.create({
        ...serverKeys.item(tenantId, serverId),
        entity: 'server',
        id: serverId,
        name: serverId,
      });
    }
    const write = (second: number, cpuPercent: number) =>
      setLatestSamples(
        store,
        servers.map((serverId) => ({
          tenantId,
          serverId,
          latest: { at: at(second), cpuPercent, load1: 0.5 },
        })),
        3,
      );
    expect(await write(10, 42.5)).toEqual(servers.map(() => 'written'));
    // an older sample arriving late changes nothing
    expect(await write(5, 99)).toEqual(servers.map(() => 'conflict'));
    for (const serverId of servers) {
      const item = await store.get<ServerItem>(serverKeys.item(tenantId, serverId));
      expect(item).toMatchObject({
        latest: { at: at(10), cpuPercent: 42.5, load1: 0.5 },
        fleet: { at: at(10), cpuPercent: 42.5, load1: 0.5 },
        gsi2pk: fleetIndex.partition(tenantId),
        gsi2sk: fleetIndex.sortKey(42.5, serverId),
      });
    }
  });

  it('changes nothing for a server that does not exist, and makes no item of it', async () => {
    const serverId = ids.next('srv');
    expect(
      await setLatestSamples(store, [{ tenantId, serverId, latest: { at: at(1), cpuPercent: 1 } }]),
    ).toEqual(['conflict']);
    expect(await store.get(serverKeys.item(tenantId, serverId))).toBeUndefined();
  });
});
