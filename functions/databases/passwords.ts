import { randomInt } from 'node:crypto';
import {
  deleteSecureParameter,
  putSecureParameter,
  readSecureParameter,
} from '../../layers/aws/secure-parameters';
import type { DatabaseUserItem } from '../../layers/model/databases';
import type { Platform } from '../../layers/runtime/platform';

/**
 * A database user's password, a SecureString parameter under the user's own path, which the
 * `database-passwords` grant covers: `password` is the one the host has, `password-next` a
 * rotation on its way there (it becomes `password` once the host took it).
 */
export type PasswordSlot = 'password' | 'password-next';

type UserRef = Pick<DatabaseUserItem, 'tenantId' | 'id'>;

export const passwordParameterName = (stage: string, user: UserRef, slot: PasswordSlot) =>
  `/vip/${stage}/tenants/${user.tenantId}/database-users/${user.id}/${slot}`;

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A generated password: 32 characters from 57 (about 187 bits), nothing any client must escape. */
export const generatePassword = (): string =>
  Array.from({ length: 32 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

export const putPassword = (platform: Platform, user: UserRef, slot: PasswordSlot, value: string) =>
  putSecureParameter(passwordParameterName(platform.config.STAGE, user, slot), value, {
    description: `A password of database user ${user.id} of tenant ${user.tenantId}`,
    kmsKeyId: platform.config.CREDENTIALS_KMS_KEY_ID,
  });

export const readPassword = (platform: Platform, user: UserRef, slot: PasswordSlot) =>
  readSecureParameter(passwordParameterName(platform.config.STAGE, user, slot));

export const deletePassword = (platform: Platform, user: UserRef, slot: PasswordSlot) =>
  deleteSecureParameter(passwordParameterName(platform.config.STAGE, user, slot));
