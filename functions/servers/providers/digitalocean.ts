import { jsonApi } from './http';
import type { CloudProvider, ProviderHost } from './provider';

interface Droplet {
  id: number;
  status: string;
  networks?: { v4?: { ip_address: string; type: string }[] };
}

const toHost = (droplet: Droplet): ProviderHost => ({
  id: String(droplet.id),
  status: droplet.status === 'active' ? 'running' : droplet.status === 'off' ? 'off' : 'creating',
  ipv4: droplet.networks?.v4?.find((n) => n.type === 'public')?.ip_address ?? null,
});

export const DIGITALOCEAN_IMAGE = 'ubuntu-24-04-x64';

/**
 * DigitalOcean API v2 (https://docs.digitalocean.com/reference/api/): Droplets with user
 * data, regions and sizes, Droplet actions. Errors are `{ "id", "message" }`; a 429 carries
 * RateLimit-* headers.
 */
export function digitalOceanProvider(options: { baseUrl: string; token: string }): CloudProvider {
  const call = jsonApi({
    provider: 'DigitalOcean',
    ...options,
    errorMessage: (body) => (body as { message?: string } | undefined)?.message,
  });
  return {
    async listRegions() {
      const { body } = await call<{ regions: { slug: string; name: string; available: boolean }[] }>(
        'GET',
        '/regions?per_page=200',
      );
      return body.regions.filter((r) => r.available).map((r) => ({ id: r.slug, description: r.name }));
    },
    async listSizes() {
      const { body } = await call<{ sizes: { slug: string; description?: string; available: boolean }[] }>(
        'GET',
        '/sizes?per_page=200',
      );
      return body.sizes
        .filter((s) => s.available)
        .map((s) => ({ id: s.slug, description: s.description ?? s.slug }));
    },
    async createHost(input) {
      const { body } = await call<{ droplet: Droplet }>('POST', '/droplets', {
        name: input.name,
        region: input.region,
        size: input.size,
        image: DIGITALOCEAN_IMAGE,
        user_data: input.userData,
        tags: Object.entries(input.labels).map(([k, v]) => `${k}:${v}`),
      });
      return toHost(body.droplet);
    },
    async getHost(hostId) {
      const { status, body } = await call<{ droplet: Droplet }>(
        'GET',
        `/droplets/${encodeURIComponent(hostId)}`,
        undefined,
        (s) => s === 200 || s === 404,
      );
      return status === 404 ? undefined : toHost(body.droplet);
    },
    async hostsLabelled(key, value) {
      const { body } = await call<{ droplets: Droplet[] }>(
        'GET',
        `/droplets?tag_name=${encodeURIComponent(`${key}:${value}`)}&per_page=200`,
      );
      return body.droplets.map(toHost);
    },
    async rebootHost(hostId) {
      // a power cycle, not the graceful reboot a hung kernel would ignore
      await call('POST', `/droplets/${encodeURIComponent(hostId)}/actions`, { type: 'power_cycle' });
    },
    async deleteHost(hostId) {
      await call(
        'DELETE',
        `/droplets/${encodeURIComponent(hostId)}`,
        undefined,
        (s) => s === 204 || s === 404,
      );
    },
    async checkCredentials() {
      await call('GET', '/account');
    },
  };
}
