import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerWhileStarting, decodedSegment } from './gateway';

/** The API's port is bound before the runtime is ready: what a client polling it meanwhile gets. */
describe('Local gateway: while the runtime starts', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers 503 with Retry-After until the gateway serves, then only the gateway answers', async () => {
    const stop = answerWhileStarting(server);
    const early = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2_000) });
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('1');
    expect(early.headers.get('content-type')).toBe('application/problem+json');
    expect(await early.json()).toMatchObject({ status: 503, title: 'Starting', instance: '/v1/health' });
    stop();
    server.on('request', (_request, response) => response.end('ready'));
    const ready = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2_000) });
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready');
  });
});

describe('Local gateway: path parameters', () => {
  it('decodes percent-encoding, and hands on a segment that is not valid encoding as it came', () => {
    expect(decodedSegment('srv_01j%2Fx')).toBe('srv_01j/x');
    expect(decodedSegment('%ZZ')).toBe('%ZZ');
    expect(decodedSegment('%E0%A4%A')).toBe('%E0%A4%A');
  });
});
