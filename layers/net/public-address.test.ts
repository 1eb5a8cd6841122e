import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addressAllowed,
  guardedAgentFor,
  isPrivateAddress,
  pinnedAddress,
  refusedAddress,
  refusedEndpoint,
} from './public-address';

/** Tenants' endpoints (backup storage, webhooks, uptime checks) are reached from inside the platform (SSRF). */
describe('Guard: outgoing connections', () => {
  it('tells private, loopback, link-local, shared and other special-purpose addresses from public ones', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.5',
      '172.16.3.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '192.0.0.8',
      '198.18.0.1',
      '198.19.255.254',
      '240.0.0.1',
      '255.255.255.255',
      '224.0.0.1',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      'fec0::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      // what a URL makes of [::ffff:169.254.169.254]
      '::ffff:a9fe:a9fe',
      '[::ffff:a9fe:a9fe]',
      '64:ff9b::a9fe:a9fe',
      '2002:a9fe:a9fe::1',
      '2001:db8::1',
      'not an address',
    ]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:1.1.1.1']) {
      expect(isPrivateAddress(address), address).toBe(false);
    }
  });

  it('judges an IPv4 address and its IPv4-mapped IPv6 forms alike', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
        const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        for (const mapped of [`::ffff:${v4}`, `::ffff:${hex}`, `0:0:0:0:0:ffff:${hex}`]) {
          expect(addressAllowed(mapped, 'public'), mapped).toBe(addressAllowed(v4, 'public'));
          expect(addressAllowed(mapped, 'loopback'), mapped).toBe(addressAllowed(v4, 'loopback'));
        }
      }),
    );
  });

  it('lets a local runtime reach loopback and nothing else', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect(addressAllowed(address, 'loopback'), address).toBe(true);
    }
    for (const address of [
      '10.0.0.5',
      '169.254.169.254',
      '192.168.1.1',
      '93.184.215.14',
      '::ffff:a9fe:a9fe',
    ]) {
      expect(addressAllowed(address, 'loopback'), address).toBe(false);
    }
  });

  it('refuses plain HTTP and special-purpose targets in AWS, and anything off loopback locally', async () => {
    expect(await refusedEndpoint('http://93.184.215.14', false)).toBe('Only https:// endpoints');
    for (const url of [
      'https://169.254.169.254/latest',
      'https://[::ffff:169.254.169.254]/',
      'https://[::ffff:a9fe:a9fe]/',
      'https://[64:ff9b::a9fe:a9fe]/',
      'https://[::1]:9000',
      'https://0x7f.1/',
      'https://2130706433/',
      // a name is judged by what it resolves to
      'https://localhost:9000',
    ]) {
      expect(await refusedEndpoint(url, false), url).toBe('The endpoint is not a public address');
    }
    expect(await refusedEndpoint('https://93.184.215.14', false)).toBeUndefined();
    expect(await refusedEndpoint('http://127.0.0.1:9000', true)).toBeUndefined();
    expect(await refusedEndpoint('http://localhost:9000', true)).toBeUndefined();
    expect(await refusedAddress('http://169.254.169.254/', true)).toBe('The endpoint is not on loopback');
    expect(await refusedAddress('http://[::ffff:a9fe:a9fe]/', true)).toBe('The endpoint is not on loopback');
    expect(await refusedAddress('http://93.184.215.14/', true)).toBe('The endpoint is not on loopback');
  });

  it('pins an SFTP host to the address it resolves to, and refuses one out of reach', async () => {
    expect(await pinnedAddress('127.0.0.1', 'loopback')).toBe('127.0.0.1');
    expect(['127.0.0.1', '::1']).toContain(await pinnedAddress('localhost', 'loopback'));
    await expect(pinnedAddress('localhost', 'public')).rejects.toMatchObject({ code: 'EREFUSEDADDRESS' });
    await expect(pinnedAddress('::ffff:7f00:1', 'public')).rejects.toMatchObject({ code: 'EREFUSEDADDRESS' });
  });

  describe('at connect time', () => {
    let server: Server;
    let port = 0;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((_request, response) => response.end('inside'));
      server.on('connection', () => {
        connections += 1;
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const fetchThrough = (url: string, reach: 'public' | 'loopback') =>
      new Promise<{ status?: number; code?: string }>((resolve) => {
        get(url, { agent: guardedAgentFor(url, reach) }, (response) => {
          response.resume();
          resolve({ ...(response.statusCode ? { status: response.statusCode } : {}) });
        }).on('error', (error) => resolve({ code: (error as { code?: string }).code ?? error.message }));
      });

    it('refuses an IP literal, however written, before any packet leaves', async () => {
      const before = connections;
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '2130706433', '0x7f.0.0.1']) {
        expect(await fetchThrough(`http://${host}:${port}/`, 'public'), host).toEqual({
          code: 'EREFUSEDADDRESS',
        });
      }
      expect(connections).toBe(before);
    });

    it('refuses a name that resolves to a refused address when the connection is made', async () => {
      const before = connections;
      expect(await fetchThrough(`http://localhost:${port}/`, 'public')).toEqual({ code: 'EREFUSEDADDRESS' });
      expect(connections).toBe(before);
    });

    it('connects within reach', async () => {
      expect(await fetchThrough(`http://127.0.0.1:${port}/`, 'loopback')).toEqual({ status: 200 });
      expect(await fetchThrough(`http://[::ffff:127.0.0.1]:${port}/`, 'loopback')).toEqual({ status: 200 });
    });
  });
});
