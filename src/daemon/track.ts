/**
 * Tracking: vrrp_script, track_interface, track_file and vrrp_track_process, and the effective priority / FAULT they
 * give each instance, computed as keepalived computes them (reference/keepalived-compat.md §1, §4; keepalived's
 * vrrp_track.c). The pure rules (`termEffect`, `computeInstance`, `scriptStep`, `processMatches`, `quorumOk`) are
 * separate from the running `Tracker`, which takes its clock, script runner, file reader and process lister from a
 * `TrackerEnv` so it can be tested with fakes.
 *
 * Rules:
 *  - A tracker with weight W≠0 adds W while "up" when W>0, and adds W (negative) while "down" when W<0; `reverse`
 *    negates the adjustment (the condition that applies it is unchanged).
 *  - A tracker with weight 0 puts the instance in FAULT while down (while UP with `reverse`).
 *  - track_file: status = value × weight (× −1 with reverse), clamped to −254..253; weight 0 ⇒ status −254 for any
 *    non-zero value. A status of −254 is FAULT; otherwise the status is added.
 *  - Effective priority = base + Σ, clamped to 1..254. An address owner (base 255) is never changed (keepalived
 *    ignores weighted trackers on owners), but weight-0 trackers still fault it.
 *  - Members of a vrrp_sync_group also get the group's trackers. Without `sync_group_tracking_weight` the group's
 *    trackers count with weight 0 (a failure faults every member); members' own weighted trackers were already
 *    corrected by the config parser (keepalived -t: interface weight → 0, weighted scripts/files/processes dropped).
 */
import { EventEmitter } from 'node:events';
import type { KeepalivedConfig, SyncGroup, TrackFile, TrackProcess, TrackRef, VrrpInstance, VrrpScript } from '../config/model.js';
import type { TrackerStatus } from './api.js';
import { ScriptSecurity, silentLog, type ScriptLog } from './notify.js';
import {
  initTrackFile,
  listProcesses,
  ProcEvents,
  readTrackFile,
  runScript,
  watchFile,
  type ProcInfo,
  type RunResult,
  type RunSpec,
} from '../linux/proc.js';

export const PRIO_OWNER = 255;

// ================================================================ pure rules

export type TrackKind = TrackerStatus['kind'];

/** One tracker as seen by one instance. `up` for scripts/interfaces/processes (null = no result yet); `value` for files. */
export interface TrackTerm {
  kind: TrackKind;
  name: string;
  weight: number;
  reverse: boolean;
  up: boolean | null;
  value?: number;
}

/** What one tracker does to an instance: a priority delta and/or FAULT. */
export function termEffect(t: TrackTerm): { delta: number; fault: boolean } {
  const m = t.reverse ? -1 : 1;
  if (t.kind === 'file') {
    const v = t.value ?? 0;
    let status = t.weight === 0 ? (v !== 0 ? -254 : 0) : v * t.weight * m;
    status = Math.max(-254, Math.min(253, status));
    return status <= -254 ? { delta: 0, fault: true } : { delta: status, fault: false };
  }
  if (t.up === null) return { delta: 0, fault: false };
  if (t.weight === 0) return { delta: 0, fault: t.up !== (m === 1) };
  if (t.weight > 0) return { delta: t.up ? t.weight * m : 0, fault: false };
  return { delta: t.up ? 0 : t.weight * m, fault: false };
}

export interface InstanceResult {
  priority: number;
  fault: boolean;
  /** The trackers that fault it ("script chk_haproxy", "interface eth1", ...). */
  faultBy: string[];
}

/** keepalived's effective priority and FAULT for an instance with base priority `base`. */
export function computeInstance(base: number, terms: TrackTerm[]): InstanceResult {
  let total = base;
  const faultBy: string[] = [];
  for (const t of terms) {
    const e = termEffect(t);
    if (e.fault) faultBy.push(`${t.kind} ${t.name}`);
    total += e.delta;
  }
  const priority = base === PRIO_OWNER ? PRIO_OWNER : Math.max(1, Math.min(PRIO_OWNER - 1, total));
  return { priority, fault: faultBy.length > 0, faultBy };
}

/** A vrrp_script's result state: `state` null before the first result; `count` is keepalived's rise/fall counter
 * (0..rise+fall−1; up at ≥ rise). */
