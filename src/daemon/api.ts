/**
 * What the running daemon offers to the control plane (status API, CLI, metrics, dashboard, signal dumps).
 * src/control/ depends only on this interface, so it can be tested against a fake daemon.
 */
import type { EventEmitter } from 'node:events';

/** keepalived's per-instance counters, with its names and in the order of its JSON dump. */
export const KEEPALIVED_COUNTER_NAMES = [
  'advert_rcvd',
  'advert_sent',
  'become_master',
  'release_master',
  'packet_len_err',
  'advert_interval_err',
  'ip_ttl_err',
  'invalid_type_rcvd',
  'addr_list_err',
  'invalid_authtype',
  'authtype_mismatch',
  'auth_failure',
  'pri_zero_rcvd',
  'pri_zero_sent',
] as const;

/** keepalived's counters plus vipd's own. */
export const COUNTER_NAMES = [
  ...KEEPALIVED_COUNTER_NAMES,
  'checksum_err',
  'version_err',
  'vrid_err',
  'unicast_peer_err',
  'other_err',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

export type StateName = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface TransitionInfo {
  /** Wall-clock time, ISO 8601. */
  at: string;
  from: StateName;
  to: StateName;
  /** Why: 'startup', 'master_down_timer', 'higher_priority_advert', 'shutdown', 'fault', 'recover', 'owner_startup', ... */
  reason: string;
}

export interface TrackerStatus {
  kind: 'script' | 'interface' | 'file' | 'process';
  name: string;
  /** 'up' / 'down' (scripts: passing / failing), or a number for files. */
  status: string;
  weight: number;
}

export interface InstanceStatus {
  name: string;
  family: 4 | 6;
  vrid: number;
  version: 2 | 3;
  interface: string | null;
  /** The VMAC interface name when use_vmac is on. */
  vmac: string | null;
  state: StateName;
  basePriority: number;
  effectivePriority: number;
  /** The current master's address as we see it ("self" address text when we are master), or null. */
  masterAddress: string | null;
  /** Priority in the last advert from the master we follow (BACKUP), else null. */
  masterPriority: number | null;
  /** Our own advert source address. */
  sourceAddress: string | null;
  vips: string[];
  /** Configured Advertisement_Interval and the learned Master_Adver_Interval, in milliseconds. */
  advertIntervalMs: number;
  masterAdverIntervalMs: number;
  masterDownIntervalMs: number;
  lastTransition: TransitionInfo | null;
  tracking: TrackerStatus[];
  counters: Record<CounterName, number>;
  /** Accepted adverts per checksum form (v3 IPv4 shows which form peers use). */
  checksumForms: { v2: number; pseudo: number; plain: number };
  /** Sync group name, or null. */
  syncGroup: string | null;
}

export interface DaemonStatus {
  pid: number;
  version: string;
  /** ISO 8601. */
  startedAt: string;
  configFile: string;
  instances: InstanceStatus[];
  /** Packets that matched no instance (unconfigured VRID, malformed beyond attribution), by counter. */
  unmatched?: Record<CounterName, number>;
}

export interface ReloadResult {
  ok: boolean;
  /** file:line diagnostics of the new configuration. */
  diagnostics: string[];
  /** What changed: instance names. */
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

/**
 * Events emitted by the daemon:
 *  - 'transition' (instance: string, family: 4|6, info: TransitionInfo)
 *  - 'advert' (instance: string, family: 4|6, interArrivalMs: number | null)  — every accepted advert from the master
 *    we follow; interArrivalMs is the time since the previous one (null for the first).
 *  - 'reject' (instance: string | null, reason: string)
 */
export interface DaemonControl extends EventEmitter {
  status(): DaemonStatus;
  reload(): Promise<ReloadResult>;
  /** Make-before-break handover of a master instance (issue 6); resolves when handed over or refused. */
  handover(instance: string): Promise<{ ok: boolean; message: string }>;
  /** Send a burst of GARP / unsolicited NA now for a master instance. */
  garp(instance: string): Promise<{ ok: boolean; message: string }>;
}
