import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { ok } from '../../layers/http/route';
import { alertKeys, type FiringAlertsItem } from '../../layers/model/alerts';
import { counterKeys, siteCounterAttribute } from '../../layers/model/counters';
import { tenantPartition } from '../../layers/model/keys';
import { bucketOf, type Resolution, type RollupItem, rollupKeys } from '../../layers/model/rollups';
import { fleetIndex, type ServerItem, serverKeys, serverStatuses } from '../../layers/model/servers';
import { type SiteItem, siteKeys, siteStatuses } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import type { StoredItem } from '../../layers/store/store';
import { metricsContext } from './context';
import { toPoint, toSitePoint } from './rollup';
import { MAX_AUTO_POINTS } from './spec';

const HOUR = 3600_000;

/** The finest resolution that gives a range at most MAX_AUTO_POINTS points. */
export function resolutionFor(from: Date, to: Date): Resolution {
  const span = to.getTime() - from.getTime();
  if (span <= MAX_AUTO_POINTS * 60_000) return '1m';
  if (span <= MAX_AUTO_POINTS * HOUR) return '1h';
  return '1d';
}

/** The most a fleet read asks for in one request (DynamoDB stops at 1 MB, about 5,000 entries). */
const FLEET_PAGE = 5_000;

/** A server's rollups over a range at a resolution, every page of them. */
async function rollupsOf(
  platform: Platform,
  tenantId: string,
  serverId: string,
  resolution: Resolution,
  from: Date,
  to: Date,
): Promise<RollupItem[]> {
  const points: RollupItem[] = [];
  let cursor: string | undefined;
  do {
    const page = await platform.store.query<RollupItem>({
      pk: rollupKeys.partition(tenantId, serverId, resolution),
      skBetween: [bucketOf(resolution, from.toISOString()), bucketOf(resolution, to.toISOString())],
      limit: 500,
      cursor,
      tenantId,
      scope: `metrics:${serverId}:${resolution}`,
    });
    points.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return points;
}

/** A query's range and resolution: the last hour by default, the resolution chosen for it when `auto`. */
function rangeOf(
  query: { from?: string | undefined; to?: string | undefined; resolution: string },
  now: Date,
) {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - HOUR);
  const resolution = query.resolution === 'auto' ? resolutionFor(from, to) : (query.resolution as Resolution);
  return { from, to, resolution };
}

export const handler = makeContextHandler(metricsContext, {
  getSiteMetrics: async ({ params, query, platform }) => {
    const site = await platform.store.get<SiteItem>(siteKeys.item(params.tenantId, params.siteId));
    if (!site) throw errors.notFound('site');
    const { from, to, resolution } = rangeOf(query, platform.clock.now());
    const points = await rollupsOf(platform, params.tenantId, site.serverId, resolution, from, to);
    return ok({
      siteId: site.id,
      serverId: site.serverId,
      resolution,
      from: from.toISOString(),
      to: to.toISOString(),
      points: points.flatMap((point) => toSitePoint(point, site.id) ?? []),
    });
  },

  getFleet: async ({ params, query, platform }) => {
    const pk = fleetIndex.partition(params.tenantId);
    const entries: ServerItem[] = [];
    if (query.gauge === 'cpuPercent' && !query.tag) {
      // the index is sorted by CPU: the top N is the first N
      const page = await platform.store.query<ServerItem>({
        index: 'gsi2',
        pk,
        limit: query.top,
        ascending: query.order === 'asc',
        tenantId: params.tenantId,
        scope: 'fleet',
      });
      entries.push(...page.items);
    } else {
      let cursor: string | undefined;
      do {
        const page = await platform.store.query<ServerItem>({
          index: 'gsi2',
          pk,
          limit: FLEET_PAGE,
          cursor,
          tenantId: params.tenantId,
          scope: 'fleet',
          filter: { contains: { tags: query.tag } },
        });
        entries.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    const ranked = entries
      .flatMap((server) => {
        const value = server.fleet?.[query.gauge];
        return value === undefined || !server.fleet ? [] : [{ server, fleet: server.fleet, value }];
      })
      .sort((a, b) => (query.order === 'asc' ? a.value - b.value : b.value - a.value));
    return ok({
      gauge: query.gauge,
      order: query.order,
      tag: query.tag ?? null,
      servers: ranked.slice(0, query.top).map(({ server, fleet, value }) => {
        const { at, ...gauges } = fleet;
        return {
          id: server.id,
          name: server.name,
          status: server.status,
          tags: server.tags ?? [],
          value,
          at,
          gauges,
        };
      }),
      reporting: ranked.length,
    });
  },

  getServerMetrics: async ({ params, query, platform }) => {
    const { from, to, resolution } = rangeOf(query, platform.clock.now());
    const server = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!server) throw errors.notFound('server');
    const points = await rollupsOf(platform, params.tenantId, params.serverId, resolution, from, to);
    return ok({
      serverId: server.id,
      resolution,
      from: from.toISOString(),
      to: to.toISOString(),
      points: points.map(toPoint),
    });
  },

  /**
   * Two DynamoDB requests whatever the fleet size: the counters and firing alerts items in one
   * BatchGetItem, and one page of servers.
   */
  getDashboard: async ({ params, query, platform }) => {
    const [items, page] = await Promise.all([
      platform.store.batchGet<StoredItem>([
        counterKeys.item(params.tenantId),
        alertKeys.firing(params.tenantId),
      ]),
      platform.store.query<ServerItem>({
        pk: tenantPartition(params.tenantId),
        skPrefix: serverKeys.prefix,
        limit: query.limit,
        cursor: query.cursor,
        tenantId: params.tenantId,
        scope: 'dashboard',
      }),
    ]);
    const counters = items.find((i) => i.sk === counterKeys.item(params.tenantId).sk);
    const firing = Object.values(
      (items.find((i) => i.sk === alertKeys.firing(params.tenantId).sk) as FiringAlertsItem | undefined)
        ?.firing ?? {},
    ).sort((a, b) => a.since.localeCompare(b.since));
    const counts = Object.fromEntries(
      serverStatuses.map((status) => [status, Number(counters?.[`servers_${status}`] ?? 0)]),
    ) as Record<(typeof serverStatuses)[number], number>;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const siteCounts = Object.fromEntries(
      siteStatuses.map((status) => [status, Number(counters?.[siteCounterAttribute(status)] ?? 0)]),
    ) as Record<(typeof siteStatuses)[number], number>;
    return ok({
      counts: { total, ...counts },
      siteCounts: { total: Object.values(siteCounts).reduce((a, b) => a + b, 0), ...siteCounts },
      alerts: { firing: firing.length, items: firing.slice(0, 50) },
      servers: page.items.map((s) => ({
        id: s.id,
        name: s.name,
        status: s.status,
        latest: s.latest ?? null,
      })),
      nextCursor: page.nextCursor,
    });
  },
});
