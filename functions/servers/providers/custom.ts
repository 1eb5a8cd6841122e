import type { HostProvider } from './provider';

/**
 * `custom`: a machine the customer runs anywhere. There is no provider API: the "host" is
 * the machine that registers with the activation, by running the install command the API
 * shows; deleting it here leaves the machine itself alone (it is the customer's).
 */
export const customProvider = (serverId: string): HostProvider => ({
  async createHost() {
    return { id: `custom-${serverId}`, status: 'creating', ipv4: null };
  },
  async deleteHost() {},
  // the only host is the customer's machine, which is never ours to find or delete
  async hostsLabelled() {
    return [];
  },
  // the machine runs already: it is its agent the workflow waits for
  async getHost(hostId) {
    return { id: hostId, status: 'running', ipv4: null };
  },
});

/**
 * The one line a customer runs as root on its own machine: AWS's documented hybrid-activation
 * setup, which installs the SSM agent and registers it with the activation's code and id.
 */
export function renderInstallCommand(activation: { code: string; id: string; region: string }): string {
  const cli = `https://amazon-ssm-${activation.region}.s3.${activation.region}.amazonaws.com/latest/linux_amd64/ssm-setup-cli`;
  return `curl -fsSL ${cli} -o /tmp/ssm-setup-cli && chmod +x /tmp/ssm-setup-cli && sudo /tmp/ssm-setup-cli -register -activation-code "${activation.code}" -activation-id "${activation.id}" -region "${activation.region}"`;
}
