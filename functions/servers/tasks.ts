import type { TaskHandlers } from '../../layers/runtime/tasks';
import { commandOutput } from './commands/invocation';
import { makeCommandTasks } from './commands/service';
import { decommissionTasks } from './decommission/service';
import type { OperationKindRegistry } from './operation-kinds';
import { failureError, provisioningTasks } from './provisioning/tasks';
import { rebootTasks } from './reboot/service';
import type { TaskEvent } from './task-event';

/**
 * The servers context's workflow tasks, by the action their ASL states name. A command's ending
 * is settled by its kind, from every context's (`kinds`, the root list).
 */
export function makeServersTasks(kinds: OperationKindRegistry): TaskHandlers<TaskEvent> {
  const commandTasks = makeCommandTasks(kinds);
  return {
    createHost: (platform, event) => provisioningTasks.createHost(platform, event),
    hostStatus: (platform, event) => provisioningTasks.hostStatus(platform, event),
    agentOnline: (platform, event) => provisioningTasks.agentOnline(platform, event),
    bootstrapped: (platform, event) => provisioningTasks.bootstrapped(platform, event),
    activate: (platform, event) => provisioningTasks.activate(platform, event),
    fail: (platform, event) => provisioningTasks.fail(platform, event),
    deleteHost: (platform, event) => decommissionTasks.deleteHost(platform, event.input),
    forgetAgent: (platform, event) => decommissionTasks.forgetAgent(platform, event.input),
    removeServer: (platform, event) => decommissionTasks.removeServer(platform, event.input),
    decommissionFailed: (platform, event) =>
      decommissionTasks.failed(platform, event.input, failureError(event.failure)),
    commandStarted: (platform, event) => commandTasks.started(platform, event.input, event.command),
    commandFinished: (platform, event) =>
      commandTasks.ended(platform, event.input, { output: commandOutput(event.invocation) }),
    commandFailed: (platform, event) =>
      commandTasks.ended(platform, event.input, {
        ...(event.state?.invocation ? { output: commandOutput(event.state.invocation) } : {}),
        error: failureError(event.failure),
      }),
    rebootStarted: (platform, event) => rebootTasks.started(platform, event.input),
    resetHost: (platform, event) => rebootTasks.reset(platform, event.input),
    rebooted: (platform, event) => rebootTasks.rebooted(platform, event.input, event.invocation),
    rebootHealthy: (platform, event) => rebootTasks.healthy(platform, event.input, event.invocation),
    rebootFailed: (platform, event) =>
      rebootTasks.failed(
        platform,
        event.input,
        failureError(event.failure),
        ['RebootFailed', 'HealthCheckFailed', 'NotRebooted'].includes(event.failure.Error ?? '')
          ? event.state?.invocation
          : undefined,
      ),
  };
}
