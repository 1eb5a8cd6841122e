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

/** Where AWS publishes the hybrid-activation setup tool for a region. */
export const awsSetupCliUrl = (region: string) =>
  `https://amazon-ssm-${region}.s3.${region}.amazonaws.com/latest/linux_amd64/ssm-setup-cli`;

/**
 * The one line a customer runs on its own machine: AWS's documented hybrid-activation setup,
 * which installs the SSM agent and registers it with the activation's code and id. It runs
 * the tool through sudo where there is one (`$(command -v sudo)` is empty for a root shell
 * without it). `cliUrl` is AWS's tool, or the local runtime's stand-in for it.
 */
export function renderInstallCommand(
  activation: { code: string; id: string; region: string },
  cliUrl = awsSetupCliUrl(activation.region),
): string {
  return `f="$(mktemp)" && curl -fsSL '${cliUrl}' -o "$f" && chmod +x "$f" && $(command -v sudo) "$f" -register -activation-code "${activation.code}" -activation-id "${activation.id}" -region "${activation.region}"`;
}
