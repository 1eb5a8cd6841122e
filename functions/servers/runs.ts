import { sfnClient } from '../../layers/aws/clients';
import { documentName, stateMachineArn } from '../../layers/config/resources';
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
    machines: {
      'run-command': machineArn(platform, 'run-command'),
      'backup-site': machineArn(platform, 'backup-site'),
      'restore-site': machineArn(platform, 'restore-site'),
    },
    documents: {
      runCommand: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'run-command'),
      bootstrap: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'bootstrap-server'),
      site: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'site'),
      installApp: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'install-app'),
      deploySite: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'deploy-site'),
      database: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'database'),
      backupSite: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'backup-site'),
      restoreSite: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'restore-site'),
    },
  });
