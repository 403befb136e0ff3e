/**
 * The VRRP state machine of RFC 5798 §6.4 (with RFC 9568's amendments and RFC 3768's v2 rules), pure.
 *
 *   step(state, event, now) -> { state, actions }
 *
 * Read it side by side with RFC 5798 §6.4: §6.4.1 Initialize, §6.4.2 Backup, §6.4.3 Master. Each branch cites the
 * clause it implements. Fault is not in the RFC; it is keepalived's state for failed tracking and behaves like a
 * shut-down router that will start again when tracking recovers.
 *
 * Invariants (checked by the simulation in test/sim/):
 * - at most one timer runs; its kind is `adver` in Master and `master_down` in Backup, none otherwise;
 * - a timer event with a stale generation changes nothing;
 * - no input (any event, in any state, any field values) throws or corrupts the state.
 */
import type { Action, AdvertEvent, LogCode, PendingTimer, StepResult, TransitionReason, VrConfig, VrEvent, VrState, VrrpState } from './types.js';

const US_PER_CS = 10_000;
const US_PER_S = 1_000_000;

/** Skew_Time in microseconds. v3: ((256 - Priority) x Master_Adver_Interval) / 256 (RFC 5798 §6.1); v2: (256 - Priority) / 256 s (RFC 3768 §6.1). */
export function skewTimeUs(version: 2 | 3, priority: number, masterAdverIntervalUs: number): number {
  const p = clampPriority(priority);
  if (version === 2) return Math.floor(((256 - p) * US_PER_S) / 256);
  return Math.floor(((256 - p) * masterAdverIntervalUs) / 256);
}

/** Master_Down_Interval = (3 x Master_Adver_Interval) + Skew_Time (RFC 5798 §6.1; keepalived `down_timer_adverts` replaces 3). */
export function masterDownIntervalUs(cfg: VrConfig, priority: number, masterAdverIntervalUs: number): number {
  return cfg.downTimerAdverts * masterAdverIntervalUs + skewTimeUs(cfg.version, priority, masterAdverIntervalUs);
}

function clampPriority(p: number): number {
  if (!Number.isFinite(p)) return 0;
  return Math.max(0, Math.min(255, Math.trunc(p)));
}

/** A fresh machine in Initialize, before its Startup event. */
export function initialState(cfg: VrConfig): VrState {
  const priority = clampPriority(cfg.priority);
  const mai = cfg.advertIntervalCs * US_PER_CS;
  return {
    cfg,
    state: 'init',
    priority,
    masterAdverIntervalUs: mai,
    skewUs: skewTimeUs(cfg.version, priority, mai),
    masterDownIntervalUs: masterDownIntervalUs(cfg, priority, mai),
    timer: null,
    gen: 0,
    masterAddress: null,
    masterPriority: 0,
    preemptDeadline: null,
    faulted: false,
    lastTransition: null,
  };
}

/** Mutable scratch used while computing one step; frozen into a new VrState at the end. */
type Draft = { -readonly [K in keyof VrState]: VrState[K] };

class StepBuilder {
  readonly d: Draft;
  readonly actions: Action[] = [];
  changed = false;

  constructor(
    readonly prev: VrState,
    readonly now: number,
  ) {
    this.d = { ...prev };
  }

  /** Recompute Skew_Time and Master_Down_Interval from the current priority and Master_Adver_Interval. */
  recompute(): void {
    this.d.skewUs = skewTimeUs(this.d.cfg.version, this.d.priority, this.d.masterAdverIntervalUs);
    this.d.masterDownIntervalUs = masterDownIntervalUs(this.d.cfg, this.d.priority, this.d.masterAdverIntervalUs);
    this.changed = true;
  }

  setTimer(kind: PendingTimer['kind'], afterUs: number): void {
    const gen = this.d.gen + 1;
    const timer: PendingTimer = { kind, gen, at: this.now + Math.max(0, Math.floor(afterUs)) };
    this.d.gen = gen;
    this.d.timer = timer;
    this.actions.push({ type: 'set_timer', timer });
    this.changed = true;
  }

