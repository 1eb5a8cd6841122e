import { describe, expect, it } from 'vitest';
import { isPrivateAddress, refusedEndpoint } from './public-address';

/** Tenants' endpoints (backup storage, webhooks) are reached from inside the platform: only public HTTPS ones (SSRF). */
describe("Tenants' endpoints", () => {
  it('tells private, loopback, link-local and shared addresses from public ones', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.5',
      '172.16.3.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['203.0.113.5', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:1.1.1.1']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });

  it('refuses plain HTTP and private targets in AWS, and allows them to a local runtime', async () => {
    expect(await refusedEndpoint('http://203.0.113.5', false)).toBe('Only https:// endpoints');
    expect(await refusedEndpoint('https://169.254.169.254/latest', false)).toBe(
      'The endpoint is not a public address',
    );
    expect(await refusedEndpoint('https://[::1]:9000', false)).toBe('The endpoint is not a public address');
    // a name is judged by what it resolves to
    expect(await refusedEndpoint('https://localhost:9000', false)).toBe(
      'The endpoint is not a public address',
    );
    expect(await refusedEndpoint('https://203.0.113.5', false)).toBeUndefined();
    expect(await refusedEndpoint('http://127.0.0.1:9000', true)).toBeUndefined();
  });
});
