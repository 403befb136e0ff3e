/**
 * keepalived 2.2.7's signal dumps, from a DaemonStatus:
 *   SIGUSR1      -> /tmp/keepalived.data   (formatData)
 *   SIGUSR2      -> /tmp/keepalived.stats  (formatStats)
 *   SIGRTMIN+2   -> /tmp/keepalived.json   (formatJson)
 * The layouts (labels, indentation, order, number formats) follow files written by the real keepalived 2.2.7,
 * stored in test/fixtures/keepalived-dumps/ with the configuration used (re-capture: capture.sh there).
 *
 * DaemonStatus does not carry everything keepalived prints (GARP settings, accept/preempt, authentication,
 * excluded VIPs, socket fds, ...). Callers may pass those in `DumpDetails`; otherwise keepalived's defaults are
 * printed, so the files always have keepalived's shape.
 */
import { hostname } from 'node:os';
import { KEEPALIVED_COUNTER_NAMES, type DaemonStatus, type InstanceStatus, type StateName } from '../daemon/api.js';
import { writeFileAtomic } from '../linux/control-io.js';

export type DumpKind = 'data' | 'stats' | 'json';

/** Per-instance facts beyond DaemonStatus; every field is optional (keepalived's default otherwise). */
export interface InstanceDumpDetails {
  masterPriority?: number;
  wantState?: StateName;
  accept?: boolean;
  nopreempt?: boolean;
  preemptDelaySec?: number;
  promoteSecondaries?: boolean;
  /** 'PASS' or 'AH' (VRRPv2 only) and its secret. */
  authType?: 'PASS' | 'AH' | null;
  authPass?: string;
  excludedVips?: string[];
  garpDelaySec?: number;
  garpRepeat?: number;
  garpRefreshSec?: number;
  garpRefreshRepeat?: number;
  garpLowerPrioDelaySec?: number;
  garpLowerPrioRepeat?: number;
  downTimerAdverts?: number;
  lowerPrioNoAdvert?: boolean;
  higherPrioSendAdvert?: boolean;
  /** The receive/send socket fds (keepalived prints them; any stable numbers will do). */
  fdIn?: number;
  fdOut?: number;
  /** IPv6: the interface index used for the multicast group. */
  ifindex?: number;
  /** Unicast peers instead of multicast. */
  unicastPeers?: string[];
  /** unicast_src_ip / mcast_src_ip came from the configuration. */
  srcFromConfig?: boolean;
  /** vmac_xmit_base (keepalived turns it on for unicast with use_vmac). */
  vmacXmitBase?: boolean;
  /** When the read timer fires next (ms since the epoch). */
  readTimeoutAt?: number;
  dontTrackPrimary?: boolean;
  skipCheckAdvAddr?: boolean;
  strictMode?: boolean;
  smtpAlert?: boolean;
  notifyDeleted?: boolean;
}

export interface DumpDetails {
  routerId?: string;
  /** Keyed by instance name. */
  instances?: Record<string, InstanceDumpDetails>;
  /** vrrp_track_file blocks by name: the file watched and the block's weight. */
  trackFiles?: Record<string, { path: string; weight: number }>;
  /** Clock for 'Read timeout' when not given per instance. */
  now?: number;
}

const STATE_NUM: Record<StateName, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 98 };
const FILE_NAMES: Record<DumpKind, string> = {
  data: 'keepalived.data',
  stats: 'keepalived.stats',
  json: 'keepalived.json',
};

/** Write one dump as keepalived does (dir defaults to /tmp; file mode 0600, replaced atomically). Returns the path. */
export function writeDumps(kind: DumpKind, status: DaemonStatus, dir = '/tmp', details: DumpDetails = {}): string {
  const path = `${dir.replace(/\/+$/, '')}/${FILE_NAMES[kind]}`;
  const text = kind === 'data' ? formatData(status, details) : kind === 'stats' ? formatStats(status) : formatJson(status, details);
  writeFileAtomic(path, text, 0o600);
  return path;
}

