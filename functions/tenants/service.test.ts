import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPasswordCost } from '../../layers/auth/passwords';
import type { Principal } from '../../layers/auth/tokens';
import type { AppError } from '../../layers/errors/app-error';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import { apiTokenKeys } from '../../layers/model/api-tokens';
import { counterKeys } from '../../layers/model/counters';
import { planKeys } from '../../layers/model/plans';
import { serverKeys } from '../../layers/model/servers';
import { siteKeys } from '../../layers/model/sites';
import { type TenantItem, tenantKeys } from '../../layers/model/tenants';
import { userKeys } from '../../layers/model/users';
import type { Store, StoredItem } from '../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { planLimits } from '../../test/support/fixtures';
import { refusal } from '../../test/support/refusal';
import { makeInvite } from '../members/service';
import { makeAssignPlan, makeCreatePlan } from '../plans/service';
import { makeCreateApiToken } from '../tokens/service';
import { makeCreateTenant, makeDeleteCustomer, type TenantDeps } from './service';
import { markSubtreeSuspended } from './suspension';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
let deps: TenantDeps;
const password = 'a long enough password';

beforeAll(async () => {
  setPasswordCost(12);
  ({ dynamo, store } = await startTestStore(clock));
  deps = { store, clock, ids };
});

afterAll(async () => {
  await dynamo?.stop();
});

const newTenant = (name: string, kind: 'reseller' | 'customer', parent?: TenantItem) =>
  makeCreateTenant(deps)({ name, kind, owner: { email: `${name}@example.com`, name, password } }, parent);

/** Every item left in a tenant's partition, by sort key. */
const partitionOf = async (tenantId: string) => {
  const page = await store.query<StoredItem>({
    pk: tenantKeys.item(tenantId).pk,
    limit: 100,
    tenantId,
    scope: 'test',
    consistent: true,
  });
  return page.items.map((item) => item.sk);
};

