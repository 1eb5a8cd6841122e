import { sfnClient } from '../../layers/aws/sfn';
import { documentName, stateMachineArn } from '../../layers/config/resources';
import type { Platform } from '../../layers/runtime/platform';
import type { WorkflowName } from '../../step-functions/workflows';
import { makeRunCommand } from './commands/service';

/** The state machine of one of the workflows this context starts. */
export const machineArn = (platform: Platform, workflow: WorkflowName) =>
  stateMachineArn(platform.config.STATE_MACHINE_ARN_PREFIX, workflow);

/**
 * Starts a command of any context's kind on a server: the one way another context changes a
 * host (see CommandStart).
 */
export const runCommand = (platform: Platform) =>
  makeRunCommand({
    ...platform,
    sfn: sfnClient(),
    machines: {
      'run-command': machineArn(platform, 'run-command'),
      'backup-site': machineArn(platform, 'backup-site'),
      'restore-site': machineArn(platform, 'restore-site'),
    },
    documentName: (document) => documentName(platform.config.DOCUMENT_NAME_PREFIX, document),
  });
