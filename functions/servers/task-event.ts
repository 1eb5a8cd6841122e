import type { Invocation } from './commands/invocation';
import type { CommandInput } from './commands/service';
import type { DecommissionInput } from './decommission/service';
import type { ProvisionInput } from './provisioning/service';
import type { RebootInput } from './reboot/service';

/** What the server workflows send their tasks Lambda: the action and what it needs. */
export type TaskEvent =
  | { action: 'createHost'; input: ProvisionInput }
  | { action: 'hostStatus'; input: ProvisionInput }
  | { action: 'agentOnline'; input: ProvisionInput; instanceId: string }
  | { action: 'bootstrapped'; input: ProvisionInput; invocation: Invocation }
  | { action: 'activate'; input: ProvisionInput; invocation: Invocation }
  | { action: 'deleteHost' | 'forgetAgent' | 'removeServer'; input: DecommissionInput }
  | { action: 'commandStarted'; input: CommandInput; command?: { commandId: string; instanceId: string } }
  | { action: 'commandFinished'; input: CommandInput; invocation: Invocation }
  | {
      action: 'commandFailed';
      input: CommandInput;
      failure: { Error?: string; Cause?: string };
      state?: { invocation?: Invocation };
    }
  | { action: 'rebootStarted' | 'resetHost'; input: RebootInput }
  | { action: 'rebooted' | 'rebootHealthy'; input: RebootInput; invocation: Invocation }
  | {
      action: 'rebootFailed';
      input: RebootInput;
      failure: { Error?: string; Cause?: string };
      state?: { invocation?: Invocation };
    }
  | { action: 'decommissionFailed'; input: DecommissionInput; failure: { Error?: string; Cause?: string } }
  | {
      action: 'fail';
      input: ProvisionInput;
      failure: { Error?: string; Cause?: string };
      /** the workflow state when it failed; it holds the command invocation if one ran */
      state?: { invocation?: Invocation };
    };
