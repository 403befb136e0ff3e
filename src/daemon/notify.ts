/**
 * Notify scripts and notify FIFOs, with keepalived's semantics (reference/keepalived-compat.md §3):
 *  - `notify_master|backup|fault|stop|deleted` run with their configured arguments only;
 *  - `notify` gets four more: INSTANCE|GROUP, name, MASTER|BACKUP|FAULT|STOP|DELETED, priority (0 for groups);
 *  - `notify_fifo` / `vrrp_notify_fifo` get lines `INSTANCE "VI_1" MASTER 100`, `GROUP "G" BACKUP 0`;
 *  - `script_user` / `enable_script_security` decide who runs what, and refuse insecure scripts.
 * Scripts run without a shell (execve of the configured words; a script without "#!" goes through /bin/sh as
 * keepalived's ENOEXEC fallback does), in their own process group, killed (whole group) at a timeout, never awaited
 * by the protocol. vipd improves on keepalived: the scripts of one instance (or group) run one after another, in
 * transition order, so a slow `notify_backup` can never finish after the `notify_master` that followed it.
 * Nothing received from the network ever reaches argv: only configured words, the instance/group name from the
 * configuration, a state keyword and a priority number.
 */
import { EventEmitter } from 'node:events';
import type { GlobalDefs, NotifyScript, NotifyScripts, SyncGroup, VrrpInstance } from '../config/model.js';
import {
  FifoWriter,
  checkScriptSecurity,
  ensureFifo,
  killGroup,
  lookupGroup,
  lookupUser,
  resolveExecutable,
  runScript,
  runningAsRoot,
  type RunResult,
  type RunSpec,
} from '../linux/proc.js';

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' | 'DELETED';

/** What Tracker and Notifier need from a logger (src/daemon/log.ts's Logger fits). */
export interface ScriptLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLog: ScriptLog = { info() {}, warn() {}, error() {} };

// ---------------------------------------------------------------- script_user / enable_script_security

export interface PreparedScript {
  /** False when the script is refused (insecure with enable_script_security, unknown user, not found). */
  ok: boolean;
  argv: string[];
  uid?: number;
  gid?: number;
  /** Why it was refused. */
  reason: string | null;
}

export interface ScriptSecurityOptions {
  /** Override "are we root" (tests). */
  asRoot?: boolean;
  /** Override user lookup (tests). */
  lookupUser?: typeof lookupUser;
  lookupGroup?: typeof lookupGroup;
  checkSecurity?: (file: string, uid: number, gid: number) => { secure: boolean; reason: string | null; executable?: boolean };
  resolveExecutable?: typeof resolveExecutable;
}

/**
 * keepalived's rules for who runs a script (set_uid_gid / check_script_secure):
 *  - only when running as root does vipd change user; a script's own `user [group]` wins, else global `script_user
 *    [group]`, else the user `keepalived_script` when it exists, else root with keepalived's warning (once) — but
 *    with `enable_script_security` a missing default user disables the scripts instead;
 *  - the group defaults to the user's primary group; an unknown user or group disables the script;
 *  - a script the runner cannot execute, or cannot find, is disabled;
 *  - a script running as root (uid or gid 0, or set-uid/gid root) is insecure when it, or a directory above it
 *    (symlinks resolved), is not owned by root, or is writable by a non-root group or by everyone (directories with
 *    the sticky bit, like /tmp, are exempt from the write test). With `enable_script_security` an insecure script is
 *    disabled; without it, it runs and vipd warns "SECURITY VIOLATION" once, as keepalived does.
 */
export class ScriptSecurity {
  private warnedRoot = false;
  private warnedViolation = false;
  private readonly cache = new Map<string, PreparedScript>();
  private readonly asRoot: boolean;
  private readonly lookupUser: typeof lookupUser;
  private readonly lookupGroup: typeof lookupGroup;
  private readonly check: NonNullable<ScriptSecurityOptions['checkSecurity']>;
  private readonly resolve: typeof resolveExecutable;

