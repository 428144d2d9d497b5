import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

/** Kernel clock ticks per second for /proc/<pid>/stat times (USER_HZ, 100 on Linux x86/arm). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** CPU use of several processes over an interval, in percent of one core. */
export class CpuMeter {
  private startCpu: number[] = [];
  private startMs = 0;

  constructor(private readonly pids: readonly { readonly name: string; readonly pid: number }[]) {}

  start(): void {
    this.startMs = performance.now();
    this.startCpu = this.pids.map((p) => cpuSeconds(p.pid));
  }

  /** CPU seconds per process since `start()`. */
  used(): Record<string, number> {
    const out: Record<string, number> = {};
    this.pids.forEach((p, i) => (out[p.name] = cpuSeconds(p.pid) - this.startCpu[i]!));
    return out;
  }

  /** Percent of one core per process since `start()`. */
  read(): Record<string, number> {
    const seconds = (performance.now() - this.startMs) / 1000;
    const out: Record<string, number> = {};
    this.pids.forEach((p, i) => {
      out[p.name] = seconds > 0 ? Math.round(((cpuSeconds(p.pid) - this.startCpu[i]!) / seconds) * 100) : 0;
    });
    return out;
  }
}

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly kernel: string;
  readonly memoryGiB: number;
  readonly openFilesLimit: string;
  /** 1, 5 and 15 minute load averages when the run ended: other work on the machine skews every figure. */
  readonly loadAverage: readonly number[];
}

function openFilesLimit(): string {
  try {
    const limits = readFileSync('/proc/self/limits', 'latin1');
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
    return match === null ? 'unknown' : `${match[1]} (hard ${match[2]})`;
  } catch {
    return 'unknown';
  }
}

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    openFilesLimit: openFilesLimit(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
