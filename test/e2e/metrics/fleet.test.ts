import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { deliver, sample, server } from '../../support/alerts';
import { apiClient, dynamoReadsDuring, signUp, startTestRuntime } from '../../support/runtime';

/**
 * The fleet view: a tenant's servers ranked by a gauge of their newest sample, the top N by CPU
 * in one DynamoDB request, kept on write by the aggregator (the fleet index).
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let stranger: Awaited<ReturnType<typeof signUp>>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'fleet-owner@example.com');
  stranger = await signUp(api, 'fleet-stranger@example.com');
  // cpu, memory used (of 4 GB), tags
  const fleet = {
    'web-1': [91, 3.6e9, ['web']],
    'web-2': [35, 0.4e9, ['web']],
    'web-3': [60, 2.0e9, ['web', 'eu']],
    'db-1': [75, 3.9e9, ['db']],
    'db-2': [5, 1.0e9, ['db']],
  } as const;
  for (const [name, [cpu, memory, tags]] of Object.entries(fleet)) {
    const id = await server(owner.tenantId, name, [...tags]);
    ids[name] = id;
    // an older sample first: the newest is what counts, whatever order they arrive in
    await deliver(runtime, [
      sample(owner.tenantId, id, 20, cpu, { memoryUsedBytes: memory }),
      sample(owner.tenantId, id, 10, 99, { memoryUsedBytes: 4e9 }),
    ]);
  }
  // a server that never reported is not ranked
  ids.silent = await server(owner.tenantId, 'silent', ['web']);
  const strangers = await server(stranger.tenantId, 'theirs', ['web']);
  await deliver(runtime, [sample(stranger.tenantId, strangers, 20, 100)]);
});
afterAll(async () => runtime?.stop());

const fleet = (query: string, as = owner) =>
  api.call('GET', `/v1/tenants/${as.tenantId}/fleet${query}`, { token: as.token });

describe('Feature: the fleet view', () => {
  it("ranks the top N by CPU from one Query of the fleet index, beside the caller's currency", async () => {
    let answer: Awaited<ReturnType<typeof fleet>> | undefined;
    const reads = await dynamoReadsDuring(owner.tenantId, async () => {
      answer = await fleet('?top=3');
    });
    expect(answer?.status, answer?.text).toBe(200);
    // the fleet index, and the caller's membership and session as they are now (layers/auth/currency.ts)
    expect(reads.sort()).toEqual(['BatchGetItemCommand', 'QueryCommand']);
    expect(answer?.json.servers.map((s: { name: string; value: number }) => [s.name, s.value])).toEqual([
      ['web-1', 91],
      ['db-1', 75],
      ['web-3', 60],
    ]);
    expect(answer?.json.servers[0]).toMatchObject({ id: ids['web-1'], status: 'active', tags: ['web'] });
    const lowest = await fleet('?top=2&order=asc');
    expect(lowest.json.servers.map((s: { name: string }) => s.name)).toEqual(['db-2', 'web-2']);
  });

  it('ranks by another gauge, within a tag, from the same index', async () => {
    const memory = await fleet('?gauge=memoryUsedPercent&top=2');
    expect(memory.json.servers.map((s: { name: string; value: number }) => [s.name, s.value])).toEqual([
      ['db-1', 97.5],
      ['web-1', 90],
    ]);
    expect(memory.json.reporting).toBe(5);
    const web = await fleet('?gauge=cpuPercent&tag=web&top=10');
    expect(web.json.servers.map((s: { name: string }) => s.name)).toEqual(['web-1', 'web-3', 'web-2']);
    expect(web.json.servers[0].gauges).toMatchObject({ cpuPercent: 91, memoryUsedPercent: 90 });
  });

  it('shows a tenant only its own servers, and answers 400 naming the field', async () => {
    const theirs = await fleet('?top=10', stranger);
    expect(theirs.json.servers.map((s: { name: string }) => s.name)).toEqual(['theirs']);
    const across = await api.call('GET', `/v1/tenants/${owner.tenantId}/fleet`, { token: stranger.token });
    expect(across.status).toBe(404);
    for (const [query, field] of [
      ['?gauge=bogus', 'query.gauge'],
      ['?top=0', 'query.top'],
      ['?order=up', 'query.order'],
    ]) {
      const refused = await fleet(query as string);
      expect(refused.status).toBe(400);
      expect(refused.json.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
  });
});
