/**
 * Types of the pure VRRP state machine (one per virtual router and address family).
 *
 * Time is an integer count of microseconds on a monotonic clock chosen by the caller (`now`). The core never reads a
 * clock: it is told the time with every event, and it asks for timers by returning `set_timer` actions that carry an
 * absolute deadline and a generation number. A timer event whose generation is not the current one is stale and is
 * ignored, so the daemon never has to cancel a timer precisely.
 */

export type VrrpState = 'init' | 'backup' | 'master' | 'fault';

/** keepalived's names for the states, as they appear in logs and notify arguments. */
export const STATE_NAMES: Record<VrrpState, string> = {
  init: 'INIT',
  backup: 'BACKUP',
  master: 'MASTER',
  fault: 'FAULT',
};

/** Static configuration of one state machine. */
export interface VrConfig {
  /** Instance name (keepalived `vrrp_instance NAME`). */
  name: string;
  vrid: number;
  family: 4 | 6;
  version: 2 | 3;
  /** Configured priority, 1-255 (255 = address owner). */
  priority: number;
  /** Advertisement_Interval in centiseconds (v2: a multiple of 100). */
  advertIntervalCs: number;
  /** Preempt_Mode (RFC 5798 §6.1). keepalived `nopreempt` turns it off. */
  preempt: boolean;
  /** keepalived `preempt_delay`, microseconds: after startup, or after first hearing a lower-priority master, wait this long before preempting. */
  preemptDelayUs: number;
  /** Accept_Mode (RFC 5798 §6.1); informational for the core, enforced by the daemon. */
  acceptMode: boolean;
  /** keepalived `lower_prio_no_advert`: do not answer a lower-priority advert with our own (pre-RFC 9568 behaviour). */
  lowerPrioNoAdvert: boolean;
  /** keepalived `higher_prio_send_advert`: send one advert before yielding to a higher-priority master. */
  higherPrioSendAdvert: boolean;
  /** Our primary address (IPv4: interface primary; IPv6: link-local), network-order bytes, for tie-breaks. */
  primaryAddress: Uint8Array;
  /** keepalived `state MASTER` with priority < 255: start in Backup with a down timer of one advert + skew. */
  initialMaster: boolean;
  /** keepalived `down_timer_adverts` (RFC: 3). */
  downTimerAdverts: number;
  /**
   * vipd: Adver_Timer deadlines are rounded up to a multiple of this many microseconds (0 or absent: not rounded).
   * Masters whose deadlines share a grid point send together, so their peers wake once for a group of adverts instead
   * of once per advert. The daemon uses a tenth of the interval: an advert is never more than that late (§6.4.3).
   */
  advertAlignUs?: number;
}

export interface PendingTimer {
  kind: 'adver' | 'master_down';
  gen: number;
  /** Absolute deadline, microseconds. */
  at: number;
}

export interface Transition {
  at: number;
  from: VrrpState;
  to: VrrpState;
  reason: TransitionReason;
}

export type TransitionReason =
  | 'startup' // Initialize -> Backup (RFC 5798 §6.4.1)
  | 'owner_startup' // Initialize -> Master, priority 255 (RFC 5798 §6.4.1)
  | 'master_down_timer' // Backup -> Master (RFC 5798 §6.4.2)
  | 'higher_priority_advert' // Master -> Backup (RFC 5798 §6.4.3)
  | 'shutdown' // any -> Initialize (RFC 5798 §6.4.2, §6.4.3)
  | 'fault' // any -> Fault (tracking)
  | 'recover' // Fault -> Initialize -> Backup/Master
  | 'sync_group'; // moved with its keepalived sync group

/** The state of one machine. Treat it as immutable: `step` returns a new object when anything changes. */
export interface VrState {
  readonly cfg: VrConfig;
  readonly state: VrrpState;
  /** Effective priority (base priority adjusted by tracking; 255 only for the owner). */
  readonly priority: number;
  /** Master_Adver_Interval, microseconds (learned from the master in v3). */
  readonly masterAdverIntervalUs: number;
  /** Skew_Time and Master_Down_Interval, microseconds, derived from the two fields above. */
  readonly skewUs: number;
  readonly masterDownIntervalUs: number;
  /** The one running timer, if any. */
  readonly timer: PendingTimer | null;
  /** Last generation number handed out. */
  readonly gen: number;
  /** The address of the router we believe is master (text), or null. Ourselves when we are master. */
  readonly masterAddress: string | null;
  /** Priority most recently advertised by the master we follow (0 when unknown). */
  readonly masterPriority: number;
  /** preempt_delay: absolute time before which lower-priority adverts are still honoured; null = not running. */
  readonly preemptDeadline: number | null;
  /** Whether tracking currently holds the machine in Fault. */
  readonly faulted: boolean;
  readonly lastTransition: Transition | null;
}

/** A validated advertisement, as the state machine needs it (the wire layer has already checked it). */
export interface AdvertEvent {
  type: 'advert';
  /** Sender's IP source address, network-order bytes and text. */
  src: Uint8Array;
  srcText: string;
  priority: number;
  /** Advertised interval in centiseconds (v2: seconds x 100). */
  intervalCs: number;
}

export type VrEvent =
  | { type: 'startup' }
  | { type: 'shutdown' }
  | { type: 'timer'; gen: number }
  | AdvertEvent
  | { type: 'set_priority'; priority: number }
  | { type: 'fault' }
  | { type: 'recover' }
  /** keepalived sync groups (not in the RFC): a member is moved to Master / Backup with its group. */
  | { type: 'force_master' }
  | { type: 'force_backup' }
  /** Sync group refused Master for now: stay Backup and run the Master_Down_Timer again. */
  | { type: 'restart_down_timer' };

export type LogCode =
  | 'higher_prio_advert' // "(VI_1) Master received advert from X with higher priority N, ours M"
  | 'lower_prio_advert' // "(VI_1) Received advert from X with lower priority N, ours M, forcing new election"
  | 'prio_zero_received' // master or backup heard a priority-0 advert
  | 'master_down_timeout' // "(VI_1) Receive advertisement timeout"
  | 'preempt_delay_start' // "(VI_1) start preempt delay (S)"
  | 'equal_prio_advert'; // equal priority, address decided

export type Action =
  /** Send one advertisement with this priority (0 when resigning). */
  | { type: 'send_advert'; priority: number }
  /** (Re)arm the machine's single timer; replaces any earlier one. */
  | { type: 'set_timer'; timer: PendingTimer }
  | { type: 'cancel_timer' }
  /** Install / remove the virtual addresses (and routes, rules). */
  | { type: 'add_vips' }
  | { type: 'remove_vips' }
  /** Gratuitous ARP / unsolicited NA for every virtual address (RFC 5798 §6.4.1, §6.4.2). */
  | { type: 'announce' }
  | { type: 'transition'; transition: Transition }
  | { type: 'log'; code: LogCode; from: string; theirs: number; ours: number };

export interface StepResult {
  state: VrState;
  actions: Action[];
}
