import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { ok } from '../../layers/http/route';
import { tenantPartition } from '../../layers/model/keys';
import {
  type IncidentItem,
  type UptimeCheckItem,
  uptimeKeys,
  uptimePercent,
} from '../../layers/model/uptime';
import { statusPagesContext } from './context';

/** The UTC days, newest first, of the last `count` days up to `now`. */
const lastDays = (now: Date, count: number) =>
  Array.from({ length: count }, (_, i) =>
    new Date(now.getTime() - i * 86_400_000).toISOString().slice(0, 10),
  );

/** The most checks a status page shows. */
const MOST_CHECKS = 200;

export const handler = makeContextHandler(statusPagesContext, {
  /** Two Queries: the tenant's checks (only the published are shown) and its latest incidents. */
  getStatusPage: async ({ params, platform }) => {
    const [checks, incidents] = await Promise.all([
      platform.store.query<UptimeCheckItem>({
        pk: tenantPartition(params.tenantId),
        skPrefix: uptimeKeys.checkPrefix,
        limit: MOST_CHECKS,
        tenantId: params.tenantId,
        scope: 'status-page',
      }),
      platform.store.query<IncidentItem>({
        pk: tenantPartition(params.tenantId),
        skPrefix: uptimeKeys.incidentPrefix,
        limit: 50,
        ascending: false,
        tenantId: params.tenantId,
        scope: 'status-page-incidents',
      }),
    ]);
    const published = checks.items.filter((c) => c.publish && c.enabled);
    if (published.length === 0) throw errors.notFound('status page');
    const now = platform.clock.now();
    const names = new Map(published.map((c) => [c.id, c.publicName ?? c.name]));
    const shown = published.map((c) => ({
      name: c.publicName ?? c.name,
      status: c.status,
      lastCheckedAt: c.lastResult?.at ?? null,
      latencyMs: c.lastResult?.latencyMs ?? null,
      uptime: {
        day: uptimePercent(c.days, lastDays(now, 1)),
        week: uptimePercent(c.days, lastDays(now, 7)),
        month: uptimePercent(c.days, lastDays(now, 30)),
      },
    }));
    return ok(
      {
        tenantId: params.tenantId,
        status: shown.some((c) => c.status === 'down')
          ? 'degraded'
          : shown.every((c) => c.status === 'up')
            ? 'operational'
            : 'unknown',
        checks: shown,
        incidents: incidents.items
          .filter((i) => names.has(i.checkId))
          .slice(0, 20)
          .map((i) => ({
            check: names.get(i.checkId) ?? '',
            openedAt: i.openedAt,
            closedAt: i.closedAt ?? null,
          })),
        generatedAt: now.toISOString(),
      },
      { 'Cache-Control': 'public, max-age=30' },
    );
  },
});
