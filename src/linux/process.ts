/**
 * Process-level timing aids for the daemon: SCHED_FIFO and locked memory (keepalived's
 * vrrp_rt_priority / vrrp_no_swap). Errors are SysErrors with errno names.
 */
import { readFileSync } from 'node:fs';
import { K, native, wrapError } from './native.js';

/** Switch this process to SCHED_FIFO at `priority` (1-99). */
export function setRealtimePriority(priority: number): void {
  try {
    native().setScheduler(K('SCHED_FIFO'), priority);
  } catch (e) {
    throw wrapError(`set SCHED_FIFO priority ${priority}`, e);
  }
}

/** Back to the normal scheduler. */
export function setNormalScheduling(): void {
  try {
    native().setScheduler(K('SCHED_OTHER'), 0);
  } catch (e) {
    throw wrapError('set SCHED_OTHER', e);
  }
}

let unlockOnExit = false;

/**
 * mlockall(MCL_CURRENT | MCL_FUTURE): keep the daemon out of swap.
 *
 * V8 aborts ("Check failed: 0 == ret" in OS::SetPermissions) when it discards pages of a locked process
 * during isolate teardown, so this also installs a process 'exit' handler that calls munlockall() first.
 * (A 15 s GC- and code-churn run under mlockall showed no abort before exit.)
 */
export function lockMemory(): void {
  try {
    native().mlockall(K('MCL_CURRENT') | K('MCL_FUTURE'));
  } catch (e) {
    throw wrapError('lock memory (mlockall)', e);
  }
  if (!unlockOnExit) {
    unlockOnExit = true;
    process.on('exit', unlockMemory);
  }
}

/** munlockall(): undo lockMemory(). */
export function unlockMemory(): void {
  try {
    native().munlockall();
  } catch {
    /* nothing locked */
  }
}

/** Interface index by name, or 0 when absent. */
export function ifNameToIndex(name: string): number {
  return native().ifNameToIndex(name);
}

export function ifIndexToName(index: number): string | null {
  return native().ifIndexToName(index);
}

/**
 * Whether `pid` is a live (not zombie) process whose command line contains `marker` (e.g. "vipd"), read from /proc.
 * Used to tell a crashed daemon's state file from a running one's, despite PID reuse and unreaped zombies.
 */
export function processRunning(pid: number, marker?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (marker === undefined) return true;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}
