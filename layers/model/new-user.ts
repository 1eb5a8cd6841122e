import { hashPassword } from '../auth/passwords';
import type { Role } from '../auth/tokens';
import { type EmailItem, type UserItem, userKeys } from './users';

/** A new user with its password hashed, and the claim that makes its email address its own. */
export async function newUser(input: {
  tenantId: string;
  userId: string;
  email: string;
  name: string;
  role: Role;
  password: string;
  now: string;
}): Promise<{ user: UserItem; claim: EmailItem }> {
  const user: UserItem = {
    ...userKeys.item(input.tenantId, input.userId),
    entity: 'user',
    id: input.userId,
    tenantId: input.tenantId,
    email: input.email,
    name: input.name,
    role: input.role,
    passwordHash: await hashPassword(input.password),
    createdAt: input.now,
    version: 1,
  };
  const claim: EmailItem = {
    ...userKeys.email(input.email),
    entity: 'email',
    tenantId: input.tenantId,
    userId: input.userId,
  };
  return { user, claim };
}
