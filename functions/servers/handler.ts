import { makeContextHandler } from '../../layers/http/context-handler';
import { cancelImplementations } from './cancel/handler';
import { commandsImplementations } from './commands/handler';
import { serversContext } from './context';
import { decommissionImplementations } from './decommission/handler';
import { providersImplementations } from './providers/handler';
import { provisioningImplementations } from './provisioning/handler';
import { rebootImplementations } from './reboot/handler';
import { sshKeysImplementations } from './ssh-keys/handler';
import { stackImplementations } from './stack/handler';

/** The servers context: each feature folder brings its routes' implementations. */
export const handler = makeContextHandler(serversContext, {
  ...provisioningImplementations,
  ...decommissionImplementations,
  ...cancelImplementations,
  ...sshKeysImplementations,
  ...commandsImplementations,
  ...stackImplementations,
  ...rebootImplementations,
  ...providersImplementations,
});
