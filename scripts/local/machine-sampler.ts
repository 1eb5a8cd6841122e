import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

interface Snapshot {
  at: number;
  cpuIdle: number;
  cpuTotal: number;
  rxBytes: number;
  txBytes: number;
}

function snapshot(): Snapshot {
  let idle = 0;
  let total = 0;
  for (const cpu of cpus()) {
    idle += cpu.times.idle;
    total += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.idle + cpu.times.irq;
  }
  let rx = 0;
  let tx = 0;
  try {
    for (const line of readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2)) {
      const [name, counters] = line.split(':');
      if (!name || !counters || name.trim() === 'lo') continue;
      const fields = counters.trim().split(/\s+/).map(Number);
      rx += fields[0] ?? 0;
      tx += fields[8] ?? 0;
    }
  } catch {
    // no /proc (not Linux): network rates read as zero
  }
  return { at: Date.now(), cpuIdle: idle, cpuTotal: total, rxBytes: rx, txBytes: tx };
}

/** The units that make each managed service, by the package that brings them. */
const serviceUnits: Record<string, { service: 'webServer' | 'phpFpm' | 'database' | 'redis'; unit: string }> =
  {
    nginx: { service: 'webServer', unit: 'nginx' },
    'nginx-light': { service: 'webServer', unit: 'nginx' },
    apache2: { service: 'webServer', unit: 'apache2' },
    caddy: { service: 'webServer', unit: 'caddy' },
    openlitespeed: { service: 'webServer', unit: 'lsws' },
    'mariadb-server': { service: 'database', unit: 'mariadb' },
    'mysql-server': { service: 'database', unit: 'mysql' },
    postgresql: { service: 'database', unit: 'postgresql' },
    'redis-server': { service: 'redis', unit: 'redis-server' },
  };

const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

/**
 * Each managed service the host has installed, up when one of its units is active, as a host's
 * agent reads `systemctl is-active` (the host shim keeps the installed packages and active units
 * under var/lib/vip).
 */
export function servicesOf(root: string) {
  const active = new Set(lines(join(root, 'var/lib/vip/services')));
  const found: Partial<Record<'webServer' | 'phpFpm' | 'database' | 'redis', 'up' | 'down'>> = {};
  for (const pkg of lines(join(root, 'var/lib/vip/packages'))) {
    const known =
      serviceUnits[pkg] ??
      (/^php[0-9.]+-fpm$/.test(pkg) ? { service: 'phpFpm' as const, unit: pkg } : undefined);
    if (!known) continue;
    if (found[known.service] !== 'up') found[known.service] = active.has(known.unit) ? 'up' : 'down';
  }
  return found;
}

/** Swap in use and in all, from /proc/meminfo (none where there is none). */
function swap() {
  const info = lines('/proc/meminfo');
  const kb = (name: string) =>
    Number(info.find((l) => l.startsWith(`${name}:`))?.split(/\s+/)[1] ?? 0) * 1024;
  const totalBytes = kb('SwapTotal');
  return { usedBytes: Math.max(0, totalBytes - kb('SwapFree')), totalBytes };
}

/**
 * Measures the machine the local host runs on, as a host's metrics agent would measure its own:
 * a version 2 sample's measurements (the caller adds its ids and time).
 */
export function makeMachineSampler(root: string) {
  let previous = snapshot();
  return () => {
    const current = snapshot();
    const seconds = Math.max((current.at - previous.at) / 1000, 0.001);
    const totalDelta = current.cpuTotal - previous.cpuTotal;
    const cpuPercent = totalDelta > 0 ? (1 - (current.cpuIdle - previous.cpuIdle) / totalDelta) * 100 : 0;
    const disk = statfsSync(root);
    const used = (disk.blocks - disk.bfree) * disk.bsize;
    const [one = 0, five = 0, fifteen = 0] = loadavg();
    const sample = {
      v: 2 as const,
      cpuPercent: clampPercent(cpuPercent),
      load: { one, five, fifteen },
      memory: { usedBytes: totalmem() - freemem(), totalBytes: totalmem() },
      swap: swap(),
      disks: [
        {
          mount: '/',
          usedBytes: used,
          // what a user can have: used plus available (root's reserve counts neither way), as df
          totalBytes: used + disk.bavail * disk.bsize,
          inodesUsed: Math.max(0, disk.files - disk.ffree),
          inodesTotal: disk.files,
        },
      ],
      network: {
        rxBytesPerSecond: Math.max(0, (current.rxBytes - previous.rxBytes) / seconds),
        txBytesPerSecond: Math.max(0, (current.txBytes - previous.txBytes) / seconds),
      },
      services: servicesOf(root),
    };
    previous = current;
    return sample;
  };
}

const clampPercent = (value: number) => Math.min(100, Math.max(0, Math.round(value * 100) / 100));
