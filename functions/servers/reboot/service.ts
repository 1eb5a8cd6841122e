import { errors } from '../../../layers/errors/app-error';
import { type OperationItem, operationKeys, recordSteps } from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import type { Platform } from '../../../layers/runtime/platform';
import type { Store } from '../../../layers/store/store';
import { failedSteps, recordStarted } from '../../operations/service';
import { commandOutput, type Invocation, reportedHost } from '../commands/invocation';
import { providerOf } from '../providers/credentials';
import { endExclusive, readyServer, type ServerOperationDeps, startOnServer } from '../server-operations';
import { documentSafe } from '../stack/service';

/** The steps of the reboot-server workflow, in order. */
export const rebootSteps = ['reboot', 'healthCheck'] as const;

/** What the reboot-server workflow is started with: the instance and both commands' parameters. */
export interface RebootInput {
  tenantId: string;
  serverId: string;
  operationId: string;
  correlationId: string;
  instanceId: string;
  /** graceful: through the agent (exit 194); hard: the provider's reset */
  mode: 'graceful' | 'hard';
  parameters: Record<string, string[]>;
  healthParameters: Record<string, string[]>;
}

/**
 * Starts a reboot of an active server: the operating system restarts through the agent (the
 * run-command document exits 194, the agent reboots the host and runs it again, which checks
 * that the boot changed), or the provider resets it (hard); then the health check runs. One
 * reboot at a time: the server keeps the reboot's operation id until it ends, and commands
 * wait for it (409).
 */
export function makeRebootServer(deps: ServerOperationDeps) {
  return async (
    tenantId: string,
    serverId: string,
    correlationId: string,
    mode: RebootInput['mode'] = 'graceful',
  ) => {
    const server = await readyServer(deps.store, tenantId, serverId);
    if (mode === 'hard' && (server.provider === 'custom' || !server.hostId)) {
      throw errors.validation([
        { path: 'body.mode', message: 'A custom server has no provider to reset it; reboot it gracefully' },
      ]);
    }
    const safeCorrelation = documentSafe(correlationId);
    const { operation } = await startOnServer(deps, {
      tenantId,
      serverId,
      correlationId,
      kind: 'reboot-server',
      steps: rebootSteps,
      workflow: 'reboot',
      exclusive: 'rebootOperationId',
      input: (operationId): RebootInput => ({
        tenantId,
        serverId,
        operationId,
        correlationId,
        instanceId: server.instanceId,
        mode,
        parameters: { action: ['reboot'], requestId: [operationId], correlationId: [safeCorrelation] },
        healthParameters: {
          action: ['health-check'],
          correlationId: [safeCorrelation],
          // after a reset, the check waits for a boot other than the one last seen
          ...(mode === 'hard' && server.bootId ? { previousBootId: [server.bootId] } : {}),
        },
      }),
      onNotStarted: (input) => endReboot(deps.store, input),
    });
    return operation;
  };
}

/** The server no longer reboots (and runs the boot its health check saw). */
const endReboot = (store: Store, input: RebootInput, seen: { bootId?: string; hostKey?: string } = {}) =>
  endExclusive(store, input, 'rebootOperationId', seen);

/** The reboot-server workflow's tasks; each records its step, and may run twice. */
export const rebootTasks = {
  async started(platform: Platform, input: RebootInput) {
    await recordStarted(platform.store, input, platform.clock.now().toISOString(), 'reboot');
    return {};
  },

  /** A hard reboot: the provider resets the machine; the health check then waits for its agent. */
  async reset(platform: Platform, input: RebootInput) {
    const server = await platform.store.get<ServerItem>(
      serverKeys.item(input.tenantId, input.serverId),
      true,
    );
    if (!server?.hostId) throw new Error('The server has no host to reset');
    const provider = await providerOf(platform.store, server);
    if (!provider.rebootHost) throw new Error(`${server.provider} cannot reset a host`);
    await provider.rebootHost(server.hostId);
    const at = platform.clock.now().toISOString();
    await recordSteps(platform.store, input, at, {
      reboot: { status: 'succeeded', endedAt: at, output: { reset: `requested at ${server.provider}` } },
      healthCheck: { status: 'running', startedAt: at },
    });
    return {};
  },

  async rebooted(platform: Platform, input: RebootInput, invocation: Invocation) {
    const at = platform.clock.now().toISOString();
    await recordSteps(platform.store, input, at, {
      reboot: { status: 'succeeded', endedAt: at, output: commandOutput(invocation) },
      healthCheck: { status: 'running', startedAt: at },
    });
    return {};
  },

  async healthy(platform: Platform, input: RebootInput, invocation: Invocation) {
    await endReboot(platform.store, input, reportedHost(invocation));
    const at = platform.clock.now().toISOString();
    await recordSteps(
      platform.store,
      input,
      at,
      { healthCheck: { status: 'succeeded', endedAt: at, output: commandOutput(invocation) } },
      { status: 'succeeded', result: { serverId: input.serverId } },
    );
    return {};
  },

  /** The step that was running fails with the reason (and the command's output); the later ones are skipped. */
  async failed(
    platform: Platform,
    input: RebootInput,
    error: { code: string; message: string },
    invocation?: Invocation,
  ) {
    await endReboot(platform.store, input);
    const operation = await platform.store.get<OperationItem>(
      operationKeys.item(input.tenantId, input.operationId),
      true,
    );
    const at = platform.clock.now().toISOString();
    const changes = failedSteps(rebootSteps, operation, at, error, invocation && commandOutput(invocation));
    await recordSteps(platform.store, input, at, changes, { status: 'failed', error });
    return {};
  },
};
