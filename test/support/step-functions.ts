import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { serveJsonProtocol } from '../../scripts/local/aws-json-protocol';
import { makeLocalStepFunctions } from '../../scripts/local/step-functions';

const REGION = 'eu-central-1';

/** A state machine's ARN in the test account. */
export const machineArn = (name: string) => `arn:aws:states:${REGION}:000000000000:stateMachine:${name}`;

/**
 * The local Step Functions engine behind its JSON API on a port of its own, running the given
 * definitions, and an SDK client for it: a service under test starts executions as it would in
 * AWS, and the test reads them back with DescribeExecution.
 */
export async function startStepFunctions(machines: Record<string, object>) {
  const engine = makeLocalStepFunctions({
    machines: machines as never,
    resolveTask: (resource) => {
      throw new Error(`no task ${resource} in a service test's state machine`);
    },
    // a Wait state holds its execution running until the test stops the engine
    waitMs: 3_600_000,
    retryIntervalMs: 10,
    log: () => {},
  });
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      void serveJsonProtocol(request, response, body, { AWSStepFunctions: engine.operations });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new SFNClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    client,
    executions: engine.executions,
    async stop() {
      engine.stopAll();
      await engine.settle();
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An SDK client for a Step Functions endpoint where nothing listens: every start fails, as in an outage. */
export const unreachableStepFunctions = () =>
  new SFNClient({
    endpoint: 'http://127.0.0.1:9',
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });

/** A state machine that keeps running, so a test sees what a running workflow holds. */
export const waitingMachine = { StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 60, End: true } } };
