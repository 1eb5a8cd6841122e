import { randomInt } from 'node:crypto';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import { ssmClient } from '../../layers/aws/clients';
import type { DatabaseUserItem } from '../../layers/model/databases';
import type { Platform } from '../../layers/runtime/platform';

/**
 * A database user's password, a SecureString parameter (KMS-encrypted in AWS) under the user's
 * own path, which the `database-passwords` grant covers: `password` is the one the host has,
 * `password-next` a rotation on its way there (it becomes `password` once the host took it).
 */
export type PasswordSlot = 'password' | 'password-next';

export const passwordParameterName = (
  stage: string,
  user: Pick<DatabaseUserItem, 'tenantId' | 'id'>,
  slot: PasswordSlot,
) => `/vip/${stage}/tenants/${user.tenantId}/database-users/${user.id}/${slot}`;

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A generated password: 32 characters from 57 (about 187 bits), nothing any client must escape. */
export const generatePassword = (): string =>
  Array.from({ length: 32 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

export async function putPassword(
  platform: Platform,
  user: Pick<DatabaseUserItem, 'tenantId' | 'id'>,
  slot: PasswordSlot,
  value: string,
): Promise<void> {
  await ssmClient().send(
    new PutParameterCommand({
      Name: passwordParameterName(platform.config.STAGE, user, slot),
      Value: value,
      Type: 'SecureString',
      Overwrite: true,
      Description: `A password of database user ${user.id} of tenant ${user.tenantId}`,
      ...(platform.config.CREDENTIALS_KMS_KEY_ID ? { KeyId: platform.config.CREDENTIALS_KMS_KEY_ID } : {}),
    }),
  );
}

export async function readPassword(
  platform: Platform,
  user: Pick<DatabaseUserItem, 'tenantId' | 'id'>,
  slot: PasswordSlot,
): Promise<string | undefined> {
  try {
    const { Parameter } = await ssmClient().send(
      new GetParameterCommand({
        Name: passwordParameterName(platform.config.STAGE, user, slot),
        WithDecryption: true,
      }),
    );
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

export async function deletePassword(
  platform: Platform,
  user: Pick<DatabaseUserItem, 'tenantId' | 'id'>,
  slot: PasswordSlot,
): Promise<void> {
  try {
    await ssmClient().send(
      new DeleteParameterCommand({ Name: passwordParameterName(platform.config.STAGE, user, slot) }),
    );
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
}
