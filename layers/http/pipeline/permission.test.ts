import { describe, expect, it } from 'vitest';
import { before, usePipelineFixture, who, writeRoute } from '../../../test/support/pipeline';
import type { AppError } from '../../errors/app-error';
import { permission } from './permission';

/** The permission middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: permission', () => {
  it('names the scope a token lacks', () => {
    const request = fx.requestFor(writeRoute, {
      principal: who(fx.customer, { tokenId: 'tok_1', scopes: ['servers:read'] }),
    });
    expect(() => before(permission(), request)).toThrow('Forbidden');
    try {
      before(permission(), request);
    } catch (error) {
      expect((error as AppError).detail).toBe('This API token lacks the scope servers:write.');
    }
    expect(() =>
      before(permission(), fx.requestFor(writeRoute, { principal: who(fx.customer) })),
    ).not.toThrow();
  });
});
