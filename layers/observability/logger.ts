import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'vip-hosting-panel';

/** The shared structured logger; each request appends its correlation id. */
export const logger = new Logger({ serviceName });

/** The shared EMF metrics emitter. */
export const metrics = new Metrics({ namespace: 'VipHostingPanel', serviceName });

/** The attribute name carrying the correlation id from API request to workflow to host command. */
export const CORRELATION_ID = 'correlationId';

/** Adds the correlation id to every log line of the current invocation. */
export function withCorrelation(correlationId: string): void {
  logger.appendKeys({ [CORRELATION_ID]: correlationId });
}
