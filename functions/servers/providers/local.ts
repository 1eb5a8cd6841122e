import { type HostProvider, type ProviderHost, ProviderTransientError } from './provider';

/**
 * The `local` provider: the local runtime's host service, which starts sandboxed hosts on
 * this machine. It has the shape of a cloud provider's API (create with user data, delete),
 * so the workflow treats it exactly like one.
 */
export function localProvider(endpoint: string): HostProvider {
  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${endpoint.replace(/\/$/, '')}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new ProviderTransientError('The local host service did not answer', { cause });
    }
    if (response.status === 429 || response.status >= 500) {
      throw new ProviderTransientError(`The local host service answered ${response.status}`);
    }
    return response;
  }
  return {
    async createHost(input) {
      const response = await call('POST', '/v1/hosts', input);
      if (response.status !== 201)
        throw new Error(`Host creation refused: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { host: ProviderHost }).host;
    },
    async getHost(hostId) {
      const response = await call('GET', `/v1/hosts/${encodeURIComponent(hostId)}`);
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new Error(`Host lookup refused: ${response.status}`);
      return ((await response.json()) as { host: ProviderHost }).host;
    },
    async hostsLabelled(key, value) {
      const response = await call('GET', `/v1/hosts?label=${encodeURIComponent(`${key}=${value}`)}`);
      if (response.status !== 200) throw new Error(`Host lookup refused: ${response.status}`);
      return ((await response.json()) as { hosts: ProviderHost[] }).hosts;
    },
    async rebootHost(hostId) {
      const response = await call('POST', `/v1/hosts/${encodeURIComponent(hostId)}/reboot`);
      if (response.status !== 202) throw new Error(`Host reboot refused: ${response.status}`);
    },
    async deleteHost(hostId) {
      const response = await call('DELETE', `/v1/hosts/${encodeURIComponent(hostId)}`);
      if (response.status !== 204 && response.status !== 404) {
        throw new Error(`Host deletion refused: ${response.status}`);
      }
    },
  };
}
