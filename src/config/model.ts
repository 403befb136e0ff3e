/**
 * The typed model of a keepalived.conf, as vipd understands it: what `parseConfig()` builds and what the daemon
 * consumes. Every value has keepalived's defaults and corrections already applied (see docs/config.md), so the
 * daemon never has to re-derive them. Every object carries `src`, the file and line it was declared at.
 */

/** Where something was written: the file (as given or resolved through `include`) and 1-based line. */
export interface SourcePos {
  file: string;
  line: number;
}

export type Severity = 'error' | 'warning' | 'notice';

/** One finding. Printed as `file:line: message` (see `formatDiagnostic`). */
export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number;
  message: string;
}

export type Family = 4 | 6;

/** An address of `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`. */
export interface VirtualAddress {
  /** The address alone, canonical text: "192.0.2.1", "2001:db8::1". */
  address: string;
  /** Prefix length: given, else 32 / 128. */
  prefix: number;
  family: Family;
  /** "192.0.2.1/24" (address with prefix). */
  text: string;
  /** `dev IF`; null = the instance's interface (or its VMAC). */
  dev: string | null;
  /** `brd IP|+|-`; null when not given. */
  brd: string | null;
  /** `scope host|link|site|global|nowhere|N`; null when not given. */
  scope: string | null;
  /** `label L`; null when not given. */
  label: string | null;
  /** `peer IP[/len]`; null when not given. */
  peer: string | null;
  /** `use_vmac` on this address (keepalived: the address goes on the VMAC even with `dev`). */
  useVmac: boolean;
  /** IPv6 flags; `nodad` is on for IPv6 unless `-nodad` was given (keepalived's default). */
  home: boolean;
  nodad: boolean;
  mngtmpaddr: boolean;
  noprefixroute: boolean;
  autojoin: boolean;
  /** `no_track`: a failure of this address does not fault the instance. */
  noTrack: boolean;
  /** `preferred_lft N|forever`; null when not given (IPv6 /128 then means 0, as keepalived does). */
  preferredLft: number | 'forever' | null;
  src: SourcePos;
}

/** One line of `virtual_routes`/`static_routes` or `virtual_rules`/`static_rules`, `ip route`/`ip rule` syntax. */
export interface VirtualRoute {
  /** The tokens as written, joined by one space. */
  text: string;
  /** For routes: the destination ("default", "192.0.2.0/24", or after `blackhole`/`unreachable`...). */
  dest: string | null;
  family: Family | null;
  /** The `dev`/`table` options when present. */
  dev: string | null;
  table: string | null;
  noTrack: boolean;
  src: SourcePos;
}

export interface UnicastPeer {
  address: string;
  family: Family;
  minTtl: number | null;
  maxTtl: number | null;
  src: SourcePos;
}

export interface Authentication {
  type: 'PASS' | 'AH';
  /** The password, truncated to 8 bytes as keepalived does. */
  pass: string;
  src: SourcePos;
}

/** A `notify*` script: the command line and the user/group to run it as (null = the global script user). */
export interface NotifyScript {
  command: string;
  /** The command split shell-like into words. */
  argv: string[];
  user: string | null;
  group: string | null;
  src: SourcePos;
}

export interface NotifyScripts {
  master: NotifyScript | null;
  backup: NotifyScript | null;
  fault: NotifyScript | null;
  stop: NotifyScript | null;
  deleted: NotifyScript | null;
  masterRxLowerPri: NotifyScript | null;
  /** `notify`: gets INSTANCE|GROUP, name, state and priority appended. */
  any: NotifyScript | null;
}

/** A tracker reference in an instance or sync group: `track_script`, `track_interface`, `track_file`, `track_process`. */
export interface TrackRef {
  /** Script/file/process name, or interface name. */
  name: string;
  /** The weight to apply. For scripts/files/processes: the reference's weight, else the tracker's own. For
   * interfaces: the given weight, else 0 which means "fault when down". */
  weight: number;
  /** True when the reference itself gave a weight. */
  weightGiven: boolean;
  reverse: boolean;
  src: SourcePos;
}

