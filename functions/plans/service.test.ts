import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPasswordCost } from '../../layers/auth/passwords';
import { type Clock, ulidIds } from '../../layers/ids/ids';
import { type TenantItem, tenantKeys } from '../../layers/model/tenants';
import type { Store } from '../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { planLimits } from '../../test/support/fixtures';
import { refusal } from '../../test/support/refusal';
import { makeCreateTenant } from '../tenants/service';
import { readUsage } from './quota';
import { makeAssignPlan, makeCreatePlan, makeDeletePlan, makeUpdatePlan, type PlanDeps } from './service';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const clock: Clock = { now: () => new Date('2026-12-01T09:00:00Z') };
const ids = ulidIds();
let deps: PlanDeps;
const password = 'a long enough password';

beforeAll(async () => {
  setPasswordCost(12);
  ({ dynamo, store } = await startTestStore(clock));
  deps = { store, clock, ids };
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A reseller with the given number of customers. */
async function reseller(name: string, customers: number) {
  const createTenant = makeCreateTenant(deps);
  const { tenant } = await createTenant({
    name,
    kind: 'reseller',
    owner: { email: `${name}@example.com`, name, password },
  });
  const made: TenantItem[] = [];
  for (let i = 0; i < customers; i += 1) {
    const { tenant: customer } = await createTenant(
      {
        name: `${name}-${i}`,
        kind: 'customer',
        owner: { email: `${name}-${i}@example.com`, name, password },
      },
      tenant,
    );
    made.push(customer);
  }
  return { id: tenant.id, customers: made.map((c) => c.id) };
}

const rateOf = async (tenantId: string) =>
  (await store.get<TenantItem & { requestsPerMinute?: number }>(tenantKeys.item(tenantId), true))
    ?.requestsPerMinute;

describe('Service: plans and quotas', () => {
  it("puts a customer on a plan: its limits on the customer's counters, its rate on the tenant", async () => {
    const r = await reseller('plans-a', 1);
    const [customer = ''] = r.customers;
    const plan = await makeCreatePlan(deps)(r.id, {
      name: 'Starter',
      limits: planLimits,
      requestsPerMinute: 120,
    });
    expect(plan).toMatchObject({ ownerTenantId: r.id, name: 'Starter', limits: planLimits, version: 1 });
    expect(await readUsage(store, customer)).toMatchObject({
      planId: null,
      quotas: { servers: { limit: null } },
    });
    const usage = await makeAssignPlan(deps)(r.id, customer, plan.id);
    expect(usage).toEqual({
      planId: plan.id,
      quotas: Object.fromEntries(Object.entries(planLimits).map(([q, limit]) => [q, { limit, used: 0 }])),
    });
    expect(await rateOf(customer)).toBe(120);
  });

  it('keeps plans to resellers, and a reseller to its own customers and plans', async () => {
    const r = await reseller('plans-b', 1);
    const other = await reseller('plans-c', 1);
    const [customer = ''] = r.customers;
    const [foreignCustomer = ''] = other.customers;
    expect((await refusal(makeCreatePlan(deps)(customer, { name: 'Mine', limits: planLimits }))).status).toBe(
      403,
    );
    const plan = await makeCreatePlan(deps)(r.id, { name: 'Starter', limits: planLimits });
    const foreignPlan = await makeCreatePlan(deps)(other.id, { name: 'Theirs', limits: planLimits });
    expect((await refusal(makeAssignPlan(deps)(r.id, foreignCustomer, plan.id))).status).toBe(404);
    expect(await refusal(makeAssignPlan(deps)(r.id, customer, foreignPlan.id))).toMatchObject({
      status: 400,
      path: 'body.planId',
    });
    expect((await refusal(makeUpdatePlan(deps)(r.id, foreignPlan.id, { name: 'x' }, undefined))).status).toBe(
      404,
    );
    expect((await refusal(makeDeletePlan(deps)(r.id, foreignPlan.id, undefined))).status).toBe(404);
  });

  it('carries a changed limit or rate to every customer on the plan, and no other', async () => {
    const r = await reseller('plans-d', 3);
    const [first = '', second = '', third = ''] = r.customers;
    const starter = await makeCreatePlan(deps)(r.id, { name: 'Starter', limits: planLimits });
    const other = await makeCreatePlan(deps)(r.id, { name: 'Other', limits: planLimits });
    await makeAssignPlan(deps)(r.id, first, starter.id);
    await makeAssignPlan(deps)(r.id, second, starter.id);
    await makeAssignPlan(deps)(r.id, third, other.id);
    const changed = await makeUpdatePlan(deps)(
      r.id,
      starter.id,
      { name: 'Starter+', limits: { ...planLimits, servers: 5 }, requestsPerMinute: 300 },
      undefined,
    );
    expect(changed).toMatchObject({ name: 'Starter+', requestsPerMinute: 300, version: 2 });
    for (const customer of [first, second]) {
      expect((await readUsage(store, customer))?.quotas.servers.limit).toBe(5);
      expect(await rateOf(customer)).toBe(300);
    }
    expect((await readUsage(store, third))?.quotas.servers.limit).toBe(planLimits.servers);
    expect(await rateOf(third)).toBeUndefined();
    // a rename alone touches no customer; a stale If-Match is refused
    expect((await makeUpdatePlan(deps)(r.id, starter.id, { name: 'Starter' }, '"v2"')).version).toBe(3);
    expect((await refusal(makeUpdatePlan(deps)(r.id, starter.id, { name: 'Late' }, '"v2"'))).status).toBe(
      412,
    );
  });

  it('deletes a plan only once nobody is on it, moving a customer taking it off the old plan', async () => {
    const r = await reseller('plans-e', 1);
    const [customer = ''] = r.customers;
    const starter = await makeCreatePlan(deps)(r.id, { name: 'Starter', limits: planLimits });
    const bigger = await makeCreatePlan(deps)(r.id, {
      name: 'Bigger',
      limits: { ...planLimits, servers: planLimits.servers + 1 },
    });
    await makeAssignPlan(deps)(r.id, customer, starter.id);
    expect((await refusal(makeDeletePlan(deps)(r.id, starter.id, undefined))).status).toBe(409);
    const moved = await makeAssignPlan(deps)(r.id, customer, bigger.id);
    expect(moved).toMatchObject({
      planId: bigger.id,
      quotas: { servers: { limit: planLimits.servers + 1 } },
    });
    expect((await refusal(makeDeletePlan(deps)(r.id, starter.id, 7))).status).toBe(412);
    await makeDeletePlan(deps)(r.id, starter.id, undefined);
    expect((await refusal(makeDeletePlan(deps)(r.id, starter.id, undefined))).status).toBe(404);
    // the bigger plan's change still reaches the customer (its link moved with it)
    await makeUpdatePlan(deps)(r.id, bigger.id, { limits: { ...planLimits, servers: 9 } }, undefined);
    expect((await readUsage(store, customer))?.quotas.servers.limit).toBe(9);
  });
});
