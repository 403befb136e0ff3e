/**
 * One running virtual router (one keepalived `vrrp_instance`, one address family): the pure state machine from
 * src/core driven by real time, with its actions carried out through a `Host` (the daemon, which owns the sockets and
 * netlink). This file does no I/O of its own except timers.
 */
import { initialState, step } from '../core/machine.js';
import { STATE_NAMES, type Action, type VrConfig, type VrEvent, type VrState } from '../core/types.js';
import type { VirtualAddress, VrrpInstance } from '../config/model.js';
import { formatIP, parseIP } from '../wire/inet.js';
import { AUTH_AH, AUTH_NONE, AUTH_PASS, passAuthData, type Advert, type ChecksumForm, type Decoded, type RejectReason, type RxExpectation } from '../wire/vrrp.js';
import { COUNTER_NAMES, type CounterName, type InstanceStatus, type StateName, type TrackerStatus, type TransitionInfo } from './api.js';
import type { Logger } from './log.js';

/** What an instance needs from the daemon. */
export interface Host {
  readonly log: Logger;
  /** Monotonic clock, microseconds. */
  nowUs(): number;
  sendAdvert(inst: Instance, priority: number): void;
  addVips(inst: Instance): void;
  removeVips(inst: Instance): void;
  /** Start a GARP / unsolicited NA burst for every VIP (the instance handles repeats and the second burst). */
  announce(inst: Instance, repeat: number): Promise<void>;
  /** Read every queued packet now, synchronously (before a Master_Down timer decides anything). */
  drainSockets(): void;
  onTransition(inst: Instance, info: TransitionInfo): void;
  onAdvert(inst: Instance, interArrivalMs: number | null): void;
  /** Sync groups: may this member become Master now? (keepalived waits until every member wants it.) */
  mayBecomeMaster(inst: Instance): boolean;
  /** A master heard a lower-priority advert (notify_master_rx_lower_pri). */
  onLowerPriorityAdvert(inst: Instance, priority: number): void;
  trackerStatus(inst: Instance): TrackerStatus[];
}

/** Resolved interface facts, filled in when the instance attaches to its interface. */
export interface Attachment {
  /** Interface the adverts are about (the configured `interface`). */
  ifname: string;
  ifindex: number;
  /** Where adverts are sent from and received on (the VMAC unless vmac_xmit_base). */
  txIfindex: number;
  rxIfindex: number;
  /** The VMAC, when use_vmac. */
  vmacName: string | null;
  vmacIfindex: number | null;
  /** MAC for GARP/NA: the VMAC's, else the interface's. */
  mac: Uint8Array;
  /** Advert source address (bytes and text). */
  src: Uint8Array;
  srcText: string;
}

/** A received packet and its decode, kept so that the same advert again skips decoding (Daemon.onPacket). */
export interface RxMemo {
  data: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  ttl: number;
  multicast: boolean;
  dec: Decoded;
}

export function newCounters(): Record<CounterName, number> {
  const c = {} as Record<CounterName, number>;
  for (const n of COUNTER_NAMES) c[n] = 0;
  return c;
}

/** keepalived's counter for each rejection reason. */
export const REASON_COUNTER: Record<RejectReason, CounterName> = {
  ip_header: 'other_err',
  ttl: 'ip_ttl_err',
  length: 'packet_len_err',
  version: 'version_err',
  type: 'invalid_type_rcvd',
  address_count: 'addr_list_err',
  zero_interval: 'advert_interval_err',
  checksum: 'checksum_err',
  auth_type_invalid: 'invalid_authtype',
  ipv6_first_not_link_local: 'addr_list_err',
  vrid: 'vrid_err',
  version_mismatch: 'version_err',
  auth_type_mismatch: 'authtype_mismatch',
  auth_failure: 'auth_failure',
  interval_mismatch: 'advert_interval_err',
  addr_list: 'addr_list_err',
  owner: 'other_err',
  unicast_peer: 'unicast_peer_err',
};

const US = 1_000_000;

