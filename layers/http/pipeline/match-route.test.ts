import { describe, expect, it } from 'vitest';
import { before, probeContext, problem, readRoute, usePipelineFixture } from '../../../test/support/pipeline';
import { matchRoute } from './match-route';
import type { PipelineEvent } from './state';

/** The matchRoute middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: matchRoute', () => {
  it('finds the route by method and resource, or answers 404 for one the context lacks', async () => {
    const request = fx.requestFor(readRoute);
    delete request.event.routed;
    await before(matchRoute(probeContext, { platform: async () => fx.platform }), request);
    const settled = (request.event as PipelineEvent).routed;
    expect(settled?.spec.operationId).toBe('readThing');
    const wrong = fx.requestFor(readRoute);
    wrong.event.httpMethod = 'DELETE';
    await expect(
      before(matchRoute(probeContext, { platform: async () => fx.platform }), wrong),
    ).rejects.toEqual(problem(404));
  });
});
