/*
 * Where the CPU went during the timed phase: seconds per process from /proc (the api, the worker, the benchmark's
 * PostgreSQL backends, the cluster's shared PostgreSQL processes, the local Kafka broker, this process) and for the
 * whole machine, so the noise of other work on the machine is listed next to the figure.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { AppProcess } from '../../support/harness';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) of a process from /proc, or 0 when it is gone. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

function processesNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch { /* exited */ }
  }
  return pids;
}

/** The local Kafka broker's JVM: a `kafka.Kafka` java process whose server.properties listens on the broker port. */
export function kafkaBrokerPid(brokers: string[]): number | null {
  const ports = new Set(brokers.filter((b) => /^(127\.0\.0\.1|localhost):/.test(b)).map((b) => b.split(':')[1]));
  for (const pid of processesNamed('java')) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!argv.includes('kafka.Kafka')) continue;
      const properties = readFileSync(argv[argv.length - 1], 'utf8');
      const listeners = /^listeners=(.*)$/m.exec(properties)?.[1] ?? '';
      if ([...ports].some((port) => listeners.includes(`:${port},`) || listeners.endsWith(`:${port}`))) return pid;
    } catch { /* not readable */ }
  }
  return null;
}

/**
 * CPU seconds of the whole machine (all cores) from /proc/stat: busy (user, nice, system, irq, softirq), steal (taken
 * by the hypervisor for other guests), and the total including idle and iowait.
 */
function machineCpuSeconds(): { busy: number; steal: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return {
    busy: (user + nice + system + irq + softirq) / CLOCK_TICKS,
    steal: steal / CLOCK_TICKS,
    total: (user + nice + system + idle + iowait + irq + softirq + steal) / CLOCK_TICKS,
  };
}

/** CPU seconds of every process on the machine, by pid, with a short label and its full command line. */
function allProcessesCpu(): Map<number, { label: string; cmdline: string; seconds: number }> {
  const result = new Map<number, { label: string; cmdline: string; seconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      const label = argv.length ? `${comm}: ${argv.slice(1).map((a) => a.replace(/^.*\//, '')).join(' ')}`.slice(0, 80) : `[${comm}]`;
      result.set(pid, { label, cmdline: argv.join(' '), seconds: processCpuSeconds(pid) });
    } catch { /* exited */ }
  }
  return result;
}

export interface CpuSnapshot {
  bench: number;
  api: number;
  worker: number;
  /** Backends (and autovacuum workers) of the benchmark's database. */
  postgres: number;
  /** The cluster's shared processes: postmaster, WAL writer, checkpointer, background writer, launchers. */
  postgresShared: number;
  kafka: number;
  machine: { busy: number; steal: number; total: number };
  all: Map<number, { label: string; cmdline: string; seconds: number }>;
}

export type PostgresRole = 'bench' | 'shared' | 'other';

/** Which PostgreSQL processes work for the benchmark's database, which for the whole cluster, which for others. */
export function postgresRole(cmdline: string, database: string): PostgresRole {
  if (` ${cmdline} `.includes(` ${database} `)) return 'bench';
  if (!cmdline.includes('(') && !cmdline.includes('autovacuum worker')) return 'shared';
  return 'other';
}

/**
 * Samples every process twice a second during the timed phase, so processes that start and exit inside it
 * (autovacuum workers, compilers someone else runs, …) are still accounted for with their last reading.
 */
export class ProcessSampler {
  readonly seen = new Map<number, { label: string; cmdline: string; seconds: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 500) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Stops sampling; returns the last reading of every process seen (the current one for those still running). */
  stop(): Map<number, { label: string; cmdline: string; seconds: number }> {
    clearInterval(this.timer);
    this.sample();
    return this.seen;
  }

  private sample(): void {
    for (const [pid, reading] of allProcessesCpu()) this.seen.set(pid, reading);
  }
}

export function cpuSnapshot(
  api: AppProcess, worker: AppProcess, kafkaPid: number | null, database: string,
  all = allProcessesCpu(),
): CpuSnapshot {
  const own = process.cpuUsage();
  const postgres = (role: PostgresRole) => [...all.values()]
    .filter((p) => p.label.startsWith('postgres') && postgresRole(p.cmdline, database) === role)
    .reduce((sum, p) => sum + p.seconds, 0);
  return {
    bench: (own.user + own.system) / 1e6,
    api: all.get(api.child.pid!)?.seconds ?? 0,
    worker: all.get(worker.child.pid!)?.seconds ?? 0,
    postgres: postgres('bench'),
    postgresShared: postgres('shared'),
    kafka: kafkaPid === null ? NaN : all.get(kafkaPid)?.seconds ?? 0,
    machine: machineCpuSeconds(),
    all,
  };
}