export interface ScriptState {
  up: boolean | null;
  count: number;
}

export function initialScriptState(s: Pick<VrrpScript, 'rise' | 'initFail'>): ScriptState {
  return s.initFail ? { up: false, count: 0 } : { up: null, count: s.rise };
}

/**
 * One run's outcome applied to the rise/fall counter. Before the first result the first run decides at once (success
 * = up, failure = down), as keepalived does for a script that has not run yet; after that `rise` consecutive
 * successes bring a failed script up and `fall` consecutive failures bring a good one down.
 */
export function scriptStep(st: ScriptState, ok: boolean, rise: number, fall: number): ScriptState {
  const top = rise + fall - 1;
  if (st.up === null) return ok ? { up: true, count: top } : { up: false, count: 0 };
  if (ok) {
    if (st.count < rise - 1) return { up: st.up, count: st.count + 1 };
    return { up: true, count: top };
  }
  if (st.count > rise) return { up: st.up, count: st.count - 1 };
  return { up: false, count: 0 };
}

/**
 * Does a process match a vrrp_track_process? As keepalived's read_procs/check_params: without `full_command` (and
 * without parameters, which imply it) the kernel name (comm, at most 15 characters) is compared with `process`; with
 * them argv[0] is compared with `process`. Parameters are compared as keepalived does, NUL-joined: `exact` = all of
 * them; `partial` = the configured ones are the first ones (more may follow); `initial` = the same, except that the
 * last configured one may be a prefix of the actual one. (keepalived's header comments describe partial and initial
 * the other way round; this follows its code.) Without parameters any arguments match.
 */
export function processMatches(tp: Pick<TrackProcess, 'process' | 'args' | 'paramMatch' | 'fullCommand'>, p: ProcInfo): boolean {
  const full = tp.fullCommand || tp.args !== null;
  if (!full) return p.comm === tp.process.slice(0, 15);
  if (p.cmdline.length === 0 || p.cmdline[0] !== tp.process) return false;
  if (!tp.args) return true;
  const actual = p.cmdline.slice(1).map((a) => `${a}\0`).join('');
  const want = tp.args.map((a) => `${a}\0`).join('');
  if (tp.paramMatch === 'exact') return actual === want;
  if (tp.paramMatch === 'partial') return actual.startsWith(want);
  return actual.startsWith(want.slice(0, -1));
}

export function quorumOk(count: number, quorum: number, quorumMax: number | null): boolean {
  return count >= quorum && (quorumMax === null || count <= quorumMax);
}

// ================================================================ environment

export interface TrackerEnv {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  runScript(spec: RunSpec): Promise<RunResult>;
  readTrackFile(file: string): number;
  initTrackFile(file: string, value: number, overwrite: boolean): string | null;
  /** Watch a file for changes; returns a closer. */
  watchFile(file: string, onChange: () => void): () => void;
  listProcesses(): ProcInfo[];
  /** Subscribe to process events (the proc connector); returns a closer, or an error text when unavailable. */
  watchProcesses?(onEvent: () => void): (() => void) | string;
}

export const realTrackerEnv: TrackerEnv = {
  now: () => performance.now(), // monotonic: script intervals and process delays ignore wall-clock jumps
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  runScript,
  readTrackFile,
  initTrackFile,
  watchFile,
  listProcesses,
  watchProcesses: (onEvent) => {
    const pe = ProcEvents.open(() => onEvent());
    return typeof pe === 'string' ? pe : () => pe.close();
  },
};

export interface TrackerOptions {
  env?: TrackerEnv;
  log?: ScriptLog;
  security?: ScriptSecurity;
  /** Track-file poll interval (the fallback behind fs.watch), ms. Default 1000. */
  filePollMs?: number;
  /** /proc scan interval for vrrp_track_process, ms. Default 1000 (5× that as a backstop when the proc connector
   * is in use). */
  processPollMs?: number;
  /** SIGKILL a timed-out script's group this long after the SIGTERM (default 2000, as keepalived). */
  killGraceMs?: number;
  /** Use the proc connector for vrrp_track_process when available (default true). */
  useProcConnector?: boolean;
}

