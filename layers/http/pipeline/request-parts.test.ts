import { describe, expect, it } from 'vitest';
import { before, readRoute, usePipelineFixture, writeRoute } from '../../../test/support/pipeline';
import { AppError } from '../../errors/app-error';
import { requestParts } from './request-parts';

/** The requestParts middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: requestParts', () => {
  it('validates query and body, and refuses a body where the route takes none', () => {
    const read = fx.requestFor(readRoute, { query: { limit: '7' } });
    before(requestParts(), read);
    expect(read.event.routed?.query).toEqual({ limit: 7 });
    expect(() => before(requestParts(), fx.requestFor(readRoute, { body: { x: 1 } }))).toThrow(AppError);
    expect(() => before(requestParts(), fx.requestFor(writeRoute, { body: { name: 1 } }))).toThrow(AppError);
  });
});
