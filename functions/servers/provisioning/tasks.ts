import { CreateActivationCommand } from '@aws-sdk/client-ssm';
import { ssmClient } from '../../../layers/aws/ssm';
import { type OperationItem, operationKeys, recordSteps } from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import { logger } from '../../../layers/observability/logger';
import type { Platform } from '../../../layers/runtime/platform';
import { ConditionFailedError } from '../../../layers/store/store';
import { failedSteps, recordStarted } from '../../operations/service';
import { commandOutput, reportedHost } from '../commands/invocation';
import { providerOf } from '../providers/credentials';
import { renderInstallCommand } from '../providers/custom';
import {
  deleteServerHosts,
  ProviderTransientError,
  renderUserData,
  SERVER_LABEL,
} from '../providers/provider';
import { bootstrapParameters } from '../stack/service';
import type { TaskEvent } from '../task-event';
import { deleteActivation, deregisterInstance, forgetAgent } from './agents';
import { type ProvisionInput, provisionSteps, transitionServer } from './service';

const MAX_MESSAGE = 2000;

/** The part of a Step Functions error cause a person can read: a Lambda's errorMessage, or the text itself. */
export function readableCause(cause: string | undefined): string {
  if (!cause) return 'No details were given.';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; message?: unknown };
    const message = parsed.errorMessage ?? parsed.message;
    if (typeof message === 'string') return message.slice(0, MAX_MESSAGE);
  } catch {
    // not JSON: the cause is already text
  }
  return cause.slice(0, MAX_MESSAGE);
}

/** A workflow's caught failure as the operation records it. */
export const failureError = (failure: { Error?: string; Cause?: string }) => ({
  code: failure.Error ?? 'States.Failed',
  message: readableCause(failure.Cause),
});

async function loadServer(platform: Platform, input: ProvisionInput): Promise<ServerItem> {
  const server = await platform.store.get<ServerItem>(serverKeys.item(input.tenantId, input.serverId), true);
  if (!server) throw new Error(`Server ${input.serverId} does not exist`);
  return server;
}

const now = (platform: Platform) => platform.clock.now().toISOString();

/** Thrown by a provisioning task that finds its server no longer provisioning (it was cancelled). */
class ProvisioningCancelled extends Error {
  constructor() {
    super('The provisioning was cancelled');
    this.name = 'ProvisioningCancelled';
  }
}

/**
 * Records what a provisioning task made, only while the server is still provisioning. If it
 * was cancelled meanwhile, decommissioning may already have looked for what to delete, so the
 * task undoes its own work and stops.
 */
async function whileProvisioning(
  platform: Platform,
  input: ProvisionInput,
  changes: Record<string, unknown>,
  undo: () => Promise<unknown>,
) {
  try {
    await platform.store.update(serverKeys.item(input.tenantId, input.serverId), changes, {
      where: { equals: { status: 'provisioning' } },
    });
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error;
    await undo();
    throw new ProvisioningCancelled();
  }
}

