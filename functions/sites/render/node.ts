import { systemdQuoted } from './escape';
import { managedHeader, type RenderInput } from './layout';
import { environmentPath } from './settings';

export const nodeUnitName = (user: string) => `vip-${user}`;
export const nodeUnitPath = (user: string) => `/etc/systemd/system/${nodeUnitName(user)}.service`;

/**
 * A Node.js site's systemd unit: its start command run by the site's user from its home, with
 * the server's Node.js major first on the PATH, restarted when it dies.
 */
export function renderNodeUnit({ spec, layout }: RenderInput): string {
  const node = spec.node ?? { version: '20', startCommand: 'npm start', port: 3000 };
  return [
    `# ${managedHeader(layout, spec.domain)}`,
    '[Unit]',
    `Description=Node.js app of ${spec.domain}`,
    'After=network.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${layout.user}`,
    `Group=${layout.user}`,
    `WorkingDirectory=${layout.home}/app`,
    `Environment=PATH=/opt/vip/node/${node.version}/bin:/usr/local/bin:/usr/bin:/bin`,
    `Environment=PORT=${node.port}`,
    'Environment=NODE_ENV=production',
    `EnvironmentFile=-${environmentPath(layout.home)}`,
    `ExecStart=/bin/bash -c ${systemdQuoted(node.startCommand)}`,
    'Restart=always',
    'RestartSec=3',
    `StandardOutput=append:${layout.logs}/node.log`,
    `StandardError=append:${layout.logs}/node.log`,
    'NoNewPrivileges=true',
    'ProtectSystem=full',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
