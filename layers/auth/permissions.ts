export const roles = ['owner', 'admin', 'developer', 'billing', 'read-only'] as const;
export type Role = (typeof roles)[number];

/**
 * What each role may do: the one table the API enforces (every user route names its
 * permission) and docs/permissions.md describes (a test keeps the two the same).
 */
export const permissionMatrix = {
  'tenant:read': ['owner', 'admin', 'developer', 'billing', 'read-only'],
  'tenant:write': ['owner', 'admin'],
  'customers:read': ['owner', 'admin', 'billing', 'read-only'],
  'customers:write': ['owner', 'admin'],
  'customers:impersonate': ['owner', 'admin'],
  'plans:read': ['owner', 'admin', 'billing', 'read-only'],
  'plans:write': ['owner', 'admin'],
  'servers:read': ['owner', 'admin', 'developer', 'read-only'],
  'servers:write': ['owner', 'admin', 'developer'],
  'sites:read': ['owner', 'admin', 'developer', 'read-only'],
  'sites:write': ['owner', 'admin', 'developer'],
  'sites:secrets': ['owner', 'admin', 'developer'],
  'databases:read': ['owner', 'admin', 'developer', 'read-only'],
  'databases:write': ['owner', 'admin', 'developer'],
  'backups:read': ['owner', 'admin', 'developer', 'read-only'],
  'backups:write': ['owner', 'admin', 'developer'],
  'backups:key': ['owner', 'admin'],
  'operations:read': ['owner', 'admin', 'developer', 'read-only'],
  'metrics:read': ['owner', 'admin', 'developer', 'read-only'],
  'alerts:read': ['owner', 'admin', 'developer', 'read-only'],
  'alerts:write': ['owner', 'admin', 'developer'],
  'audit:read': ['owner', 'admin'],
  'members:read': ['owner', 'admin'],
  'members:write': ['owner', 'admin'],
  'tokens:read': ['owner', 'admin'],
  'tokens:write': ['owner', 'admin'],
  'account:write': ['owner', 'admin', 'developer', 'billing', 'read-only'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissionMatrix;

export const can = (role: Role, permission: Permission): boolean =>
  (permissionMatrix[permission] as readonly Role[]).includes(role);

/** Permissions an API token may carry: never the ones over sign-in settings or tokens themselves. */
export const tokenScopes = (Object.keys(permissionMatrix) as Permission[]).filter(
  (p) => p !== 'account:write' && !p.startsWith('tokens:'),
);

/**
 * What a login-as session may never do, whatever the role: change the sign-in settings of
 * the user it runs as, or see and mint API tokens that would outlive it.
 */
export const deniedWhileImpersonating: readonly Permission[] = [
  'account:write',
  'tokens:read',
  'tokens:write',
];

/** What a permission is judged by: a principal's role, its token's scopes, and who really acts. */
export interface PermissionSubject {
  role: Role;
  scopes?: readonly Permission[];
  actor?: object;
}

/**
 * The role must allow it, an API token must also carry it as a scope, and a login-as session
 * must not be reaching for sign-in settings or tokens.
 */
export const allows = (principal: PermissionSubject, permission: Permission): boolean =>
  can(principal.role, permission) &&
  (principal.scopes === undefined || principal.scopes.includes(permission)) &&
  (principal.actor === undefined || !deniedWhileImpersonating.includes(permission));

/**
 * Why `allows` refuses, in words for the caller, or undefined when it allows: the scope an
 * API token lacks, the permission a login-as session may not use, or the role's limit.
 */
export function refusal(
  principal: PermissionSubject,
  permission: Permission | undefined,
): string | undefined {
  if (!permission) return `Your role (${principal.role}) does not allow this.`;
  if (!can(principal.role, permission)) {
    return `Your role (${principal.role}) does not allow this (it needs ${permission}).`;
  }
  if (principal.scopes !== undefined && !principal.scopes.includes(permission)) {
    return `This API token lacks the scope ${permission}.`;
  }
  if (principal.actor !== undefined && deniedWhileImpersonating.includes(permission)) {
    return `A login-as session may not use ${permission}.`;
  }
  return undefined;
}
