import { errors } from '../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { type Store, type TransactItem, TransactionFailedError } from '../../layers/store/store';
import {
  authKeys,
  type ChildLinkItem,
  MAX_TENANT_DEPTH,
  newUser,
  type TenantItem,
  type TenantKind,
} from '../auth/entity';
import { serverKeys } from '../servers/entity';

export interface TenantDeps {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
}

export interface NewTenant {
  name: string;
  kind: TenantKind;
  owner: { email: string; name: string; password: string };
}

/**
 * Creates a tenant with its owner, the owner's email claim, its counters and (under a parent)
 * the parent's link to it, in one transaction: all of it or none.
 */
export function makeCreateTenant({ store, clock, ids }: TenantDeps) {
  return async (input: NewTenant, parent?: TenantItem) => {
    if (parent && parent.kind !== 'reseller') throw errors.forbidden('Only a reseller has customers.');
    const depth = parent ? parent.ancestors.length + 2 : 1;
    if (depth > MAX_TENANT_DEPTH) {
      throw errors.conflict(`Tenants nest at most ${MAX_TENANT_DEPTH} levels deep.`);
    }
    const now = clock.now().toISOString();
    const tenantId = ids.next('ten');
    const userId = ids.next('usr');
    const tenant: TenantItem = {
      ...authKeys.tenant(tenantId),
      entity: 'tenant',
      id: tenantId,
      name: input.name,
      kind: input.kind,
      status: 'active',
      ancestors: parent ? [...parent.ancestors, parent.id] : [],
      ...(parent ? { parentId: parent.id } : {}),
      createdAt: now,
      version: 1,
    };
    const { user, claim } = await newUser({
      tenantId,
      userId,
      email: input.owner.email,
      name: input.owner.name,
      role: 'owner',
      password: input.owner.password,
      now,
    });
    const notExists = { ConditionExpression: 'attribute_not_exists(pk)' };
    const writes: TransactItem[] = [
      { Put: { Item: tenant, ...notExists } },
      { Put: { Item: user, ...notExists } },
      { Put: { Item: claim, ...notExists } },
      { Put: { Item: { ...serverKeys.counters(tenantId), entity: 'counters', owners: 1 }, ...notExists } },
    ];
    if (parent) {
      const link: ChildLinkItem = {
        ...authKeys.child(parent.id, tenantId),
        entity: 'child',
        id: tenantId,
        name: tenant.name,
        kind: tenant.kind,
        status: tenant.status,
        createdAt: now,
      };
      writes.push({ Put: { Item: link, ...notExists } });
    }
    try {
      await store.transact(writes);
    } catch (error) {
      if (error instanceof TransactionFailedError && error.reasons[2] === 'ConditionalCheckFailed') {
        throw errors.conflict(
          'An account with this email already exists.',
          parent ? 'body.owner.email' : 'body.email',
        );
      }
      throw error;
    }
    return { tenant, user };
  };
}
