import { defineContext } from '../../layers/http/context';
import { serverRoutes } from './spec';

/** Servers at the providers, their stacks, commands, reboots and SSH keys. */
export const serversContext = defineContext({
  name: 'servers',
  routes: serverRoutes,
  grants: ['provider-credentials', 'tenant-aws-roles', 'cancel-host-commands'],
  workflows: ['provision-server', 'decommission-server', 'run-command', 'reboot-server'],
});
