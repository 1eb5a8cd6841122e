import { errors } from '../../layers/errors/app-error';
import type { Clock, IdGenerator } from '../../layers/ids/ids';
import { apiTokenKeys } from '../../layers/model/api-tokens';
import { counterKeys } from '../../layers/model/counters';
import { invitationKeys } from '../../layers/model/invitations';
import { newUser } from '../../layers/model/new-user';
import { planKeys } from '../../layers/model/plans';
import { siteKeys } from '../../layers/model/sites';
import {
  type ChildLinkItem,
  MAX_TENANT_DEPTH,
  type TenantItem,
  type TenantKind,
  tenantKeys,
} from '../../layers/model/tenants';
import { userKeys } from '../../layers/model/users';
import {
  ConditionFailedError,
  refusedBy,
  type Store,
  type StoredItem,
  type TransactItem,
} from '../../layers/store/store';
import { named, putNew } from '../../layers/store/writes';

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
      ...tenantKeys.item(tenantId),
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
    const writes: TransactItem[] = [
      putNew(tenant),
      putNew(user),
      named('email', putNew(claim)),
      putNew({ ...counterKeys.item(tenantId), entity: 'counters', owners: 1 }),
    ];
    if (parent) {
      const link: ChildLinkItem = {
        ...tenantKeys.child(parent.id, tenantId),
        entity: 'child',
        id: tenantId,
        name: tenant.name,
        kind: tenant.kind,
        status: tenant.status,
        createdAt: now,
      };
      writes.push(putNew(link));
    }
    try {
      await store.transact(writes);
    } catch (error) {
      if (refusedBy(error, 'email')) {
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

/** What must go before a customer can be deleted, by the sort-key prefix of its items. */
const blockers = [
  { prefix: siteKeys.prefix, what: 'sites' },
  { prefix: 'SERVER#', what: 'servers' },
  { prefix: tenantKeys.childPrefix, what: 'customers of its own' },
  { prefix: 'PROVIDER#', what: 'saved provider credentials' },
] as const;

/**
 * Deletes a customer with everything it owns in the table: its members and their email
 * claims, API tokens, invitations, plan link, operations and counters, then its own record
 * and its reseller's link to it. A customer with servers, customers of its own or saved
 * provider credentials is refused (409) until those are gone, since they live outside the
 * table too. The customer is first marked `deleting` (conditional on its version, so on the
 * If-Match a client sent), which ends its sessions; a delete that stopped midway is finished
 * by the next one. Its audit log and rate counters expire on their own.
 */
export function makeDeleteCustomer({ store }: Pick<TenantDeps, 'store'>) {
  return async (customer: TenantItem, expectedVersion: number | undefined): Promise<void> => {
    const partition = tenantKeys.item(customer.id).pk;
    const found = await Promise.all(
      blockers.map((b) =>
        store.query({ pk: partition, skPrefix: b.prefix, limit: 1, tenantId: customer.id, scope: 'delete' }),
      ),
    );
    const remaining = blockers.filter((_, i) => (found[i]?.items.length ?? 0) > 0).map((b) => b.what);
    if (remaining.length > 0) {
      throw errors.conflict(`The customer still has ${remaining.join(' and ')}; remove them first.`);
    }
    if (customer.status !== 'deleting') {
      try {
        await store.update(
          tenantKeys.item(customer.id),
          { status: 'deleting' },
          {
            expectedVersion: expectedVersion ?? customer.version ?? 1,
          },
        );
      } catch (error) {
        if (error instanceof ConditionFailedError) throw errors.preconditionFailed();
        throw error;
      }
    }
    const counters = await store.get<StoredItem>(counterKeys.item(customer.id), true);
    for await (const items of store.pages<StoredItem>({ pk: partition })) {
      await Promise.all(
        items
          .filter((item) => item.sk !== 'TENANT')
          .map(async (item) => {
            for (const key of outsideKeys(item)) await store.remove(key);
            await store.remove({ pk: item.pk, sk: item.sk });
          }),
      );
    }
    if (customer.parentId) {
      if (typeof counters?.planId === 'string') {
        await store.remove(planKeys.customer(customer.parentId, counters.planId, customer.id));
      }
      await store.remove(tenantKeys.child(customer.parentId, customer.id));
    }
    await store.remove(tenantKeys.item(customer.id));
  };
}

/** The items elsewhere in the table that an item of a tenant's partition owns. */
function outsideKeys(item: StoredItem): { pk: string; sk: string }[] {
  const fields = item as Record<string, unknown>;
  switch (fields.entity) {
    case 'user':
      return typeof fields.email === 'string' ? [userKeys.email(fields.email)] : [];
    case 'api-token-link':
      return typeof fields.id === 'string' ? [apiTokenKeys.item(fields.id)] : [];
    case 'invitation-link':
      return typeof fields.tokenHash === 'string' ? [invitationKeys.byToken(fields.tokenHash)] : [];
    default:
      return [];
  }
}