// ---------------------------------------------------------------- stats (SIGUSR2)

export function formatStats(status: DaemonStatus): string {
  let out = '';
  for (const i of status.instances) {
    const c = i.counters;
    out +=
      `VRRP Instance: ${i.name}\n` +
      '  Advertisements:\n' +
      `    Received: ${c.advert_rcvd}\n` +
      `    Sent: ${c.advert_sent}\n` +
      `  Became master: ${c.become_master}\n` +
      `  Released master: ${c.release_master}\n` +
      '  Packet Errors:\n' +
      `    Length: ${c.packet_len_err}\n` +
      `    TTL: ${c.ip_ttl_err}\n` +
      `    Invalid Type: ${c.invalid_type_rcvd}\n` +
      `    Advertisement Interval: ${c.advert_interval_err}\n` +
      `    Address List: ${c.addr_list_err}\n` +
      '  Authentication Errors:\n' +
      `    Invalid Type: ${c.invalid_authtype}\n` +
      `    Type Mismatch: ${c.authtype_mismatch}\n` +
      `    Failure: ${c.auth_failure}\n` +
      '  Priority Zero:\n' +
      `    Received: ${c.pri_zero_rcvd}\n` +
      `    Sent: ${c.pri_zero_sent}\n`;
  }
  return out;
}

// ---------------------------------------------------------------- JSON (SIGRTMIN+2)

