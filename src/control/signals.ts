/**
 * keepalived's dump signals for a running daemon: SIGUSR1 writes /tmp/keepalived.data, SIGUSR2
 * /tmp/keepalived.stats, SIGRTMIN+2 (keepalived --signum=JSON; 36 on Linux/glibc) /tmp/keepalived.json.
 * SIGUSR1/SIGUSR2 use process.on(); SIGRTMIN+2 has no name in Node and goes through the native addon's signal
 * watcher (src/linux/control-io.ts).
 */
import type { DaemonControl } from '../daemon/api.js';
import { sigRtMin, watchSignal } from '../linux/control-io.js';
import { writeDumps, type DumpDetails, type DumpKind } from './dumps.js';

export interface DumpSignalOptions {
  /** Where the files go (default /tmp, as keepalived). */
  dir?: string;
  /** Facts beyond DaemonStatus for the dumps (see DumpDetails), asked for at each signal. */
  details?: () => DumpDetails;
  /** keepalived-style log lines ("Printing VRRP data on signal") and errors. */
  log?: (line: string) => void;
}

const WHAT: Record<DumpKind, string> = { data: 'data', stats: 'stats', json: 'as json' };

/** Install the three handlers; returns a function removing them. Throws only if SIGRTMIN+2 cannot be watched. */
export function installDumpSignals(daemon: DaemonControl, opts: DumpSignalOptions = {}): () => void {
  const dir = opts.dir ?? '/tmp';
  const log = opts.log ?? (() => {});
  const dump = (kind: DumpKind) => {
    log(`Printing VRRP ${WHAT[kind]} for process(${process.pid}) on signal`);
    try {
      writeDumps(kind, daemon.status(), dir, opts.details?.() ?? {});
    } catch (e) {
      log(`cannot write the ${kind} dump: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const onUsr1 = () => dump('data');
  const onUsr2 = () => dump('stats');
  process.on('SIGUSR1', onUsr1);
  process.on('SIGUSR2', onUsr2);
  let stopRt: () => void = () => {};
  const rtmin = sigRtMin();
  if (rtmin !== null) {
    try {
      stopRt = watchSignal(rtmin + 2, () => dump('json'));
    } catch (e) {
      process.off('SIGUSR1', onUsr1);
      process.off('SIGUSR2', onUsr2);
      throw e;
    }
  } else log('native addon missing: SIGRTMIN+2 (JSON dump) is not handled');
  return () => {
    process.off('SIGUSR1', onUsr1);
    process.off('SIGUSR2', onUsr2);
    stopRt();
  };
}

/** keepalived's JSON dump signal number here (SIGRTMIN+2), or null without the addon. */
export function jsonDumpSignal(): number | null {
  const r = sigRtMin();
  return r === null ? null : r + 2;
}