export interface GarpSettings {
  /** Seconds before the second burst of GARP/NA after becoming master (`garp_master_delay`); 0 = none. */
  masterDelay: number;
  /** GARP/NA per address per burst (`garp_master_repeat`). */
  masterRepeat: number;
  /** Seconds between refreshes while master (`garp_master_refresh`); 0 = off. */
  masterRefresh: number;
  masterRefreshRepeat: number;
  /** On receiving a lower-priority advert as master (`garp_lower_prio_delay` / `_repeat`). */
  lowerPrioDelay: number;
  lowerPrioRepeat: number;
  /** Pacing between GARPs / unsolicited NAs, seconds (global `vrrp_garp_interval` / `vrrp_gna_interval`). */
  garpInterval: number;
  gnaInterval: number;
  /** `garp_extra_if [all] N`: null when off. */
  extraIf: { all: boolean; delay: number } | null;
}

export type InstanceState = 'MASTER' | 'BACKUP';

export interface VrrpInstance {
  name: string;
  /** The advert interface; null only for unicast-only instances that gave none. */
  interface: string | null;
  virtualRouterId: number;
  /** Configured priority after defaults (MASTER without priority = 255, else 100). */
  priority: number;
  /** Advert interval in seconds (v2: whole seconds; v3: 0.01 steps). */
  advertInterval: number;
  /** Same, in centiseconds (integer), as carried in a VRRPv3 packet. */
  advertIntervalCs: number;
  version: 2 | 3;
  family: Family;
  /** Initial state wanted (`state`; priority 255 without a state means MASTER), after corrections (strict mode:
   * MASTER only with priority 255). */
  state: InstanceState;
  preempt: boolean;
  /** Seconds (0-1000). */
  preemptDelay: number;
  /** false, or the VMAC interface name (default `vrrp.VRID`, or `vrrp6.VRID` style names are left to the daemon). */
  useVmac: false | string;
  /** A custom VMAC MAC given to `use_vmac`, else null (the standard 00:00:5e:00:01|02:VRID). */
  vmacAddress: string | null;
  vmacXmitBase: boolean;
  vips: VirtualAddress[];
  vipsExcluded: VirtualAddress[];
  virtualRoutes: VirtualRoute[];
  virtualRules: VirtualRoute[];
  unicastPeers: UnicastPeer[];
  unicastSrcIp: string | null;
  mcastSrcIp: string | null;
  /** `mcast_dst_ip`; null = 224.0.0.18 / ff02::12 (or the global vrrp_mcast_group4/6, see GlobalDefs). */
  mcastDstIp: string | null;
  unicastTtl: number;
  unicastFaultNoPeer: boolean;
  checkUnicastSrc: boolean;
  auth: Authentication | null;
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  dontTrackPrimary: boolean;
  accept: boolean;
  garp: GarpSettings;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  ownerIgnoreAdverts: boolean;
  /** Multiplier of the master-down timer (3 by default). */
  downTimerAdverts: number;
  timerExpiredBackup: boolean;
  v3ChecksumAsV2: boolean;
  skipCheckAdvAddr: boolean;
  strict: boolean;
  promoteSecondaries: boolean;
  notifyPriorityChanges: boolean;
  smtpAlert: boolean;
  notify: NotifyScripts;
  /** The sync group this instance belongs to, or null. */
  syncGroup: string | null;
  src: SourcePos;
}

export interface SyncGroup {
  name: string;
  /** Member instance names (unknown ones removed with an error). */
  instances: string[];
  trackScripts: TrackRef[];
  trackInterfaces: TrackRef[];
  trackFiles: TrackRef[];
  trackProcesses: TrackRef[];
  notify: NotifyScripts;
  smtpAlert: boolean;
  syncGroupTrackingWeight: boolean;
  src: SourcePos;
}

