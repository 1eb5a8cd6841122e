import { describe, expect, it } from 'vitest';
import { eventRules } from '../../layers/events/rules';
import type { AlertRuleItem, AlertStateItem, SilenceItem } from '../../layers/model/alerts';
import { matchesPattern } from '../../scripts/local/event-pattern';
import { silenceActive, silenced, step } from './evaluate';
import { signatureHeader, verifySignature } from './signature';

const rule = (changes: Partial<AlertRuleItem> = {}): AlertRuleItem => ({
  pk: 'T#ten',
  sk: 'ALERTCFG#RULE#alr_1',
  entity: 'alert-rule',
  id: 'alr_1',
  tenantId: 'ten_1',
  name: 'CPU high',
  metric: 'cpuPercent',
  comparison: '>',
  threshold: 90,
  forSeconds: 60,
  recoverSeconds: 0,
  severity: 'critical',
  scope: { kind: 'all' },
  enabled: true,
  emails: [],
  webhooks: [],
  webhookSecret: 'whsec_x',
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
  ...changes,
});

const base = { pk: 'T#ten', sk: 'ALERTSTATE#alr_1#srv_1', tenantId: 'ten_1', serverId: 'srv_1' };
const at = (seconds: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, 0) + seconds * 1000).toISOString();

/** Runs a series of values, one every 10 s, and answers the transitions with their times. */
function run(r: AlertRuleItem, values: number[]) {
  let state: AlertStateItem | undefined;
  const transitions: string[] = [];
  values.forEach((value, i) => {
    const result = step(r, state, { at: at(i * 10), values: { cpuPercent: value } }, base);
    if (!result) return;
    if (result.transition) transitions.push(`${result.transition}@${i * 10}`);
    state = result.state;
  });
  return { transitions, state };
}

describe('Alert states over a scripted series', () => {
  it('goes pending when the condition holds, fires after forSeconds, resolves when it stops', () => {
    const { transitions, state } = run(rule(), [50, 95, 95, 95, 95, 95, 95, 95, 50, 50]);
    expect(transitions).toEqual(['pending@10', 'firing@70', 'resolved@80']);
    expect(state?.state).toBe('ok');
  });

  it('clears a pending alert that stops holding before forSeconds, and never fires on a flapping series', () => {
    const flapping = Array.from({ length: 30 }, (_, i) => (i % 3 === 2 ? 50 : 97));
    const { transitions } = run(rule(), flapping);
    expect(transitions.filter((t) => t.startsWith('firing'))).toEqual([]);
    expect(transitions.filter((t) => t.startsWith('pending')).length).toBe(10);
    expect(transitions.filter((t) => t.startsWith('cleared')).length).toBe(10);
  });

  it('keeps a firing alert firing through dips shorter than recoverSeconds', () => {
    const series = [95, 95, 95, 50, 95, 50, 95, 50, 50, 50, 50];
    const { transitions } = run(rule({ forSeconds: 20, recoverSeconds: 30 }), series);
    expect(transitions).toEqual(['pending@0', 'firing@20', 'resolved@100']);
  });

  it('fires at once with forSeconds 0, and reads services and percentiles by their metric', () => {
    expect(run(rule({ forSeconds: 0 }), [50, 91]).transitions).toEqual(['firing@10']);
    const down = step(
      rule({ metric: 'service.phpFpm', comparison: '<', threshold: 1, forSeconds: 0 }),
      undefined,
      { at: at(0), values: { 'service.phpFpm': 0 } },
      base,
    );
    expect(down?.transition).toBe('firing');
  });

  it('changes nothing for an observation no newer than the last, or without the metric', () => {
    const r = rule({ forSeconds: 0 });
    const fired = step(r, undefined, { at: at(10), values: { cpuPercent: 99 } }, base);
    expect(fired?.transition).toBe('firing');
    expect(step(r, fired?.state, { at: at(10), values: { cpuPercent: 10 } }, base)).toBeUndefined();
    expect(step(r, fired?.state, { at: at(5), values: { cpuPercent: 10 } }, base)).toBeUndefined();
    expect(step(r, fired?.state, { at: at(20), values: { load1: 10 } }, base)).toBeUndefined();
  });
});