  constructor(
    private readonly global: Pick<GlobalDefs, 'scriptUser' | 'scriptGroup' | 'enableScriptSecurity'>,
    private readonly log: ScriptLog = silentLog,
    opts: ScriptSecurityOptions = {},
  ) {
    this.asRoot = opts.asRoot ?? runningAsRoot();
    this.lookupUser = opts.lookupUser ?? lookupUser;
    this.lookupGroup = opts.lookupGroup ?? lookupGroup;
    this.check = opts.checkSecurity ?? checkScriptSecurity;
    this.resolve = opts.resolveExecutable ?? resolveExecutable;
  }

  /** Who runs scripts without their own user: {uid,gid} or a refusal reason. */
  private defaultUser(): { uid: number; gid: number } | string {
    if (this.global.scriptUser) {
      const u = this.lookupUser(this.global.scriptUser);
      if (!u) return `Default script user '${this.global.scriptUser}' does not exist`;
      let gid = u.gid;
      if (this.global.scriptGroup) {
        const g = this.lookupGroup(this.global.scriptGroup);
        if (g === null) return `Default script group '${this.global.scriptGroup}' does not exist`;
        gid = g;
      }
      return { uid: u.uid, gid };
    }
    const ks = this.lookupUser('keepalived_script');
    if (ks) return { uid: ks.uid, gid: ks.gid };
    if (!this.warnedRoot) {
      this.warnedRoot = true;
      this.log.warn("WARNING - default user 'keepalived_script' for script execution does not exist - please create.");
    }
    // keepalived: with enable_script_security a missing default user disables the scripts; without it they run as root.
    if (this.global.enableScriptSecurity) return 'Failed to set default user';
    return { uid: 0, gid: 0 };
  }

  /** Resolve user, group and security for one configured script. `what` names it in messages. */
  prepare(argv: string[], user: string | null, group: string | null, what: string): PreparedScript {
    const key = JSON.stringify([argv, user, group]);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const res = this.prepareUncached(argv, user, group, what);
    this.cache.set(key, res);
    return res;
  }

  private prepareUncached(argv: string[], user: string | null, group: string | null, what: string): PreparedScript {
    if (argv.length === 0 || !argv[0]) return { ok: false, argv, reason: `${what}: empty command` };
    let uid: number | undefined;
    let gid: number | undefined;
    if (this.asRoot) {
      if (user) {
        const u = this.lookupUser(user);
        if (!u) return this.refuse(argv, `${what}: user ${user} does not exist`);
        uid = u.uid;
        gid = u.gid;
        if (group) {
          const g = this.lookupGroup(group);
          if (g === null) return this.refuse(argv, `${what}: group ${group} does not exist`);
          gid = g;
        }
      } else {
        const d = this.defaultUser();
        if (typeof d === 'string') return this.refuse(argv, `${what}: ${d}`);
        uid = d.uid;
        gid = d.gid;
      }
    }
    const exe = this.resolve(argv[0]);
    if (!exe) return this.refuse(argv, `${what}: ${argv[0]} not found`);
    const runUid = uid ?? (typeof process.geteuid === 'function' ? process.geteuid() : 0);
    const runGid = gid ?? (typeof process.getegid === 'function' ? process.getegid() : 0);
    const verdict = this.check(exe, runUid, runGid);
    if (verdict.executable === false) {
      return this.refuse(argv, `${what}: WARNING - script '${exe}' is not executable for uid:gid ${runUid}:${runGid} - disabling.`);
    }
    if (!verdict.secure) {
      this.log.warn(`Unsafe permissions found for script '${exe}' (${verdict.reason}).`);
      if (this.global.enableScriptSecurity) {
        return this.refuse(argv, `${what}: disabling due to insecure (${verdict.reason})`);
      }
      if (!this.warnedViolation) {
        this.warnedViolation = true;
        this.log.warn('SECURITY VIOLATION - scripts are being executed but script_security not enabled.');
      }
    }
    return { ok: true, argv, ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}), reason: null };
  }

  private refuse(argv: string[], reason: string): PreparedScript {
    this.log.error(reason);
    return { ok: false, argv, reason };
  }
}

