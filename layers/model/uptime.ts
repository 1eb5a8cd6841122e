import type { StoredItem } from '../store/store';
import { tenantPartition } from './keys';

/** What one probe of a URL found. */
export interface ProbeResult {
  at: string;
  ok: boolean;
  statusCode?: number;
  latencyMs: number;
  /** why it failed: a refused address, a timeout, a wrong status, a missing keyword, a certificate */
  error?: string;
  /** the certificate's end of validity (HTTPS) */
  tlsExpiresAt?: string;
}

/**
 * A tenant's uptime check of one URL: probed every `intervalSeconds` by the sweep; after
 * `failuresToOpen` failures in a row an incident opens, the next success closes it. Due checks
 * are in gsi1 by their next probe's time, across tenants.
 */
export interface UptimeCheckItem extends StoredItem {
  entity: 'uptime-check';
  id: string;
  tenantId: string;
  name: string;
  url: string;
  method: 'GET' | 'HEAD';
  /** the statuses that count as up (default 200 to 399) */
  expectedStatus: { min: number; max: number };
  /** text the body must contain */
  keyword?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  failuresToOpen: number;
  /** a certificate expiring within this many days fails the check (0: never) */
  tlsExpiryDays: number;
  /** shown on the tenant's public status page, under `publicName` */
  publish: boolean;
  publicName?: string;
  emails: string[];
  webhooks: { url: string }[];
  webhookSecret: string;
  enabled: boolean;
  status: 'unknown' | 'up' | 'down';
  consecutiveFailures: number;
  lastResult?: ProbeResult;
  openIncidentId?: string;
  openIncidentAt?: string;
  /** probes and failures per UTC day, the last 30 days */
  days: Record<string, { probes: number; failures: number }>;
  nextCheckAt: string;
  createdAt: string;
  updatedAt: string;
  gsi1pk?: string;
  gsi1sk?: string;
}

/** One probe kept for the check's history (expires after UPTIME_RESULT_DAYS). */
export interface UptimeResultItem extends StoredItem, ProbeResult {
  entity: 'uptime-result';
  checkId: string;
  expiresAt: number;
}

/** An outage: opened after the check's failures in a row, closed by its next success. */
export interface IncidentItem extends StoredItem {
  entity: 'uptime-incident';
  id: string;
  tenantId: string;
  checkId: string;
  openedAt: string;
  closedAt?: string;
  /** the error of the failure that opened it */
  cause: string;
  failures: number;
}

export const uptimeKeys = {
  checkPrefix: 'UPTIME#',
  check: (tenantId: string, checkId: string) => ({ pk: tenantPartition(tenantId), sk: `UPTIME#${checkId}` }),
  resultPrefix: (checkId: string) => `UPTIMERES#${checkId}#`,
  result: (tenantId: string, checkId: string, at: string) => ({
    pk: tenantPartition(tenantId),
    sk: `UPTIMERES#${checkId}#${at}`,
  }),
  incidentPrefix: 'INCIDENT#',
  incident: (tenantId: string, openedAt: string, incidentId: string) => ({
    pk: tenantPartition(tenantId),
    sk: `INCIDENT#${openedAt}#${incidentId}`,
  }),
};

/** Checks by their next probe, across tenants, in gsi1: one Query finds those due. */
export const uptimeDueIndex = {
  partition: 'UPTIMEDUE',
  keys: (nextCheckAt: string, tenantId: string, checkId: string) => ({
    gsi1pk: 'UPTIMEDUE',
    gsi1sk: `${nextCheckAt}#${tenantId}#${checkId}`,
  }),
  /** the sort keys of every check due at or before `at` */
  dueBy: (at: string): [string, string] => ['0', `${at}#~`],
};

/** Uptime over some days, as a percentage of probes that succeeded (null with none). */
export function uptimePercent(days: UptimeCheckItem['days'], keys: string[]): number | null {
  let probes = 0;
  let failures = 0;
  for (const key of keys) {
    probes += days[key]?.probes ?? 0;
    failures += days[key]?.failures ?? 0;
  }
  return probes === 0 ? null : Math.round(((probes - failures) / probes) * 100_000) / 1000;
}

export function toUptimeCheck(item: UptimeCheckItem) {
  return {
    id: item.id,
    name: item.name,
    url: item.url,
    method: item.method,
    expectedStatus: item.expectedStatus,
    keyword: item.keyword ?? null,
    intervalSeconds: item.intervalSeconds,
    timeoutSeconds: item.timeoutSeconds,
    failuresToOpen: item.failuresToOpen,
    tlsExpiryDays: item.tlsExpiryDays,
    publish: item.publish,
    publicName: item.publicName ?? null,
    emails: item.emails,
    webhooks: item.webhooks,
    enabled: item.enabled,
    status: item.status,
    consecutiveFailures: item.consecutiveFailures,
    lastResult: item.lastResult ?? null,
    openIncidentId: item.openIncidentId ?? null,
    nextCheckAt: item.nextCheckAt,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version ?? 1,
  };
}

export function toIncident(item: IncidentItem) {
  return {
    id: item.id,
    checkId: item.checkId,
    openedAt: item.openedAt,
    closedAt: item.closedAt ?? null,
    cause: item.cause,
    failures: item.failures,
  };
}

export function toResult(item: UptimeResultItem) {
  return {
    at: item.at,
    ok: item.ok,
    statusCode: item.statusCode ?? null,
    latencyMs: item.latencyMs,
    error: item.error ?? null,
    tlsExpiresAt: item.tlsExpiresAt ?? null,
  };
}
