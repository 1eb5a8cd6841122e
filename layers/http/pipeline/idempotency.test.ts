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
  const keyed = (key: string, body: unknown, principal = who(fx.customer)) => {
    const request = fx.requestFor(writeRoute, {
      principal,
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

  it("keeps each caller's keys its own: another member's or token's same key is another request", async () => {
    const first = keyed('k-shared', { name: 'a' });
    await before(idempotency(), first);
    await first.event.routed?.idempotency?.record({ status: 201, body: { id: 'first members' } });
    for (const other of [
      who(fx.customer, { userId: 'usr_01jdothermemberothermember' }),
      who(fx.customer, { tokenId: 'tok_01jdtokentokentokentokento', scopes: ['servers:write'] }),
    ]) {
      const theirs = keyed('k-shared', { name: 'a' }, other);
      await before(idempotency(), theirs);
      expect(theirs.event.routed?.idempotency?.replay).toBeUndefined();
    }
    const mine = keyed('k-shared', { name: 'a' });
    await before(idempotency(), mine);
    expect(mine.event.routed?.idempotency?.replay).toMatchObject({ body: { id: 'first members' } });
  });
});
