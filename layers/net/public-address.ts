import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { type AgentOptions, Agent as HttpsAgent } from 'node:https';
import { isIP, type LookupFunction, type NetConnectOpts, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The IANA IPv4 and IPv6 Special-Purpose Address Registries, with multicast, the deprecated
 * site-local and IPv4-compatible ranges and the limited broadcast: none of them is a tenant's
 * server on the public internet, and several reach inside the platform's network.
 */
const SPECIAL_PURPOSE = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.31.196.0/24',
  '192.52.193.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '192.175.48.0/24',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/96',
  '::ffff:0:0/96',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  '3fff::/20',
  '5f00::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
].map((cidr) => ipaddr.parseCIDR(cidr));

const LOOPBACK = ['127.0.0.0/8', '::1/128'].map((cidr) => ipaddr.parseCIDR(cidr));

const inAny = (address: ipaddr.IPv4 | ipaddr.IPv6, ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][]) =>
  ranges.some(([network, bits]) => network.kind() === address.kind() && address.match(network, bits));

/**
 * Who the platform may connect to on a tenant's behalf: in AWS, public addresses only; in a
 * local runtime, loopback only (where the local hosts and stand-ins listen), so a check aimed at
 * a private or metadata address is not really sent from a developer's machine either.
 */
export type Reach = 'public' | 'loopback';

/** The reach of a runtime: loopback where the runtime is a local one. */
export const reachOf = (local: boolean): Reach => (local ? 'loopback' : 'public');

/**
 * Whether an address (any form Node or a URL writes: IPv4-mapped IPv6 such as
 * `::ffff:a9fe:a9fe` is judged as the IPv4 address it carries) may be connected to.
 */
export function addressAllowed(address: string, reach: Reach): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return false;
  const parsed = ipaddr.process(bare);
  if (reach === 'loopback') return inAny(parsed, LOOPBACK);
  return !inAny(parsed, SPECIAL_PURPOSE);
}

/** Loopback, private, link-local, shared, reserved and every other special-purpose address (v4 and v6). */
export const isPrivateAddress = (address: string): boolean => !addressAllowed(address, 'public');

const refusedError = (host: string, reach: Reach) =>
  Object.assign(
    new Error(`${host} is not ${reach === 'public' ? 'a public address' : 'a loopback address'}`),
    { code: 'EREFUSEDADDRESS' },
  );

/**
 * A DNS lookup that answers only allowed addresses: the address checked is the address
 * connected to, so a name that resolves elsewhere between a check and a connection (DNS
 * rebinding) cannot reach the platform's network.
 */
export function guardedLookup(reach: Reach): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, found) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const addresses = found as LookupAddress[];
      if (addresses.length === 0 || addresses.some((a) => !addressAllowed(a.address, reach))) {
        callback(refusedError(hostname, reach), '', 0);
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
    });
  };
}

/**
 * Connection options guarded for a reach: an IP literal is judged as it is (Node skips the
 * lookup for one), a name by what it resolves to at connect time.
 */
function guardedConnect(options: NetConnectOpts, reach: Reach): NetConnectOpts | Error {
  const host = String((options as { host?: unknown }).host ?? 'localhost').replace(/^\[|\]$/g, '');
  if (isIP(host)) return addressAllowed(host, reach) ? options : refusedError(host, reach);
  return { ...options, lookup: guardedLookup(reach) };
}

type ConnectCallback = (error: Error | null, socket?: Socket) => void;
type Connect = (options: NetConnectOpts, callback: ConnectCallback) => Socket | undefined;

/** Makes every connection an agent opens pass the guard first. */
function guard<A extends HttpAgent>(agent: A, reach: Reach): A {
  const create = (agent.createConnection as unknown as Connect).bind(agent);
  const guarded: Connect = (options, callback) => {
    const checked = guardedConnect(options, reach);
    if (!(checked instanceof Error)) return create(checked, callback);
    process.nextTick(() => callback(checked));
    return undefined;
  };
  agent.createConnection = guarded as unknown as A['createConnection'];
  return agent;
}

/** An HTTP agent whose every connection is guarded; give it to a request or an SDK's handler. */
export const guardedHttpAgent = (reach: Reach, options: AgentOptions = {}) =>
  guard(new HttpAgent(options), reach);

/** An HTTPS agent whose every connection is guarded. */
export const guardedHttpsAgent = (reach: Reach, options: AgentOptions = {}) =>
  guard(new HttpsAgent(options), reach);

/** The agent for a URL's scheme, guarded. */
export const guardedAgentFor = (url: string, reach: Reach, options: AgentOptions = {}) =>
  url.startsWith('https:') ? guardedHttpsAgent(reach, options) : guardedHttpAgent(reach, options);

/**
 * Resolves a host once and answers the allowed address to connect to (the pinned one), for
 * clients that connect by themselves (SFTP): a refused or unresolvable host throws.
 */
export async function pinnedAddress(host: string, reach: Reach): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) {
    if (!addressAllowed(bare, reach)) throw refusedError(bare, reach);
    return bare;
  }
  return new Promise((resolve, reject) => {
    guardedLookup(reach)(bare, { all: false }, (error, address) => {
      if (error) reject(error);
      else resolve(address as string);
    });
  });
}

/**
 * Why the platform will not reach a URL's host, if it will not: an allowed address after DNS
 * resolution, whatever the scheme (an uptime check may watch plain HTTP). Checked when an
 * endpoint is given, for the caller's sake; every connection is checked again as it is made.
 */
export async function refusedAddress(endpoint: string, local: boolean): Promise<string | undefined> {
  const reach = reachOf(local);
  try {
    await pinnedAddress(new URL(endpoint).hostname, reach);
    return undefined;
  } catch (error) {
    if ((error as { code?: string }).code === 'EREFUSEDADDRESS') {
      return reach === 'public' ? 'The endpoint is not a public address' : 'The endpoint is not on loopback';
    }
    return 'The endpoint does not resolve';
  }
}

/**
 * Why the platform will not reach an endpoint a tenant gave (backup storage, a webhook), if it
 * will not: only HTTPS in AWS (a local runtime's stand-ins speak plain HTTP), and only allowed
 * addresses.
 */
export async function refusedEndpoint(endpoint: string, local: boolean): Promise<string | undefined> {
  if (!local && new URL(endpoint).protocol !== 'https:') return 'Only https:// endpoints';
  return refusedAddress(endpoint, local);
}