export class Instance {
  readonly name: string;
  readonly family: 4 | 6;
  readonly vrid: number;
  readonly version: 2 | 3;
  /** VIPs carried in adverts (`virtual_ipaddress`), canonical text without prefix. */
  readonly advertised: string[];
  /** Every address installed when master: VIPs then excluded VIPs. */
  readonly installs: VirtualAddress[];
  readonly peers: Uint8Array[];
  readonly authType: number;
  readonly authData: Uint8Array;
  readonly counters = newCounters();
  readonly checksumForms = { v2: 0, pseudo: 0, plain: 0 };
  attachment: Attachment | null = null;
  /** The last packet this instance decoded successfully (the daemon's receive fast path). */
  rxMemo: RxMemo | null = null;
  /** The last advert encoded per destination (the daemon's send path); valid while its inputs are the same. */
  txMemo: { priority: number; cfg: VrrpInstance; src: Uint8Array; dst: Uint8Array; form: 'pseudo' | 'plain'; bytes: Uint8Array }[] = [];
  vr: VrState | null = null;
  /** Wall-clock time of the last transition, for status. */
  lastTransition: TransitionInfo | null = null;
  /** Increases on every transition: delayed work (second GARP burst) checks it is still current. */
  epoch = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerGen = -1;
  private timerAt = 0;
  private readonly onTimeout = (): void => this.fireTimer(this.timerGen);
  /** The deadline the pending Node timer was computed for (<= timerAt; see armTimer). */
  private timerArmedFor = 0;
  private garpTimers: NodeJS.Timeout[] = [];
  private lastAdvertUs = -1;
  private stopped = false;
  private settingVips = false;
  private holdVips = false;
  private releasing: { finish: (why: string) => void; timer: NodeJS.Timeout } | null = null;
  /** After `vipd handover`, the instance stays Backup (no preemption) until restart or reload. */
  preemptSuspended = false;

  constructor(
    public cfg: VrrpInstance,
    private readonly host: Host,
  ) {
    this.name = cfg.name;
    this.family = cfg.family;
    this.vrid = cfg.virtualRouterId;
    this.version = cfg.version;
    this.advertised = cfg.vips.map((v) => v.address);
    this.installs = [...cfg.vips, ...cfg.vipsExcluded];
    this.peers = cfg.unicastPeers.map((p) => parseIP(p.address)?.bytes).filter((b): b is Uint8Array => b !== undefined);
    if (cfg.auth && cfg.version === 2) {
      this.authType = cfg.auth.type === 'PASS' ? AUTH_PASS : AUTH_AH;
      this.authData = cfg.auth.type === 'PASS' ? passAuthData(cfg.auth.pass) : new Uint8Array(8);
    } else {
      this.authType = AUTH_NONE;
      this.authData = new Uint8Array(0);
    }
  }

  get log(): Logger {
    return this.host.log;
  }

  get unicast(): boolean {
    return this.peers.length > 0;
  }

  get state(): StateName {
    if (this.stopped) return 'STOP';
    return this.vr ? (STATE_NAMES[this.vr.state] as StateName) : 'INIT';
  }

  /** The interval in the units of the packet field: v2 seconds, v3 centiseconds. */
  get wireInterval(): number {
    return this.version === 2 ? Math.max(1, Math.round(this.cfg.advertIntervalCs / 100)) : this.cfg.advertIntervalCs;
  }

  /** v3 over IPv4: which checksum form to send. */
  get checksumForm(): 'pseudo' | 'plain' {
    return this.cfg.v3ChecksumAsV2 ? 'plain' : 'pseudo';
  }

  /** The receive expectation for wire-level instance checks. */
  expectation(): RxExpectation {
    // Asked for every advert received: rebuilt only when the priority it carries changed.
    const priority = this.vr?.priority ?? this.cfg.priority;
    const e = this.rxExpect;
    if (e && e.priority === priority && this.rxExpectCfg === this.cfg) return e;
    this.rxExpectCfg = this.cfg;
    return (this.rxExpect = {
      vrid: this.vrid,
      version: this.version,
      priority,
      interval: this.wireInterval,
      authType: this.authType,
      authData: this.authData,
      addresses: this.advertised,
      skipAddrCheck: this.cfg.skipCheckAdvAddr,
      ownerIgnoresAdverts: this.cfg.ownerIgnoreAdverts,
    });
  }
  private rxExpect: RxExpectation | null = null;
  private rxExpectCfg: VrrpInstance | null = null;