/** The provisioning workflow's tasks. */
export const provisioningTasks = {
  /** Creates a one-use SSM hybrid activation and the host, whose user data registers it with SSM. */
  async createHost(platform: Platform, event: Extract<TaskEvent, { action: 'createHost' }>) {
    const { input } = event;
    const server = await loadServer(platform, input);
    // A custom machine may take its owner a while to set up: an hour of polls, not five minutes.
    const maxAgentPolls = server.provider === 'custom' ? 720 : 60;
    if (server.hostId && server.activationId)
      return { hostId: server.hostId, activationId: server.activationId, maxAgentPolls };
    await recordStarted(platform.store, input, now(platform), 'createHost');
    const { config } = platform;
    const provider = await providerOf(platform.store, server);
    if (server.activationId) {
      // A retry: an earlier attempt may have made the host and lost the provider's answer. Its
      // user data registers with the earlier activation, so the host is adopted with it.
      const [adopted, ...strays] = await provider.hostsLabelled(SERVER_LABEL, server.id);
      if (adopted) {
        for (const stray of strays) await provider.deleteHost(stray.id);
        const activationId = server.activationId;
        await whileProvisioning(
          platform,
          input,
          { hostId: adopted.id, ipv4: adopted.ipv4 ?? undefined, updatedAt: now(platform) },
          async () => deleteServerHosts(provider, server),
        );
        await recordSteps(platform.store, input, now(platform), {
          createHost: { output: { hostId: adopted.id, ipv4: adopted.ipv4, adopted: true } },
        });
        return { hostId: adopted.id, activationId, maxAgentPolls };
      }
      // No host was made: the earlier activation's code is gone with that attempt, so it goes too.
      const earlier = server.activationId;
      await deleteActivation(earlier);
    }
    const activation = await ssmClient().send(
      new CreateActivationCommand({
        IamRole: config.HOST_ACTIVATION_ROLE,
        RegistrationLimit: 1,
        DefaultInstanceName: server.name,
        ExpirationDate: new Date(platform.clock.now().getTime() + 3600_000),
        Description: `Server ${server.id}`,
        Tags: [
          { Key: 'vip:tenantId', Value: input.tenantId },
          { Key: 'vip:serverId', Value: input.serverId },
        ],
      }),
    );
    if (!activation.ActivationId || !activation.ActivationCode) throw new Error('SSM returned no activation');
    const activationId = activation.ActivationId;
    await whileProvisioning(platform, input, { activationId, updatedAt: now(platform) }, () =>
      deleteActivation(activationId),
    );
    const host = await provider.createHost({
      name: server.name,
      region: server.region,
      size: server.size,
      userData: renderUserData({
        code: activation.ActivationCode,
        id: activation.ActivationId,
        region: config.AWS_REGION,
      }),
      labels: { [SERVER_LABEL]: server.id, 'vip-tenant-id': input.tenantId },
    });
    const installCommand =
      server.provider === 'custom'
        ? renderInstallCommand(
            { code: activation.ActivationCode, id: activation.ActivationId, region: config.AWS_REGION },
            config.SSM_SETUP_CLI_URL,
          )
        : undefined;
    await whileProvisioning(
      platform,
      input,
      { hostId: host.id, ipv4: host.ipv4 ?? undefined, installCommand, updatedAt: now(platform) },
      async () => {
        await deleteServerHosts(provider, { id: server.id, hostId: host.id });
        await deleteActivation(activationId);
      },
    );
    // the step ends when the provider says the host runs (hostStatus); the server item keeps its address
    await recordSteps(platform.store, input, now(platform), {
      createHost: {
        output: { hostId: host.id, ipv4: host.ipv4, ...(installCommand ? { installCommand } : {}) },
      },
    });
    return { hostId: host.id, activationId: activation.ActivationId, maxAgentPolls };
  },

  /** Whether the provider runs the host yet; once it does, the createHost step ends and the wait for its agent begins. */
  async hostStatus(platform: Platform, event: Extract<TaskEvent, { action: 'hostStatus' }>) {
    const { input } = event;
    const server = await loadServer(platform, input);
    if (!server.hostId) throw new Error('The server has no host to wait for');
    const host = await (await providerOf(platform.store, server)).getHost(server.hostId);
    const status = host?.status ?? 'gone';
    if (host && status === 'running') {
      const ipv4 = host.ipv4 ?? server.ipv4;
      await whileProvisioning(platform, input, { ipv4, updatedAt: now(platform) }, async () => undefined);
      await recordSteps(platform.store, input, now(platform), {
        // its output (host id, address at creation, install command) was recorded by createHost
        createHost: { status: 'succeeded', endedAt: now(platform) },
        waitForAgent: { status: 'running', startedAt: now(platform) },
      });
    }
    return { status };
  },

  async agentOnline(platform: Platform, event: Extract<TaskEvent, { action: 'agentOnline' }>) {
    const { input, instanceId } = event;
    await whileProvisioning(
      platform,
      input,
      // a custom machine's install command has done its work; its activation allows one registration
      { instanceId, installCommand: undefined, updatedAt: now(platform) },
      () => deregisterInstance(instanceId),
    );
    await recordSteps(platform.store, input, now(platform), {
      waitForAgent: { status: 'succeeded', endedAt: now(platform), output: { instanceId } },
      bootstrap: { status: 'running', startedAt: now(platform) },
    });
    const server = await loadServer(platform, input);
    // the bootstrap document's parameters: the server's stack, as the document takes it
    return { instanceId, parameters: bootstrapParameters(server.stack, input.correlationId) };
  },

  async bootstrapped(platform: Platform, event: Extract<TaskEvent, { action: 'bootstrapped' }>) {
    const at = now(platform);
    await recordSteps(platform.store, event.input, at, {
      bootstrap: { status: 'succeeded', endedAt: at, output: commandOutput(event.invocation) },
      healthCheck: { status: 'running', startedAt: at },
    });
    return {};
  },

  async activate(platform: Platform, event: Extract<TaskEvent, { action: 'activate' }>) {
    const { input, invocation } = event;
    const at = now(platform);
    await recordSteps(platform.store, input, at, {
      healthCheck: { status: 'succeeded', endedAt: at, output: commandOutput(invocation) },
      activate: { status: 'running', startedAt: at },
    });
    // a host made by an attempt whose answer came back after its retry had made another; a
    // provider that refuses the look-up now leaves it to decommissioning, not failing a good server
    const server = await loadServer(platform, input);
    try {
      await deleteServerHosts(await providerOf(platform.store, server), server, { keep: server.hostId });
    } catch (error) {
      if (error instanceof ProviderTransientError) throw error;
      logger.warn('Stray hosts were not looked for', { serverId: server.id, error: error as Error });
    }
    const activated = await transitionServer(platform.store, platform.clock, {
      tenantId: input.tenantId,
      serverId: input.serverId,
      from: 'provisioning',
      to: 'active',
      changes: reportedHost(invocation),
    });
    // cancelled meanwhile: decommissioning owns the server now, and the operation says cancelled
    if (!activated) return { status: 'cancelled' };
    const done = now(platform);
    await recordSteps(
      platform.store,
      input,
      done,
      { activate: { status: 'succeeded', endedAt: done } },
      { status: 'succeeded', result: { serverId: input.serverId, status: 'active' } },
    );
    return { status: 'active' };
  },

  /**
   * Marks the step that was running as failed, undoes what provisioning made (the host, its
   * managed-instance registration, the activation) and fails the server and the operation.
   * Each undo tolerates "already gone", so running this twice is safe.
   */
  async fail(platform: Platform, event: Extract<TaskEvent, { action: 'fail' }>) {
    const { input, failure } = event;
    const invocation =
      failure.Error === 'BootstrapFailed' || failure.Error === 'HealthCheckFailed'
        ? event.state?.invocation
        : undefined;
    const operation = await platform.store.get<OperationItem>(
      operationKeys.item(input.tenantId, input.operationId),
      true,
    );
    const server = await loadServer(platform, input);
    const error = failureError(failure);
    const order = operation?.stepOrder ?? [...provisionSteps];
    const compensation: string[] = [];
    // With an activation, createHost reached the provider, which may have made a host whose
    // answer was lost. A provider that refuses the look-up of such a host (it rejects the token
    // now) must not keep the server provisioning: that is noted, and the rest is given back.
    if (server.hostId || server.activationId) {
      try {
        const deleted = await deleteServerHosts(await providerOf(platform.store, server), server);
        compensation.push(...deleted.map((id) => `deleted host ${id}`));
      } catch (lookup) {
        if (server.hostId || lookup instanceof ProviderTransientError) throw lookup;
        compensation.push(`could not look for hosts at ${server.provider}: ${(lookup as Error).message}`);
      }
    }
    compensation.push(...(await forgetAgent(server)).done);
    const at = now(platform);
    const changes = failedSteps(order, operation, at, error, invocation && commandOutput(invocation));
    // The server moves first: a client that sees the operation end sees the server's final state too.
    await transitionServer(platform.store, platform.clock, {
      tenantId: input.tenantId,
      serverId: input.serverId,
      from: 'provisioning',
      to: 'failed',
      changes: { hostId: undefined, instanceId: undefined, activationId: undefined },
    });
    await recordSteps(platform.store, input, at, changes, {
      status: 'failed',
      error,
      result: { compensation },
    });
    logger.warn('Provisioning failed and was compensated', { serverId: input.serverId, error, compensation });
    return { status: 'failed', compensation };
  },
};
