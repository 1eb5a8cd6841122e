import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { publish } from '../../layers/events/bus';
import { eventSources, uptimeDetailTypes } from '../../layers/events/rules';
import {
  type IncidentItem,
  type ProbeResult,
  type UptimeCheckItem,
  type UptimeResultItem,
  uptimeDueIndex,
  uptimeKeys,
} from '../../layers/model/uptime';
import { logger, metrics } from '../../layers/observability/logger';
import type { Platform } from '../../layers/runtime/platform';
import { type TransactItem, TransactionFailedError } from '../../layers/store/store';
import { putItem, putNew, putOverVersion } from '../../layers/store/writes';
import { probe } from './probe';

/** Probes running at once in one sweep. */
const PROBES_AT_ONCE = 25;
/** The most checks one sweep takes; the rest are due still and go to the next. */
const MOST_PER_SWEEP = 2_000;
/**
 * How long a sweep starts new probes: the function has 2 minutes and a probe may take 30 s; checks
 * not reached stay due, the oldest first, for the next sweep a minute later.
 */
const SWEEP_BUDGET_MS = 60_000;
/** Days of probe counts a check keeps for its uptime percentages. */
const DAYS_KEPT = 30;

let extraCa: { path: string; pem: string } | undefined;
const extraCaOf = (path: string | undefined) => {
  if (!path) return undefined;
  if (extraCa?.path !== path) extraCa = { path, pem: readFileSync(path, 'utf8') };
  return extraCa.pem;
};

/** An uptime event's id, the same however often it is computed: what notifications deduplicate on. */
const uptimeEventId = (checkId: string, transition: 'down' | 'up', at: string) =>
  `upev_${createHash('sha256').update(`${checkId}/${transition}/${at}`).digest('hex').slice(0, 26)}`;

/** The check after one probe: its status, failures in a row, day counts, next probe. */
export function afterProbe(check: UptimeCheckItem, result: ProbeResult, now: Date): UptimeCheckItem {
  const day = result.at.slice(0, 10);
  const days = Object.fromEntries(
    Object.entries({
      ...check.days,
      [day]: {
        probes: (check.days[day]?.probes ?? 0) + 1,
        failures: (check.days[day]?.failures ?? 0) + (result.ok ? 0 : 1),
      },
    })
      .sort(([a], [b]) => b.localeCompare(a))
      .slice(0, DAYS_KEPT),
  );
  const failures = result.ok ? 0 : check.consecutiveFailures + 1;
  // the next probe an interval after the one that was due, never in the past (a sweep that ran late)
  const next = Math.max(Date.parse(check.nextCheckAt) + check.intervalSeconds * 1000, now.getTime() + 1000);
  const nextCheckAt = new Date(next).toISOString();
  return {
    ...check,
    status: result.ok ? 'up' : failures >= check.failuresToOpen ? 'down' : check.status,
    consecutiveFailures: failures,
    lastResult: result,
    days,
    nextCheckAt,
    ...uptimeDueIndex.keys(nextCheckAt, check.tenantId, check.id),
    version: (check.version ?? 1) + 1,
  };
}

/**
 * Records one probe: the check's new state, the result in its history, and an incident opened
 * after `failuresToOpen` failures in a row or closed by a success, all in one transaction over
 * the check's version as read (a sweep that overlapped and got there first wins, and this one
 * writes nothing). The incident's event goes on the bus first, with an id its notification
 * deduplicates on.
 */
