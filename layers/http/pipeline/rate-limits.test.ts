import { describe, expect, it } from 'vitest';
import {
  after,
  before,
  hookRoute,
  onError,
  problem,
  signInRoute,
  usePipelineFixture,
} from '../../../test/support/pipeline';
import { AppError } from '../../errors/app-error';
import { rateLimits } from './rate-limits';

/** The rateLimits middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: rateLimits', () => {
  it('counts a sign-in per address, puts the headers on the answer and on a refusal, and refuses past the limit', async () => {
    const ip = '198.51.100.77';
    const first = fx.requestFor(signInRoute, { body: { email: 'a@example.com' }, ip });
    await before(rateLimits(), first);
    first.response = { statusCode: 200, headers: {}, body: '' };
    await after(rateLimits(), first);
    expect(first.response.headers).toMatchObject({ 'RateLimit-Limit': '2', 'RateLimit-Remaining': '1' });
    const second = fx.requestFor(signInRoute, { body: { email: 'a@example.com' }, ip });
    await before(rateLimits(), second);
    second.error = new AppError('invalid-credentials', 401, 'Invalid credentials');
    await onError(rateLimits(), second);
    expect((second.error as AppError).headers).toMatchObject({ 'RateLimit-Remaining': '0' });
    const third = fx.requestFor(signInRoute, { body: { email: 'a@example.com' }, ip });
    await before(rateLimits(), third);
    await expect(Promise.all(third.event.routed?.checks ?? [])).rejects.toEqual(problem(429));
  });

  it('counts a public hook per calling address, in the partition of the tenant its path names', async () => {
    const tenantId = 'ten_01jh0000000000000000000hk1';
    const call = async (ip: string) => {
      const request = fx.requestFor(hookRoute, { tenantId, ip });
      await before(rateLimits(), request);
      return Promise.all(request.event.routed?.checks ?? []);
    };
    await call('203.0.113.5');
    await call('203.0.113.5');
    await expect(call('203.0.113.5')).rejects.toEqual(problem(429));
    // another address has its own count
    await expect(call('203.0.113.6')).resolves.toBeDefined();
  });

  it("counts each sign-in route apart, so reset requests never use up an email's logins", async () => {
    const ip = '198.51.100.78';
    const resetRoute = {
      ...signInRoute,
      operationId: 'requestPasswordReset',
    } as unknown as typeof signInRoute;
    const send = async (spec: typeof signInRoute) => {
      const request = fx.requestFor(spec, { body: { email: 'victim@example.com' }, ip });
      await before(rateLimits(), request);
      return Promise.all(request.event.routed?.checks ?? []);
    };
    await send(resetRoute);
    await send(resetRoute);
    await expect(send(resetRoute)).rejects.toEqual(problem(429));
    // the logins from the same address and for the same email are untouched
    await expect(send(signInRoute)).resolves.toBeDefined();
  });
});
