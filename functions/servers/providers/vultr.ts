import { jsonApi } from './http';
import type { CloudProvider, ProviderHost } from './provider';

interface VultrInstance {
  id: string;
  status: string;
  power_status: string;
  main_ip?: string;
}

const toHost = (instance: VultrInstance): ProviderHost => ({
  id: instance.id,
  status:
    instance.status === 'active' && instance.power_status === 'running'
      ? 'running'
      : instance.power_status === 'stopped'
        ? 'off'
        : 'creating',
  ipv4: instance.main_ip && instance.main_ip !== '0.0.0.0' ? instance.main_ip : null,
});

/** Ubuntu 24.04 x64 in Vultr's OS list. */
export const VULTR_OS_ID = 2284;

/**
 * Vultr API v2 (https://www.vultr.com/api/): instances with base64 user data, regions and
 * plans, reboot. Errors are `{ "error", "status" }`; past its rate limit it answers 429.
 */
export function vultrProvider(options: { baseUrl: string; token: string }): CloudProvider {
  const call = jsonApi({
    provider: 'Vultr',
    ...options,
    errorMessage: (body) => (body as { error?: string } | undefined)?.error,
  });
  return {
    async listRegions() {
      const { body } = await call<{ regions: { id: string; city: string; country: string }[] }>(
        'GET',
        '/regions?per_page=500',
      );
      return body.regions.map((r) => ({ id: r.id, description: `${r.city}, ${r.country}` }));
    },
    async listSizes() {
      const { body } = await call<{ plans: { id: string; vcpu_count: number; ram: number; disk: number }[] }>(
        'GET',
        '/plans?per_page=500',
      );
      return body.plans.map((p) => ({
        id: p.id,
        description: `${p.vcpu_count} vCPU, ${p.ram} MB, ${p.disk} GB`,
      }));
    },
    async createHost(input) {
      const { body } = await call<{ instance: VultrInstance }>('POST', '/instances', {
        region: input.region,
        plan: input.size,
        os_id: VULTR_OS_ID,
        label: input.name,
        hostname: input.name,
        user_data: Buffer.from(input.userData, 'utf8').toString('base64'),
        tags: Object.entries(input.labels).map(([k, v]) => `${k}:${v}`),
      });
      return toHost(body.instance);
    },
    async getHost(hostId) {
      const { status, body } = await call<{ instance: VultrInstance }>(
        'GET',
        `/instances/${encodeURIComponent(hostId)}`,
        undefined,
        (s) => s === 200 || s === 404,
      );
      return status === 404 ? undefined : toHost(body.instance);
    },
    async hostsLabelled(key, value) {
      const { body } = await call<{ instances: VultrInstance[] }>(
        'GET',
        `/instances?tag=${encodeURIComponent(`${key}:${value}`)}&per_page=500`,
      );
      return body.instances.map(toHost);
    },
    async rebootHost(hostId) {
      await call('POST', `/instances/${encodeURIComponent(hostId)}/reboot`);
    },
    async deleteHost(hostId) {
      await call(
        'DELETE',
        `/instances/${encodeURIComponent(hostId)}`,
        undefined,
        (s) => s === 204 || s === 404,
      );
    },
    async checkCredentials() {
      await call('GET', '/account');
    },
  };
}
