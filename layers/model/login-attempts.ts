import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ItemKey, Store, StoredItem } from '../store/store';

/** Failed logins counted for brute-force protection (functions/auth/service.ts LOCKOUT); an unknown email counts like a known one. */
export interface LoginAttemptsItem extends StoredItem {
  entity: 'login-attempts';
  failures: number;
  lockedUntil?: number;
  expiresAt: number;
}

export const loginAttemptKeys = {
  /** failed logins of an email, from one source address or (without one) from anywhere */
  forEmail: (email: string, sourceIp?: string) => ({
    pk: `LOGIN#${email.toLowerCase()}`,
    sk: sourceIp === undefined ? 'ATTEMPTS' : `ATTEMPTS#${sourceIp}`,
  }),
  /** failed logins from one source address, whatever the emails */
  fromAddress: (sourceIp: string) => ({ pk: `LOGIN-IP#${sourceIp}`, sk: 'ATTEMPTS' }),
};

/**
 * Counts one failed login on a counter in one UpdateItem: a fresh window starts at one (and
 * drops an old lock), a running one adds one; `lockedUntil` holds further attempts back.
 */
export async function recordLoginFailure(
  store: Store,
  key: ItemKey,
  failure: { fresh: boolean; lockedUntil: number | undefined; expiresAt: number },
): Promise<void> {
  const { fresh, lockedUntil, expiresAt } = failure;
  const lock = lockedUntil !== undefined;
  await store.client.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: key,
      UpdateExpression: fresh
        ? `SET #entity = :entity, #failures = :one, #expiresAt = :expires${lock ? ', #lockedUntil = :locked' : ' REMOVE #lockedUntil'}`
        : `SET #failures = if_not_exists(#failures, :zero) + :one, #expiresAt = :expires${lock ? ', #lockedUntil = :locked' : ''}`,
      ExpressionAttributeNames: {
        '#failures': 'failures',
        '#expiresAt': 'expiresAt',
        ...(fresh || lock ? { '#lockedUntil': 'lockedUntil' } : {}),
        ...(fresh ? { '#entity': 'entity' } : {}),
      },
      ExpressionAttributeValues: {
        ':one': 1,
        ':expires': expiresAt,
        ...(fresh ? { ':entity': 'login-attempts' } : { ':zero': 0 }),
        ...(lock ? { ':locked': lockedUntil } : {}),
      },
    }),
  );
}
