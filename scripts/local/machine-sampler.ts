import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';

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

/**
 * A filesystem's use as `df` reports it: used over what a user can have (used plus available),
 * so the blocks reserved for root count neither way.
 */
export function diskUsedPercent(disk: { blocks: number; bfree: number; bavail: number }): number {
  const used = disk.blocks - disk.bfree;
  const usable = used + disk.bavail;
  return clampPercent(usable > 0 ? (used / usable) * 100 : 0);
}

/** Measures the machine the local host runs on, as a host's metrics agent would measure its own. */
export function makeMachineSampler(diskPath: string) {
  let previous = snapshot();
  return () => {
    const current = snapshot();
    const seconds = Math.max((current.at - previous.at) / 1000, 0.001);
    const totalDelta = current.cpuTotal - previous.cpuTotal;
    const cpuPercent = totalDelta > 0 ? (1 - (current.cpuIdle - previous.cpuIdle) / totalDelta) * 100 : 0;
    const disk = statfsSync(diskPath);
    const diskTotal = disk.blocks * disk.bsize;
    const [load1 = 0, load5 = 0, load15 = 0] = loadavg();
    const sample = {
      cpuPercent: clampPercent(cpuPercent),
      memoryUsedPercent: clampPercent((1 - freemem() / totalmem()) * 100),
      memoryTotalBytes: totalmem(),
      diskUsedPercent: diskUsedPercent(disk),
      diskTotalBytes: diskTotal,
      load1,
      load5,
      load15,
      networkRxBytesPerSecond: Math.max(0, (current.rxBytes - previous.rxBytes) / seconds),
      networkTxBytesPerSecond: Math.max(0, (current.txBytes - previous.txBytes) / seconds),
    };
    previous = current;
    return sample;
  };
}

const clampPercent = (value: number) => Math.min(100, Math.max(0, Math.round(value * 100) / 100));