  /** Build the core's configuration once the advert source address is known. */
  private vrConfig(src: Uint8Array): VrConfig {
    const c = this.cfg;
    return {
      name: c.name,
      vrid: c.virtualRouterId,
      family: c.family,
      version: c.version,
      priority: c.priority,
      advertIntervalCs: c.version === 2 ? this.wireInterval * 100 : c.advertIntervalCs,
      preempt: c.preempt && !this.preemptSuspended,
      preemptDelayUs: Math.round(c.preemptDelay * US),
      acceptMode: c.accept,
      lowerPrioNoAdvert: c.lowerPrioNoAdvert,
      higherPrioSendAdvert: c.higherPrioSendAdvert,
      primaryAddress: src,
      initialMaster: c.state === 'MASTER' && c.priority < 255,
      downTimerAdverts: c.downTimerAdverts,
      // Adverts due within a tenth of an interval of each other go out together (docs/daemon.md, "Timing").
      advertAlignUs: (c.version === 2 ? this.wireInterval * 100 : c.advertIntervalCs) * 1000,
    };
  }

  /** Attach to the interface (facts resolved by the daemon) and create the state machine. */
  attach(a: Attachment): void {
    this.attachment = a;
    const prev = this.vr;
    this.vr = initialState(this.vrConfig(a.src));
    if (prev?.faulted) this.vr = { ...this.vr, faulted: true };
    // Keep the effective priority tracking gave the previous machine.
    if (prev && prev.priority !== this.vr.priority) this.vr = step(this.vr, { type: 'set_priority', priority: prev.priority }, this.host.nowUs()).state;
  }

  // --- events -------------------------------------------------------------------------------------------------

  feed(ev: VrEvent, at?: number): void {
    if (!this.vr || this.stopped) return;
    const res = step(this.vr, ev, at ?? this.host.nowUs());
    this.vr = res.state;
    if (!res.actions.some((a) => a.type === 'add_vips')) {
      for (const a of res.actions) this.exec(a);
      return;
    }
    // Becoming master. RFC 5798 §6.4.2 lists: send an advert, announce the addresses, arm the Adver_Timer. vipd keeps
    // the same actions but makes them make-before-break: addresses installed, then the first GARP/NA burst (the hosts
    // move to us), then the advert (the old master, if any, lets go). The advert waits at most 20 ms for that.
    let advert: Action | null = null;
    let announce = false;
    for (const a of res.actions) {
      if (a.type === 'send_advert') advert = a;
      else if (a.type === 'announce') announce = true;
      else this.exec(a);
    }
    const first = announce ? this.startAnnouncements() : Promise.resolve();
    if (advert) {
      const epoch = this.epoch;
      const adv = advert;
      let sent = false;
      const send = () => {
        if (sent) return;
        sent = true;
        if (this.epoch === epoch && this.vr?.state === 'master' && !this.stopped) this.exec(adv);
      };
      const cap = setTimeout(send, 20);
      void first.then(() => {
        clearTimeout(cap);
        send();
      });
    }
  }

  startup(): void {
    this.log.info(`(${this.name}) removing VIPs.`); // keepalived's startup line: configured VIPs were removed
    this.feed({ type: 'startup' });
  }

  /** Stop: a master sends priority 0 and removes its addresses (RFC 5798 §6.4.3 Shutdown). */
  shutdown(): void {
    this.feed({ type: 'shutdown' });
    this.clearTimer();
    this.cancelGarps();
    this.stopped = true;
  }

