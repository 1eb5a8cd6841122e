/** A host at a provider, as the provisioning workflow sees it. */
export interface ProviderHost {
  id: string;
  status: 'creating' | 'running' | 'off';
  ipv4: string | null;
}

/** A transient provider fault (429, 5xx, network): the workflow retries it with backoff. */
export class ProviderTransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderTransientError';
  }
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
