import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { ssmClient } from './ssm';

/**
 * SecureString parameters (KMS-encrypted in AWS, with the platform's key where one is configured):
 * the secrets the platform keeps for sites and database users, one parameter each.
 */
export async function putSecureParameter(
  name: string,
  value: string,
  options: { description: string; kmsKeyId?: string | undefined; tier?: 'Standard' | 'Intelligent-Tiering' },
): Promise<void> {
  await ssmClient().send(
    new PutParameterCommand({
      Name: name,
      Value: value,
      Type: 'SecureString',
      Overwrite: true,
      Description: options.description,
      ...(options.kmsKeyId ? { KeyId: options.kmsKeyId } : {}),
      ...(options.tier ? { Tier: options.tier } : {}),
    }),
  );
}

/** A parameter's value, decrypted; undefined when there is none. */
export async function readSecureParameter(name: string): Promise<string | undefined> {
  try {
    const { Parameter } = await ssmClient().send(
      new GetParameterCommand({ Name: name, WithDecryption: true }),
    );
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

/** Deletes a parameter; one already gone is fine. */
export async function deleteSecureParameter(name: string): Promise<void> {
  try {
    await ssmClient().send(new DeleteParameterCommand({ Name: name }));
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
}