  /**
   * Make-before-break handover (vipd's improvement on RFC 5798 §6.4.3 Shutdown, which keepalived follows): send the
   * priority-0 advert as the RFC says, but keep the addresses (and so keep answering ARP/ND and forwarding) until
   * another router's first advert shows it has taken over, or until Master_Down_Interval has passed. The core sees an
   * ordinary Shutdown; only the removal of the addresses is deferred here.
   *
   * `then`: 'stop' leaves the instance stopped (daemon exit); 'backup' restarts it in Backup with preemption
   * suspended, so that it does not take mastership straight back (`vipd handover`).
   * Resolves true when the instance was master and has now released, false when it was not master.
   */
  handover(then: 'stop' | 'backup'): Promise<boolean> {
    if (!this.vr || this.vr.state !== 'master' || this.stopped) return Promise.resolve(false);
    const boundMs = this.vr.masterDownIntervalUs / 1000;
    return new Promise<boolean>((resolve) => {
      this.holdVips = true;
      this.feed({ type: 'shutdown' }); // priority 0 advert, timer cancelled, Master -> Initialize
      this.cancelGarps();
      const finish = (why: string) => {
        if (!this.releasing) return;
        clearTimeout(this.releasing.timer);
        this.releasing = null;
        this.holdVips = false;
        this.log.info(`(${this.name}) handover: ${why}; removing VIPs.`);
        this.host.removeVips(this);
        if (then === 'stop') {
          this.stopped = true;
        } else if (this.attachment) {
          this.preemptSuspended = true;
          this.attach(this.attachment);
          this.startup();
        }
        resolve(true);
      };
      const timer = setTimeout(() => {
        // Adverts queued while the event loop was busy count: read them before concluding nobody took over.
        this.host.drainSockets();
        finish(`no new master heard within ${boundMs.toFixed(0)} ms`);
      }, boundMs);
      this.releasing = { finish, timer };
    });
  }

  /** Reload with only the priority changed: apply it in place, as keepalived does (no release, no takeover). */
  changePriority(cfg: VrrpInstance): void {
    this.cfg = cfg;
    if (!this.vr) return;
    this.vr = { ...this.vr, cfg: { ...this.vr.cfg, priority: cfg.priority } };
    this.feed({ type: 'set_priority', priority: cfg.priority });
  }

  /** End the no-preemption hold of `vipd handover` (on reload): the configured preempt applies again. */
  resumePreemption(): void {
    if (!this.preemptSuspended || !this.vr) return;
    this.preemptSuspended = false;
    this.vr = { ...this.vr, cfg: { ...this.vr.cfg, preempt: this.cfg.preempt } };
  }

  /** True while a handover holds the addresses. */
  get handingOver(): boolean {
    return this.releasing !== null;
  }

  fault(): void {
    this.feed({ type: 'fault' });
  }

  recover(): void {
    this.feed({ type: 'recover' });
  }

  /** A validated advert for this instance. */
  onAdvert(adv: Advert, src: Uint8Array, srcText: string, form: ChecksumForm): void {
    this.counters.advert_rcvd++;
    if (this.releasing && adv.priority > 0) this.releasing.finish(`new master ${srcText} heard`);
    this.checksumForms[form]++;
    if (adv.priority === 0) this.counters.pri_zero_rcvd++;
    const vr = this.vr;
    if (vr && vr.state === 'backup' && adv.priority > 0) {
      const now = this.host.nowUs();
      const ia = this.lastAdvertUs >= 0 ? (now - this.lastAdvertUs) / 1000 : null;
      this.lastAdvertUs = now;
      this.host.onAdvert(this, ia);
      const learned = adv.version === 3 ? adv.interval * 10_000 : adv.interval * US;
      if (adv.version === 3 && learned !== vr.masterAdverIntervalUs && vr.masterAddress === srcText) {
        this.log.info(`(${this.name}) advertisement interval updated from ${vr.masterAdverIntervalUs / 1000}ms to ${learned / 1000}ms by master`);
      }
    }
    this.feed({ type: 'advert', src, srcText, priority: adv.priority, intervalCs: adv.version === 2 ? adv.interval * 100 : adv.interval });
  }

  countReject(reason: RejectReason): void {
    this.counters[REASON_COUNTER[reason]]++;
  }

  // --- actions ------------------------------------------------------------------------------------------------

  private exec(a: Action): void {
    switch (a.type) {
      case 'send_advert':
        this.counters.advert_sent++;
        if (a.priority === 0) {
          this.counters.pri_zero_sent++;
          this.log.info(`(${this.name}) sent 0 priority`);
        }
        this.host.sendAdvert(this, a.priority);
        break;
      case 'set_timer':
        this.armTimer(a.timer.gen, a.timer.at);
        break;
      case 'cancel_timer':
        this.clearTimer();
        break;
      case 'add_vips':
        this.settingVips = true; // logged after "Entering MASTER STATE", in keepalived's order
        this.host.addVips(this);
        break;
      case 'remove_vips':
        this.cancelGarps();
        if (this.holdVips) break; // make-before-break: removed when the new master is heard
        this.log.info(`(${this.name}) removing VIPs.`);
        this.host.removeVips(this);
        break;
      case 'announce':
        void this.startAnnouncements();
        break;
      case 'transition':
        this.onTransition(a.transition.from, a.transition.to, a.transition.reason);
        break;
      case 'log':
        this.logCore(a.code, a.from, a.theirs, a.ours);
        break;
    }
  }

