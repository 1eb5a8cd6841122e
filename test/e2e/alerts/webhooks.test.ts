import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { closeReceivers, deliver, receiver, sample, server } from '../../support/alerts';
import { apiClient, eventually, signUp, startTestRuntime } from '../../support/runtime';

/**
 * Alert webhooks through the local SQS queue, with the queue's visibility, retries and
 * dead-letter queue as in AWS; apart from the other alert tests so its waits run beside them.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  // retries after 1 s, 2 s, 4 s, 8 s (30 s, 60 s, … in AWS)
  runtime = await startTestRuntime({ webhookRetryBaseSeconds: 1 });
  api = apiClient(runtime.url);
  owner = await signUp(api, 'webhooks-owner@example.com');
});
afterAll(async () => {
  closeReceivers();
  await runtime?.stop();
});

describe('Feature: alert webhooks', () => {
  it('retries a webhook that answers 500 twice with growing delays, and puts one that always fails in the DLQ', async () => {
    const flaky = await receiver([500, 500]);
    const broken = await receiver(Array.from({ length: 20 }, () => 500));
    const web = await server(owner.tenantId, 'web-3', []);
    await api.call('POST', `/v1/tenants/${owner.tenantId}/alert-rules`, {
      token: owner.token,
      body: {
        name: 'Load',
        metric: 'load1',
        comparison: '>',
        threshold: 0.1,
        forSeconds: 0,
        scope: { kind: 'server', serverId: web },
        webhooks: [{ url: flaky.url }, { url: broken.url }],
      },
    });
    await deliver(runtime, [sample(owner.tenantId, web, 800, 10)]);
    await eventually(async () => (flaky.received.length === 3 ? true : undefined), 20_000, 'the third try');
    const [first, second, third] = flaky.received.map((r) => r.at);
    // the base delay is 1 s, doubled: about 1 s, then 2 s
    expect((second as number) - (first as number)).toBeGreaterThanOrEqual(900);
    expect((third as number) - (second as number)).toBeGreaterThanOrEqual(1900);
    expect(new Set(flaky.received.map((r) => r.body)).size).toBe(1);
    await eventually(
      async () => (runtime.webhooks.bodies(runtime.webhooks.deadLetterUrl).length === 1 ? true : undefined),
      40_000,
      'the dead-letter queue',
    );
    expect(broken.received).toHaveLength(5);
    expect(JSON.parse(runtime.webhooks.bodies(runtime.webhooks.deadLetterUrl)[0] ?? '{}').url).toBe(
      broken.url,
    );
    expect(runtime.webhooks.bodies(runtime.webhooks.queueUrl)).toEqual([]);
  }, 60_000);
});
