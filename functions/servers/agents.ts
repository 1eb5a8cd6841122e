import {
  DeleteActivationCommand,
  DeregisterManagedInstanceCommand,
  DescribeInstanceInformationCommand,
  InvalidActivation,
  InvalidInstanceId,
} from '@aws-sdk/client-ssm';
import { ssmClient } from '../../layers/aws/clients';
import { ignoring } from '../../layers/errors/ignoring';

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
    await ignoring(InvalidInstanceId, () =>
      ssm.send(new DeregisterManagedInstanceCommand({ InstanceId: instanceId })),
    );
    done.push(`deregistered managed instance ${instanceId}`);
  }
  if (server.activationId) {
    const activationId = server.activationId;
    await ignoring(InvalidActivation, () =>
      ssm.send(new DeleteActivationCommand({ ActivationId: activationId })),
    );
    done.push(`deleted activation ${activationId}`);
  }
  return { done, instances: [...instances] };
}