  private onTransition(from: string, to: string, reason: string): void {
    this.epoch++;
    const F = STATE_NAMES[from as keyof typeof STATE_NAMES] as StateName;
    const T = STATE_NAMES[to as keyof typeof STATE_NAMES] as StateName;
    const info: TransitionInfo = { at: new Date().toISOString(), from: F, to: T, reason };
    this.lastTransition = info;
    if (T === 'MASTER') this.counters.become_master++;
    if (F === 'MASTER') this.counters.release_master++;
    if (T !== 'INIT') this.log.info(`(${this.name}) Entering ${T} STATE${F === 'INIT' && T !== 'MASTER' ? ' (init)' : ''}`);
    if (this.settingVips) {
      this.settingVips = false;
      this.log.info(`(${this.name}) setting VIPs.`);
    }
    if (T !== 'BACKUP') this.lastAdvertUs = -1;
    this.host.onTransition(this, info);
  }

  private logCore(code: string, from: string, theirs: number, ours: number): void {
    const n = this.name;
    switch (code) {
      case 'master_down_timeout':
        this.log.info(`(${n}) Receive advertisement timeout`);
        break;
      case 'higher_prio_advert':
        this.log.info(`(${n}) Master received advert from ${from} with higher priority ${theirs}, ours ${ours}`);
        break;
      case 'equal_prio_advert':
        this.log.info(`(${n}) Master received advert from ${from} with same priority ${theirs} but higher IP address than ours`);
        break;
      case 'lower_prio_advert':
        this.host.onLowerPriorityAdvert(this, theirs);
        this.log.info(`(${n}) Received advert from ${from} with lower priority ${theirs}, ours ${ours}${this.cfg.lowerPrioNoAdvert ? '' : ', forcing new election'}`);
        break;
      case 'prio_zero_received':
        this.log.info(this.vr?.state === 'master' ? `(${n}) Master received priority 0 message` : `(${n}) Backup received priority 0 advertisement`);
        break;
      case 'preempt_delay_start':
        this.log.info(`(${n}) start preempt delay (${this.cfg.preemptDelay.toFixed(6)})`);
        break;
    }
  }

  /**
   * Arm the machine's one timer. A backup re-arms its Master_Down_Timer with every advert it hears (2000 times a second
   * at 200 instances x 0.1 s), so a deadline that moves later does not cancel and recreate the Node timer: the
   * pending one stays, and when it fires early for the current deadline it re-arms itself for the rest (fireTimer).
   */
  private armTimer(gen: number, atUs: number): void {
    this.timerGen = gen;
    this.timerAt = atUs;
    if (this.timer && this.timerArmedFor <= atUs) return;
    if (this.timer) clearTimeout(this.timer);
    this.startTimer(atUs);
  }

  private startTimer(atUs: number): void {
    this.timerArmedFor = atUs;
    // Rounded up: libuv counts whole milliseconds from its cached loop time, so a fractional delay fires early.
    const delayMs = Math.max(0, Math.ceil((atUs - this.host.nowUs()) / 1000));
    this.timer = setTimeout(this.onTimeout, delayMs);
  }

