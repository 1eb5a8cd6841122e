import {
  DeleteActivationCommand,
  DeregisterManagedInstanceCommand,
  DescribeInstanceInformationCommand,
  InvalidActivation,
  InvalidInstanceId,
} from '@aws-sdk/client-ssm';
import { ssmClient } from '../../../layers/aws/ssm';
import { ignoring } from '../../../layers/errors/ignoring';

/** Deletes a hybrid activation; one already gone is fine. */
export const deleteActivation = (activationId: string) =>
  ignoring(InvalidActivation, () =>
    ssmClient().send(new DeleteActivationCommand({ ActivationId: activationId })),
  );

/** Deregisters a managed instance; one already gone is fine. */
export const deregisterInstance = (instanceId: string) =>
  ignoring(InvalidInstanceId, () =>
    ssmClient().send(new DeregisterManagedInstanceCommand({ InstanceId: instanceId })),
  );

/**
 * Forgets a server's agent: every managed instance that registered with its activation (not
 * only the one the workflow saw: a host may register after provisioning gave up on it), then
 * the activation. Answers what it did, for the operation's record; anything already gone is
 * skipped.
 */
export async function forgetAgent(server: {
  instanceId?: string | undefined;
  activationId?: string | undefined;
}) {
  const ssm = ssmClient();
  const instances = new Set(server.instanceId ? [server.instanceId] : []);
  if (server.activationId) {
    const { InstanceInformationList } = await ssm.send(
      new DescribeInstanceInformationCommand({
        Filters: [{ Key: 'ActivationIds', Values: [server.activationId] }],
      }),
    );
    for (const instance of InstanceInformationList ?? [])
      if (instance.InstanceId) instances.add(instance.InstanceId);
  }
  const done: string[] = [];
  for (const instanceId of instances) {
    await deregisterInstance(instanceId);
    done.push(`deregistered managed instance ${instanceId}`);
  }
  if (server.activationId) {
    await deleteActivation(server.activationId);
    done.push(`deleted activation ${server.activationId}`);
  }
  return { done, instances: [...instances] };
}
