import { getConfig } from '../config/config';

/** Memoizes a factory so each client is built once per process, on first use. */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/** What every client is built with: the region, retries, and a local endpoint where one is set. */
export const base = (endpoint: string | undefined) => ({
  region: getConfig().AWS_REGION,
  maxAttempts: 3,
  ...(endpoint ? { endpoint } : {}),
});