export async function recordProbe(platform: Platform, check: UptimeCheckItem, result: ProbeResult) {
  const now = platform.clock.now();
  const next = afterProbe(check, result, now);
  const items: TransactItem[] = [putOverVersion(next, check.version ?? 1)];
  const stored: UptimeResultItem = {
    ...uptimeKeys.result(check.tenantId, check.id, result.at),
    entity: 'uptime-result',
    checkId: check.id,
    ...result,
    expiresAt: Math.floor(now.getTime() / 1000) + platform.config.UPTIME_RESULT_DAYS * 86_400,
  };
  items.push(putItem(stored));
  let event: { transition: 'down' | 'up'; incident: IncidentItem } | undefined;
  if (!result.ok && !check.openIncidentId && next.consecutiveFailures >= check.failuresToOpen) {
    const incidentId = platform.ids.next('inc');
    const incident: IncidentItem = {
      ...uptimeKeys.incident(check.tenantId, result.at, incidentId),
      entity: 'uptime-incident',
      id: incidentId,
      tenantId: check.tenantId,
      checkId: check.id,
      openedAt: result.at,
      cause: result.error ?? 'failed',
      failures: next.consecutiveFailures,
    };
    next.openIncidentId = incidentId;
    next.openIncidentAt = result.at;
    items.push(putNew(incident));
    event = { transition: 'down', incident };
  }
  if (result.ok && check.openIncidentId) {
    const open = await platform.store.get<IncidentItem>(
      uptimeKeys.incident(check.tenantId, check.openIncidentAt ?? '', check.openIncidentId),
      true,
    );
    delete next.openIncidentId;
    delete next.openIncidentAt;
    if (open) {
      const closed: IncidentItem = { ...open, closedAt: result.at, version: (open.version ?? 1) + 1 };
      items.push(putOverVersion(closed, open.version ?? 1));
      event = { transition: 'up', incident: closed };
    }
  }
  if (event) {
    await publish([
      {
        source: eventSources.uptime,
        detailType: uptimeDetailTypes[event.transition],
        resources: [check.id, event.incident.id],
        detail: {
          eventId: uptimeEventId(check.id, event.transition, result.at),
          tenantId: check.tenantId,
          checkId: check.id,
          checkName: check.name,
          url: check.url,
          transition: event.transition,
          incidentId: event.incident.id,
          openedAt: event.incident.openedAt,
          closedAt: event.incident.closedAt ?? null,
          cause: event.incident.cause,
          statusCode: result.statusCode ?? null,
          latencyMs: result.latencyMs,
          at: result.at,
        },
      },
    ]);
  }
  try {
    await platform.store.transact(items);
  } catch (error) {
    if (error instanceof TransactionFailedError) {
      logger.info('An uptime check was recorded by another sweep', { checkId: check.id });
      return undefined;
    }
    throw error;
  }
  return next;
}

/**
 * Every minute (EventBridge Scheduler; locally the runtime's timer): the checks whose next probe
 * is due, probed 25 at a time, each recorded. Probes only reach public addresses unless the
 * runtime is a local one.
 */
export async function uptimeSweep(platform: Platform): Promise<{ probed: number; failed: number }> {
  const now = platform.clock.now();
  const due: UptimeCheckItem[] = [];
  for await (const page of platform.store.pages<UptimeCheckItem>({
    index: 'gsi1',
    pk: uptimeDueIndex.partition,
    skBetween: uptimeDueIndex.dueBy(now.toISOString()),
  })) {
    due.push(...page);
    if (due.length >= MOST_PER_SWEEP) break;
  }
  let failed = 0;
  let probed = 0;
  const queue = [...due];
  const stopStartingAt = Date.now() + SWEEP_BUDGET_MS;
  await Promise.all(
    Array.from({ length: Math.min(PROBES_AT_ONCE, queue.length) }, async () => {
      while (Date.now() < stopStartingAt) {
        const entry = queue.shift();
        if (!entry) break;
        // the index may lag the table: read the check itself
        const check = await platform.store.get<UptimeCheckItem>(
          uptimeKeys.check(entry.tenantId, entry.id),
          true,
        );
        if (!check?.enabled || check.nextCheckAt !== entry.nextCheckAt) continue;
        const result = await probe({
          url: check.url,
          method: check.method,
          timeoutSeconds: check.timeoutSeconds,
          expectedStatus: check.expectedStatus,
          keyword: check.keyword,
          tlsExpiryDays: check.tlsExpiryDays,
          local: platform.config.UPTIME_TARGETS_LOCAL,
          extraCa: extraCaOf(platform.config.UPTIME_CA_FILE),
          now: () => platform.clock.now(),
        });
        probed += 1;
        if (!result.ok) failed += 1;
        await recordProbe(platform, check, result).catch((error: unknown) =>
          logger.error('Could not record an uptime probe', { checkId: check.id, error: error as Error }),
        );
      }
    }),
  );
  if (queue.length > 0) logger.warn('Uptime checks left for the next sweep', { left: queue.length });
  metrics.addMetric('UptimeProbes', 'Count', probed);
  metrics.addMetric('UptimeProbeFailures', 'Count', failed);
  return { probed, failed };
}
