import { describe, expect, it } from 'vitest';
import { before, readRoute, usePipelineFixture, who } from '../../../test/support/pipeline';
import { principalCodec } from '../../auth/tokens';
import { AppError } from '../../errors/app-error';
import { principal } from './principal';

/** The principal middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: principal', () => {
  it("decodes the authorizer's principal and answers 401 to a malformed one", async () => {
    const request = fx.requestFor(readRoute);
    request.event.requestContext.authorizer = principalCodec.encode(
      who(fx.customer, { tokenId: 'tok_1', scopes: ['servers:read'] }),
    );
    await before(principal(), request);
    expect(request.event.routed?.principal).toMatchObject({
      tenantId: fx.customer.id,
      tokenId: 'tok_1',
      scopes: ['servers:read'],
    });
    const forged = fx.requestFor(readRoute);
    forged.event.requestContext.authorizer = { tenantId: fx.customer.id, userId: 'u', role: 'root' };
    expect(() => before(principal(), forged)).toThrow(AppError);
  });
});