// ================================================================ the Tracker

interface ScriptRt {
  cfg: VrrpScript;
  st: ScriptState;
  runnable: boolean;
  running: boolean;
  timer: unknown;
  lastExit: string;
}

interface FileRt {
  cfg: TrackFile;
  value: number;
  closeWatch: (() => void) | null;
}

interface ProcRt {
  cfg: TrackProcess;
  count: number;
  /** The quorum state the instances see; null before the first scan. */
  up: boolean | null;
  /** A pending change waiting for its delay. */
  pending: { up: boolean; at: number } | null;
}

interface InstTerms {
  inst: VrrpInstance;
  refs: { kind: TrackKind; ref: TrackRef }[];
  last: InstanceResult;
  pending: boolean;
}

/**
 * Runs and watches every tracker of a configuration and keeps each instance's effective priority and FAULT.
 * Event: 'change' (instanceName) when an instance's effective priority, FAULT or pendingInit changed.
 * Lifecycle: `new Tracker(cfg)`, seed interface states with `setInterface()`, `start()`, ... `stop()`.
 */
export class Tracker extends EventEmitter {
  private readonly env: TrackerEnv;
  private readonly log: ScriptLog;
  private readonly security: ScriptSecurity;
  private readonly scripts = new Map<string, ScriptRt>();
  private readonly files = new Map<string, FileRt>();
  private readonly procs = new Map<string, ProcRt>();
  private readonly ifaces = new Map<string, boolean>();
  private readonly insts = new Map<string, InstTerms>();
  private readonly timers = new Set<unknown>();
  private started = false;
  private stopped = false;
  private readonly filePollMs: number;
  private readonly processPollMs: number;
  private readonly useProcConnector: boolean;
  private readonly killGraceMs: number;
  private closeProcEvents: (() => void) | null = null;
  private rescanTimer: unknown = null;
  /** 'connector' or 'poll' once started with tracked processes. */
  processMode: 'connector' | 'poll' | null = null;

  constructor(
    cfg: KeepalivedConfig,
    opts: TrackerOptions = {},
  ) {
    super();
    this.env = opts.env ?? realTrackerEnv;
    this.log = opts.log ?? silentLog;
    this.security = opts.security ?? new ScriptSecurity(cfg.global, this.log);
    this.filePollMs = opts.filePollMs ?? 1000;
    this.processPollMs = opts.processPollMs ?? 1000;
    this.useProcConnector = opts.useProcConnector ?? true;
    this.killGraceMs = opts.killGraceMs ?? 2000;
    const groups = new Map<string, SyncGroup>(cfg.syncGroups.map((g) => [g.name, g]));
    const usedScripts = new Set<string>();
    const usedFiles = new Set<string>();
    const usedProcs = new Set<string>();
    for (const inst of cfg.instances) {
      const g = inst.syncGroup ? groups.get(inst.syncGroup) ?? null : null;
      const refs: { kind: TrackKind; ref: TrackRef }[] = [];
      const add = (kind: TrackKind, list: TrackRef[], fromGroup: boolean) => {
        for (const ref of list) {
          if (refs.some((r) => r.kind === kind && r.ref.name === ref.name)) continue;
          let r = ref;
          // Members' own weighted trackers were already corrected by the parser (interfaces to weight 0, others
          // removed, as keepalived -t does); the group's own trackers lose their weight here.
          if (fromGroup && g && !g.syncGroupTrackingWeight && r.weight !== 0) r = { ...r, weight: 0 };
          if (inst.priority === PRIO_OWNER && r.weight !== 0) {
            this.log.warn(`(${inst.name}) ignoring tracked ${kind} ${r.name} with weights due to address owner`);
            continue;
          }
          refs.push({ kind, ref: r });
          if (kind === 'script') usedScripts.add(r.name);
          if (kind === 'file') usedFiles.add(r.name);
          if (kind === 'process') usedProcs.add(r.name);
        }
      };
      add('interface', inst.trackInterfaces, false);
      add('script', inst.trackScripts, false);
      add('file', inst.trackFiles, false);
      add('process', inst.trackProcesses, false);
      if (g) {
        add('interface', g.trackInterfaces, true);
        add('script', g.trackScripts, true);
        add('file', g.trackFiles, true);
        add('process', g.trackProcesses, true);
      }
      this.insts.set(inst.name, { inst, refs, last: { priority: inst.priority, fault: false, faultBy: [] }, pending: false });
    }
    for (const s of cfg.scripts) {
      if (!usedScripts.has(s.name)) continue;
      this.scripts.set(s.name, { cfg: s, st: initialScriptState(s), runnable: true, running: false, timer: null, lastExit: '' });
    }
    for (const f of cfg.trackFiles) {
      if (!usedFiles.has(f.name)) continue;
      this.files.set(f.name, { cfg: f, value: 0, closeWatch: null });
    }
    for (const p of cfg.trackProcesses) {
      if (!usedProcs.has(p.name)) continue;
      this.procs.set(p.name, { cfg: p, count: 0, up: null, pending: null });
    }
    for (const [name, it] of this.insts) {
      it.last = this.compute(it);
      it.pending = this.pendingInit(name);
    }
  }

