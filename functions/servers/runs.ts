import { sfnClient } from '../../layers/aws/clients';
import { stateMachineArn } from '../../layers/config/resources';
import type { Platform } from '../../layers/runtime/platform';
import type { WorkflowName } from '../../step-functions/workflows';
import { makeRunCommand } from './commands/service';

/** The state machine of one of the workflows this context starts. */
export const machineArn = (platform: Platform, workflow: WorkflowName) =>
  stateMachineArn(platform.config.STATE_MACHINE_ARN_PREFIX, workflow);

export const runCommand = (platform: Platform) =>
  makeRunCommand({
    ...platform,
    sfn: sfnClient(),
    stateMachineArn: machineArn(platform, 'run-command'),
    documents: {
      runCommand: platform.config.RUN_COMMAND_DOCUMENT_NAME,
      bootstrap: platform.config.BOOTSTRAP_DOCUMENT_NAME,
    },
  });