  private fireTimer(gen: number): void {
    this.timer = null;
    if (gen !== this.timerGen || !this.vr) return;
    // Armed for an earlier deadline that has since moved (armTimer): wait for the current one, as a fresh timer would.
    // (Within half a millisecond it fires now: a fresh timer's whole-ms rounding and cached loop time give as much.)
    if (this.timerArmedFor !== this.timerAt && this.timerAt - this.host.nowUs() > 500) {
      this.startTimer(this.timerAt);
      return;
    }
    if (this.vr.timer?.kind === 'master_down') {
      // Timing that does not lie: adverts already queued in the socket count. Read them first; if one of them reset
      // the Master_Down_Timer, the generation has moved on and this expiry is stale.
      this.host.drainSockets();
      if (gen !== this.vr.timer?.gen) return;
      if (this.vr.state === 'backup' && !this.host.mayBecomeMaster(this)) {
        this.feed({ type: 'restart_down_timer' });
        return;
      }
    }
    // The Adver_Timer keeps a fixed cadence: the next advert is due one interval after this one was due (not after
    // it fired), unless we are so late that catching up would burst.
    const now = this.host.nowUs();
    const due = this.timerAt;
    const onSchedule = this.vr.timer?.kind === 'adver' && now >= due && now - due < this.cfg.advertIntervalCs * 5_000;
    this.feed({ type: 'timer', gen }, onSchedule ? due : now);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerGen = -1;
  }

  // --- gratuitous ARP / unsolicited NA ------------------------------------------------------------------------

  /** First burst now (resolves once sent), a second after garp_master_delay, refreshes every garp_master_refresh. */
  private startAnnouncements(): Promise<void> {
    const g = this.cfg.garp;
    const epoch = this.epoch; // called after the transition to MASTER was applied
    const first = this.host.announce(this, Math.max(1, g.masterRepeat));
    const later = (sec: number, fn: () => void) => {
      const t = setTimeout(() => {
        this.garpTimers = this.garpTimers.filter((x) => x !== t);
        if (this.epoch === epoch && this.vr?.state === 'master') fn();
      }, sec * 1000);
      t.unref?.();
      this.garpTimers.push(t);
    };
    // vipd: single follow-up rounds 5, 20 and 100 ms after taking over (the first right after our advert went out). With a shared VMAC, a releasing master's
    // last frames can re-teach the switch the old port after our first burst; these put it right well before the
    // next advert would (keepalived's only repeat is garp_master_delay, 5 s later).
    later(0.005, () => this.host.announce(this, 1));
    later(0.02, () => this.host.announce(this, 1));
    later(0.1, () => this.host.announce(this, 1));
    if (g.masterDelay > 0) later(g.masterDelay, () => this.host.announce(this, Math.max(1, g.masterRepeat)));
    if (g.masterRefresh > 0) {
      const refresh = () => {
        this.host.announce(this, Math.max(1, g.masterRefreshRepeat));
        later(g.masterRefresh, refresh);
      };
      later(g.masterRefresh, refresh);
    }
    return first;
  }

  /** An immediate burst (vipd garp INSTANCE). */
  announceNow(): boolean {
    if (this.vr?.state !== 'master') return false;
    this.host.announce(this, Math.max(1, this.cfg.garp.masterRepeat));
    return true;
  }

  private cancelGarps(): void {
    for (const t of this.garpTimers) clearTimeout(t);
    this.garpTimers = [];
  }

  // --- status -------------------------------------------------------------------------------------------------

  status(): InstanceStatus {
    const vr = this.vr;
    const a = this.attachment;
    const self = a?.srcText ?? null;
    return {
      name: this.name,
      family: this.family,
      vrid: this.vrid,
      version: this.version,
      interface: this.cfg.interface,
      vmac: a?.vmacName ?? null,
      state: this.state,
      basePriority: this.cfg.priority,
      effectivePriority: vr?.priority ?? this.cfg.priority,
      masterAddress: vr?.masterAddress === 'self' ? self : (vr?.masterAddress ?? null),
      masterPriority: vr && vr.state === 'backup' && vr.masterPriority > 0 ? vr.masterPriority : null,
      sourceAddress: self,
      vips: this.cfg.vips.map((v) => v.text),
      advertIntervalMs: this.cfg.advertIntervalCs * 10,
      masterAdverIntervalMs: vr ? vr.masterAdverIntervalUs / 1000 : this.cfg.advertIntervalCs * 10,
      masterDownIntervalMs: vr ? vr.masterDownIntervalUs / 1000 : 0,
      lastTransition: this.lastTransition,
      tracking: this.host.trackerStatus(this),
      counters: { ...this.counters },
      checksumForms: { ...this.checksumForms },
      syncGroup: this.cfg.syncGroup,
    };
  }
}

/** Text of an address for logs. */
export function addrText(family: 4 | 6, b: Uint8Array): string {
  return formatIP(family, b);
}
