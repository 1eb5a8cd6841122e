import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldClosedMinutes } from '../../../functions/metrics/fold';
import { SKETCH_RELATIVE_ACCURACY } from '../../../functions/metrics/rollup';
import { siteKeys } from '../../../layers/model/sites';
import { getPlatform } from '../../../layers/runtime/platform';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { deliver, sample, server, start } from '../../support/alerts';
import { apiClient, signUp, startTestRuntime } from '../../support/runtime';

/**
 * Per-site metrics: the agents' per-site requests, 5xx rate and response time kept in the
 * server's rollups at every resolution, and the server's response time quantiles weighted by
 * each site's requests.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let stranger: Awaited<ReturnType<typeof signUp>>;
let serverId: string;
const shop = `ste_${ulid().toLowerCase()}`;
const blog = `ste_${ulid().toLowerCase()}`;

/** Two minutes of a server's samples, 10 s apart: the shop busy and slower, the blog quiet. */
const series = () =>
  Array.from({ length: 12 }, (_, i) =>
    sample(owner.tenantId, serverId, 60 + i * 10, 30, {
      sites: [
        {
          siteId: shop,
          requestsPerSecond: 40 + i,
          errorRate5xx: i === 5 ? 0.1 : 0,
          responseTimeMs: 200 + i * 10,
        },
        { siteId: blog, requestsPerSecond: i % 2 ? 1 : 0, errorRate5xx: 0, responseTimeMs: 50 },
      ],
    }),
  );

beforeAll(async () => {
  runtime = await startTestRuntime({ scheduleIntervalMs: 3_600_000 });
  api = apiClient(runtime.url);
  owner = await signUp(api, 'site-metrics-owner@example.com');
  stranger = await signUp(api, 'site-metrics-stranger@example.com');
  serverId = await server(owner.tenantId, 'web-1', []);
  const platform = await getPlatform();
  for (const [id, domain] of [
    [shop, 'shop.example.com'],
    [blog, 'blog.example.com'],
  ] as const) {
    await platform.store.put({
      ...siteKeys.item(owner.tenantId, id),
      entity: 'site',
      id,
      tenantId: owner.tenantId,
      serverId,
      domain,
      status: 'active',
      version: 1,
    } as never);
  }
  // delivered twice: what a site's rollup counts is each sample once
  await deliver(runtime, [...series(), ...series()]);
});
afterAll(async () => runtime?.stop());

const range = `from=${new Date(start).toISOString()}&to=${new Date(start + 3 * 60_000).toISOString()}`;

describe('Feature: per-site metrics', () => {
  it("answers a site's requests, 5xx rate and response time per minute", async () => {
    const answer = await api.call(
      'GET',
      `/v1/tenants/${owner.tenantId}/sites/${shop}/metrics?${range}&resolution=1m`,
      {
        token: owner.token,
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ siteId: shop, serverId, resolution: '1m' });
    const [first, second] = answer.json.points;
    expect(first.metrics.requestsPerSecond).toMatchObject({
      count: 6,
      min: 40,
      max: 45,
      last: 45,
      avg: 42.5,
    });
    expect(first.metrics.errorRate5xx).toMatchObject({ max: 0.1, count: 6 });
    expect(second.metrics.responseTimeMs).toMatchObject({ min: 260, max: 310, count: 6 });
  });

  it('keeps each site through the fold into hours and days, and weighs response time quantiles by requests', async () => {
    const platform = await getPlatform();
    await foldClosedMinutes({ ...platform, clock: { now: () => new Date(start + 3_600_000 * 2) } });
    for (const resolution of ['1h', '1d']) {
      const answer = await api.call(
        'GET',
        `/v1/tenants/${owner.tenantId}/sites/${blog}/metrics?${range}&resolution=${resolution}`,
        { token: owner.token },
      );
      expect(answer.json.points).toHaveLength(1);
      expect(answer.json.points[0].metrics.requestsPerSecond).toMatchObject({ count: 12, sum: 6, max: 1 });
    }
    const server = await api.call(
      'GET',
      `/v1/tenants/${owner.tenantId}/servers/${serverId}/metrics?${range}&resolution=1h`,
      { token: owner.token },
    );
    const p50 = server.json.points[0].quantiles.responseTimeMs.p50;
    // the shop's ~500 requests a second at 200-310 ms outweigh the blog's 6 at 50 ms
    expect(p50).toBeGreaterThanOrEqual(250 * (1 - SKETCH_RELATIVE_ACCURACY));
    expect(p50).toBeLessThanOrEqual(260 * (1 + SKETCH_RELATIVE_ACCURACY));
    expect(server.json.points[0].quantiles.cpuPercent.p50).toBeCloseTo(30, 0);
  });

  it("answers 404 for another tenant's site, and a site that does not exist", async () => {
    const theirs = await api.call('GET', `/v1/tenants/${owner.tenantId}/sites/${shop}/metrics`, {
      token: stranger.token,
    });
    expect(theirs.status).toBe(404);
    const asTheirs = await api.call('GET', `/v1/tenants/${stranger.tenantId}/sites/${shop}/metrics`, {
      token: stranger.token,
    });
    expect(asTheirs.status).toBe(404);
    const missing = await api.call(
      'GET',
      `/v1/tenants/${owner.tenantId}/sites/ste_${ulid().toLowerCase()}/metrics`,
      { token: owner.token },
    );
    expect(missing.status).toBe(404);
  });
});