  /** Interfaces some instance tracks (the daemon should seed their state before start()). */
  trackedInterfaces(): string[] {
    const out = new Set<string>();
    for (const it of this.insts.values()) for (const r of it.refs) if (r.kind === 'interface') out.add(r.ref.name);
    return [...out];
  }

  /** The daemon reports a link's state (netlink lives in the daemon). Unknown interfaces count as down. */
  setInterface(name: string, up: boolean): void {
    if (this.ifaces.get(name) === up) return;
    this.ifaces.set(name, up);
    this.recompute();
  }

  /**
   * Reload: take over the results the previous Tracker had for trackers that did not change (same script words,
   * interval, rise/fall; same file; same process match), and every interface state, so an unchanged instance keeps
   * its effective priority and FAULT across a reload (no flap while scripts re-run). Call before start(); stop the
   * old one yourself.
   */
  adoptState(prev: Tracker): void {
    for (const [n, up] of prev.ifaces) this.ifaces.set(n, up);
    for (const [n, s] of this.scripts) {
      const o = prev.scripts.get(n);
      if (o && JSON.stringify([o.cfg.argv, o.cfg.rise, o.cfg.fall, o.cfg.user, o.cfg.group]) === JSON.stringify([s.cfg.argv, s.cfg.rise, s.cfg.fall, s.cfg.user, s.cfg.group])) {
        s.st = { ...o.st };
      }
    }
    for (const [n, f] of this.files) {
      const o = prev.files.get(n);
      if (o && o.cfg.file === f.cfg.file) f.value = o.value;
    }
    for (const [n, p] of this.procs) {
      const o = prev.procs.get(n);
      if (o && JSON.stringify({ ...o.cfg, src: null, weight: 0, weightReverse: false }) === JSON.stringify({ ...p.cfg, src: null, weight: 0, weightReverse: false })) {
        p.up = o.up;
        p.count = o.count;
        this.adoptedProcs.add(n);
      }
    }
    for (const [name, it] of this.insts) {
      it.last = this.compute(it);
      it.pending = this.pendingInit(name);
    }
  }

