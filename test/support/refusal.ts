import { AppError } from '../../layers/errors/app-error';

/** How a service call answered: 200 when it went through, else the refusal's status, field and detail. */
export interface Refusal {
  status: number;
  path?: string | undefined;
  detail?: string | undefined;
}

/**
 * What a service call refused with, as its route would answer: the problem's status, the first
 * field it names and its detail. An error that is not a refusal (a bug) fails the test.
 */
export const refusal = (promise: Promise<unknown>): Promise<Refusal> =>
  promise.then(
    () => ({ status: 200 }),
    (error: unknown) => {
      if (!(error instanceof AppError)) throw error;
      return { status: error.status, path: error.errors?.[0]?.path, detail: error.detail };
    },
  );