  cancelTimer(): void {
    if (this.d.timer !== null) {
      this.d.timer = null;
      this.d.gen = this.d.gen + 1; // any pending expiry is now stale
      this.actions.push({ type: 'cancel_timer' });
      this.changed = true;
    }
  }

  sendAdvert(priority: number): void {
    this.actions.push({ type: 'send_advert', priority });
  }

  log(code: LogCode, from: string, theirs: number): void {
    this.actions.push({ type: 'log', code, from, theirs, ours: this.d.priority });
  }

  enter(to: VrrpState, reason: TransitionReason): void {
    const transition = { at: this.now, from: this.d.state, to, reason };
    this.d.state = to;
    this.d.lastTransition = transition;
    this.actions.push({ type: 'transition', transition });
    this.changed = true;
  }

  result(): StepResult {
    return { state: this.changed ? Object.freeze(this.d) : this.prev, actions: this.actions };
  }
}

/** The address we advertise from, as text, for `masterAddress` when we are master. */
const SELF = 'self';

/**
 * Advance the machine by one event at time `now` (microseconds). Never throws; an event that does not apply in the
 * current state returns the same state and no actions.
 */
export function step(state: VrState, event: VrEvent, now: number): StepResult {
  const b = new StepBuilder(state, Number.isFinite(now) ? now : 0);
  if (event === null || typeof event !== 'object') return b.result();
  switch (event.type) {
    case 'startup':
      onStartup(b);
      break;
    case 'shutdown':
      onShutdown(b, 'shutdown');
      break;
    case 'timer':
      onTimer(b, event.gen);
      break;
    case 'advert':
      if (isValidAdvertEvent(event)) onAdvert(b, event);
      break;
    case 'set_priority':
      onSetPriority(b, event.priority);
      break;
    case 'fault':
      onFault(b);
      break;
    case 'recover':
      onRecover(b);
      break;
    case 'force_master':
      // keepalived sync group: another member became Master, this one follows (as if its Master_Down_Timer fired).
      if (b.d.state === 'backup') becomeMaster(b, 'sync_group');
      break;
    case 'force_backup':
      if (b.d.state === 'master') yieldToBackup(b);
      break;
    case 'restart_down_timer':
      if (b.d.state === 'backup') b.setTimer('master_down', b.d.masterDownIntervalUs);
      break;
    default:
      break;
  }
  return b.result();
}

function isValidAdvertEvent(e: AdvertEvent): boolean {
  return (
    e.src instanceof Uint8Array &&
    typeof e.srcText === 'string' &&
    Number.isInteger(e.priority) &&
    e.priority >= 0 &&
    e.priority <= 255 &&
    Number.isInteger(e.intervalCs) &&
    e.intervalCs > 0 &&
    e.intervalCs <= 409_500
  );
}

// --- RFC 5798 §6.4.1 Initialize -------------------------------------------------------------------------------

function onStartup(b: StepBuilder): void {
  const d = b.d;
  if (d.state !== 'init') return; // Startup only applies in Initialize.
  if (d.faulted) {
    // Tracking holds us down: wait in Fault until it recovers.
    b.enter('fault', 'fault');
    return;
  }
  if (d.cfg.preemptDelayUs > 0) d.preemptDeadline = b.now + d.cfg.preemptDelayUs; // keepalived: "after startup"
  if (d.priority === 255) {
    // §6.4.1: If the Priority = 255 (the router owns the addresses): send an ADVERTISEMENT; broadcast a gratuitous
    // ARP request / send an unsolicited NA for each address; set the Adver_Timer to Advertisement_Interval;
    // transition to Master.
    becomeMaster(b, 'owner_startup');
    return;
  }
  // §6.4.1: else set Master_Adver_Interval to Advertisement_Interval; set the Master_Down_Timer to
  // Master_Down_Interval; transition to Backup.
  d.masterAdverIntervalUs = d.cfg.advertIntervalCs * US_PER_CS;
  b.recompute();
  d.masterAddress = null;
  d.masterPriority = 0;
  // keepalived `state MASTER` below 255: the first down timer is one advert plus skew, so it claims mastership fast.
  const first = d.cfg.initialMaster ? d.masterAdverIntervalUs + d.skewUs : d.masterDownIntervalUs;
  b.setTimer('master_down', first);
  b.enter('backup', 'startup');
}