  private readonly adoptedProcs = new Set<string>();

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const f of this.files.values()) {
      if (f.cfg.initFile) {
        const err = this.env.initTrackFile(f.cfg.file, f.cfg.initFile.value, f.cfg.initFile.overwrite);
        if (err) this.log.error(err);
      }
      f.value = this.env.readTrackFile(f.cfg.file);
      f.closeWatch = this.env.watchFile(f.cfg.file, () => this.readFile(f));
    }
    if (this.files.size) this.every(this.filePollMs, () => this.files.forEach((f) => this.readFile(f)));
    if (this.procs.size) {
      this.scanProcesses(true);
      let pollMs = this.processPollMs;
      const w = this.useProcConnector && this.env.watchProcesses ? this.env.watchProcesses(() => this.processEvent()) : 'disabled';
      if (typeof w === 'string') {
        this.processMode = 'poll';
        this.log.info(`vrrp_track_process: polling /proc every ${pollMs} ms (proc connector: ${w})`);
      } else {
        this.processMode = 'connector';
        this.closeProcEvents = w;
        pollMs *= 5;
      }
      this.every(pollMs, () => this.scanProcesses(false));
    }
    for (const s of this.scripts.values()) {
      const p = this.security.prepare(s.cfg.argv, s.cfg.user, s.cfg.group, `VRRP_Script(${s.cfg.name})`);
      if (!p.ok) {
        // keepalived disables an insecure/unrunnable script and drops it from tracking.
        s.runnable = false;
        this.log.warn(`Disabling track script ${s.cfg.name} since not found/accessible/secure`);
        continue;
      }
      this.runScriptNow(s, p.uid, p.gid);
    }
    this.recompute();
  }

  stop(): void {
    this.stopped = true;
    this.closeProcEvents?.();
    this.closeProcEvents = null;
    if (this.rescanTimer) this.env.clearTimeout(this.rescanTimer);
    for (const t of this.timers) this.env.clearTimeout(t);
    this.timers.clear();
    for (const s of this.scripts.values()) if (s.timer) this.env.clearTimeout(s.timer);
    for (const f of this.files.values()) f.closeWatch?.();
  }

  effectivePriority(name: string): number {
    const it = this.insts.get(name);
    return it ? it.last.priority : 0;
  }

  isFault(name: string): boolean {
    return this.insts.get(name)?.last.fault ?? false;
  }

  /** The trackers that fault the instance, e.g. ["script chk", "interface eth1"]. */
  faultReasons(name: string): string[] {
    return this.insts.get(name)?.last.faultBy ?? [];
  }

  /** True while a weight-0 script tracked by the instance has not produced its first result (keepalived keeps such
   * an instance in INIT; the daemon may hold it in BACKUP). */
  pendingInit(name: string): boolean {
    const it = this.insts.get(name);
    if (!it) return false;
    return it.refs.some(
      (r) => r.kind === 'script' && r.ref.weight === 0 && this.scripts.get(r.ref.name)?.runnable === true && this.scriptUp(r.ref.name) === null,
    );
  }

  /** Per tracker: 'up' / 'down', 'init' (a script before its first result), 'disabled' (a script refused by script
   * security or not found), or the value for a file. */
  status(name: string): TrackerStatus[] {
    const it = this.insts.get(name);
    if (!it) return [];
    return it.refs.map(({ kind, ref }) => {
      let status: string;
      if (kind === 'file') status = String(this.files.get(ref.name)?.value ?? 0);
      else if (kind === 'script' && this.started && this.scripts.get(ref.name)?.runnable === false) status = 'disabled';
      else {
        const up = this.termUp(kind, ref.name);
        status = up === null ? 'init' : up ? 'up' : 'down';
      }
      return { kind, name: ref.name, status, weight: ref.weight };
    });
  }

  // ---------------------------------------------------------------- internals

  private every(ms: number, fn: () => void): void {
    const tick = () => {
      if (this.stopped) return;
      this.timers.delete(h);
      fn();
      h = this.env.setTimeout(tick, ms);
      this.timers.add(h);
    };
    let h = this.env.setTimeout(tick, ms);
    this.timers.add(h);
  }

  private scriptUp(name: string): boolean | null {
    const s = this.scripts.get(name);
    if (!s || !s.runnable) return null;
    return s.st.up;
  }

  private termUp(kind: TrackKind, name: string): boolean | null {
    switch (kind) {
      case 'interface':
        return this.ifaces.get(name) ?? false;
      case 'script':
        return this.scriptUp(name);
      case 'process':
        return this.procs.get(name)?.up ?? null;
      default:
        return null;
    }
  }

  private compute(it: InstTerms): InstanceResult {
    const terms: TrackTerm[] = [];
    for (const { kind, ref } of it.refs) {
      if (kind === 'script' && !this.scripts.get(ref.name)?.runnable) continue;
      const t: TrackTerm = { kind, name: ref.name, weight: ref.weight, reverse: ref.reverse, up: this.termUp(kind, ref.name) };
      if (kind === 'file') t.value = this.files.get(ref.name)?.value ?? 0;
      terms.push(t);
    }
    return computeInstance(it.inst.priority, terms);
  }

  private recompute(): void {
    for (const [name, it] of this.insts) {
      const r = this.compute(it);
      const before = it.last;
      it.last = r;
      if (r.priority !== before.priority) {
        this.log.info(`(${name}) Changing effective priority from ${before.priority} to ${r.priority}`);
      }
      const pending = this.pendingInit(name);
      const pendingChanged = pending !== it.pending;
      it.pending = pending;
      if (r.priority !== before.priority || r.fault !== before.fault || pendingChanged) this.emit('change', name);
    }
  }

  private runScriptNow(s: ScriptRt, uid?: number, gid?: number): void {
    if (this.stopped) return;
    s.running = true;
    const spec: RunSpec = { argv: s.cfg.argv, timeoutMs: Math.round(s.cfg.timeout * 1000), termGraceMs: this.killGraceMs };
    if (uid !== undefined) spec.uid = uid;
    if (gid !== undefined) spec.gid = gid;
    const startedAt = this.env.now();
    void this.env.runScript(spec).then((res) => {
      s.running = false;
      if (this.stopped) return;
      const ok = !res.timedOut && res.error === null && res.code === 0;
      if (res.timedOut) this.log.warn(`VRRP_Script(${s.cfg.name}) timed out`);
      else if (res.error) this.log.warn(`VRRP_Script(${s.cfg.name}) cannot run: ${res.error}`);
      const exit = res.code !== null ? `exited with status ${res.code}` : `killed by ${res.signal ?? 'signal'}`;
      const prev = s.st.up;
      s.st = scriptStep(s.st, ok, s.cfg.rise, s.cfg.fall);
      if (s.st.up !== prev) {
        if (s.st.up) this.log.info(`VRRP_Script(${s.cfg.name}) succeeded`);
        else this.log.info(`VRRP_Script(${s.cfg.name}) failed (${res.timedOut ? 'timed out' : exit})`);
        this.recompute();
      } else if (!ok && s.lastExit !== exit) {
        this.log.info(`Script \`${s.cfg.name}\` now returning ${res.code ?? -1}`);
      }
      s.lastExit = ok ? '' : exit;
      // Next run `interval` after this one started (keepalived schedules from the start), never overlapping.
      const wait = Math.max(0, Math.round(s.cfg.interval * 1000) - (this.env.now() - startedAt));
      s.timer = this.env.setTimeout(() => {
        s.timer = null;
        this.runScriptNow(s, uid, gid);
      }, wait);
    });
  }

  private readFile(f: FileRt): void {
    if (this.stopped) return;
    const v = this.env.readTrackFile(f.cfg.file);
    if (v === f.value) return;
    f.value = v;
    this.recompute();
  }

  /** A process event: rescan shortly (events come in bursts: fork, exec, comm...). */
  private processEvent(): void {
    if (this.stopped || this.rescanTimer) return;
    this.rescanTimer = this.env.setTimeout(() => {
      this.rescanTimer = null;
      this.scanProcesses(false);
    }, 25);
  }

  private scanProcesses(initial: boolean): void {
    if (this.stopped) return;
    const all = this.env.listProcesses();
    const now = this.env.now();
    let changed = false;
    for (const p of this.procs.values()) {
      p.count = all.reduce((n, pi) => n + (processMatches(p.cfg, pi) ? 1 : 0), 0);
      const want = quorumOk(p.count, p.cfg.quorum, p.cfg.quorumMax);
      if (initial && !this.adoptedProcs.has(p.cfg.name)) {
        p.up = want;
        changed = true;
        continue;
      }
      if (want === p.up) {
        p.pending = null;
        continue;
      }
      const delayS = want ? p.cfg.forkDelay || p.cfg.delay : p.cfg.terminateDelay || p.cfg.delay;
      let fresh = false;
      if (!p.pending || p.pending.up !== want) {
        p.pending = { up: want, at: now + delayS * 1000 };
        fresh = true;
      }
      if (now >= p.pending.at) {
        p.up = want;
        p.pending = null;
        changed = true;
        this.log.info(`Quorum ${want ? 'gained' : 'lost'} for tracked process ${p.cfg.name}`);
      } else if (fresh) {
        // Re-check exactly when the delay ends.
        const h = this.env.setTimeout(() => {
          this.timers.delete(h);
          this.scanProcesses(false);
        }, p.pending.at - now);
        this.timers.add(h);
      }
    }
    if (changed) this.recompute();
  }
}
