import { describe, expect, it } from 'vitest';
import { before, problem, readRoute, usePipelineFixture, writeRoute } from '../../../test/support/pipeline';
import { AppError } from '../../errors/app-error';
import { admission } from './admission';

/** The admission middleware alone, against DynamoDB Local: a request as middy hands it over, one call. */
const fx = usePipelineFixture();

describe('Middleware: admission', () => {
  it('holds a write until its checks pass, and lets a read go on', async () => {
    const failing = () => {
      const refused = Promise.reject(new AppError('tenant-suspended', 403, 'Suspended'));
      refused.catch(() => undefined);
      return refused;
    };
    const write = fx.requestFor(writeRoute);
    write.event.routed?.checks.push(failing());
    await expect(before(admission(), write)).rejects.toEqual(problem(403));
    const read = fx.requestFor(readRoute);
    read.event.routed?.checks.push(failing());
    await expect(before(admission(), read)).resolves.toBeUndefined();
  });
});