function becomeMaster(b: StepBuilder, reason: TransitionReason): void {
  const d = b.d;
  b.sendAdvert(d.priority);
  b.actions.push({ type: 'add_vips' });
  b.actions.push({ type: 'announce' });
  setAdverTimer(b);
  d.masterAddress = SELF;
  d.masterPriority = d.priority;
  d.preemptDeadline = null;
  b.enter('master', reason);
}

// --- Shutdown (RFC 5798 §6.4.2 / §6.4.3) and Fault ------------------------------------------------------------

function onShutdown(b: StepBuilder, reason: 'shutdown'): void {
  const d = b.d;
  if (d.state === 'init') return;
  leave(b);
  d.faulted = false;
  b.enter('init', reason);
}

/** Leave Master or Backup: cancel the timer; a Master resigns with priority 0 and drops its addresses. */
function leave(b: StepBuilder): void {
  const d = b.d;
  b.cancelTimer();
  if (d.state === 'master') {
    // §6.4.3 Shutdown: cancel the Adver_Timer; send an ADVERTISEMENT with Priority = 0; transition to Initialize.
    b.sendAdvert(0);
    b.actions.push({ type: 'remove_vips' });
  }
  d.masterAddress = null;
  d.masterPriority = 0;
  d.preemptDeadline = null;
}

function onFault(b: StepBuilder): void {
  const d = b.d;
  if (d.faulted) return;
  d.faulted = true;
  b.changed = true;
  if (d.state === 'init') return; // stays down; Startup will enter Fault
  // keepalived: MASTER -> FAULT sends one priority-0 advert and removes the VIPs.
  leave(b);
  b.enter('fault', 'fault');
}

function onRecover(b: StepBuilder): void {
  const d = b.d;
  if (!d.faulted) return;
  d.faulted = false;
  b.changed = true;
  if (d.state !== 'fault') return;
  // Leave Fault through Initialize, as a fresh Startup would (keepalived re-enters BACKUP, or MASTER if owner).
  d.state = 'init';
  onStartup(b);
  if (b.d.lastTransition) b.d.lastTransition = { ...b.d.lastTransition, from: 'fault', reason: 'recover' };
  const last = b.actions[b.actions.length - 1];
  if (last && last.type === 'transition') last.transition = b.d.lastTransition!;
}

// --- Timers ---------------------------------------------------------------------------------------------------

/**
 * §6.4.3 "reset the Adver_Timer to Advertisement_Interval" (also §6.4.1/§6.4.2 "set the Adver_Timer"). With
 * cfg.advertAlignUs the deadline is rounded up to that grid (at most one step later than the interval), so that
 * the virtual routers of one daemon send in groups (see VrConfig.advertAlignUs).
 */
function setAdverTimer(b: StepBuilder): void {
  const interval = b.d.cfg.advertIntervalCs * US_PER_CS;
  const q = b.d.cfg.advertAlignUs ?? 0;
  if (!(q > 0)) return b.setTimer('adver', interval);
  const at = Math.ceil((b.now + interval) / q) * q;
  b.setTimer('adver', at - b.now);
}

function onTimer(b: StepBuilder, gen: number): void {
  const d = b.d;
  const t = d.timer;
  if (t === null || t.gen !== gen) return; // stale or cancelled: ignore
  if (t.kind === 'adver' && d.state === 'master') {
    // §6.4.3: If the Adver_Timer fires: send an ADVERTISEMENT; reset the Adver_Timer to Advertisement_Interval.
    b.sendAdvert(d.priority);
    setAdverTimer(b);
    return;
  }
  if (t.kind === 'master_down' && d.state === 'backup') {
    // §6.4.2: If the Master_Down_Timer fires: send an ADVERTISEMENT; broadcast gratuitous ARP / send unsolicited
    // NA for each address; set the Adver_Timer to Advertisement_Interval; transition to Master.
    b.log('master_down_timeout', d.masterAddress ?? '', d.masterPriority);
    becomeMaster(b, 'master_down_timer');
    return;
  }
  // A timer of the wrong kind for the state cannot be armed by this module; drop it defensively.
  d.timer = null;
  b.changed = true;
}

