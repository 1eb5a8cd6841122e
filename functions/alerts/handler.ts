import type * as z from 'zod';
import { errors } from '../../layers/errors/app-error';
import { updateIfMatch } from '../../layers/http/conditional';
import { makeContextHandler } from '../../layers/http/context-handler';
import { listPage } from '../../layers/http/list';
import { created, etag, ok } from '../../layers/http/route';
import {
  type AlertEventItem,
  type AlertRuleItem,
  type AlertStateItem,
  alertKeys,
  type FiringAlertsItem,
  firingChange,
  firingItemIfAbsent,
  heartbeatRuleIndex,
  type SilenceItem,
  toAlertEvent,
  toAlertRule,
  toSilence,
} from '../../layers/model/alerts';
import { tenantPartition } from '../../layers/model/keys';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import { deleteItem, putNew } from '../../layers/store/writes';
import { alertsContext } from './context';
import { SILENCE_METRIC } from './observation';
import { newWebhookSecret } from './signature';
import type { ruleBody } from './spec';
import { webhookProblems } from './webhooks';

type RuleFields = { [K in keyof z.output<typeof ruleBody>]?: z.output<typeof ruleBody>[K] | undefined };

/** A rule's webhooks must be public HTTPS endpoints and its server one of the tenant's: 400s naming the field. */
async function checkRule(platform: Platform, store: Store, tenantId: string, body: RuleFields) {
  const problems = await webhookProblems(platform, body.webhooks);
  if (body.scope?.kind === 'server') {
    const server = await store.get<ServerItem>(serverKeys.item(tenantId, body.scope.serverId));
    if (!server) problems.push({ path: 'body.scope.serverId', message: 'No such server of yours' });
  }
  if (problems.length > 0) throw errors.validation(problems);
}

async function ruleOf(store: Store, tenantId: string, ruleId: string) {
  const rule = await store.get<AlertRuleItem>(alertKeys.rule(tenantId, ruleId), true);
  if (!rule) throw errors.notFound('alert rule');
  return rule;
}

