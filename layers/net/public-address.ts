import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

/** Loopback, private, link-local, carrier-grade NAT and unspecified addresses (v4 and v6). */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
    if (mapped) return isPrivateAddress(mapped);
    return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
  }
  const [a = 0, b = 0] = address.split('.').map(Number);
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168)
  );
}

/**
 * Why the platform will not reach an endpoint a tenant gave (backup storage, a webhook), if it
 * will not: only HTTPS, and only public addresses after DNS resolution (the Lambdas that reach
 * it sit inside the platform's network), unless the runtime is a local one, whose endpoints are
 * on this machine.
 */
export async function refusedEndpoint(endpoint: string, local: boolean): Promise<string | undefined> {
  if (local) return undefined;
  if (new URL(endpoint).protocol !== 'https:') return 'Only https:// endpoints';
  return refusedAddress(endpoint, local);
}

/**
 * Why the platform will not reach a URL's host, if it will not: only public addresses after DNS
 * resolution, whatever the scheme (an uptime check may watch plain HTTP), unless the runtime is
 * a local one.
 */
export async function refusedAddress(endpoint: string, local: boolean): Promise<string | undefined> {
  if (local) return undefined;
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await lookup(host, { all: true }).then(
        (found) => found.map((a) => a.address),
        () => [],
      );
  if (addresses.length === 0) return 'The endpoint does not resolve';
  if (addresses.some(isPrivateAddress)) return 'The endpoint is not a public address';
  return undefined;
}

/**
 * A DNS lookup that refuses private, loopback and link-local addresses: the address checked is
 * the address connected to, so a name that resolves elsewhere between a check and the request
 * (DNS rebinding) cannot reach the platform's network.
 */
export function publicOnlyLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, found) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const addresses = found as LookupAddress[];
      const refused = !allowPrivate && addresses.some((a) => isPrivateAddress(a.address));
      if (refused || addresses.length === 0) {
        const reason = Object.assign(new Error(`${hostname} is not a public address`), {
          code: 'EREFUSEDADDRESS',
        });
        callback(reason, '', 0);
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
    });
  };
}
