import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts, forgetAlertConfig } from '../../../functions/alerts/evaluation';
import { heartbeatSweep } from '../../../functions/alerts/heartbeat';
import { verifySignature } from '../../../functions/alerts/signature';
import { alertKeys } from '../../../layers/model/alerts';
import { getPlatform } from '../../../layers/runtime/platform';
import type { LocalRuntime } from '../../../scripts/local/runtime';
import { closeReceivers, deliver, receiver, sample, server, start } from '../../support/alerts';
import {
  apiClient,
  eventually,
  mailsTo,
  notificationsSettled,
  signUp,
  startTestRuntime,
} from '../../support/runtime';

/**
 * Alerts end to end on the local runtime: rules through the API, scripted samples through the
 * aggregator as Lambda invokes it, transitions on the local EventBridge bus, emails in the SES
 * outbox, signed webhooks through the local SQS queue to a receiver on this machine.
 */
let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let owner: Awaited<ReturnType<typeof signUp>>;
let stranger: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  api = apiClient(runtime.url);
  owner = await signUp(api, 'alerts-owner@example.com');
  stranger = await signUp(api, 'alerts-stranger@example.com');
});
afterAll(async () => {
  closeReceivers();
  await runtime?.stop();
});

const series = (tenantId: string, serverId: string, from: number, values: number[]) =>
  values.map((cpu, i) => sample(tenantId, serverId, from + i * 10, cpu));

const createRule = (body: Record<string, unknown>, as = owner) =>
  api.call('POST', `/v1/tenants/${as.tenantId}/alert-rules`, { token: as.token, body });