export interface VrrpScript {
  name: string;
  /** The command line as written (unquoted). */
  script: string;
  argv: string[];
  /** Seconds between runs (default 1). */
  interval: number;
  /** Seconds before a run counts as failed (default = interval). */
  timeout: number;
  /** ±253; 0 = failure faults the instance. */
  weight: number;
  weightReverse: boolean;
  rise: number;
  fall: number;
  user: string | null;
  group: string | null;
  initFail: boolean;
  src: SourcePos;
}

export interface TrackFile {
  name: string;
  file: string;
  weight: number;
  weightReverse: boolean;
  /** `init_file [VALUE] [overwrite]`: null when not given. */
  initFile: { value: number; overwrite: boolean } | null;
  src: SourcePos;
}

export interface TrackProcess {
  name: string;
  /** Process name (comm), or full path when args are given. */
  process: string;
  args: string[] | null;
  paramMatch: 'exact' | 'partial' | 'initial';
  weight: number;
  weightReverse: boolean;
  quorum: number;
  quorumMax: number | null;
  /** Seconds. */
  delay: number;
  forkDelay: number;
  terminateDelay: number;
  /** Match the full command line (`full_command`; always true when `args` are given, as keepalived does). */
  fullCommand: boolean;
  src: SourcePos;
}

export interface GlobalDefs {
  routerId: string | null;
  /** Default version for instances (`vrrp_version`, default 2). */
  vrrpVersion: 2 | 3;
  mcastGroup4: string;
  mcastGroup6: string;
  strict: boolean;
  checkUnicastSrc: boolean;
  skipCheckAdvAddr: boolean;
  /** Seconds (`vrrp_startup_delay`). */
  startupDelay: number;
  garp: GarpSettings;
  lowerPrioNoAdvert: boolean;
  higherPrioSendAdvert: boolean;
  ownerIgnoreAdverts: boolean;
  downTimerAdverts: number;
  v3ChecksumAsV2: boolean;
  notifyPriorityChanges: boolean;
  /** `vrrp_min_garp`: one GARP per address, no second burst. */
  minGarp: boolean;
  scriptUser: string | null;
  scriptGroup: string | null;
  enableScriptSecurity: boolean;
  notifyFifo: string | null;
  notifyFifoScript: string | null;
  vrrpNotifyFifo: string | null;
  vrrpNotifyFifoScript: string | null;
  maxAutoPriority: number | null;
  dynamicInterfaces: boolean;
  netNamespace: string | null;
  /** `vmac_prefix` (default "vrrp"). */
  vmacPrefix: string;
  notificationEmail: string[];
  notificationEmailFrom: string | null;
  smtpServer: string | null;
  smtpAlert: boolean;
  src: SourcePos | null;
}

export interface KeepalivedConfig {
  /** The main file. */
  file: string;
  global: GlobalDefs;
  instances: VrrpInstance[];
  syncGroups: SyncGroup[];
  scripts: VrrpScript[];
  trackFiles: TrackFile[];
  trackProcesses: TrackProcess[];
  staticAddresses: VirtualAddress[];
  staticRoutes: VirtualRoute[];
  staticRules: VirtualRoute[];
  /** True when LVS/checker blocks were present (and skipped). */
  hasLvs: boolean;
}

export interface ParseOptions {
  /** `-i ID`: selects `@ID` lines and skips `@^ID` lines. Default: the short host name. */
  instanceId?: string;
  /** Per-file size limit in bytes (default 2 MiB); bigger files are refused with an error. */
  maxFileBytes?: number;
  /** Limit on all bytes read through includes together (default 4 MiB). */
  maxTotalBytes?: number;
  /** Nesting limit for `include` (default 32). */
  maxIncludeDepth?: number;
  /** Environment for `${_ENV X}` (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface ParseResult {
  /** Always present; may be empty when the file could not be read. */
  config: KeepalivedConfig;
  diagnostics: Diagnostic[];
  /** False when vipd could not run this configuration: the main file is missing/unreadable/not text, or errors
   * removed every vrrp_instance that was declared. */
  usable: boolean;
}
