import { describe, expect, it } from 'vitest';
import type { AlertRuleItem, AlertStateItem } from '../../layers/model/alerts';
import { sampleV1 } from '../../test/support/fixtures';
import { mergeIntoRollup, SKETCH_RELATIVE_ACCURACY } from '../metrics/rollup';
import type { Sample } from '../metrics/sample';
import { step } from './evaluate';
import { observationOf } from './observation';

const sample = (second: number, cpuPercent: number): Sample => ({
  ...sampleV1,
  sampleId: `sample-${second}`,
  at: new Date(Date.UTC(2026, 11, 3, 12, 0, second)).toISOString(),
  cpuPercent,
});

// one minute: four quiet samples and two spikes
const cpu = [10, 11, 12, 13, 96, 97];
const samples = [5, 15, 25, 35, 45, 55].map((second, i) => sample(second, cpu[i] as number));
/** the value of rank q x (n - 1) of the sorted values, as DDSketch ranks them */
const ranked = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))] as number;
const within = (value: number | undefined, truth: number) =>
  Math.abs((value ?? Number.NaN) - truth) / truth <= SKETCH_RELATIVE_ACCURACY + 0.005;
const minute = mergeIntoRollup(undefined, samples);
const newest = samples[5] as Sample;

describe('Module: alert observations', () => {
  it("gives a minute's percentiles, within the sketch's accuracy, when a rule watches one", () => {
    const { values } = observationOf(newest, minute, new Set(['cpuPercent.p50']));
    for (const [name, q] of [
      ['p50', 0.5],
      ['p95', 0.95],
      ['p99', 0.99],
    ] as const) {
      expect({ name, within: within(values[`cpuPercent.${name}`], ranked(cpu, q)) }).toEqual({
        name,
        within: true,
      });
    }
    expect(values.cpuPercent).toBe(97);
  });

  it('decodes no sketch when no rule watches a percentile', () => {
    const { values } = observationOf(newest, minute, new Set(['cpuPercent', 'diskUsedPercent']));
    expect(Object.keys(values).filter((name) => name.includes('.p'))).toEqual([]);
    expect(values).toMatchObject({ cpuPercent: 97, diskUsedPercent: 70 });
  });

  it("lets a rule on p95 fire where one on the same gauge's newest value would not", () => {
    const rule = {
      id: 'alr_1',
      tenantId: 'ten_1',
      metric: 'cpuPercent.p95',
      comparison: '>',
      threshold: 90,
      forSeconds: 0,
      recoverSeconds: 0,
    } as AlertRuleItem;
    const key = { pk: 'T#ten', sk: 'ALERTSTATE#alr_1#srv_1', tenantId: 'ten_1', serverId: 'srv_1' };
    const quiet = sample(59, 12);
    // the newest sample is quiet, the minute's p95 a spike
    expect(ranked([...cpu, 12], 0.95)).toBe(96);
    const observation = observationOf(quiet, mergeIntoRollup(minute, [quiet]), new Set([rule.metric]));
    const fired = step(rule, undefined as AlertStateItem | undefined, observation, key);
    expect(fired?.transition).toBe('firing');
    expect(step({ ...rule, metric: 'cpuPercent' }, undefined, observation, key)?.transition).toBeUndefined();
  });
});
