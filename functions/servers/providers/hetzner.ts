import { jsonApi } from './http';
import type { CloudProvider, ProviderHost } from './provider';

interface HetznerServer {
  id: number;
  status: string;
  public_net?: { ipv4?: { ip?: string } | null };
}

/** Hetzner Cloud server statuses, as the workflow sees them. */
const statusOf = (status: string): ProviderHost['status'] =>
  status === 'running' ? 'running' : status === 'off' || status === 'stopping' ? 'off' : 'creating';

const toHost = (server: HetznerServer): ProviderHost => ({
  id: String(server.id),
  status: statusOf(server.status),
  ipv4: server.public_net?.ipv4?.ip ?? null,
});

/** The image every host starts from; the bootstrap document does the rest. */
export const HETZNER_IMAGE = 'ubuntu-24.04';

/**
 * Hetzner Cloud (https://docs.hetzner.cloud): servers with cloud-init user data, locations
 * and server types, power actions. Errors are `{ "error": { "code", "message" } }`; a 429
 * carries RateLimit-* headers.
 */
export function hetznerProvider(options: { baseUrl: string; token: string }): CloudProvider {
  const call = jsonApi({
    provider: 'Hetzner Cloud',
    ...options,
    errorMessage: (body) => (body as { error?: { message?: string } } | undefined)?.error?.message,
  });
  return {
    async listRegions() {
      const { body } = await call<{ locations: { name: string; description: string }[] }>(
        'GET',
        '/locations',
      );
      return body.locations.map((l) => ({ id: l.name, description: l.description }));
    },
    async listSizes() {
      const { body } = await call<{
        server_types: { name: string; description: string; deprecated?: boolean }[];
      }>('GET', '/server_types?per_page=50');
      return body.server_types
        .filter((t) => !t.deprecated)
        .map((t) => ({ id: t.name, description: t.description }));
    },
    async createHost(input) {
      const { body } = await call<{ server: HetznerServer }>('POST', '/servers', {
        name: input.name,
        server_type: input.size,
        location: input.region,
        image: HETZNER_IMAGE,
        user_data: input.userData,
        labels: input.labels,
        start_after_create: true,
      });
      return toHost(body.server);
    },
    async getHost(hostId) {
      const { status, body } = await call<{ server: HetznerServer }>(
        'GET',
        `/servers/${encodeURIComponent(hostId)}`,
        undefined,
        (s) => s === 200 || s === 404,
      );
      return status === 404 ? undefined : toHost(body.server);
    },
    async hostsLabelled(key, value) {
      const selector = encodeURIComponent(`${key}==${value}`);
      const { body } = await call<{ servers: HetznerServer[] }>(
        'GET',
        `/servers?label_selector=${selector}&per_page=50`,
      );
      return body.servers.filter((server) => server.status !== 'deleting').map(toHost);
    },
    async rebootHost(hostId) {
      // a reset, not the ACPI reboot a hung kernel would ignore
      await call('POST', `/servers/${encodeURIComponent(hostId)}/actions/reset`);
    },
    async deleteHost(hostId) {
      await call(
        'DELETE',
        `/servers/${encodeURIComponent(hostId)}`,
        undefined,
        (s) => (s >= 200 && s < 300) || s === 404,
      );
    },
    async checkCredentials() {
      await call('GET', '/servers?per_page=1');
    },
  };
}