export const handler = makeContextHandler(alertsContext, {
  listAlertRules: async ({ params, query, platform }) => {
    return listPage<AlertRuleItem, ReturnType<typeof toAlertRule>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: alertKeys.rulePrefix,
        scope: 'alert-rules',
        query,
      },
      toAlertRule,
    );
  },

  createAlertRule: async ({ params, body, platform }) => {
    await checkRule(platform, platform.store, params.tenantId, body);
    const id = platform.ids.next('alr');
    const now = platform.clock.now().toISOString();
    const rule: AlertRuleItem = {
      ...alertKeys.rule(params.tenantId, id),
      entity: 'alert-rule',
      id,
      tenantId: params.tenantId,
      ...body,
      webhookSecret: newWebhookSecret(),
      ...(body.metric === SILENCE_METRIC ? heartbeatRuleIndex.keys(params.tenantId, id) : {}),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    // the firing item exists before any alert of the tenant can fire
    await platform.store.transact([putNew(rule), firingItemIfAbsent(params.tenantId)]);
    return created(
      { ...toAlertRule(rule), webhookSecret: rule.webhookSecret },
      `/v1/tenants/${params.tenantId}/alert-rules/${id}`,
    );
  },

  getAlertRule: async ({ params, platform }) => {
    const rule = await ruleOf(platform.store, params.tenantId, params.ruleId);
    return ok(toAlertRule(rule), { ETag: etag(rule.version) });
  },

  updateAlertRule: async ({ params, body, headers, platform }) => {
    const rule = await ruleOf(platform.store, params.tenantId, params.ruleId);
    await checkRule(platform, platform.store, params.tenantId, body);
    const updated = await updateIfMatch<AlertRuleItem>(
      platform.store,
      alertKeys.rule(params.tenantId, params.ruleId),
      {
        ...body,
        // a rule on a server's silence is in the heartbeat sweep's index, and only such a rule
        ...(body.metric === undefined
          ? {}
          : body.metric === SILENCE_METRIC
            ? heartbeatRuleIndex.keys(params.tenantId, rule.id)
            : { gsi1pk: undefined, gsi1sk: undefined }),
        updatedAt: platform.clock.now().toISOString(),
      },
      headers('if-match'),
      rule.version,
    );
    return ok(toAlertRule(updated), { ETag: etag(updated.version) });
  },

  deleteAlertRule: async ({ params, platform }) => {
    const rule = await ruleOf(platform.store, params.tenantId, params.ruleId);
    await platform.store.transact([deleteItem(alertKeys.rule(params.tenantId, rule.id))]);
    // its alerts end with it: states removed, firing ones taken off the dashboard
    for await (const states of platform.store.pages<AlertStateItem>({
      pk: tenantPartition(params.tenantId),
      skPrefix: alertKeys.statePrefix(rule.id),
    })) {
      for (const state of states) {
        await platform.store.transact([
          deleteItem(alertKeys.state(params.tenantId, rule.id, state.serverId), {}),
          ...(state.state === 'firing'
            ? [firingChange(params.tenantId, rule.id, state.serverId, undefined)]
            : []),
        ]);
      }
    }
    return { status: 204 };
  },

  listAlertRuleHistory: async ({ params, query, platform }) => {
    await ruleOf(platform.store, params.tenantId, params.ruleId);
    return listPage<AlertEventItem, ReturnType<typeof toAlertEvent>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: alertKeys.historyPrefix(params.ruleId),
        scope: `alert-history:${params.ruleId}`,
        query,
        ascending: false,
      },
      toAlertEvent,
    );
  },

  listFiringAlerts: async ({ params, platform }) => {
    const item = await platform.store.get<FiringAlertsItem>(alertKeys.firing(params.tenantId));
    const items = Object.values(item?.firing ?? {}).sort((a, b) => a.since.localeCompare(b.since));
    return ok({ items });
  },

  listSilences: async ({ params, query, platform }) => {
    return listPage<SilenceItem, ReturnType<typeof toSilence>>(
      platform.store,
      {
        tenantId: params.tenantId,
        skPrefix: alertKeys.silencePrefix,
        scope: 'silences',
        query,
      },
      toSilence,
    );
  },

  createSilence: async ({ params, body, platform }) => {
    const problems: { path: string; message: string }[] = [];
    if (
      body.match.ruleId &&
      !(await platform.store.get(alertKeys.rule(params.tenantId, body.match.ruleId)))
    ) {
      problems.push({ path: 'body.match.ruleId', message: 'No such alert rule of yours' });
    }
    if (
      body.match.serverId &&
      !(await platform.store.get(serverKeys.item(params.tenantId, body.match.serverId)))
    ) {
      problems.push({ path: 'body.match.serverId', message: 'No such server of yours' });
    }
    if (problems.length > 0) throw errors.validation(problems);
    const id = platform.ids.next('sil');
    const now = platform.clock.now().toISOString();
    const silence: SilenceItem = {
      ...alertKeys.silence(params.tenantId, id),
      entity: 'silence',
      id,
      tenantId: params.tenantId,
      comment: body.comment,
      match: Object.fromEntries(Object.entries(body.match).filter(([, v]) => v !== undefined)),
      startsAt: body.startsAt ? new Date(body.startsAt).toISOString() : now,
      ...(body.endsAt ? { endsAt: new Date(body.endsAt).toISOString() } : {}),
      ...(body.repeat ? { repeat: body.repeat } : {}),
      createdAt: now,
    };
    await platform.store.transact([putNew(silence)]);
    return created(toSilence(silence), `/v1/tenants/${params.tenantId}/silences/${id}`);
  },

  deleteSilence: async ({ params, platform }) => {
    const key = alertKeys.silence(params.tenantId, params.silenceId);
    if (!(await platform.store.get(key, true))) throw errors.notFound('silence');
    await platform.store.remove(key);
    return { status: 204 };
  },
});