// ---------------------------------------------------------------- the Notifier

export interface NotifierOptions {
  /** Kill a notify script's process group after this long (default 30 s; `notify_stop` gets 1 s as keepalived's). */
  timeoutMs?: number;
  stopTimeoutMs?: number;
  /** SIGKILL this long after the timeout's SIGTERM (default 2000, as keepalived). */
  killGraceMs?: number;
  log?: ScriptLog;
  /** Replace the script runner (tests). */
  run?: (spec: RunSpec) => Promise<RunResult>;
  security?: ScriptSecurity;
  /** Do not start the `*_fifo_script` readers (tests that read the FIFO themselves). */
  noFifoScripts?: boolean;
}

/** One script run the Notifier started (for tests, logs and the 'ran' event). */
export interface NotifyRun {
  key: string;
  argv: string[];
  result: RunResult;
}

/**
 * Runs notify scripts and writes notify FIFOs. Events: 'ran' (run: NotifyRun) after each script finished or was
 * killed; 'idle' when every queue is empty.
 */
export class Notifier extends EventEmitter {
  private readonly queues = new Map<string, Promise<void>>();
  private active = 0;
  private readonly fifos: FifoWriter[] = [];
  private readonly security: ScriptSecurity;
  private readonly log: ScriptLog;
  private readonly run: (spec: RunSpec) => Promise<RunResult>;
  private readonly timeoutMs: number;
  private readonly stopTimeoutMs: number;
  private readonly killGraceMs: number;
  private readonly readers: { pid: number | null }[] = [];
  private closed = false;

  constructor(
    global: GlobalDefs,
    opts: NotifierOptions = {},
  ) {
    super();
    this.log = opts.log ?? silentLog;
    this.security = opts.security ?? new ScriptSecurity(global, this.log);
    this.run = opts.run ?? runScript;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 1_000;
    this.killGraceMs = opts.killGraceMs ?? 2_000;
    const pairs: [string | null, string | null, string][] = [
      [global.notifyFifo, global.notifyFifoScript, 'notify_fifo'],
      [global.vrrpNotifyFifo, global.vrrpNotifyFifoScript, 'vrrp_notify_fifo'],
    ];
    const seen = new Set<string>();
    for (const [file, script, what] of pairs) {
      if (!file || seen.has(file)) continue;
      seen.add(file);
      if (script) {
        const err = ensureFifo(file);
        if (err) {
          this.log.error(`${what}: ${err}`);
          continue;
        }
      }
      const w = new FifoWriter(file, { onError: (m) => this.log.error(m) });
      const err = w.open();
      if (err) {
        this.log.error(`${what}: ${err}`);
        continue;
      }
      this.fifos.push(w);
      if (script && !opts.noFifoScripts) this.startFifoReader(script, file, `${what}_script`);
    }
  }

  /** The script reader of a FIFO: the configured words plus the FIFO path, run for the daemon's life. */
  private startFifoReader(script: string, fifo: string, what: string): void {
    const argv = splitWords(script);
    const p = this.security.prepare(argv, null, null, what);
    if (!p.ok) return;
    const reader: { pid: number | null } = { pid: null };
    const spec: RunSpec = { argv: [...argv, fifo], timeoutMs: 2 ** 31 - 1, onSpawn: (pid) => (reader.pid = pid) };
    if (p.uid !== undefined) spec.uid = p.uid;
    if (p.gid !== undefined) spec.gid = p.gid;
    this.readers.push(reader);
    void this.run(spec).then((r) => {
      reader.pid = null;
      if (!this.closed) this.log.warn(`${what} ${script} exited (${r.code ?? r.signal ?? r.error})`);
    });
  }

  /** A VRRP instance changed state (call after the transition took effect). */
  instanceTransition(inst: VrrpInstance, state: NotifyState, priority: number): void {
    this.fifoLine(`INSTANCE "${inst.name}" ${state} ${priority}`);
    this.scripts(`i:${inst.name}`, inst.notify, state, ['INSTANCE', inst.name, state, String(priority)]);
  }

