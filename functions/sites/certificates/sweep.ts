import { AppError } from '../../../layers/errors/app-error';
import type { ServerItem } from '../../../layers/model/servers';
import { serverKeys } from '../../../layers/model/servers';
import {
  CERTIFICATE_WARNING_DAYS,
  type CertificateExpiryItem,
  certificateExpiryKeys,
  type SiteItem,
  siteKeys,
} from '../../../layers/model/sites';
import { logger, metrics } from '../../../layers/observability/logger';
import type { Platform } from '../../../layers/runtime/platform';
import { ConditionFailedError } from '../../../layers/store/store';
import { orderSiteCertificate } from './service';

const DAY_MS = 86_400_000;

/** A failed renewal is tried again by a later sweep, but not before this long. */
export const RENEWAL_RETRY_MS = 6 * 3_600_000;

/** What one sweep did, for its log line and its tests. */
export interface SweepReport {
  examined: number;
  renewals: string[];
  warnings: { siteId: string; days: number }[];
  skipped: { siteId: string; reason: string }[];
}

/**
 * The certificates sweep, run on a schedule (EventBridge Scheduler in AWS, a timer on a local
 * runtime): every certificate expiring within the renewal window or the first warning is read
 * with one Query of the expiry partition. An ACME certificate within `CERTIFICATE_RENEW_DAYS`
 * of its expiry is renewed (an issuance like the first; a failed one is retried by later sweeps
 * after `RENEWAL_RETRY_MS`); every certificate warns once at 21 and once at 7 days left.
 */
export async function sweepCertificates(platform: Platform): Promise<SweepReport> {
  const now = platform.clock.now();
  const horizonDays = Math.max(platform.config.CERTIFICATE_RENEW_DAYS, ...CERTIFICATE_WARNING_DAYS);
  const horizon = new Date(now.getTime() + horizonDays * DAY_MS).toISOString();
  const report: SweepReport = { examined: 0, renewals: [], warnings: [], skipped: [] };
  for await (const page of platform.store.pages<CertificateExpiryItem>({
    pk: certificateExpiryKeys.partition,
    skBetween: certificateExpiryKeys.until(horizon),
  })) {
    for (const entry of page) {
      report.examined += 1;
      await sweepOne(platform, entry, now, report);
    }
  }
  logger.info('Certificates swept', { ...report });
  return report;
}

async function sweepOne(platform: Platform, entry: CertificateExpiryItem, now: Date, report: SweepReport) {
  const site = await platform.store.get<SiteItem>(siteKeys.item(entry.tenantId, entry.siteId), true);
  const certificate = site?.certificate;
  if (!site || !certificate || certificate.notAfter !== entry.notAfter) {
    // an entry its site no longer holds (a write between two transactions never leaves one,
    // but a site's record is the truth): nothing to renew
    report.skipped.push({ siteId: entry.siteId, reason: 'stale' });
    return;
  }
  const daysLeft = Math.floor((new Date(certificate.notAfter).getTime() - now.getTime()) / DAY_MS);
  const warned = site.certificateState?.warned ?? [];
  const due = CERTIFICATE_WARNING_DAYS.filter((days) => daysLeft < days && !warned.includes(days));
  if (due.length > 0) {
    try {
      await platform.store.update(
        siteKeys.item(site.tenantId, site.id),
        { certificateState: { ...site.certificateState, warned: [...warned, ...due] } },
        { expectedVersion: site.version ?? 1 },
      );
      for (const days of due) report.warnings.push({ siteId: site.id, days });
      logger.warn('A site certificate expires soon', {
        tenantId: site.tenantId,
        siteId: site.id,
        notAfter: certificate.notAfter,
        daysLeft,
        source: certificate.source,
      });
      metrics.addMetric('CertificateExpiryWarnings', 'Count', due.length);
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
    }
  }
  if (certificate.source !== 'acme' || daysLeft >= platform.config.CERTIFICATE_RENEW_DAYS) return;
  const failedAt = site.certificateState?.lastFailure?.at;
  if (failedAt && now.getTime() - new Date(failedAt).getTime() < RENEWAL_RETRY_MS) {
    report.skipped.push({ siteId: site.id, reason: 'failed recently' });
    return;
  }
  const server = await platform.store.get<ServerItem>(serverKeys.item(site.tenantId, site.serverId), true);
  if (!server) return;
  try {
    // one renewal per site and certificate: a second sweep finds the site busy (409) or renewed
    await orderSiteCertificate(platform, site, `renew-${site.id}-${now.getTime()}`, server);
    report.renewals.push(site.id);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    // the site or its server is busy or not active: the next sweep tries again
    report.skipped.push({ siteId: site.id, reason: error.message });
  }
}
