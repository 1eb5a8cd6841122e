import { errors } from '../../layers/errors/app-error';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created, etag, ok, versionFromIfMatch } from '../../layers/http/route';
import { type PlanItem, planKeys, toPlan } from '../../layers/model/plans';
import { plansContext } from './context';
import { readUsage } from './quota';
import { makeAssignPlan, makeCreatePlan, makeDeletePlan, makeUpdatePlan } from './service';

export const handler = makeContextHandler(plansContext, {
  createPlan: async ({ params, body, platform }) => {
    const plan = await makeCreatePlan(platform)(params.tenantId, body);
    return created(toPlan(plan), `/v1/tenants/${params.tenantId}/plans/${plan.id}`);
  },
  listPlans: async ({ params, query, platform }) =>
    listPage<PlanItem, ReturnType<typeof toPlan>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: planKeys.prefix,
        scope: 'plans',
        query,
      },
      toPlan,
    ),
  updatePlan: async ({ params, body, headers, platform }) => {
    const updated = await makeUpdatePlan(platform)(params.tenantId, params.planId, body, headers('if-match'));
    return ok(toPlan(updated), { ETag: etag(updated.version) });
  },
  deletePlan: async ({ params, headers, platform }) => {
    await makeDeletePlan(platform)(params.tenantId, params.planId, versionFromIfMatch(headers('if-match')));
    return { status: 204 };
  },
  assignPlan: async ({ params, body, platform }) =>
    ok(await makeAssignPlan(platform)(params.tenantId, params.customerId, body.planId)),
  getUsage: async ({ params, platform }) => {
    const usage = await readUsage(platform.store, params.tenantId);
    if (!usage) throw errors.notFound('tenant');
    return ok(usage);
  },
});