describe('Silences and maintenance windows', () => {
  const silence = (changes: Partial<SilenceItem>): SilenceItem => ({
    pk: 'T#ten',
    sk: 'ALERTCFG#SILENCE#sil_1',
    entity: 'silence',
    id: 'sil_1',
    tenantId: 'ten_1',
    comment: 'upgrade',
    match: {},
    startsAt: '2026-12-01T00:00:00.000Z',
    createdAt: '2026-12-01T00:00:00.000Z',
    ...changes,
  });

  it('is active between its bounds only', () => {
    const s = silence({ endsAt: '2026-12-01T02:00:00.000Z' });
    expect(silenceActive(s, '2026-11-30T23:59:59.000Z')).toBe(false);
    expect(silenceActive(s, '2026-12-01T01:00:00.000Z')).toBe(true);
    expect(silenceActive(s, '2026-12-01T02:00:00.000Z')).toBe(false);
  });

  it('repeats weekly, across midnight too', () => {
    // Sundays 23:00 UTC for 3 hours; 2026-12-06 is a Sunday
    const s = silence({ repeat: { weekdays: [0], start: '23:00', durationMinutes: 180 } });
    expect(silenceActive(s, '2026-12-06T22:59:00.000Z')).toBe(false);
    expect(silenceActive(s, '2026-12-06T23:30:00.000Z')).toBe(true);
    expect(silenceActive(s, '2026-12-07T01:59:00.000Z')).toBe(true);
    expect(silenceActive(s, '2026-12-07T02:00:00.000Z')).toBe(false);
    expect(silenceActive(s, '2026-12-13T23:10:00.000Z')).toBe(true);
    expect(silenceActive(s, '2026-12-09T23:30:00.000Z')).toBe(false);
  });

  it('matches by rule, server and tag, all that are given', () => {
    const server = { id: 'srv_1', name: 'web-1', tags: ['web'] };
    const now = '2026-12-02T00:00:00.000Z';
    const open = { endsAt: '2026-12-31T00:00:00.000Z' };
    expect(silenced([silence({ ...open, match: { tag: 'web' } })], rule(), server, now)).toBe(true);
    expect(silenced([silence({ ...open, match: { tag: 'db' } })], rule(), server, now)).toBe(false);
    expect(
      silenced([silence({ ...open, match: { ruleId: 'alr_1', serverId: 'srv_2' } })], rule(), server, now),
    ).toBe(false);
    expect(
      silenced([silence({ ...open, match: { ruleId: 'alr_1', serverId: 'srv_1' } })], rule(), server, now),
    ).toBe(true);
  });
});

describe('Webhook signatures', () => {
  it('verifies its own signature, and refuses another body, secret or an old timestamp', () => {
    const now = new Date('2026-12-03T12:00:00Z');
    const header = signatureHeader('whsec_a', '{"x":1}', now);
    expect(verifySignature('whsec_a', '{"x":1}', header, now)).toBe(true);
    expect(verifySignature('whsec_a', '{"x":2}', header, now)).toBe(false);
    expect(verifySignature('whsec_b', '{"x":1}', header, now)).toBe(false);
    expect(verifySignature('whsec_a', '{"x":1}', header, new Date(now.getTime() + 301_000))).toBe(false);
  });
});

describe("The local bus's event patterns", () => {
  const event = (detailType: string, silencedFlag: boolean) => ({
    source: 'vip-hosting-panel.alerts',
    'detail-type': detailType,
    detail: { silenced: silencedFlag, value: 93.5, tags: ['web', 'eu'] },
  });
  it("routes firing and resolved alerts that are not silenced to the notifier, as the rule's pattern says", () => {
    const { pattern } = eventRules['alert-notifications'];
    expect(matchesPattern(event('Alert firing', false), pattern)).toBe(true);
    expect(matchesPattern(event('Alert resolved', false), pattern)).toBe(true);
    expect(matchesPattern(event('Alert firing', true), pattern)).toBe(false);
    expect(matchesPattern(event('Alert pending', false), pattern)).toBe(false);
    expect(matchesPattern({ ...event('Alert firing', false), source: 'other' }, pattern)).toBe(false);
  });
  it('supports prefix, anything-but, numeric, exists and array fields as EventBridge does', () => {
    const e = event('Alert firing', false);
    expect(matchesPattern(e, { 'detail-type': [{ prefix: 'Alert ' }] })).toBe(true);
    expect(matchesPattern(e, { 'detail-type': [{ 'anything-but': ['Alert firing'] }] })).toBe(false);
    expect(matchesPattern(e, { detail: { value: [{ numeric: ['>', 90, '<=', 100] }] } })).toBe(true);
    expect(matchesPattern(e, { detail: { value: [{ numeric: ['<', 90] }] } })).toBe(false);
    expect(matchesPattern(e, { detail: { missing: [{ exists: false }] } })).toBe(true);
    expect(matchesPattern(e, { detail: { value: [{ exists: false }] } })).toBe(false);
    expect(matchesPattern(e, { detail: { tags: ['eu'] } })).toBe(true);
    expect(matchesPattern(e, { detail: { tags: ['us'] } })).toBe(false);
  });
});
