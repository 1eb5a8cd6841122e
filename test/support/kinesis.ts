import { inject } from 'vitest';
import { ensureStream, kinesisClient } from '../../scripts/local/engines';

/** A client of the run's shared kinesis-local, with a helper that makes a stream and waits for it. */
export async function startKinesisLocal() {
  const client = kinesisClient(inject('engines').kinesis);
  return {
    client,
    createStream: (name: string, shards = 1): Promise<string> => ensureStream(client, name, shards),
    async stop() {
      client.destroy();
    },
  };
}
