import { recordAudit } from '../../audit/audit';
import { AppError } from '../../errors/app-error';
import { logger } from '../../observability/logger';
import { headerValue } from '../middlewares';
import { isRead, type Middleware, type PipelineEvent } from './state';

/**
 * Every mutation by a signed-in caller goes into the audit log of the tenant it acted on (or,
 * when it was refused as not its own, of the caller's tenant), whatever its outcome. A failed
 * audit write is logged and never changes the answer.
 */
export const audit = (): Middleware => ({
  after: async (request) => {
    const location = request.response?.headers?.Location;
    await record(
      request.event,
      request.response?.statusCode ?? 500,
      typeof location === 'string' ? location : undefined,
    );
  },
  onError: async (request) => {
    await record(request.event, request.error instanceof AppError ? request.error.status : 500);
  },
});

async function record(event: PipelineEvent, status: number, location?: string): Promise<void> {
  const state = event.routed;
  const principal = state?.principal;
  if (!state || !principal || isRead(state.spec)) return;
  const { platform, spec } = state;
  try {
    await recordAudit(
      { store: platform.store, clock: platform.clock, retentionDays: platform.config.AUDIT_RETENTION_DAYS },
      {
        tenantId: state.target ?? principal.tenantId,
        actor: {
          userId: principal.userId,
          tenantId: principal.tenantId,
          role: principal.role,
          ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
          ...(principal.actor ? { impersonatedBy: principal.actor } : {}),
        },
        action: spec.operationId,
        target: location ?? event.path,
        result:
          status < 400
            ? 'succeeded'
            : status === 401 || status === 403 || status === 404
              ? 'denied'
              : 'failed',
        status,
        ip: event.requestContext.identity?.sourceIp ?? '',
        userAgent: headerValue(event, 'user-agent') ?? '',
        requestId: event.requestIdResolved ?? event.requestContext.requestId,
      },
    );
  } catch (error) {
    logger.error('Audit entry not written', { error: error as Error, action: spec.operationId });
  }
}
