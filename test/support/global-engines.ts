import type { TestProject } from 'vitest/node';
import { startDynamoDbEngine, startKinesisEngine } from '../../scripts/local/engines';

declare module 'vitest' {
  export interface ProvidedContext {
    /** endpoints of the engines every test file shares; each file makes its own table and streams */
    engines: { dynamodb: string; kinesis: string };
  }
}

/**
 * Starts DynamoDB Local and kinesis-local once for the whole run: test files share the
 * engines and keep apart by table and stream name, so none waits for a JVM of its own.
 */
export default async function setup(project: TestProject) {
  const [dynamodb, kinesis] = await Promise.all([
    startDynamoDbEngine(),
    // one engine for every test file, each with a stream of its own: more shards than one account's 50
    startKinesisEngine({ createStreamMs: 50, shardLimit: 1000 }),
  ]);
  project.provide('engines', { dynamodb: dynamodb.endpoint, kinesis: kinesis.endpoint });
  return async () => {
    await Promise.all([dynamodb.stop(), kinesis.stop()]);
  };
}
