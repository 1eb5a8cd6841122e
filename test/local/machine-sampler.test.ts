import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diskUsedPercent } from '../../scripts/local/machine-sampler';

describe('Module: machine sampler', () => {
  it('reports disk use as df does: used over used plus available', () => {
    // 1000 blocks, 400 free of which 350 a user may have: 600 used of 950 usable
    expect(diskUsedPercent({ blocks: 1000, bfree: 400, bavail: 350 })).toBe(63.16);
  });

  it('agrees with df on this machine to the percent it rounds up to', () => {
    const [, line] = execFileSync('df', ['--output=pcent', '/'], { encoding: 'utf8' }).trim().split('\n');
    const dfPercent = Number(line?.trim().replace('%', ''));
    const ours = diskUsedPercent(statfsSync('/'));
    expect(Math.ceil(ours)).toBeGreaterThanOrEqual(dfPercent - 1);
    expect(Math.ceil(ours)).toBeLessThanOrEqual(dfPercent + 1);
  });
});
