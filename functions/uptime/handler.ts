import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { updateIfMatch } from '../../layers/http/conditional';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created, etag, ok } from '../../layers/http/route';
import {
  type IncidentItem,
  toIncident,
  toResult,
  toUptimeCheck,
  type UptimeCheckItem,
  type UptimeResultItem,
  uptimeDueIndex,
  uptimeKeys,
} from '../../layers/model/uptime';
import { refusedAddress } from '../../layers/net/public-address';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import { putNew } from '../../layers/store/writes';
import { newWebhookSecret } from '../alerts/signature';
import { webhookProblems } from '../alerts/webhooks';
import { uptimeContext } from './context';
import type { checkBody } from './spec';

type CheckFields = { [K in keyof z.output<typeof checkBody>]?: z.output<typeof checkBody>[K] | undefined };

/** Only public addresses are probed, and webhooks go only to public HTTPS: 400s naming the field. */
async function checkTargets(platform: Platform, body: CheckFields) {
  const problems: { path: string; message: string }[] = [];
  if (body.url) {
    const refused = await refusedAddress(body.url, platform.config.UPTIME_TARGETS_LOCAL);
    if (refused) problems.push({ path: 'body.url', message: refused });
  }
  problems.push(...(await webhookProblems(platform, body.webhooks)));
  if (problems.length > 0) throw errors.validation(problems);
}

async function checkOf(store: Store, tenantId: string, checkId: string) {
  const check = await store.get<UptimeCheckItem>(uptimeKeys.check(tenantId, checkId), true);
  if (!check) throw errors.notFound('uptime check');
  return check;
}

/** `null` in a body removes an optional field. */
const withoutNulls = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === null ? undefined : v]));

export const handler = makeContextHandler(uptimeContext, {
  listUptimeChecks: async ({ params, query, platform }) => {
    return listPage<UptimeCheckItem, ReturnType<typeof toUptimeCheck>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: uptimeKeys.checkPrefix,
        scope: 'uptime-checks',
        query,
      },
      toUptimeCheck,
    );
  },

  createUptimeCheck: async ({ params, body, platform }) => {
    await checkTargets(platform, body);
    const id = platform.ids.next('upc');
    const now = platform.clock.now().toISOString();
    const { keyword, publicName, ...rest } = body;
    const check: UptimeCheckItem = {
      ...uptimeKeys.check(params.tenantId, id),
      entity: 'uptime-check',
      id,
      tenantId: params.tenantId,
      ...rest,
      ...(keyword ? { keyword } : {}),
      ...(publicName ? { publicName } : {}),
      webhookSecret: newWebhookSecret(),
      status: 'unknown',
      consecutiveFailures: 0,
      days: {},
      // the first probe at the next sweep
      nextCheckAt: now,
      ...(body.enabled ? uptimeDueIndex.keys(now, params.tenantId, id) : {}),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await platform.store.transact([putNew(check)]);
    return created(
      { ...toUptimeCheck(check), webhookSecret: check.webhookSecret },
      `/v1/tenants/${params.tenantId}/uptime-checks/${id}`,
    );
  },

  getUptimeCheck: async ({ params, platform }) => {
    const check = await checkOf(platform.store, params.tenantId, params.checkId);
    return ok(toUptimeCheck(check), { ETag: etag(check.version) });
  },

  updateUptimeCheck: async ({ params, body, headers, platform }) => {
    const check = await checkOf(platform.store, params.tenantId, params.checkId);
    await checkTargets(platform, body);
    const enabled = body.enabled ?? check.enabled;
    const now = platform.clock.now().toISOString();
    // a check enabled again (or whose interval changed) is probed at the next sweep
    const due =
      enabled && (!check.enabled || body.intervalSeconds !== undefined)
        ? { nextCheckAt: now, ...uptimeDueIndex.keys(now, check.tenantId, check.id) }
        : enabled
          ? {}
          : { gsi1pk: undefined, gsi1sk: undefined };
    const updated = await updateIfMatch<UptimeCheckItem>(
      platform.store,
      uptimeKeys.check(params.tenantId, params.checkId),
      { ...withoutNulls(body), ...due, updatedAt: now },
      headers('if-match'),
      check.version,
    );
    return ok(toUptimeCheck(updated), { ETag: etag(updated.version) });
  },

  deleteUptimeCheck: async ({ params, platform }) => {
    await checkOf(platform.store, params.tenantId, params.checkId);
    await platform.store.remove(uptimeKeys.check(params.tenantId, params.checkId));
    return { status: 204 };
  },

  listUptimeResults: async ({ params, query, platform }) => {
    await checkOf(platform.store, params.tenantId, params.checkId);
    return listPage<UptimeResultItem, ReturnType<typeof toResult>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: uptimeKeys.resultPrefix(params.checkId),
        scope: `uptime-results:${params.checkId}`,
        query,
        ascending: false,
      },
      toResult,
    );
  },

  listIncidents: async ({ params, query, platform }) => {
    return listPage<IncidentItem, ReturnType<typeof toIncident>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: uptimeKeys.incidentPrefix,
        scope: 'incidents',
        query,
        ascending: false,
      },
      toIncident,
    );
  },
});