describe('Feature: alerts', () => {
  it('fires after the for-duration, emails and calls a signed webhook once, resolves, and keeps the history', async () => {
    const hook = await receiver();
    const web = await server(owner.tenantId, 'web-1', ['web']);
    const other = await server(owner.tenantId, 'db-1', ['db']);
    const made = await createRule({
      name: 'CPU high on web',
      metric: 'cpuPercent',
      comparison: '>',
      threshold: 90,
      forSeconds: 60,
      recoverSeconds: 20,
      severity: 'critical',
      scope: { kind: 'tag', tag: 'web' },
      emails: ['oncall@example.com'],
      webhooks: [{ url: hook.url }],
    });
    expect(made.status).toBe(201);
    const rule = made.json;
    expect(rule.webhookSecret).toMatch(/^whsec_/);
    // 10 s apart: pending at 10, firing at 70; the db server out of scope stays quiet
    await deliver(runtime, series(owner.tenantId, web, 0, [50, 95, 96, 97, 98, 97, 96, 95]));
    await deliver(runtime, series(owner.tenantId, other, 0, [99, 99, 99, 99, 99, 99, 99, 99]));

    const firing = await api.call('GET', `/v1/tenants/${owner.tenantId}/alerts`, { token: owner.token });
    expect(firing.json.items).toEqual([
      expect.objectContaining({ ruleId: rule.id, serverId: web, severity: 'critical', value: 95 }),
    ]);
    const dashboard = await api.call('GET', `/v1/tenants/${owner.tenantId}/dashboard`, {
      token: owner.token,
    });
    expect(dashboard.json.alerts.firing).toBe(1);
    expect(dashboard.json.alerts.items[0].ruleName).toBe('CPU high on web');

    await eventually(async () => (hook.received.length >= 1 ? true : undefined), 10_000, 'the webhook');
    const [call] = hook.received;
    const payload = JSON.parse(call?.body ?? '{}');
    expect(payload).toMatchObject({
      type: 'alert.firing',
      ruleId: rule.id,
      serverId: web,
      serverName: 'web-1',
    });
    expect(verifySignature(rule.webhookSecret, call?.body ?? '', call?.signature ?? '', new Date())).toBe(
      true,
    );
    expect(verifySignature('whsec_wrong', call?.body ?? '', call?.signature ?? '', new Date())).toBe(false);
    const firingMails = mailsTo(runtime, 'oncall@example.com');
    expect(firingMails).toHaveLength(1);
    expect(firingMails[0]?.subject).toBe('[critical] FIRING: CPU high on web on web-1');

    // the same samples delivered again: no transition, no second email or webhook
    await deliver(runtime, series(owner.tenantId, web, 0, [50, 95, 96, 97, 98, 97, 96, 95]));
    // a dip shorter than recoverSeconds keeps it firing; a longer one resolves it
    await deliver(runtime, series(owner.tenantId, web, 80, [60, 95, 60, 60, 60]));
    await eventually(
      async () => (hook.received.length >= 2 ? true : undefined),
      10_000,
      'the resolved webhook',
    );
    expect(JSON.parse(hook.received[1]?.body ?? '{}').type).toBe('alert.resolved');
    expect(mailsTo(runtime, 'oncall@example.com').map((m) => m.subject)).toEqual([
      '[critical] FIRING: CPU high on web on web-1',
      '[critical] RESOLVED: CPU high on web on web-1',
    ]);
    // everything that could still be on its way has arrived
    await notificationsSettled(runtime);
    expect(hook.received).toHaveLength(2);
    expect(new Set(hook.received.map((r) => r.eventId)).size).toBe(2);

    const history = await api.call('GET', `/v1/tenants/${owner.tenantId}/alert-rules/${rule.id}/history`, {
      token: owner.token,
    });
    expect(history.json.items.map((e: { transition: string; at: string }) => e.transition)).toEqual([
      'resolved',
      'firing',
      'pending',
    ]);
    expect(history.json.items[1].at).toBe(new Date(start + 70_000).toISOString());
    const after = await api.call('GET', `/v1/tenants/${owner.tenantId}/alerts`, { token: owner.token });
    expect(after.json.items).toEqual([]);
  });

  it('keeps silenced transitions in the history without notifying, and never fires on a flapping series', async () => {
    const hook = await receiver();
    const web = await server(owner.tenantId, 'web-2', []);
    const down = await createRule({
      name: 'PHP-FPM down',
      metric: 'service.phpFpm',
      comparison: '<',
      threshold: 1,
      forSeconds: 0,
      scope: { kind: 'server', serverId: web },
      emails: ['silenced@example.com'],
      webhooks: [{ url: hook.url }],
    });
    const flapping = await createRule({
      name: 'CPU flapping',
      metric: 'cpuPercent',
      comparison: '>=',
      threshold: 80,
      forSeconds: 30,
      scope: { kind: 'server', serverId: web },
      emails: ['flapping@example.com'],
    });
    const silence = await api.call('POST', `/v1/tenants/${owner.tenantId}/silences`, {
      token: owner.token,
      body: {
        comment: 'PHP upgrade',
        match: { serverId: web },
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + 3_600_000).toISOString(),
      },
    });
    expect(silence.status).toBe(201);
    const values = [85, 85, 20, 85, 85, 20, 85, 85, 20, 85];
    await deliver(
      runtime,
      values.map((cpu, i) =>
        sample(owner.tenantId, web, 400 + i * 10, cpu, { phpFpm: i < 5 ? 'down' : 'up' }),
      ),
    );
    const downHistory = await api.call(
      'GET',
      `/v1/tenants/${owner.tenantId}/alert-rules/${down.json.id}/history`,
      { token: owner.token },
    );
    expect(
      downHistory.json.items.map((e: { transition: string; silenced: boolean }) => [
        e.transition,
        e.silenced,
      ]),
    ).toEqual([
      ['resolved', true],
      ['firing', true],
    ]);
    const flapHistory = await api.call(
      'GET',
      `/v1/tenants/${owner.tenantId}/alert-rules/${flapping.json.id}/history`,
      { token: owner.token },
    );
    const transitions = flapHistory.json.items.map((e: { transition: string }) => e.transition);
    expect(transitions).not.toContain('firing');
    // 85, 85, 20: pending then cleared, three times over, and pending again at the end
    expect(transitions.filter((t: string) => t === 'pending')).toHaveLength(4);
    expect(transitions.filter((t: string) => t === 'cleared')).toHaveLength(3);
    await notificationsSettled(runtime);
    expect(hook.received).toEqual([]);
    expect(mailsTo(runtime, 'silenced@example.com')).toEqual([]);
    expect(mailsTo(runtime, 'flapping@example.com')).toEqual([]);
    // the silence ends: the next firing notifies
    const deleted = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/silences/${silence.json.id}`, {
      token: owner.token,
    });
    expect(deleted.status).toBe(204);
    await deliver(runtime, [sample(owner.tenantId, web, 600, 10, { phpFpm: 'down' })]);
    await eventually(async () => (hook.received.length === 1 ? true : undefined), 10_000, 'the webhook');
    expect(mailsTo(runtime, 'silenced@example.com').map((m) => m.subject)).toEqual([
      '[warning] FIRING: PHP-FPM down on web-2',
    ]);
  });

  it('fires when a server goes silent for longer than the rule allows, and resolves when it reports again', async () => {
    const web = await server(owner.tenantId, 'web-5', []);
    const made = await createRule({
      name: 'Silent',
      metric: 'secondsSinceSample',
      comparison: '>',
      threshold: 120,
      forSeconds: 0,
      severity: 'critical',
      scope: { kind: 'server', serverId: web },
      emails: ['heartbeat@example.com'],
    });
    expect(made.status).toBe(201);
    const platform = await getPlatform();
    const sweepAt = async (seconds: number) => {
      await heartbeatSweep({ ...platform, clock: { now: () => new Date(start + seconds * 1000) } });
      await runtime.eventBus.settle();
    };
    await deliver(runtime, [sample(owner.tenantId, web, 1000, 20)]);
    await sweepAt(1060);
    expect(mailsTo(runtime, 'heartbeat@example.com')).toEqual([]);
    await sweepAt(1180);
    expect(mailsTo(runtime, 'heartbeat@example.com').map((m) => m.subject)).toEqual([
      '[critical] FIRING: Silent on web-5',
    ]);
    const firing = await api.call('GET', `/v1/tenants/${owner.tenantId}/alerts`, { token: owner.token });
    expect(firing.json.items).toContainEqual(expect.objectContaining({ ruleId: made.json.id, value: 180 }));
    // its samples come back
    await deliver(runtime, [sample(owner.tenantId, web, 1200, 20)]);
    await sweepAt(1240);
    expect(mailsTo(runtime, 'heartbeat@example.com').map((m) => m.subject)).toEqual([
      '[critical] FIRING: Silent on web-5',
      '[critical] RESOLVED: Silent on web-5',
    ]);
  });

  it('leaves nothing behind of a rule deleted while an evaluation still holds it', async () => {
    const web = await server(owner.tenantId, 'web-6', []);
    const made = await createRule({
      name: 'Deleted',
      metric: 'cpuPercent',
      comparison: '>',
      threshold: 50,
      forSeconds: 0,
      scope: { kind: 'server', serverId: web },
    });
    const platform = await getPlatform();
    // an aggregator instance that read the tenant's rules a moment ago, and keeps them for 5 minutes
    const cached = { ...platform, config: { ...platform.config, ALERT_CONFIG_CACHE_SECONDS: 300 } };
    const observe = (seconds: number, cpuPercent: number) => [
      {
        tenantId: owner.tenantId,
        serverId: web,
        observe: () => ({ at: new Date(start + seconds * 1000).toISOString(), values: { cpuPercent } }),
      },
    ];
    forgetAlertConfig();
    try {
      expect(await evaluateAlerts(cached, observe(2000, 10))).toBe(0);
      const deleted = await api.call('DELETE', `/v1/tenants/${owner.tenantId}/alert-rules/${made.json.id}`, {
        token: owner.token,
      });
      expect(deleted.status).toBe(204);
      // the rule as the instance still holds it would fire: its transaction finds the rule gone
      await evaluateAlerts(cached, observe(2010, 90));
      await runtime.eventBus.settle();
    } finally {
      forgetAlertConfig();
    }
    expect(
      await platform.store.get(alertKeys.state(owner.tenantId, made.json.id, web), true),
    ).toBeUndefined();
    const firing = await api.call('GET', `/v1/tenants/${owner.tenantId}/alerts`, { token: owner.token });
    expect(firing.json.items.map((a: { ruleId: string }) => a.ruleId)).not.toContain(made.json.id);
  });

  it('manages rules and silences, answers 400 naming the field, and 404 to another tenant', async () => {
    const web = await server(owner.tenantId, 'web-4', []);
    const made = await createRule({
      name: 'Disk',
      metric: 'diskUsedPercent',
      comparison: '>',
      threshold: 85,
    });
    expect(made.json).toMatchObject({
      forSeconds: 300,
      severity: 'warning',
      scope: { kind: 'all' },
      enabled: true,
    });
    const path = `/v1/tenants/${owner.tenantId}/alert-rules/${made.json.id}`;
    const got = await api.call('GET', path, { token: owner.token });
    expect(got.json.webhookSecret).toBeUndefined();
    const patched = await api.call('PATCH', path, {
      token: owner.token,
      body: { threshold: 90, enabled: false },
      headers: { 'if-match': got.headers.get('etag') ?? '' },
    });
    expect(patched.json).toMatchObject({ threshold: 90, enabled: false });
    const stale = await api.call('PATCH', path, {
      token: owner.token,
      body: { threshold: 95 },
      headers: { 'if-match': got.headers.get('etag') ?? '' },
    });
    expect(stale.status).toBe(412);

    for (const [body, field] of [
      [{ name: 'x', metric: 'cpu', comparison: '>', threshold: 1 }, 'body.metric'],
      [{ name: 'x', metric: 'cpuPercent', comparison: '!=', threshold: 1 }, 'body.comparison'],
      [{ name: 'x', metric: 'cpuPercent', comparison: '>', threshold: 1, forSeconds: -1 }, 'body.forSeconds'],
      [
        { name: 'x', metric: 'cpuPercent', comparison: '>', threshold: 1, webhooks: [{ url: 'ftp://a' }] },
        'body.webhooks.0.url',
      ],
      [
        {
          name: 'x',
          metric: 'cpuPercent',
          comparison: '>',
          threshold: 1,
          scope: { kind: 'server', serverId: `srv_${ulid().toLowerCase()}` },
        },
        'body.scope.serverId',
      ],
    ] as const) {
      const refused = await createRule(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.json.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    const badSilence = await api.call('POST', `/v1/tenants/${owner.tenantId}/silences`, {
      token: owner.token,
      body: { comment: 'x', repeat: { weekdays: [7], start: '25:00', durationMinutes: 60 } },
    });
    expect(badSilence.json.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['body.repeat.weekdays.0', 'body.repeat.start']),
    );
    const window = await api.call('POST', `/v1/tenants/${owner.tenantId}/silences`, {
      token: owner.token,
      body: {
        comment: 'Sunday night',
        match: { serverId: web },
        repeat: { weekdays: [0], start: '23:00', durationMinutes: 120 },
      },
    });
    expect(window.status).toBe(201);

    // another tenant: 404 on the owner's rule, its history and silence, never data
    const theirs = `/v1/tenants/${stranger.tenantId}`;
    for (const [method, target] of [
      ['GET', `${theirs}/alert-rules/${made.json.id}`],
      ['PATCH', `${theirs}/alert-rules/${made.json.id}`],
      ['DELETE', `${theirs}/alert-rules/${made.json.id}`],
      ['GET', `${theirs}/alert-rules/${made.json.id}/history`],
      ['DELETE', `${theirs}/silences/${window.json.id}`],
    ] as const) {
      const response = await api.call(method, target, {
        token: stranger.token,
        ...(method === 'PATCH' ? { body: { threshold: 1 } } : {}),
      });
      expect(response.status, `${method} ${target}`).toBe(404);
    }
    const strangerRules = await api.call('GET', `${theirs}/alert-rules`, { token: stranger.token });
    expect(strangerRules.json.items).toEqual([]);
    const strangerSilences = await api.call('GET', `${theirs}/silences`, { token: stranger.token });
    expect(strangerSilences.json.items).toEqual([]);
    // a silence naming another tenant's server or rule is refused as not theirs
    const foreign = await api.call('POST', `${theirs}/silences`, {
      token: stranger.token,
      body: { comment: 'x', match: { serverId: web, ruleId: made.json.id }, endsAt: '2030-01-01T00:00:00Z' },
    });
    expect(foreign.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.match.ruleId',
      'body.match.serverId',
    ]);
    // nor can a rule of theirs watch the owner's server
    const watching = await createRule(
      {
        name: 'x',
        metric: 'cpuPercent',
        comparison: '>',
        threshold: 1,
        scope: { kind: 'server', serverId: web },
      },
      stranger,
    );
    expect(watching.status).toBe(400);

    const removed = await api.call('DELETE', path, { token: owner.token });
    expect(removed.status).toBe(204);
    expect((await api.call('GET', path, { token: owner.token })).status).toBe(404);
  });
});
