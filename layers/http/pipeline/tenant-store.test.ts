import { describe, expect, it } from 'vitest';
import { before, probeContext, readRoute, usePipelineFixture } from '../../../test/support/pipeline';
import { tenantStore } from './tenant-store';

/** The tenantStore middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: tenantStore', () => {
  it('gives a tenant-scoped context the store of the tenant in the path', () => {
    const request = fx.requestFor(readRoute);
    if (request.event.routed) request.event.routed.target = fx.customer.id;
    before(tenantStore(), request);
    expect(fx.scopedStores.at(-1)).toBe(fx.customer.id);
    const platformWide = fx.requestFor(readRoute);
    if (platformWide.event.routed) {
      platformWide.event.routed.target = fx.customer.id;
      platformWide.event.routed.context = {
        ...probeContext,
        data: { scope: 'platform', reason: 'a test of it' },
      };
    }
    const before_ = fx.scopedStores.length;
    before(tenantStore(), platformWide);
    expect(fx.scopedStores).toHaveLength(before_);
    expect(platformWide.event.routed?.store).toBe(fx.store);
  });
});
