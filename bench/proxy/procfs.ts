/**
 * What the proxy bench reads from /proc: a process's CPU time (utime + stime, all threads) and
 * memory (VmRSS, VmHWM), and the machine's busy CPU time, so a run can say how much CPU the
 * processes it knows used and how much went to someone else. Parsers are pure; readers are thin.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time of one process, in clock ticks (see `clockTicksPerSecond`). */
export interface ProcessCpu {
  utimeTicks: number;
  stimeTicks: number;
  /**
   * User + system time of its children that have exited and been waited for: how the bench
   * learns what wrk and h2load used, since their /proc entries are gone once they exit.
   */
  childrenTicks: number;
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may hold spaces
 * and `)`, so fields are counted from the last `)` (proc(5)): utime, stime, cutime, cstime are
 * fields 14 to 17.
 */
export function parseProcStat(text: string): ProcessCpu {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`/proc/<pid>/stat: no ")" after the command name in ${JSON.stringify(text.slice(0, 80))}`);
  // After ") ": field 3 (state) is at index 0, so field N is at index N - 3.
  const fields = text.slice(close + 2).trim().split(' ');
  const field = (n: number): number => {
    const v = Number(fields[n - 3]);
    if (!Number.isInteger(v)) throw new Error(`/proc/<pid>/stat: field ${n} is not an integer in ${JSON.stringify(text.slice(0, 160))}`);
    return v;
  };
  return { utimeTicks: field(14), stimeTicks: field(15), childrenTicks: field(16) + field(17) };
}

/** Resident memory of one process, in KiB. */
export interface ProcessMemory {
  /** Resident set size now. */
  vmRssKiB: number;
  /** Peak resident set size since the process started ("high water mark"). */
  vmHwmKiB: number;
}

/** Parses `VmRSS` and `VmHWM` (kB, which the kernel means as KiB) from `/proc/<pid>/status`. */
export function parseProcStatus(text: string): ProcessMemory {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`/proc/<pid>/status: no ${name} line`);
    return Number(m[1]);
  };
  return { vmRssKiB: field('VmRSS'), vmHwmKiB: field('VmHWM') };
}

/** Machine-wide CPU time from `/proc/stat`, in clock ticks summed over all CPUs. */
export interface SystemCpu {
  /** Time spent running tasks: user + nice + system. */
  taskTicks: number;
  /** Time in hard and soft interrupts, which the kernel charges to no process. */
  irqTicks: number;
  /** Time the hypervisor gave this VM's CPUs to someone else. */
  stealTicks: number;
}

/**
 * Parses the aggregate `cpu` line of `/proc/stat` (proc(5): user nice system idle iowait irq
 * softirq steal guest guest_nice). guest time is already inside user, so it is not added again.
 */
export function parseSystemStat(text: string): SystemCpu {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('/proc/stat: no aggregate "cpu " line');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => {
    const x = v[i];
    if (x === undefined || !Number.isInteger(x)) throw new Error(`/proc/stat: cpu line field ${i + 1} is not an integer: ${JSON.stringify(line)}`);
    return x;
  };
  return { taskTicks: at(0) + at(1) + at(2), irqTicks: at(5) + at(6), stealTicks: at(7) };
}

/** `getconf CLK_TCK`: the unit of every tick count above (100 on Linux x86 in practice). */
export function clockTicksPerSecond(): number {
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  if (!Number.isInteger(hz) || hz <= 0) throw new Error(`getconf CLK_TCK: not a positive integer`);
  return hz;
}

export function readProcessCpu(pid: number): ProcessCpu {
  return parseProcStat(readProcFile(pid, 'stat'));
}

export function readProcessMemory(pid: number): ProcessMemory {
  return parseProcStatus(readProcFile(pid, 'status'));
}

function readProcFile(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`pid ${pid}: the process has exited (no /proc/${pid}/${file})`, { cause: err });
    throw err;
  }
}

export function readSystemCpu(): SystemCpu {
  return parseSystemStat(readFileSync('/proc/stat', 'utf8'));
}

/** Total CPU ticks of a process. */
export function ticksOf(cpu: ProcessCpu): number {
  return cpu.utimeTicks + cpu.stimeTicks;
}
