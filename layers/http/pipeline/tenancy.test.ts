import { describe, expect, it } from 'vitest';
import { before, problem, readRoute, usePipelineFixture, who } from '../../../test/support/pipeline';
import { tenancy } from './tenancy';

/** The tenancy middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: tenancy', () => {
  it('lets a caller act on its own tenant and a reseller on its customer, and answers 404 otherwise', async () => {
    const own = fx.requestFor(readRoute, { principal: who(fx.customer), tenantId: fx.customer.id });
    await before(tenancy(), own);
    expect(own.event.routed?.target).toBe(fx.customer.id);
    const down = fx.requestFor(readRoute, { principal: who(fx.reseller), tenantId: fx.customer.id });
    await before(tenancy(), down);
    expect(down.event.routed?.target).toBe(fx.customer.id);
    const across = fx.requestFor(readRoute, { principal: who(fx.stranger), tenantId: fx.customer.id });
    await expect(before(tenancy(), across)).rejects.toEqual(problem(404));
    expect(across.event.routed?.target).toBeUndefined();
    const up = fx.requestFor(readRoute, { principal: who(fx.customer), tenantId: fx.reseller.id });
    await expect(before(tenancy(), up)).rejects.toEqual(problem(404));
    const malformed = fx.requestFor(readRoute, { principal: who(fx.customer), tenantId: 'nope' });
    await expect(before(tenancy(), malformed)).rejects.toEqual(problem(400));
  });
});