  /** A sync group changed state. */
  groupTransition(group: SyncGroup, state: NotifyState): void {
    this.fifoLine(`GROUP "${group.name}" ${state} 0`);
    this.scripts(`g:${group.name}`, group.notify, state, ['GROUP', group.name, state, '0']);
  }

  /** A master received a lower-priority advert: `notify_master_rx_lower_pri` and the FIFO line. */
  masterRxLowerPri(inst: VrrpInstance, priority: number): void {
    this.fifoLine(`INSTANCE "${inst.name}" MASTER_RX_LOWER_PRI ${priority}`);
    const s = inst.notify.masterRxLowerPri;
    if (s) this.enqueue(`i:${inst.name}`, s, s.argv, this.timeoutMs, 'notify_master_rx_lower_pri');
  }

  /** Effective priority changed (only with `notify_priority_changes`): FIFO line MASTER_PRIORITY / BACKUP_PRIORITY. */
  priorityChange(inst: VrrpInstance, state: 'MASTER' | 'BACKUP', priority: number): void {
    if (!inst.notifyPriorityChanges) return;
    this.fifoLine(`INSTANCE "${inst.name}" ${state}_PRIORITY ${priority}`);
  }

  private fifoLine(line: string): void {
    for (const f of this.fifos) f.write(line);
  }

  private scripts(key: string, n: NotifyScripts, state: NotifyState, extra: string[]): void {
    const specific: Record<NotifyState, NotifyScript | null> = {
      MASTER: n.master,
      BACKUP: n.backup,
      FAULT: n.fault,
      STOP: n.stop,
      DELETED: n.deleted,
    };
    const timeout = state === 'STOP' ? this.stopTimeoutMs : this.timeoutMs;
    const s = specific[state];
    if (s) this.enqueue(key, s, s.argv, timeout, `notify_${state.toLowerCase()}`);
    if (n.any) this.enqueue(key, n.any, [...n.any.argv, ...extra], timeout, 'notify');
  }

  private enqueue(key: string, s: NotifyScript, argv: string[], timeoutMs: number, what: string): void {
    if (this.closed) return;
    const p = this.security.prepare(s.argv, s.user, s.group, `${what} ${s.command}`);
    if (!p.ok) return;
    const spec: RunSpec = { argv, timeoutMs, termGraceMs: this.killGraceMs };
    if (p.uid !== undefined) spec.uid = p.uid;
    if (p.gid !== undefined) spec.gid = p.gid;
    this.active++;
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(async () => {
      const result = await this.run(spec);
      if (result.timedOut) this.log.warn(`Script ${s.command} timed out after ${timeoutMs} ms - process group terminated`);
      else if (result.error) this.log.error(`Cannot run ${what} ${s.command}: ${result.error}`);
      this.emit('ran', { key, argv, result } satisfies NotifyRun);
    });
    const tail = next.finally(() => {
      this.active--;
      if (this.queues.get(key) === tail) this.queues.delete(key);
      if (this.active === 0) this.emit('idle');
    });
    this.queues.set(key, tail);
  }

  /** Resolves when every queued script has finished (or been killed). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((r) => this.once('idle', () => r()));
  }

  /** Lines still waiting for room in the FIFOs. */
  get fifoPending(): number {
    return this.fifos.reduce((n, f) => n + f.pending, 0);
  }

  /** Close the FIFOs and SIGTERM the `*_fifo_script` readers' process groups. Queued notify scripts still run to
   * completion or timeout (the daemon may await `idle()`). */
  close(): void {
    this.closed = true;
    // keepalived terminates the FIFO script with SIGTERM when it exits.
    for (const r of this.readers) if (r.pid) killGroup(r.pid, 'SIGTERM');
    for (const f of this.fifos) f.close();
    this.fifos.length = 0;
  }
}

/** Split a command line shell-like (quotes and backslashes), for the FIFO script strings stored unsplit. */
export function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}
