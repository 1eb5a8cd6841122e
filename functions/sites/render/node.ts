import type { RenderInput } from './layout';
import { siteServiceUnit } from './settings';

export const nodeUnitName = (user: string) => `vip-${user}`;
export const nodeUnitPath = (user: string) => `/etc/systemd/system/${nodeUnitName(user)}.service`;

/**
 * A Node.js site's systemd unit: its start command run by the site's user from its app folder,
 * with the server's Node.js major first on the PATH, restarted when it dies.
 */
export function renderNodeUnit(input: RenderInput): string {
  const { spec, layout } = input;
  const node = spec.node ?? { version: '20', startCommand: 'npm start', port: 3000 };
  return siteServiceUnit(input, {
    description: `Node.js app of ${spec.domain}`,
    // current: the app/ folder (a link the site document makes), or the release a deploy switched to
    workingDirectory: `${layout.home}/current`,
    environment: [
      `PATH=/opt/vip/node/${node.version}/bin:/usr/local/bin:/usr/bin:/bin`,
      `PORT=${node.port}`,
      'NODE_ENV=production',
    ],
    command: node.startCommand,
    log: `${layout.logs}/node.log`,
  });
}
