import { describe, expect, it } from 'vitest';
import {
  before,
  onError,
  problem,
  usePipelineFixture,
  who,
  writeRoute,
} from '../../../test/support/pipeline';
import { AppError } from '../../errors/app-error';
import { idempotency } from './idempotency';

/** The idempotency middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: idempotency', () => {
  const keyed = (key: string, body: unknown) => {
    const request = fx.requestFor(writeRoute, {
      principal: who(fx.customer),
      tenantId: fx.customer.id,
      body,
      headers: { 'Idempotency-Key': key },
    });
    if (request.event.routed) request.event.routed.target = fx.customer.id;
    return request;
  };

  it('replays the first answer, refuses another body and a retry while the first runs', async () => {
    const first = keyed('k-1', { name: 'a' });
    await before(idempotency(), first);
    expect(first.event.routed?.idempotency?.replay).toBeUndefined();
    await expect(before(idempotency(), keyed('k-1', { name: 'a' }))).rejects.toEqual(problem(409));
    await first.event.routed?.idempotency?.record({ status: 201, body: { id: 'x' } });
    const again = keyed('k-1', { name: 'a' });
    await before(idempotency(), again);
    expect(again.event.routed?.idempotency?.replay).toMatchObject({ status: 201, body: { id: 'x' } });
    await expect(before(idempotency(), keyed('k-1', { name: 'b' }))).rejects.toEqual(problem(422));
  });

  it('frees the key of a request that failed, and of one that crashed once its time is up', async () => {
    const failed = keyed('k-2', { name: 'a' });
    await before(idempotency(), failed);
    failed.error = new AppError('conflict', 409, 'Conflict');
    await onError(idempotency(), failed);
    await expect(before(idempotency(), keyed('k-2', { name: 'a' }))).resolves.toBeUndefined();

    // a request that crashed never settles its key: a retry within its time still waits...
    await before(idempotency(), keyed('k-3', { name: 'a' }));
    await expect(before(idempotency(), keyed('k-3', { name: 'a' }))).rejects.toEqual(problem(409));
    // ...and after it takes the key over, once
    fx.later(61_000);
    const retry = keyed('k-3', { name: 'a' });
    await before(idempotency(), retry);
    expect(retry.event.routed?.idempotency?.replay).toBeUndefined();
    await expect(before(idempotency(), keyed('k-3', { name: 'a' }))).rejects.toEqual(problem(409));
  });
});
