/** A host at a provider, as the provisioning workflow sees it. */
export interface ProviderHost {
  id: string;
  status: 'creating' | 'running' | 'off';
  ipv4: string | null;
}

/** A transient provider fault (429, 5xx, network): the workflow retries it with backoff. */
export class ProviderTransientError extends Error {
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number | undefined }) {
    super(message, options);
    this.name = 'ProviderTransientError';
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  readonly retryAfterSeconds: number | undefined;
}

/** The provider refused the credentials (401/403): retrying cannot help. */
export class ProviderAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderAuthError';
  }
}

/** The provider refused the request itself (an unknown region or size, a bad name): the caller must change it. */
export class ProviderRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ProviderRequestError';
  }
}

/** A region or size a provider offers. */
export interface ProviderChoice {
  id: string;
  description: string;
}

/** What a cloud provider's client offers beyond creating and deleting: choices, state, reboot, a credentials check. */
export interface CloudProvider extends HostProvider {
  listRegions(): Promise<ProviderChoice[]>;
  listSizes(): Promise<ProviderChoice[]>;
  getHost(hostId: string): Promise<ProviderHost | undefined>;
  /** The provider's reset of a machine (Hetzner reset, DigitalOcean power cycle, Vultr reboot, EC2 reboot). */
  rebootHost(hostId: string): Promise<void>;
  /** Resolves when the provider accepts the credentials; throws ProviderAuthError when it does not. */
  checkCredentials(): Promise<void>;
}

/** What every provider client implements. */
export interface HostProvider {
  createHost(input: {
    name: string;
    region: string;
    size: string;
    userData: string;
    labels: Record<string, string>;
  }): Promise<ProviderHost>;
  /** Deleting a host that is already gone succeeds. */
  deleteHost(hostId: string): Promise<void>;
  /** The host as the provider sees it now; undefined when it is gone. */
  getHost(hostId: string): Promise<ProviderHost | undefined>;
  /** Restarts the host from outside (the provider's reset); a provider without one has none. */
  rebootHost?(hostId: string): Promise<void>;
  /**
   * The hosts carrying this label (not those being deleted): how a retried creation finds a
   * host whose create answer was lost, and how compensation finds every host it made.
   */
  hostsLabelled(key: string, value: string): Promise<ProviderHost[]>;
}

/** The label every host carries with its server's id; the provider's list filter finds a server's hosts by it. */
export const SERVER_LABEL = 'vip-server-id';

/**
 * Deletes the host a server records and every other host the provider holds under the
 * server's label (one made by an attempt whose create answer was lost), except `keep` (an
 * active server's own host). Returns their ids.
 */
export async function deleteServerHosts(
  provider: HostProvider,
  server: { id: string; hostId?: string | undefined },
  { keep }: { keep?: string | undefined } = {},
): Promise<string[]> {
  const ids = new Set<string>(server.hostId ? [server.hostId] : []);
  for (const host of await provider.hostsLabelled(SERVER_LABEL, server.id)) ids.add(host.id);
  if (keep) ids.delete(keep);
  for (const id of ids) await provider.deleteHost(id);
  return [...ids];
}

/**
 * Cloud-init user data that registers the new host with Systems Manager through a hybrid
 * activation; from then on, every change reaches the host as a Run Command document.
 */
export function renderUserData(activation: { code: string; id: string; region: string }): string {
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    '# Register with Systems Manager as a managed instance of this control plane.',
    `amazon-ssm-agent -register -y -code "${activation.code}" -id "${activation.id}" -region "${activation.region}"`,
    'systemctl restart amazon-ssm-agent',
    '',
  ].join('\n');
}