describe('Service: tenants', () => {
  it("makes a tenant with its owner, the owner's email, its counters and its parent's link, or nothing", async () => {
    const { tenant: reseller } = await newTenant('tree-a', 'reseller');
    const { tenant, user } = await newTenant('tree-a-shop', 'customer', reseller);
    expect(tenant).toMatchObject({
      kind: 'customer',
      status: 'active',
      parentId: reseller.id,
      ancestors: [reseller.id],
    });
    expect((await partitionOf(tenant.id)).sort()).toEqual(['COUNTERS', 'TENANT', `USER#${user.id}`]);
    expect(await store.get(userKeys.email('tree-a-shop@example.com'), true)).toMatchObject({
      userId: user.id,
    });
    expect(await store.get(tenantKeys.child(reseller.id, tenant.id), true)).toMatchObject({
      id: tenant.id,
      status: 'active',
    });

    // an email already taken: 409 naming the field, and no tenant nor link left behind
    const before = await partitionOf(reseller.id);
    expect(await refusal(newTenant('tree-a-shop', 'customer', reseller))).toMatchObject({
      status: 409,
      path: 'body.owner.email',
    });
    expect(await refusal(newTenant('tree-a-shop', 'customer'))).toMatchObject({
      status: 409,
      path: 'body.email',
    });
    expect(await partitionOf(reseller.id)).toEqual(before);
  });

  it('nests at most three levels deep, and gives customers none of their own', async () => {
    const { tenant: top } = await newTenant('tree-b', 'reseller');
    const { tenant: middle } = await newTenant('tree-b-sub', 'reseller', top);
    const { tenant: bottom } = await newTenant('tree-b-sub-sub', 'reseller', middle);
    expect(bottom.ancestors).toEqual([top.id, middle.id]);
    expect((await refusal(newTenant('tree-b-4', 'customer', bottom))).status).toBe(409);
    const { tenant: customer } = await newTenant('tree-b-shop', 'customer', top);
    expect((await refusal(newTenant('tree-b-shop-child', 'customer', customer))).status).toBe(403);
  });

  it('deletes a customer with its members, claims, tokens, invitations and links, once nothing outside is left', async () => {
    const { tenant: reseller } = await newTenant('gone-r', 'reseller');
    const { tenant: customer, user } = await newTenant('gone-c', 'customer', reseller);
    const owner: Principal = { tenantId: customer.id, userId: user.id, role: 'owner' };
    const plan = await makeCreatePlan(deps)(reseller.id, { name: 'P', limits: planLimits });
    await makeAssignPlan(deps)(reseller.id, customer.id, plan.id);
    const { item: token } = await makeCreateApiToken(deps)(customer.id, owner, {
      name: 'ci',
      scopes: ['servers:read'],
      allowedCidrs: [],
    });
    await makeInvite({ ...deps, sendMail: async () => undefined, urls: {} })(customer.id, owner, {
      email: 'gone-invitee@example.com',
      role: 'developer',
    });
    const serverKey = serverKeys.item(customer.id, 'srv_01jgone00000000000000000000');
    await store.put({ ...serverKey, entity: 'server' });
    const remove = makeDeleteCustomer(deps);
    const current = async () =>
      (await store.get<TenantItem>(tenantKeys.item(customer.id), true)) as TenantItem;

    const blocked = await remove(await current(), undefined).catch((e: unknown) => e as AppError);
    expect(blocked).toMatchObject({ status: 409 });
    expect((blocked as AppError).detail ?? (blocked as AppError).message).toContain('servers');
    await store.remove(serverKey);
    expect((await refusal(remove(await current(), 99))).status).toBe(412);

    await remove(await current(), undefined);
    expect(await partitionOf(customer.id)).toEqual([]);
    expect(await store.get(userKeys.email('gone-c@example.com'), true)).toBeUndefined();
    expect(await store.get(apiTokenKeys.item(token.id), true)).toBeUndefined();
    expect(await store.get(tenantKeys.child(reseller.id, customer.id), true)).toBeUndefined();
    expect(await store.get(planKeys.customer(reseller.id, plan.id, customer.id), true)).toBeUndefined();
    expect(await store.get(counterKeys.item(customer.id), true)).toBeUndefined();
    // its owner's email can sign up again
    expect((await newTenant('gone-c', 'customer')).tenant.id).not.toBe(customer.id);
  });

  it('finishes a delete that stopped after marking the customer deleting', async () => {
    const { tenant: reseller } = await newTenant('halt-r', 'reseller');
    const { tenant: customer } = await newTenant('halt-c', 'customer', reseller);
    await store.update(tenantKeys.item(customer.id), { status: 'deleting' });
    const marked = (await store.get<TenantItem>(tenantKeys.item(customer.id), true)) as TenantItem;
    await makeDeleteCustomer(deps)(marked, undefined);
    expect(await partitionOf(customer.id)).toEqual([]);
    expect(await store.get(tenantKeys.child(reseller.id, customer.id), true)).toBeUndefined();
  });

  it("marks every server and site of a subtree suspended, and unmarks all but a still-suspended branch's", async () => {
    const { tenant: top } = await newTenant('susp-top', 'reseller');
    const { tenant: sub } = await newTenant('susp-sub', 'reseller', top);
    const { tenant: shop } = await newTenant('susp-shop', 'customer', sub);
    const { tenant: other } = await newTenant('susp-other', 'customer', top);
    for (const [tenantId, n] of [
      [top.id, 1],
      [sub.id, 1],
      [shop.id, 2],
      [other.id, 1],
    ] as const) {
      for (let i = 0; i < n; i += 1) {
        const serverId = ids.next('srv');
        const siteId = ids.next('site');
        await store.put({ ...serverKeys.item(tenantId, serverId), entity: 'server', id: serverId });
        await store.put({ ...siteKeys.item(tenantId, siteId), entity: 'site', id: siteId });
      }
    }
    const at = clock.now().toISOString();
    const sites: string[] = [];
    const marked = await markSubtreeSuspended(store, top.id, true, at, async (site) => {
      sites.push(site.id);
    });
    expect(marked).toEqual({ tenants: 4, servers: 5, sites: 5 });
    expect(sites).toHaveLength(5);
    const suspendedAt = async (tenantId: string) =>
      (
        await store.query<StoredItem & { suspendedAt?: string }>({
          pk: tenantKeys.item(tenantId).pk,
          skPrefix: serverKeys.prefix,
          limit: 10,
          tenantId,
          scope: 'test',
          consistent: true,
        })
      ).items.map((s) => s.suspendedAt);
    expect(await suspendedAt(shop.id)).toEqual([at, at]);

    // the sub-reseller stays suspended on its own: lifting the top's leaves its branch marked
    await store.update(tenantKeys.child(top.id, sub.id), { status: 'suspended' });
    await store.update(tenantKeys.item(top.id), { status: 'active' });
    const unmarked = await markSubtreeSuspended(store, top.id, false, at);
    expect(unmarked).toEqual({ tenants: 2, servers: 2, sites: 2 });
    expect(await suspendedAt(other.id)).toEqual([undefined]);
    expect(await suspendedAt(shop.id)).toEqual([at, at]);
    // nothing is lifted below a tenant that is itself suspended
    await store.update(tenantKeys.item(sub.id), { status: 'suspended' });
    expect(await markSubtreeSuspended(store, shop.id, false, at)).toEqual({
      tenants: 0,
      servers: 0,
      sites: 0,
    });
  });
});