// --- Advertisements -------------------------------------------------------------------------------------------

/** Is the sender's (priority, address) better than ours? Higher priority wins; equal priority: higher address (unsigned, network order). */
function senderWins(b: StepBuilder, ev: AdvertEvent): boolean {
  const ours = b.d.priority;
  if (ev.priority !== ours) return ev.priority > ours;
  return compareBytes(ev.src, b.d.cfg.primaryAddress) > 0;
}

function compareBytes(a: Uint8Array, c: Uint8Array): number {
  const n = Math.min(a.length, c.length);
  for (let i = 0; i < n; i++) if (a[i] !== c[i]) return a[i]! - c[i]!;
  return a.length - c.length;
}

/** Learn the master's interval (v3) and recompute Skew_Time and Master_Down_Interval (RFC 9568 §6.4.2 recomputes skew explicitly). */
function learnInterval(b: StepBuilder, ev: AdvertEvent): void {
  const d = b.d;
  // v2 intervals must match (checked on receive, RFC 3768 §7.1); v3 adopts the master's (RFC 5798 §6.4.2).
  d.masterAdverIntervalUs = d.cfg.version === 3 ? ev.intervalCs * US_PER_CS : d.cfg.advertIntervalCs * US_PER_CS;
  b.recompute();
}

function onAdvert(b: StepBuilder, ev: AdvertEvent): void {
  const d = b.d;
  if (d.state === 'backup') return onAdvertInBackup(b, ev);
  if (d.state === 'master') return onAdvertInMaster(b, ev);
  // Initialize and Fault ignore adverts.
}

function onAdvertInBackup(b: StepBuilder, ev: AdvertEvent): void {
  const d = b.d;
  if (ev.priority === 0) {
    // §6.4.2: If the Priority in the ADVERTISEMENT is zero, then set the Master_Down_Timer to Skew_Time.
    b.log('prio_zero_received', ev.srcText, 0);
    b.setTimer('master_down', d.skewUs);
    return;
  }
  // §6.4.2: If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater than or equal to the local
  // Priority, then: set Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT; recompute the
  // Master_Down_Interval; reset the Master_Down_Timer to Master_Down_Interval.
  let honour = !d.cfg.preempt || ev.priority >= d.priority;
  if (!honour && d.cfg.preemptDelayUs > 0) {
    // keepalived preempt_delay: a lower-priority master is still followed until the delay (started after startup or
    // on first hearing it) has passed.
    if (d.preemptDeadline === null) {
      d.preemptDeadline = b.now + d.cfg.preemptDelayUs;
      b.changed = true;
      b.log('preempt_delay_start', ev.srcText, ev.priority);
    }
    honour = b.now < d.preemptDeadline;
  }
  if (honour) {
    if (ev.priority > d.priority && d.preemptDeadline !== null && d.cfg.preemptDelayUs > 0) {
      d.preemptDeadline = null; // a better master resets the delay
    }
    learnInterval(b, ev);
    d.masterAddress = ev.srcText;
    d.masterPriority = ev.priority;
    b.setTimer('master_down', d.masterDownIntervalUs);
    return;
  }
  // §6.4.2: Otherwise, discard the ADVERTISEMENT (the Master_Down_Timer keeps running, so we preempt when it fires).
  if (d.masterAddress !== ev.srcText || d.masterPriority !== ev.priority) {
    d.masterAddress = ev.srcText;
    d.masterPriority = ev.priority;
    b.changed = true;
  }
}

