import { describe, expect, it } from 'vitest';
import {
  after,
  onError,
  readRoute,
  usePipelineFixture,
  who,
  writeRoute,
} from '../../../test/support/pipeline';
import type { AuditItem } from '../../audit/audit';
import { AppError } from '../../errors/app-error';
import { auditKeys } from '../../model/audit-log';
import { audit } from './audit';

/** The audit middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: audit', () => {
  const entries = async (tenantId: string) =>
    (await fx.store.query<AuditItem>({ pk: auditKeys.partition(tenantId), limit: 100, tenantId, scope: 't' }))
      .items;

  it("records a write in the audit log of the tenant acted on, a refused one in the caller's, and no read", async () => {
    const write = fx.requestFor(writeRoute, { principal: who(fx.reseller), tenantId: fx.customer.id });
    if (write.event.routed) write.event.routed.target = fx.customer.id;
    write.response = { statusCode: 201, headers: { Location: '/v1/tenants/x/things/1' }, body: '' };
    await after(audit(), write);
    expect(await entries(fx.customer.id)).toEqual([
      expect.objectContaining({
        action: 'makeThing',
        status: 201,
        result: 'succeeded',
        target: '/v1/tenants/x/things/1',
      }),
    ]);
    const refused = fx.requestFor(writeRoute, { principal: who(fx.stranger), tenantId: fx.customer.id });
    refused.error = new AppError('not-found', 404, 'Not found');
    await onError(audit(), refused);
    expect(await entries(fx.stranger.id)).toEqual([
      expect.objectContaining({ status: 404, result: 'denied' }),
    ]);
    const read = fx.requestFor(readRoute, { principal: who(fx.customer), tenantId: fx.customer.id });
    read.response = { statusCode: 200, headers: {}, body: '' };
    await after(audit(), read);
    expect(await entries(fx.customer.id)).toHaveLength(1);
  });
});
