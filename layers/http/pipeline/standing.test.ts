import { describe, expect, it } from 'vitest';
import { before, problem, readRoute, usePipelineFixture, who } from '../../../test/support/pipeline';
import { AppError } from '../../errors/app-error';
import { tenantKeys } from '../../model/tenants';
import { standing } from './standing';

/** The standing middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: standing', () => {
  it("refuses a suspended tenant's callers, and a password-only session where 2FA is required", async () => {
    await fx.store.update(tenantKeys.item(fx.stranger.id), { status: 'suspended' });
    const suspended = fx.requestFor(readRoute, { principal: who(fx.stranger) });
    await before(standing(), suspended);
    await expect(Promise.all(suspended.event.routed?.checks ?? [])).rejects.toEqual(
      problem(403, 'tenant-suspended'),
    );
    await fx.store.update(tenantKeys.item(fx.stranger.id), { status: 'active', requireTwoFactor: true });
    const passwordOnly = fx.requestFor(readRoute, { principal: who(fx.stranger) });
    await before(standing(), passwordOnly);
    await expect(Promise.all(passwordOnly.event.routed?.checks ?? [])).rejects.toBeInstanceOf(AppError);
    const withCode = fx.requestFor(readRoute, { principal: who(fx.stranger, { twoFactor: true }) });
    await before(standing(), withCode);
    await expect(Promise.all(withCode.event.routed?.checks ?? [])).resolves.toBeDefined();
    await fx.store.update(tenantKeys.item(fx.stranger.id), { requireTwoFactor: false });
  });
});
