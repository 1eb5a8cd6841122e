import { withCorrelation } from '../../layers/observability/logger';
import { getPlatform } from '../../layers/runtime/platform';
import { commandOutput } from './commands/invocation';
import { commandTasks } from './commands/service';
import { decommissionTasks } from './decommission/service';
import { failureError, provisioningTasks as tasks } from './provisioning/tasks';
import { rebootTasks } from './reboot/service';
import type { TaskEvent } from './task-event';

/** The Lambda the server workflows call for the steps that are more than one AWS API call. */
export async function handler(event: TaskEvent): Promise<unknown> {
  withCorrelation(event.input.correlationId);
  const platform = await getPlatform();
  switch (event.action) {
    case 'createHost':
      return tasks.createHost(platform, event);
    case 'hostStatus':
      return tasks.hostStatus(platform, event);
    case 'agentOnline':
      return tasks.agentOnline(platform, event);
    case 'bootstrapped':
      return tasks.bootstrapped(platform, event);
    case 'activate':
      return tasks.activate(platform, event);
    case 'fail':
      return tasks.fail(platform, event);
    case 'deleteHost':
    case 'forgetAgent':
    case 'removeServer':
      return decommissionTasks[event.action](platform, event.input);
    case 'commandStarted':
      return commandTasks.started(platform, event.input);
    case 'commandFinished':
      return commandTasks.ended(platform, event.input, { output: commandOutput(event.invocation) });
    case 'commandFailed':
      return commandTasks.ended(platform, event.input, {
        ...(event.state?.invocation ? { output: commandOutput(event.state.invocation) } : {}),
        error: failureError(event.failure),
      });
    case 'rebootStarted':
      return rebootTasks.started(platform, event.input);
    case 'resetHost':
      return rebootTasks.reset(platform, event.input);
    case 'rebooted':
      return rebootTasks.rebooted(platform, event.input, event.invocation);
    case 'rebootHealthy':
      return rebootTasks.healthy(platform, event.input, event.invocation);
    case 'rebootFailed':
      return rebootTasks.failed(
        platform,
        event.input,
        failureError(event.failure),
        ['RebootFailed', 'HealthCheckFailed', 'NotRebooted'].includes(event.failure.Error ?? '')
          ? event.state?.invocation
          : undefined,
      );
    case 'decommissionFailed':
      return decommissionTasks.failed(platform, event.input, failureError(event.failure));
  }
}
