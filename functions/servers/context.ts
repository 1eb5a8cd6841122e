import { defineContext } from '../../layers/http/context';
import { cancelRoutes } from './cancel/routes';
import { commandsRoutes } from './commands/routes';
import { decommissionRoutes } from './decommission/routes';
import { providersRoutes } from './providers/routes';
import { provisioningRoutes } from './provisioning/routes';
import { rebootRoutes } from './reboot/routes';
import { sshKeysRoutes } from './ssh-keys/routes';
import { stackRoutes } from './stack/routes';

/** Servers at the providers, their stacks, commands, reboots and SSH keys. */
export const serversContext = defineContext({
  name: 'servers',
  routes: [
    ...provisioningRoutes,
    ...decommissionRoutes,
    ...cancelRoutes,
    ...sshKeysRoutes,
    ...commandsRoutes,
    ...stackRoutes,
    ...rebootRoutes,
    ...providersRoutes,
  ],
  grants: ['provider-credentials', 'tenant-aws-roles', 'cancel-host-commands'],
  workflows: ['provision-server', 'decommission-server', 'run-command', 'reboot-server'],
  taskGrants: ['host-activations', 'provider-credentials', 'tenant-aws-roles'],
  idPrefixes: ['srv', 'key'],
});
