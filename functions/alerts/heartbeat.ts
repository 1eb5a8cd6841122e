import { type AlertRuleItem, heartbeatRuleIndex } from '../../layers/model/alerts';
import { fleetIndex, type ServerItem } from '../../layers/model/servers';
import { logger } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { evaluateAlerts } from './evaluation';
import { SILENCE_METRIC } from './observation';

/**
 * Every minute (EventBridge Scheduler; locally the runtime's timer): each tenant with a rule on a
 * server's silence has every reporting server observed for how long it has sent nothing, and its
 * rules evaluated on that, as the aggregator evaluates samples: a server that stops reporting
 * goes pending, then firing, and resolves when its samples come back. One Query finds the
 * tenants; one Query of a tenant's fleet index reads its servers' last samples (5,000 a request).
 */
export async function heartbeatSweep(platform: Platform): Promise<{ observed: number; transitions: number }> {
  const now = platform.clock.now();
  const tenants = new Set<string>();
  for await (const page of platform.store.pages<AlertRuleItem>({
    index: 'gsi1',
    pk: heartbeatRuleIndex.partition,
  })) {
    for (const rule of page) if (rule.enabled) tenants.add(rule.tenantId);
  }
  let observed = 0;
  let transitions = 0;
  for (const tenantId of tenants) {
    const servers: ServerItem[] = [];
    let cursor: string | undefined;
    do {
      const page = await platform.store.query<ServerItem>({
        index: 'gsi2',
        pk: fleetIndex.partition(tenantId),
        limit: 5_000,
        cursor,
        tenantId,
        scope: 'heartbeat',
      });
      servers.push(...page.items.filter((s) => s.status === 'active' && s.fleet));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    observed += servers.length;
    try {
      transitions += await evaluateAlerts(
        platform,
        servers.map((server) => ({
          tenantId,
          serverId: server.id,
          observe: () => ({
            at: now.toISOString(),
            values: {
              [SILENCE_METRIC]: Math.max(
                0,
                Math.round((now.getTime() - Date.parse(server.fleet?.at ?? '')) / 1000),
              ),
            },
          }),
        })),
      );
    } catch (error) {
      // one tenant's failure does not hold the others; the next sweep observes again
      logger.error('Heartbeat evaluation failed', { tenantId, error: error as Error });
    }
  }
  return { observed, transitions };
}
