import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleSchema } from '../../functions/metrics/sample';
import { makeMachineSampler, servicesOf } from './machine-sampler';

const ids = {
  sampleId: '01M8D8KEZR00FXGSAVJ9ESH8N6',
  tenantId: 'ten_01m8d8kezr00fxgsavj9esh8n6',
  serverId: 'srv_01m8d8kg2kase3eedzaax30kff',
  at: '2026-12-03T10:00:00.000Z',
};

describe('Module: machine sampler', () => {
  it('sends version 2 samples the aggregator accepts, with disk use as df reports it', () => {
    const sample = sampleSchema.parse({ ...ids, ...makeMachineSampler('/')() });
    expect(sample.version).toBe(2);
    // df: used over used plus available (root's reserve counts neither way), rounded up
    const [, line] = execFileSync('df', ['--output=pcent', '/'], { encoding: 'utf8' }).trim().split('\n');
    const dfPercent = Number(line?.trim().replace('%', ''));
    expect(Math.ceil(sample.diskUsedPercent)).toBeGreaterThanOrEqual(dfPercent - 1);
    expect(Math.ceil(sample.diskUsedPercent)).toBeLessThanOrEqual(dfPercent + 1);
    expect(sample.memoryUsedPercent).toBeGreaterThan(0);
  });

  it('reports each installed managed service up or down, as systemctl is-active would', () => {
    const root = mkdtempSync(join(tmpdir(), 'vip-sampler-'));
    mkdirSync(join(root, 'var/lib/vip'), { recursive: true });
    writeFileSync(join(root, 'var/lib/vip/packages'), 'nginx\nphp8.2-fpm\nmariadb-server\nfail2ban\n');
    writeFileSync(join(root, 'var/lib/vip/services'), 'nginx\nphp8.2-fpm\nfail2ban\n');
    expect(servicesOf(root)).toEqual({ webServer: 'up', phpFpm: 'up', database: 'down' });
  });
});
