/**
 * Shared pieces of the lab benchmarks (failover, cost, timing, reload): statistics, process accounting from
 * /proc, Markdown tables, daemon variants. Lab tooling only (root, namespaces); see docs/performance.md.
 */
import { readFileSync } from 'node:fs';
import type { DaemonKind, RouterDaemon } from '../src/linux/lab/index.js';

/** A daemon as benchmarked: the kind plus extra vipd flags (e.g. --realtime), with a label for tables. */
export interface DaemonVariant {
  label: string;
  kind: DaemonKind;
  extraArgs: string[];
  /** Put the started daemon's main thread under SCHED_FIFO at this priority with `chrt -f -p` (no mlockall). */
  chrtFifo?: number;
}

export const VIPD: DaemonVariant = { label: 'vipd', kind: 'vipd', extraArgs: [] };
export const VIPD_RT: DaemonVariant = { label: 'vipd --realtime', kind: 'vipd', extraArgs: ['--realtime'] };
/** SCHED_FIFO 50 applied from outside (chrt): what --realtime does since it dropped mlockall (run with --timing-daemons). */
export const VIPD_FIFO: DaemonVariant = { label: 'vipd + chrt -f 50', kind: 'vipd', extraArgs: [], chrtFifo: 50 };
export const KEEPALIVED: DaemonVariant = { label: 'keepalived', kind: 'keepalived', extraArgs: [] };

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

/** Nearest-rank percentiles; null for no samples. */
export function percentiles(xs: readonly number[]): Percentiles | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return {
    n: s.length,
    p50: round(q(0.5)),
    p99: round(q(0.99)),
    max: round(s[s.length - 1]!),
    min: round(s[0]!),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU time (user + system, in clock ticks) and RSS (kB) of one process, or null when it is gone. */
export function procSample(pid: number): { ticks: number; rssKb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); utime is field 14, stime field 15.
    const ticks = Number(f[11]) + Number(f[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return { ticks, rssKb: m ? Number(m[1]) : 0 };
  } catch {
    return null;
  }
}

/** Clock ticks per second for /proc/PID/stat (USER_HZ; 100 on every Linux we run on). */
export const CLK_TCK = 100;

/** The processes that make up a router's daemon: vipd's one process; keepalived's parent and VRRP child. */
export function daemonPids(d: RouterDaemon): number[] {
  const pids = [d.pid];
  if (d.kind === 'keepalived') {
    const c = d.vrrpPid();
    if (c && c !== d.pid) pids.push(c);
  }
  return pids;
}

/** Sum of CPU ticks and RSS over a set of processes. */
export function sumSample(pids: readonly number[]): { ticks: number; rssKb: number } {
  let ticks = 0;
  let rssKb = 0;
  for (const p of pids) {
    const s = procSample(p);
    if (s) {
      ticks += s.ticks;
      rssKb += s.rssKb;
    }
  }
  return { ticks, rssKb };
}

/** A Markdown table. */
export function mdTable(head: string[], rows: (string | number | null | undefined)[][]): string {
  const cell = (x: string | number | null | undefined): string => (x === null || x === undefined ? '—' : String(x));
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Count "(NAME) Entering X STATE" lines from index `from`. */
export function countTransitions(d: RouterDaemon, from: number): number {
  return d.proc.grep(/Entering (MASTER|BACKUP|FAULT) STATE/, from).length;
}

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Poll `f` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function until(f: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (f()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return f();
}

export function fmt(x: number | null | undefined, digits = 0): string | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : x.toFixed(digits);
}

/** Per instance, the state of its latest "(NAME) Entering X STATE" line, and the time of the latest such line. */
export function lastStates(d: RouterDaemon): { states: Map<string, string>; lastT: number } {
  const states = new Map<string, string>();
  let lastT = 0;
  for (const l of d.proc.grep(/Entering (MASTER|BACKUP|FAULT) STATE/)) {
    const m = /\((\S+)\) Entering (MASTER|BACKUP|FAULT) STATE/.exec(l.text);
    if (m) {
      states.set(m[1]!, m[2]!);
      lastT = Math.max(lastT, l.t);
    }
  }
  return { states, lastT };
}

/**
 * Wait until R1 is MASTER and R2 BACKUP of all n instances and neither logged a transition for `quietMs`
 * (at most timeoutMs). Returns how many instances were in the expected state on both routers at the end.
 */
export async function waitSettled(r1: RouterDaemon, r2: RouterDaemon, n: number, timeoutMs: number, quietMs = 1_000): Promise<number> {
  const count = (): number => {
    const a = lastStates(r1).states;
    const b = lastStates(r2).states;
    let k = 0;
    for (const [name, s] of a) if (s === 'MASTER' && b.get(name) === 'BACKUP') k += 1;
    return k;
  };
  await until(() => {
    const last = Math.max(lastStates(r1).lastT, lastStates(r2).lastT);
    return count() >= n && Date.now() - last >= quietMs;
  }, timeoutMs, 200);
  return count();
}