function onAdvertInMaster(b: StepBuilder, ev: AdvertEvent): void {
  const d = b.d;
  if (ev.priority === 0) {
    // §6.4.3: If the Priority in the ADVERTISEMENT is zero, then: send an ADVERTISEMENT; reset the Adver_Timer to
    // Advertisement_Interval.
    b.log('prio_zero_received', ev.srcText, 0);
    b.sendAdvert(d.priority);
    setAdverTimer(b);
    return;
  }
  if (senderWins(b, ev)) {
    // §6.4.3: If the Priority in the ADVERTISEMENT is greater than the local Priority, or the Priority is equal and
    // the primary IP address of the sender is greater than the local primary IP address, then: cancel the
    // Adver_Timer; set Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT; recompute the
    // Skew_Time and Master_Down_Interval; set the Master_Down_Timer to Master_Down_Interval; transition to Backup.
    b.log(ev.priority === d.priority ? 'equal_prio_advert' : 'higher_prio_advert', ev.srcText, ev.priority);
    if (d.cfg.higherPrioSendAdvert) b.sendAdvert(d.priority); // keepalived higher_prio_send_advert
    b.cancelTimer();
    learnInterval(b, ev);
    b.actions.push({ type: 'remove_vips' });
    d.masterAddress = ev.srcText;
    d.masterPriority = ev.priority;
    b.setTimer('master_down', d.masterDownIntervalUs);
    b.enter('backup', 'higher_priority_advert');
    return;
  }
  // §6.4.3 (RFC 9568): Otherwise, discard the ADVERTISEMENT and send an ADVERTISEMENT immediately, so that the
  // lower-priority router hears the master at once (keepalived "forcing new election"; `lower_prio_no_advert` off).
  b.log('lower_prio_advert', ev.srcText, ev.priority);
  if (!d.cfg.lowerPrioNoAdvert) b.sendAdvert(d.priority);
}

// --- Priority changes (tracking) ------------------------------------------------------------------------------

function onSetPriority(b: StepBuilder, priority: number): void {
  const d = b.d;
  if (typeof priority !== 'number' || !Number.isFinite(priority)) return; // not a priority: ignore
  // RFC 5798 §5.2.4: a router backing up the VR MUST use 1-254 and only the owner uses 255; 0 means "the Master
  // stopped participating", so a running router never advertises it (it resigns through shutdown/fault instead).
  // keepalived likewise clamps tracked priorities to 1-254.
  const p = Math.max(1, Math.min(d.cfg.priority === 255 ? 255 : 254, Math.trunc(priority)));
  if (p === d.priority) return;
  d.priority = p;
  // Skew_Time depends on Priority (RFC 5798 §6.1): recompute. A running Master_Down_Timer keeps its deadline; the
  // new interval applies from the next reset. A Master simply advertises the new priority from its next advert.
  b.recompute();
}

/** keepalived sync group: leave Master for Backup because another member did (cf. §6.4.3, minus the advert). */
function yieldToBackup(b: StepBuilder): void {
  const d = b.d;
  b.cancelTimer();
  b.actions.push({ type: 'remove_vips' });
  d.masterAddress = null;
  d.masterPriority = 0;
  b.setTimer('master_down', d.masterDownIntervalUs);
  b.enter('backup', 'sync_group');
}

/** Convenience: run several events in order, concatenating actions. */
export function stepAll(state: VrState, events: readonly VrEvent[], now: number): StepResult {
  let s = state;
  const actions: Action[] = [];
  for (const e of events) {
    const r = step(s, e, now);
    s = r.state;
    actions.push(...r.actions);
  }
  return { state: s, actions };
}

/** A VrConfig with keepalived's defaults, for tests and tools. */
export function defaultVrConfig(over: Partial<VrConfig> & Pick<VrConfig, 'vrid' | 'primaryAddress'>): VrConfig {
  return {
    name: `VI_${over.vrid}`,
    family: 4,
    version: 2,
    priority: 100,
    advertIntervalCs: 100,
    preempt: true,
    preemptDelayUs: 0,
    acceptMode: false,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    initialMaster: false,
    downTimerAdverts: 3,
    ...over,
  };
}