/** keepalived's JSON writer escapes '/' as '\/'. */
function jstr(s: string): string {
  return JSON.stringify(s).replace(/\//g, '\\/');
}

/** Seconds as keepalived prints a double: shortest form (1, 0.5, 0.01). */
function jnum(n: number): string {
  return Number.isFinite(n) ? String(n) : '0';
}

function epochSeconds(iso: string | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t / 1000;
}

/**
 * The VIP text as keepalived prints it ("192.0.2.101/24 dev eth0 scope global label eth0:1 set"). The status holds
 * the configured text ("192.0.2.101/24 label eth0:1", maybe with dev/scope/brd); it is re-ordered keepalived's way.
 */
function vipText(vip: string, i: InstanceStatus, set: boolean): string {
  const tok = vip.trim().split(/\s+/);
  const addr = tok[0] ?? '';
  const opts = new Map<string, string>();
  for (let n = 1; n + 1 < tok.length; n += 2) opts.set(tok[n]!, tok[n + 1]!);
  let s = addr;
  if (opts.has('brd')) s += ` brd ${opts.get('brd')}`;
  const dev = opts.get('dev') ?? (i.vmac ? `${i.vmac}@${i.interface ?? '?'}` : i.interface);
  if (dev) s += ` dev ${dev}`;
  s += ` scope ${opts.get('scope') ?? 'global'}`;
  if (opts.has('label')) s += ` label ${opts.get('label')}`;
  if (i.family === 6) s += ' preferred_lft forever';
  if (set) s += ' set';
  return s;
}

function excludedText(vip: string, i: InstanceStatus, set: boolean): string {
  // keepalived drops a /32 (/128) prefix on excluded addresses.
  const base = vip.replace(i.family === 4 ? /\/32(?=\s|$)/ : /\/128(?=\s|$)/, '');
  return vipText(base, i, set);
}

export function formatJson(status: DaemonStatus, details: DumpDetails = {}): string {
  const parts = status.instances.map((i) => {
    const d = details.instances?.[i.name] ?? {};
    const set = i.state === 'MASTER';
    const lt = epochSeconds(i.lastTransition?.at);
    const f: string[] = [];
    const add = (k: string, v: string) => f.push(`"${k}":${v}`);
    add('iname', jstr(i.name));
    add('dont_track_primary', d.dontTrackPrimary ? '1' : '0');
    add('skip_check_adv_addr', d.skipCheckAdvAddr ? '1' : '0');
    add('strict_mode', d.strictMode ? '1' : '0');
    add('vmac_ifname', jstr(i.vmac ?? ''));
    add('ifp_ifname', jstr(i.vmac ?? i.interface ?? ''));
    add('master_priority', String(i.state === 'MASTER' ? 0 : (d.masterPriority ?? 0)));
    add('last_transition', lt === null ? '0' : lt.toFixed(6));
    add('garp_delay', String(d.garpDelaySec ?? 5));
    add('garp_refresh', String(d.garpRefreshSec ?? 0));
    add('garp_rep', String(d.garpRepeat ?? 5));
    add('garp_refresh_rep', String(d.garpRefreshRepeat ?? 1));
    add('garp_lower_prio_delay', String(d.garpLowerPrioDelaySec ?? 5));
    add('garp_lower_prio_rep', String(d.garpLowerPrioRepeat ?? 5));
    add('lower_prio_no_advert', d.lowerPrioNoAdvert ? '1' : '0');
    add('higher_prio_send_advert', d.higherPrioSendAdvert ? '1' : '0');
    add('vrid', String(i.vrid));
    add('base_priority', String(i.basePriority));
    add('effective_priority', String(i.effectivePriority));
    add('vipset', set ? 'true' : 'false');
    add('promote_secondaries', d.promoteSecondaries ? 'true' : 'false');
    add('adver_int', jnum(i.advertIntervalMs / 1000));
    add('master_adver_int', jnum(i.masterAdverIntervalMs / 1000));
    add('accept', d.accept === false ? '0' : '1');
    add('nopreempt', d.nopreempt ? 'true' : 'false');
    add('preempt_delay', String(d.preemptDelaySec ?? 0));
    add('state', String(STATE_NUM[i.state]));
    add('wantstate', String(STATE_NUM[d.wantState ?? i.state]));
    add('version', String(i.version));
    add('smtp_alert', d.smtpAlert ? 'true' : 'false');
    add('notify_deleted', d.notifyDeleted ? 'true' : 'false');
    add('vips', `[${i.vips.map((v) => jstr(vipText(v, i, set))).join(',')}]`);
    if (d.excludedVips && d.excludedVips.length > 0) {
      add('evips', `[${d.excludedVips.map((v) => jstr(excludedText(v, i, set))).join(',')}]`);
    }
    const trackIf = i.tracking.filter((t) => t.kind === 'interface');
    if (trackIf.length > 0) add('track_ifp', `[${trackIf.map((t) => jstr(t.name)).join(',')}]`);
    const auth = i.version === 2 ? (d.authType ?? null) : null;
    add('auth_type', auth === 'PASS' ? '1' : auth === 'AH' ? '2' : '0');
    if (auth) add('auth_data', jstr(d.authPass ?? ''));
    const c = i.counters;
    const stats = KEEPALIVED_COUNTER_NAMES.map((k) => `"${k}":${c[k] ?? 0}`);
    return `{"data":{${f.join(',')}},"stats":{${stats.join(',')}}}`;
  });
  // keepalived writes no trailing newline.
  return `[${parts.join(',')}]`;
}

// ---------------------------------------------------------------- data (SIGUSR1)

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

/** "1795242811.113869 (Sat Nov 21 06:33:31.113869 2026)" in local time, as keepalived prints a timeval. */
function timeval(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const usec = String(Math.round((ms - sec * 1000) * 1000)).padStart(6, '0');
  const d = new Date(sec * 1000);
  return (
    `${sec}.${usec} (${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${usec} ${d.getFullYear()})`
  );
}

/** keepalived prints whole seconds as "N sec", anything else as "N milli-sec". */
function interval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} sec` : `${Math.round(ms)} milli-sec`;
}

function masterAdvertInt(ms: number): string {
  return `${(ms / 1000).toFixed(2)} sec`;
}

const yn = (b: boolean) => (b ? 'true' : 'false');

function globalSection(details: DumpDetails): string[] {
  const L = (s: string) => ` ${s}`;
  // keepalived's lines and defaults, except its nftables/libnftnl build lines (vipd uses neither).
  return [
    '------< Global definitions >------',
    L('Network namespace = (default)'),
    L('Network namespace ipvs = (main namespace)'),
    L(`Router ID = ${details.routerId ?? hostname()}`),
    L('Default smtp_alert = unset'),
    L('Default smtp_alert_vrrp = unset'),
    L('Default smtp_alert_checker = unset'),
    L('Checkers log all failures = false'),
    L('No test config before reload'),
    L('Dynamic interfaces = false'),
    L('Default interface = eth0'),
    L('Disable local IGMP = no'),
    L('LVS flush = false'),
    L('LVS flush on stop = disabled'),
    L('FIFO write vrrp states on reload = false'),
    L('VRRP notify priority changes = false'),
    L('VRRP IPv4 mcast group = 224.0.0.18'),
    L('VRRP IPv6 mcast group = ff02::12'),
    L('Gratuitous ARP delay = 5'),
    L('Gratuitous ARP repeat = 5'),
    L('Gratuitous ARP refresh timer = 0'),
    L('Gratuitous ARP refresh repeat = 1'),
    L('Gratuitous ARP lower priority delay = 5'),
    L('Gratuitous ARP lower priority repeat = 5'),
    L('Num adverts before down = 3'),
    L('Gratuitous ARP for each secondary VMAC = 0s'),
    L('Send advert after receive lower priority advert = true'),
    L('Send advert after receive higher priority advert = false'),
    L('Gratuitous ARP interval = 0.000000'),
    L('Gratuitous NA interval = 0.000000'),
    L('VRRP default protocol version = 2'),
    L('VRRP check unicast_src = false'),
    L('VRRP skip check advert addresses = false'),
    L('VRRP strict mode = false'),
    L('Max auto priority = 0'),
    L('Min auto priority delay = 1000000 usecs'),
    L('VRRP process priority = 0'),
    L("VRRP don't swap = false"),
    L('VRRP realtime priority = 0'),
    L('VRRP realtime limit = 10000'),
    L('Checker process priority = 0'),
    L("Checker don't swap = false"),
    L('Checker realtime priority = 0'),
    L('Checker realtime limit = 10000'),
    L('BFD process priority = 0'),
    L("BFD don't swap = false"),
    L('BFD realtime priority = 0'),
    L('BFD realtime limit = 10000'),
    L('SNMP vrrp disabled'),
    L('SNMP checker disabled'),
    L('SNMP RFCv2 disabled'),
    L('SNMP RFCv3 disabled'),
    L('SNMP traps disabled'),
    L('SNMP socket = default (unix:/var/agentx/master)'),
    L('DBus disabled'),
    L('DBus service name = '),
    L('Script security enabled'),
    L('vrrp_netlink_cmd_rcv_bufs = 0'),
    L('vrrp_netlink_cmd_rcv_bufs_force = 0'),
    L('vrrp_netlink_monitor_rcv_bufs = 0'),
    L('vrrp_netlink_monitor_rcv_bufs_force = 0'),
    L('process_monitor_rcv_bufs = 0'),
    L('process_monitor_rcv_bufs_force = 0'),
    L('lvs_netlink_cmd_rcv_bufs = 0'),
    L('lvs_netlink_cmd_rcv_bufs_force = 0'),
    L('lvs_netlink_monitor_rcv_bufs = 0'),
    L('lvs_netlink_monitor_rcv_bufs_force = 0'),
    L('rs_init_notifies = 0'),
    L('no_checker_emails = 0'),
    L('rx_bufs_multiples = 3'),
    L('umask = 0177'),
  ];
}

function instanceSection(i: InstanceStatus, d: InstanceDumpDetails, now: number): string[] {
  const out: string[] = [];
  const L = (s: string) => out.push(`   ${s}`);
  const set = i.state === 'MASTER';
  out.push(` VRRP Instance = ${i.name}`);
  L(`VRRP Version = ${i.version}`);
  if (i.syncGroup) L(`Sync group = ${i.syncGroup}`);
  if (i.family === 6) L('Using Native IPv6');
  L(`State = ${i.state}`);
  if (i.state === 'BACKUP' && i.masterAddress) {
    L(`Master router = ${i.masterAddress}`);
    L(`Master priority = ${d.masterPriority ?? 0}`);
    if (i.version === 3) L(`Master advert int = ${masterAdvertInt(i.masterAdverIntervalMs)}`);
  }
  const unicast = (d.unicastPeers?.length ?? 0) > 0;
  if (unicast) {
    L('Flags:');
    out.push('     Using unicast');
  } else L('Flags: none');
  L(`Wantstate = ${d.wantState ?? i.state}`);
  L('Number of config faults = 0');
  L(`Number of interface and track script faults = ${i.tracking.filter((t) => t.status === 'down').length}`);
  L('Number of track scripts init = 0');
  const lt = i.lastTransition ? Date.parse(i.lastTransition.at) : NaN;
  if (!Number.isNaN(lt)) L(`Last transition = ${timeval(lt)}`);
  const rt = d.readTimeoutAt ?? now + (set ? i.advertIntervalMs : i.masterDownIntervalMs);
  L(`Read timeout = ${timeval(rt)}`);
  L(`Master down timer = ${Math.floor(i.masterDownIntervalMs * 1000 + 1e-6)} usecs`);
  const xmitBase = d.vmacXmitBase ?? unicast;
  if (i.vmac) {
    L(`Use VMAC, i/f name ${i.vmac}, is_up = true, xmit_base = ${yn(xmitBase)}`);
    L(`Interface = ${i.vmac}, vmac on ${i.interface ?? '?'}${xmitBase ? ', xmit base i/f' : ''}`);
  } else L(`Interface = ${i.interface ?? '(none)'}`);
  if (i.sourceAddress) L(`Using src_ip = ${i.sourceAddress}${d.srcFromConfig ? ' (from configuration)' : ''}`);
  if (!unicast) {
    if (i.family === 4) L('Multicast address 224.0.0.18');
    else L(`Multicast address ff02::12, ifindex ${d.ifindex ?? 0}`);
  }
  L(`Gratuitous ARP delay = ${d.garpDelaySec ?? 5}`);
  L(`Gratuitous ARP repeat = ${d.garpRepeat ?? 5}`);
  L(`Gratuitous ARP refresh = ${d.garpRefreshSec ?? 0}`);
  L(`Gratuitous ARP refresh repeat = ${d.garpRefreshRepeat ?? 1}`);
  L(`Gratuitous ARP lower priority delay = ${d.garpLowerPrioDelaySec ?? 5}`);
  L(`Gratuitous ARP lower priority repeat = ${d.garpLowerPrioRepeat ?? 5}`);
  L(`Down timer adverts = ${d.downTimerAdverts ?? 3}`);
  L(`Send advert after receive lower priority advert = ${yn(!(d.lowerPrioNoAdvert ?? false))}`);
  L(`Send advert after receive higher priority advert = ${yn(d.higherPrioSendAdvert ?? false)}`);
  L(`Virtual Router ID = ${i.vrid}`);
  L(`Priority = ${i.basePriority}`);
  L(`Effective priority = ${i.effectivePriority}`);
  L(`Total priority = ${i.effectivePriority}`);
  L(`Advert interval = ${interval(i.advertIntervalMs)}`);
  if (i.version === 3) L(`Master advert interval = ${interval(i.masterAdverIntervalMs)}`);
  L(`Accept = ${d.accept === false ? 'disabled' : 'enabled'}`);
  L(`Preempt = ${d.nopreempt ? 'disabled' : 'enabled'}`);
  if (d.preemptDelaySec) L(`Preempt delay = ${d.preemptDelaySec} secs`);
  L(`Promote_secondaries = ${d.promoteSecondaries ? 'enabled' : 'disabled'}`);
  const auth = i.version === 2 ? (d.authType ?? null) : null;
  if (auth === 'PASS') {
    L('Authentication type = SIMPLE_PASSWORD');
    L(`Password = ${d.authPass ?? ''}`);
  } else if (auth === 'AH') {
    L('Authentication type = IPSEC_AH');
    L(`Password = ${d.authPass ?? ''}`);
  } else if (i.version === 2) L('Authentication type = none');
  if (i.vips.length > 0) {
    L(`Virtual IP (${i.vips.length}):`);
    for (const v of i.vips) out.push(`     ${vipText(v, i, set)}`);
  }
  if (d.excludedVips && d.excludedVips.length > 0) {
    L('Virtual IP Excluded :');
    for (const v of d.excludedVips) out.push(`     ${excludedText(v, i, set)}`);
  }
  if (unicast) {
    L('Unicast TTL = 255');
    L('Check unicast src : no');
    L('Unicast Peer :');
    for (const p of d.unicastPeers!) out.push(`     ${p} min_ttl 0 max_ttl 255`);
    L('Unicast checksum compatibility = no');
  }
  L(`fd_in ${d.fdIn ?? -1}, fd_out ${d.fdOut ?? -1}`);
  const groups: [TrackKind, string][] = [
    ['interface', 'Tracked interfaces :'],
    ['script', 'Tracked scripts :'],
    ['file', 'Tracked files :'],
    ['process', 'Tracked processes :'],
  ];
  for (const [kind, label] of groups) {
    const ts = i.tracking.filter((t) => t.kind === kind);
    if (ts.length === 0) continue;
    L(label);
    // keepalived 2.2.7: "dum0 weight -30" for interfaces, "tf_maint, weight -10" for files (scripts and processes:
    // not yet captured; printed like files).
    for (const t of ts) out.push(kind === 'interface' ? `     ${t.name} weight ${t.weight}` : `     ${t.name}, weight ${t.weight}`);
  }
  L(`Using smtp notification = ${d.smtpAlert ? 'yes' : 'no'}`);
  L(`Notify deleted = ${d.notifyDeleted ? 'Deleted' : 'Fault'}`);
  L('Notify priority changes = false');
  return out;
}
type TrackKind = InstanceStatus['tracking'][number]['kind'];

function sockpoolSection(status: DaemonStatus, details: DumpDetails): string[] {
  const out = ['------< VRRP Sockpool >------'];
  // keepalived shares one socket pair per (interface, family, unicast/multicast).
  const pools = new Map<string, InstanceStatus[]>();
  for (const i of status.instances) {
    const d = details.instances?.[i.name] ?? {};
    const key = `${i.vmac && !d.unicastPeers?.length ? i.vmac : i.interface}|${i.family}|${d.unicastPeers?.length ? 'u' : 'm'}`;
    pools.set(key, [...(pools.get(key) ?? []), i]);
  }
  for (const members of pools.values()) {
    const first = members[0]!;
    const d = details.instances?.[first.name] ?? {};
    out.push(` fd_in ${d.fdIn ?? -1} fd_out = ${d.fdOut ?? -1}`);
    // keepalived's unicast-with-VMAC sockets are bound on the base interface (xmit_base).
    out.push(`   Interface = ${first.interface ?? '(none)'}`);
    out.push(`   Family = IPv${first.family}`);
    out.push('   Protocol = VRRP');
    out.push(`   Type = ${d.unicastPeers?.length ? 'Unicast' : 'Multicast'}`);
    if (d.unicastPeers?.length && first.sourceAddress) out.push(`   Address = ${first.sourceAddress}`);
    out.push('   Rx buf size = 0');
    out.push('   VRRP instances');
    for (const m of members) out.push(`     ${m.name} vrid ${m.vrid}`);
  }
  return out;
}

function syncGroupSection(status: DaemonStatus): string[] {
  const groups = new Map<string, InstanceStatus[]>();
  for (const i of status.instances) if (i.syncGroup) groups.set(i.syncGroup, [...(groups.get(i.syncGroup) ?? []), i]);
  if (groups.size === 0) return [];
  const out = ['------< VRRP Sync groups >------'];
  for (const [name, members] of groups) {
    const st = members.some((m) => m.state === 'FAULT')
      ? 'FAULT'
      : members.every((m) => m.state === 'MASTER')
        ? 'MASTER'
        : members.every((m) => m.state === 'INIT')
          ? 'INIT'
          : 'BACKUP';
    out.push(` VRRP Sync Group = ${name}, ${st}`);
    const fault = members.filter((m) => m.state === 'FAULT').length;
    const init = members.filter((m) => m.state === 'INIT').length;
    out.push(`   Num member fault ${fault}, num member init ${init}`);
    out.push('   VRRP member instances :');
    for (const m of members) out.push(`     ${m.name}`);
    out.push('   Using smtp notification = no');
  }
  return out;
}

function trackFileSection(status: DaemonStatus, details: DumpDetails): string[] {
  const files = new Map<string, { status: string; users: [string, number][] }>();
  for (const i of status.instances) {
    for (const t of i.tracking) {
      if (t.kind !== 'file') continue;
      const f = files.get(t.name) ?? { status: t.status, users: [] };
      f.users.push([i.name, t.weight]);
      files.set(t.name, f);
    }
  }
  if (files.size === 0) return [];
  const out = ['------< VRRP Track files >------'];
  for (const [name, f] of files) {
    const tf = details.trackFiles?.[name];
    out.push(` Track file = ${name}`);
    out.push(`   File = ${tf?.path ?? '(unknown)'}`);
    out.push(`   Status = ${f.status}`);
    out.push(`   Weight = ${tf?.weight ?? f.users[0]![1]}`);
    out.push('   Tracking instances :');
    for (const [inst, w] of f.users) out.push(`     ${inst}, weight ${w}`);
  }
  return out;
}

function interfaceSection(status: DaemonStatus): string[] {
  const ifs = new Map<string, InstanceStatus[]>();
  for (const i of status.instances) {
    const n = i.interface;
    if (n) ifs.set(n, [...(ifs.get(n) ?? []), i]);
  }
  const out = ['------< Interfaces >------'];
  for (const [name, users] of ifs) {
    out.push(` Name = ${name}`);
    const v4 = users.find((u) => u.family === 4)?.sourceAddress;
    const v6 = users.find((u) => u.family === 6)?.sourceAddress;
    out.push(`   IPv4 address = ${v4 ?? '(none)'}`);
    out.push(`   IPv6 address = ${v6 ?? '(none)'}`);
    out.push('   Tracking VRRP instances :');
    for (const u of users) out.push(`     ${u.name}, weight 0`);
  }
  return out;
}

/**
 * The data dump: keepalived's sections in its order (Global definitions, VRRP Topology, VRRP Sockpool,
 * VRRP Sync groups, VRRP Track files, Interfaces). Global definitions and Interfaces carry only what vipd knows (a subset of
 * keepalived's lines, in its order); the VRRP Topology lines are keepalived's, one for one.
 */
export function formatData(status: DaemonStatus, details: DumpDetails = {}): string {
  const now = details.now ?? Date.now();
  const lines = [...globalSection(details), '------< VRRP Topology >------'];
  for (const i of status.instances) lines.push(...instanceSection(i, details.instances?.[i.name] ?? {}, now));
  lines.push(
    ...sockpoolSection(status, details),
    ...syncGroupSection(status),
    ...trackFileSection(status, details),
    ...interfaceSection(status),
  );
  return lines.join('\n') + '\n';
}
