import { SSMClient } from '@aws-sdk/client-ssm';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ensureSecrets } from '../../layers/auth/secrets';

const ssm = new SSMClient({});

/**
 * CloudFormation custom resource (provider framework onEvent): creates the platform secrets
 * parameter (JWT signing keys, cursor key) on first deploy and never overwrites it, so a
 * redeploy keeps every issued token valid. The parameter is kept when the stack is deleted.
 */
export async function handler(
  event: CloudFormationCustomResourceEvent,
): Promise<{ PhysicalResourceId: string }> {
  const name = String(event.ResourceProperties.ParameterName);
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const keyId = event.ResourceProperties.KeyId ? String(event.ResourceProperties.KeyId) : undefined;
  await ensureSecrets(ssm, name, { now: new Date(), ...(keyId ? { keyId } : {}) });
  return { PhysicalResourceId: name };
}
