/**
 * `vipd doctor`'s checks of the machine: everything here reads the OS (procfs, sysfs, rtnetlink, nfnetlink, VRRP
 * sockets) and turns what it sees into findings (OK / WARN / FAIL with what to change). Nothing here changes the
 * machine, except `probeMacvlan()` (a test macvlan created and deleted at once), which the CLI runs only with
 * `--probe`. The analysis functions (`parseCapEff`, `analyzeNftRules`, `analyzeAdverts`, ...) are pure and exported
 * for tests.
 */
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { release } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { KeepalivedConfig, VrrpInstance } from '../config/model.js';
import { formatIP, parseIP } from '../wire/inet.js';
import {
  NLMSG_DONE,
  NLMSG_ERROR,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NlWriter,
  parseAttrs,
  parseError,
  parseMessages,
  type AddrInfo,
  type LinkInfo,
  type NlMessage,
} from '../wire/netlink.js';
import {
  NETLINK_NETFILTER,
  NFT_MSG_GETCHAIN,
  NFT_MSG_GETRULE,
  NF_ACCEPT,
  NF_DROP,
  NF_INET_LOCAL_IN,
  NF_INET_PRE_ROUTING,
  NFPROTO_INET,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  nftType,
} from '../wire/nftables.js';
import { decodeIPv4, decodeIPv6, type Advert } from '../wire/vrrp.js';
import { K, native, wrapError } from './native.js';
import { listProcesses } from './proc.js';
import { Rtnl } from './rtnetlink.js';
import { sockaddrNl } from './sockaddr.js';
import { VrrpSocket } from './vrrp-socket.js';

export type Level = 'OK' | 'WARN' | 'FAIL';

export interface Finding {
  /** Which check: config, capabilities, macvlan, rp_filter, arp, ipv6, firewall, snooping, daemons, vrrp. */
  check: string;
  level: Level;
  /** What the finding is about (an interface, a chain, a VRID), when it is about one thing. */
  subject?: string;
  message: string;
  /** What to change (WARN / FAIL). */
  fix?: string;
}

const f = (check: string, level: Level, message: string, fix?: string, subject?: string): Finding => ({
  check,
  level,
  ...(subject !== undefined ? { subject } : {}),
  message,
  ...(fix !== undefined ? { fix } : {}),
});

// ------------------------------------------------------------------------------------------------ capabilities

export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;

/** The effective capability set from /proc/PID/status text, or null when absent. */
export function parseCapEff(statusText: string): bigint | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  return m ? BigInt(`0x${m[1]}`) : null;
}

export function checkCapabilities(statusText?: string): Finding[] {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch (e) {
      return [f('capabilities', 'WARN', `cannot read /proc/self/status: ${(e as Error).message}`)];
    }
  }
  const eff = parseCapEff(text);
  if (eff === null) return [f('capabilities', 'WARN', 'no CapEff line in /proc/self/status: capabilities not checked')];
  const missing = [
    [CAP_NET_ADMIN, 'CAP_NET_ADMIN (addresses, VMACs, sysctls, nftables)'],
    [CAP_NET_RAW, 'CAP_NET_RAW (VRRP sockets, GARP / NA)'],
  ].filter(([bit]) => (eff & (1n << BigInt(bit as number))) === 0n);
  if (missing.length === 0) return [f('capabilities', 'OK', 'CAP_NET_ADMIN and CAP_NET_RAW are effective')];
  return [
    f(
      'capabilities',
      'FAIL',
      `missing ${missing.map(([, w]) => w).join(' and ')} (this check sees the capabilities of the doctor itself: run it as the daemon runs)`,
      'run vipd as root, or give it both capabilities (systemd: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW and CapabilityBoundingSet= the same)',
    ),
  ];
}

// ------------------------------------------------------------------------------------------------ macvlan

export function vmacInstances(config: KeepalivedConfig | null): VrrpInstance[] {
  return (config?.instances ?? []).filter((i) => i.useVmac !== false);
}

/** Where the kernel has macvlan: 'loaded', 'builtin', 'module' (a .ko on disk, loaded on first use) or null. */
export function macvlanSupport(
  sysRoot = '/sys',
  modulesRoot = '/lib/modules',
  kernel = release(),
  configGz = '/proc/config.gz',
): 'loaded' | 'builtin' | 'module' | null {
  if (existsSync(`${sysRoot}/module/macvlan`)) {
    // Built-in modules also appear under /sys/module when they have parameters; macvlan has none, so it is loaded.
    return 'loaded';
  }
  // The kernel's own configuration (CONFIG_IKCONFIG_PROC): CONFIG_MACVLAN=y / =m.
  try {
    const m = /^CONFIG_MACVLAN=([ym])$/m.exec(gunzipSync(readFileSync(configGz)).toString('latin1'));
    if (m?.[1] === 'y') return 'builtin';
    if (m?.[1] === 'm') return 'module';
  } catch {
    /* no /proc/config.gz */
  }
  const dir = `${modulesRoot}/${kernel}`;
  try {
    if (/(^|\/)macvlan\.ko\b/m.test(readFileSync(`${dir}/modules.builtin`, 'utf8'))) return 'builtin';
  } catch {
    /* no modules.builtin */
  }
  for (const ext of ['', '.xz', '.zst', '.gz']) {
    if (existsSync(`${dir}/kernel/drivers/net/macvlan.ko${ext}`)) return 'module';
  }
  return null;
}

export function checkMacvlan(config: KeepalivedConfig | null, support = macvlanSupport()): Finding[] {
  const users = vmacInstances(config);
  const need = users.length > 0 ? `needed by use_vmac in ${users.map((i) => i.name).join(', ')}` : 'not needed (no use_vmac)';
  switch (support) {
    case 'loaded':
      return [f('macvlan', 'OK', `macvlan module loaded; ${need}`)];
    case 'builtin':
      return [f('macvlan', 'OK', `macvlan built into the kernel; ${need}`)];
    case 'module':
      return [f('macvlan', 'OK', `macvlan available as a module (loaded on the first VMAC); ${need}`)];
    default:
      return [
        f(
          'macvlan',
          'WARN',
          `macvlan not found (not loaded, not in /proc/config.gz, modules.builtin or /lib/modules/${release()}; it may be built in without a trace); ${need}`,
          users.length > 0
            ? 'run vipd doctor --probe to try it; if that fails install the kernel modules of the running kernel (macvlan.ko, CONFIG_MACVLAN) or remove use_vmac'
            : 'nothing to do unless you plan to use use_vmac (then run with --probe)',
        ),
      ];
  }
}

/** `--probe`: create a private macvlan `vipdchk<pid>` on `parent` and delete it at once. */
export async function probeMacvlan(parent: string): Promise<Finding> {
  const name = `vipdchk${process.pid}`.slice(0, 15);
  const rtnl = Rtnl.open();
  try {
    const p = await rtnl.getLink(parent);
    if (!p) return f('macvlan', 'FAIL', `--probe: interface ${parent} does not exist`, 'fix the interface name in the configuration', parent);
    const mac = Uint8Array.of(0x02, 0, 0x5e, 0xfe, (process.pid >> 8) & 0xff, process.pid & 0xff);
    const link = await rtnl.createMacvlan({ name, parentIndex: p.ifindex, mac });
    await rtnl.deleteLink(link.ifindex, name);
    return f('macvlan', 'OK', `--probe: created and deleted the test macvlan ${name} on ${parent}`, undefined, parent);
  } catch (e) {
    return f(
      'macvlan',
      'FAIL',
      `--probe: cannot create a macvlan on ${parent}: ${(e as Error).message}`,
      'load the macvlan module (modprobe macvlan) and run as root; use_vmac cannot work until this succeeds',
      parent,
    );
  } finally {
    rtnl.close();
  }
}

// ------------------------------------------------------------------------------------------------ sysctls

type ReadSysctl = (key: string) => string | null;

function procSysctl(key: string): string | null {
  try {
    return readFileSync(`/proc/sys/${key}`, 'utf8').trim();
  } catch {
    return null;
  }
}

function num(v: string | null): number | null {
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** The kernel applies max(all, interface) for rp_filter and arp_ignore. */
function effective(read: ReadSysctl, family: 'ipv4' | 'ipv6', ifname: string, name: string): { all: number; iface: number; eff: number } | null {
  const a = num(read(`net/${family}/conf/all/${name}`));
  const i = num(read(`net/${family}/conf/${ifname}/${name}`));
  if (i === null) return null;
  return { all: a ?? 0, iface: i, eff: Math.max(a ?? 0, i) };
}

function inSubnet(addr: string, prefixAddr: Uint8Array, prefixLen: number): boolean {
  const a = parseIP(addr);
  if (!a || a.bytes.length !== prefixAddr.length) return false;
  for (let bit = 0; bit < prefixLen; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((a.bytes[byte]! & mask) !== (prefixAddr[byte]! & mask)) return false;
  }
  return true;
}

/** rp_filter, arp_ignore and IPv6 settings per configured interface. `addrs` are the host's addresses (rtnetlink). */
export function checkSysctls(
  config: KeepalivedConfig,
  links: LinkInfo[],
  addrs: AddrInfo[],
  read: ReadSysctl = procSysctl,
): Finding[] {
  const out: Finding[] = [];
  const byName = new Map(links.map((l) => [l.name, l]));
  const ifaces = new Map<string, VrrpInstance[]>();
  for (const i of config.instances) {
    if (!i.interface) continue;
    ifaces.set(i.interface, [...(ifaces.get(i.interface) ?? []), i]);
  }
  for (const [ifname, insts] of ifaces) {
    const link = byName.get(ifname);
    if (!link) continue; // the configuration check reports it
    const v4 = insts.filter((i) => i.family === 4);
    const v6 = insts.filter((i) => i.family === 6);
    const ifAddrs4 = addrs.filter((a) => a.ifindex === link.ifindex && a.family === 4);
    if (v4.length > 0) {
      const rp = effective(read, 'ipv4', ifname, 'rp_filter');
      const vmac = v4.filter((i) => i.useVmac !== false);
      if (rp && rp.eff === 1 && vmac.length > 0) {
        // With a VMAC, strict reverse-path filtering drops what arrives on the VMAC (it has no route of its own).
        const running = vmac
          .map((i) => ({ i, name: i.useVmac as string }))
          .filter((v) => byName.has(v.name))
          .map((v) => ({ ...v, rp: effective(read, 'ipv4', v.name, 'rp_filter') }))
          .filter((v) => v.rp && v.rp.eff !== 0);
        if (running.length > 0) {
          for (const v of running) {
            out.push(
              f(
                'rp_filter',
                'FAIL',
                `${v.name} (VMAC of ${v.i.name}) has effective rp_filter ${v.rp!.eff} (all=${v.rp!.all}, ${v.name}=${v.rp!.iface}): packets to the VIP arriving on the VMAC are dropped`,
                `set net.ipv4.conf.all.rp_filter=0 and net.ipv4.conf.${v.name}.rp_filter=0 (vipd does this at start; something re-applied sysctls since)`,
                v.name,
              ),
            );
          }
        } else {
          out.push(
            f(
              'rp_filter',
              'WARN',
              `${ifname}: strict rp_filter (all=${rp.all}, ${ifname}=${rp.iface}) with use_vmac (${vmac.map((i) => i.name).join(', ')}): ` +
                'vipd lowers all.rp_filter to 0 and raises each interface while a VMAC exists, but anything that re-applies sysctls ' +
                '(systemd-sysctl, NetworkManager) later makes the kernel drop traffic arriving on the VMAC',
              `use loose mode: sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${ifname}.rp_filter=2 (and in /etc/sysctl.d)`,
              ifname,
            ),
          );
        }
      } else if (rp && rp.eff === 1) {
        // Strict mode drops unicast adverts from peers that the routing table does not reach through this interface.
        const peers = v4.flatMap((i) => i.unicastPeers).filter((p) => p.family === 4);
        const offLink = peers.filter((p) => !ifAddrs4.some((a) => inSubnet(p.address, a.address, a.prefixlen)));
        if (offLink.length > 0) {
          out.push(
            f(
              'rp_filter',
              'WARN',
              `${ifname}: strict rp_filter and unicast peers outside ${ifname}'s subnets (${offLink.map((p) => p.address).join(', ')}): ` +
                'their adverts are dropped if the route back to them leaves through another interface',
              `sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${ifname}.rp_filter=2 (loose)`,
              ifname,
            ),
          );
        } else {
          out.push(f('rp_filter', 'OK', `${ifname}: rp_filter ${rp.eff} (strict; fine without VMAC)`, undefined, ifname));
        }
      } else if (rp) {
        out.push(f('rp_filter', 'OK', `${ifname}: rp_filter ${rp.eff}`, undefined, ifname));
      }

      const ai = effective(read, 'ipv4', ifname, 'arp_ignore');
      if (ai && ai.eff >= 8) {
        out.push(
          f(
            'arp',
            'FAIL',
            `${ifname}: arp_ignore ${ai.eff} (all=${ai.all}, ${ifname}=${ai.iface}): the kernel answers no ARP request, hosts cannot resolve the VIPs`,
            `sysctl -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.${ifname}.arp_ignore=0 (1 is fine)`,
            ifname,
          ),
        );
      } else if (ai && ai.eff >= 2 && ai.eff <= 3) {
        const vips = v4.flatMap((i) => i.vips).filter((v) => v.family === 4 && (v.dev === null || v.dev === ifname));
        // arp_ignore 2: answer only when the sender is in the subnet of the target address. A VIP is answered only when
        // it is in a subnet of the interface (its own prefix once configured, or one of the interface's addresses).
        const outside = vips.filter((v) => v.prefix >= 31 && !ifAddrs4.some((a) => inSubnet(v.address, a.address, a.prefixlen)));
        out.push(
          outside.length > 0
            ? f(
                'arp',
                'FAIL',
                `${ifname}: arp_ignore ${ai.eff} and VIPs outside ${ifname}'s subnets (${outside.map((v) => v.text).join(', ')}): ` +
                  'ARP requests for them from hosts on the LAN are not answered',
                `sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.${ifname}.arp_ignore=1, or give the VIPs the LAN's prefix length`,
                ifname,
              )
            : f('arp', 'OK', `${ifname}: arp_ignore ${ai.eff}; every VIP is inside ${ifname}'s subnets`, undefined, ifname),
        );
      } else if (ai) {
        out.push(f('arp', 'OK', `${ifname}: arp_ignore ${ai.eff}`, undefined, ifname));
      }
      // A running VMAC needs arp_ignore on its parent, or the parent answers ARP for the VIP with its own MAC.
      for (const i of v4.filter((x) => x.useVmac !== false && byName.has(x.useVmac as string))) {
        const pai = effective(read, 'ipv4', ifname, 'arp_ignore');
        if (pai && pai.eff === 0) {
          out.push(
            f(
              'arp',
              'FAIL',
              `${ifname}: arp_ignore 0 while the VMAC ${i.useVmac as string} of ${i.name} exists: ${ifname} answers ARP for the VIP with its own MAC (ARP flux)`,
              `sysctl -w net.ipv4.conf.${ifname}.arp_ignore=1 net.ipv4.conf.${ifname}.arp_filter=1 (vipd sets these at start; something reset them)`,
              ifname,
            ),
          );
        }
      }
    }
    if (v6.length > 0) {
      const dis = num(read(`net/ipv6/conf/${ifname}/disable_ipv6`));
      if (dis === null || dis === 1) {
        out.push(
          f(
            'ipv6',
            'FAIL',
            `${ifname}: IPv6 is disabled but ${v6.map((i) => i.name).join(', ')} ${v6.length === 1 ? 'is' : 'are'} IPv6 instances`,
            `sysctl -w net.ipv6.conf.${ifname}.disable_ipv6=0 (and net.ipv6.conf.all.disable_ipv6=0)`,
            ifname,
          ),
        );
      } else {
        const ll = addrs.some((a) => a.ifindex === link.ifindex && a.family === 6 && a.address[0] === 0xfe && (a.address[1]! & 0xc0) === 0x80);
        out.push(
          ll
            ? f('ipv6', 'OK', `${ifname}: IPv6 enabled with a link-local address (the VRRPv3 source)`, undefined, ifname)
            : f(
                'ipv6',
                'FAIL',
                `${ifname}: no IPv6 link-local address: VRRPv3 over IPv6 sends from the link-local address`,
                `check addr_gen_mode (ip link set ${ifname} addrgenmode eui64) or add one: ip addr add fe80::N/64 dev ${ifname}`,
                ifname,
              ),
        );
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ bridges

/**
 * Multicast snooping on the bridges the configured interfaces are (or are enslaved to). 224.0.0.18 is in
 * 224.0.0.0/24, which bridges always flood; ff02::12 and custom groups are subject to snooping.
 */
export function checkSnooping(config: KeepalivedConfig | null, links: LinkInfo[], readSys: (path: string) => string | null = readSysFile): Finding[] {
  const out: Finding[] = [];
  const byName = new Map(links.map((l) => [l.name, l]));
  const byIndex = new Map(links.map((l) => [l.ifindex, l]));
  const ifaceNames = config
    ? [...new Set(config.instances.map((i) => i.interface).filter((x): x is string => Boolean(x)))]
    : links.filter((l) => l.kind === 'bridge').map((l) => l.name);
  const bridges = new Map<string, string[]>(); // bridge -> interfaces it carries
  for (const n of ifaceNames) {
    const l = byName.get(n);
    if (!l) continue;
    const br = l.kind === 'bridge' ? l : l.master ? byIndex.get(l.master) : undefined;
    if (!br || br.kind !== 'bridge') continue;
    bridges.set(br.name, [...(bridges.get(br.name) ?? []), n]);
  }
  if (bridges.size === 0) {
    out.push(f('snooping', 'OK', 'no configured interface is a bridge or a bridge port (a switch outside this host is not visible)'));
    return out;
  }
  for (const [br, users] of bridges) {
    const snoop = readSys(`/sys/class/net/${br}/bridge/multicast_snooping`);
    const querier = readSys(`/sys/class/net/${br}/bridge/multicast_querier`);
    if (snoop === null) {
      out.push(f('snooping', 'WARN', `${br}: cannot read /sys/class/net/${br}/bridge/multicast_snooping`, undefined, br));
      continue;
    }
    if (snoop.trim() !== '1') {
      out.push(f('snooping', 'OK', `${br}: multicast snooping off (carries ${users.join(', ')})`, undefined, br));
      continue;
    }
    const insts = (config?.instances ?? []).filter((i) => i.interface && users.includes(i.interface));
    const affected = insts.filter((i) => i.family === 6 || (i.mcastDstIp !== null && !i.mcastDstIp.startsWith('224.0.0.')));
    const vmac = insts.filter((i) => i.useVmac !== false);
    if (config && affected.length === 0 && vmac.length === 0) {
      out.push(
        f(
          'snooping',
          'OK',
          `${br}: multicast snooping on, but the instances on it advertise to 224.0.0.18 (224.0.0.0/24 is always flooded)`,
          undefined,
          br,
        ),
      );
      continue;
    }
    const who = affected.length ? ` (${affected.map((i) => `${i.name} IPv${i.family}`).join(', ')})` : vmac.length ? ` (VMAC: ${vmac.map((i) => i.name).join(', ')})` : '';
    out.push(
      f(
        'snooping',
        'WARN',
        `${br}: multicast snooping on${who}: adverts to ff02::12 (or a custom group) reach only ports that sent an MLD/IGMP report; ` +
          `a lost report or a missing querier (multicast_querier=${querier?.trim() ?? '?'}) leaves backups deaf and makes two masters`,
        `ip link set ${br} type bridge mcast_snooping 0, or keep snooping and run a querier: ip link set ${br} type bridge mcast_querier 1`,
        br,
      ),
    );
  }
  return out;
}

function readSysFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------------------ other daemons

export interface VrrpDaemon {
  kind: 'keepalived' | 'vipd';
  /** keepalived's parent and VRRP child share one entry. */
  pids: number[];
  /** The configuration it was started with (-f / --use-file, else keepalived's default), absolute. */
  configFile: string;
}

/** The configuration file named on a keepalived / `vipd run` command line (relative paths resolved against `cwd`). */
export function configFileOf(cmdline: string[], cwd: string | null): string {
  let file = '/etc/keepalived/keepalived.conf';
  for (let n = 0; n < cmdline.length; n++) {
    const a = cmdline[n]!;
    if ((a === '-f' || a === '--use-file') && n + 1 < cmdline.length) file = cmdline[n + 1]!;
    else if (a.startsWith('--use-file=')) file = a.slice('--use-file='.length);
    else if (/^-f./.test(a)) file = a.slice(2);
  }
  return file.startsWith('/') || cwd === null ? file : resolvePath(cwd, file);
}

/** keepalived and `vipd run` processes in this network namespace (processes in other namespaces do not matter). */
export function findVrrpDaemons(): VrrpDaemon[] {
  let myNs: string | null = null;
  try {
    myNs = readlinkSync('/proc/self/ns/net');
  } catch {
    /* cannot tell namespaces apart */
  }
  const out = new Map<string, VrrpDaemon>();
  for (const p of listProcesses()) {
    if (p.pid === process.pid) continue;
    const isKa = p.comm === 'keepalived';
    const isVipd = !isKa && p.cmdline.some((a) => /(^|\/)vipd$/.test(a)) && p.cmdline.includes('run');
    if (!isKa && !isVipd) continue;
    try {
      if (myNs !== null && readlinkSync(`/proc/${p.pid}/ns/net`) !== myNs) continue;
    } catch {
      continue;
    }
    let cwd: string | null = null;
    try {
      cwd = readlinkSync(`/proc/${p.pid}/cwd`);
    } catch {
      /* gone, or not ours to read */
    }
    const kind = isKa ? 'keepalived' : 'vipd';
    const configFile = configFileOf(p.cmdline.slice(1), cwd);
    const k = `${kind} ${configFile}`;
    const d = out.get(k);
    if (d) d.pids.push(p.pid);
    else out.set(k, { kind, pids: [p.pid], configFile });
  }
  return [...out.values()];
}

/**
 * Other VRRP daemons against our configuration: a daemon running our own file is the one we check (OK); one whose
 * configuration shares an (interface, family, VRID) with ours fights over that virtual router (FAIL); others are
 * noted. `load` parses a daemon's configuration (null when unreadable).
 */
export function analyzeDaemons(
  ours: { file: string; config: KeepalivedConfig } | null,
  daemons: VrrpDaemon[],
  load: (file: string) => KeepalivedConfig | null,
  same: (a: string, b: string) => boolean = (a, b) => a === b,
): Finding[] {
  if (daemons.length === 0) return [f('daemons', 'OK', 'no keepalived or vipd daemon runs in this network namespace')];
  const out: Finding[] = [];
  const key = (i: VrrpInstance) => `${i.interface ?? ''}/${i.family}/${i.virtualRouterId}`;
  const mine = new Map((ours?.config.instances ?? []).map((i) => [key(i), i]));
  for (const d of daemons) {
    const who = `${d.kind} (pid ${d.pids.join(', ')}, ${d.configFile})`;
    if (ours && same(d.configFile, ours.file)) {
      out.push(
        f(
          'daemons',
          d.kind === 'vipd' ? 'OK' : 'WARN',
          d.kind === 'vipd'
            ? `${who} runs this configuration (this host's own adverts are not heard by the advert check)`
            : `${who} runs this configuration: vipd and keepalived must not both run it`,
          d.kind === 'vipd' ? undefined : 'stop keepalived before starting vipd (systemctl disable --now keepalived)',
        ),
      );
      continue;
    }
    const theirs = load(d.configFile);
    if (!theirs) {
      out.push(f('daemons', 'WARN', `${who} runs here; its configuration cannot be read, so shared VRIDs cannot be ruled out`, 'make sure it runs none of these instances'));
      continue;
    }
    const shared = theirs.instances.filter((i) => mine.has(key(i)));
    if (shared.length > 0) {
      out.push(
        f(
          'daemons',
          'FAIL',
          `${who} also runs ${shared.map((i) => `VRID ${i.virtualRouterId} IPv${i.family} on ${i.interface ?? '?'} (its ${i.name}, our ${mine.get(key(i))!.name})`).join(', ')}: two daemons on one host fight over the same virtual router`,
          `stop it, or remove those instances from one of the two configurations`,
        ),
      );
    } else {
      out.push(f('daemons', ours ? 'OK' : 'WARN', `${who} runs here${ours ? ' with no VRID in common with this configuration' : ''}`, ours ? undefined : 'pass -f FILE to compare its VRIDs with yours'));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ nftables

export interface NftChainInfo {
  family: number;
  table: string;
  name: string;
  hook: number | null;
  priority: number | null;
  policy: number | null;
  type: string | null;
}

export interface NftRuleSummary {
  family: number;
  table: string;
  chain: string;
  /** The rule compares the layer-4 protocol / IP protocol / next header with 112. */
  matchesVrrp: boolean;
  /** Other match expressions (anything but counter / log / limit / the VRRP match). */
  otherMatches: number;
  /** accept / drop (reject counts as drop) / jump / goto / return / continue (no verdict). */
  verdict: 'accept' | 'drop' | 'jump' | 'goto' | 'return' | 'continue';
}

const familyName = (fam: number): string =>
  fam === NFPROTO_INET ? 'inet' : fam === NFPROTO_IPV4 ? 'ip' : fam === NFPROTO_IPV6 ? 'ip6' : fam === 7 ? 'bridge' : fam === 5 ? 'netdev' : fam === 3 ? 'arp' : String(fam);

function be32(b: Uint8Array | undefined): number | null {
  if (!b || b.length < 4) return null;
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false);
}

function str(b: Uint8Array | undefined): string | null {
  if (!b) return null;
  const z = b.indexOf(0);
  return new TextDecoder().decode(z >= 0 ? b.subarray(0, z) : b);
}

/** Decode an NFT_MSG_NEWCHAIN (dump reply). Never throws. */
export function parseNftChain(msg: NlMessage): NftChainInfo | null {
  if (msg.body.length < 4) return null;
  const a = parseAttrs(msg.body, 4);
  const table = str(a.get(1));
  const name = str(a.get(3));
  if (table === null || name === null) return null;
  const hookAttr = a.get(4);
  let hook: number | null = null;
  let priority: number | null = null;
  if (hookAttr) {
    const h = parseAttrs(hookAttr, 0);
    hook = be32(h.get(1));
    const p = be32(h.get(2));
    priority = p === null ? null : p | 0;
  }
  return { family: msg.body[0]!, table, name, hook, priority, policy: be32(a.get(5)), type: str(a.get(7)) };
}

/** Decode an NFT_MSG_NEWRULE (dump reply) into what the doctor needs. Never throws. */
export function parseNftRule(msg: NlMessage): NftRuleSummary | null {
  if (msg.body.length < 4) return null;
  const a = parseAttrs(msg.body, 4);
  const table = str(a.get(1));
  const chain = str(a.get(2));
  if (table === null || chain === null) return null;
  const exprs = a.get(4);
  let matchesVrrp = false;
  let otherMatches = 0;
  let verdict: NftRuleSummary['verdict'] = 'continue';
  // Which register holds the layer-4 protocol (meta l4proto / ip protocol / ip6 nexthdr).
  const protoRegs = new Set<number>();
  const list = exprs ? listElems(exprs) : [];
  for (const e of list) {
    const ea = parseAttrs(e, 0);
    const name = str(ea.get(1));
    const data = ea.get(2) ? parseAttrs(ea.get(2)!, 0) : new Map<number, Uint8Array>();
    switch (name) {
      case 'meta': {
        const key = be32(data.get(2));
        const dreg = be32(data.get(1));
        if (dreg !== null) {
          if (key === 16 /* l4proto */ || key === 3 /* protocol (ethertype) is not it */) {
            if (key === 16) protoRegs.add(dreg);
          } else protoRegs.delete(dreg);
        }
        break;
      }
      case 'payload': {
        const base = be32(data.get(2));
        const off = be32(data.get(3));
        const len = be32(data.get(4));
        const dreg = be32(data.get(1));
        if (dreg !== null) {
          // network header: IPv4 protocol at 9, IPv6 next header at 6 (one byte).
          if (base === 1 && len === 1 && (off === 9 || off === 6)) protoRegs.add(dreg);
          else protoRegs.delete(dreg);
        }
        break;
      }
      case 'cmp': {
        const sreg = be32(data.get(1));
        const op = be32(data.get(2));
        const val = data.get(3) ? parseAttrs(data.get(3)!, 0).get(1) : undefined;
        if (sreg !== null && protoRegs.has(sreg) && op === 0 && val && val.length >= 1 && val[0] === 112) matchesVrrp = true;
        else otherMatches++;
        break;
      }
      case 'immediate': {
        const dreg = be32(data.get(1));
        if (dreg !== 0) break;
        const d = data.get(2) ? parseAttrs(data.get(2)!, 0) : null;
        const v = d?.get(2) ? parseAttrs(d.get(2)!, 0) : null;
        const code = v ? be32(v.get(1)) : null;
        if (code === null) break;
        const c = code | 0;
        verdict = c === NF_ACCEPT ? 'accept' : c === NF_DROP ? 'drop' : c === -3 ? 'jump' : c === -4 ? 'goto' : c === -5 ? 'return' : 'continue';
        break;
      }
      case 'reject':
        verdict = 'drop';
        break;
      case 'counter':
      case 'log':
      case 'limit':
      case 'quota':
        break;
      default:
        otherMatches++;
    }
  }
  return { family: msg.body[0]!, table, chain, matchesVrrp, otherMatches, verdict };
}

function listElems(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let off = 0;
  while (off + 4 <= b.length) {
    const len = dv.getUint16(off, true);
    if (len < 4 || off + len > b.length) break;
    out.push(b.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
  return out;
}

/**
 * What the input path does to VRRP, chain by chain: base chains at prerouting / input of the ip, ip6 and inet
 * families, in rule order. vipd's own table (`inet vipd`, no_accept) is skipped. `families` are the IP versions in use.
 */
export function analyzeNftRules(chains: NftChainInfo[], rules: NftRuleSummary[], families: (4 | 6)[], skipTable = 'vipd'): Finding[] {
  const out: Finding[] = [];
  const relevant = chains.filter(
    (c) =>
      c.hook !== null &&
      (c.hook === NF_INET_LOCAL_IN || c.hook === NF_INET_PRE_ROUTING) &&
      (c.type ?? 'filter') === 'filter' &&
      !(c.family === NFPROTO_INET && c.table === skipTable) &&
      ((c.family === NFPROTO_INET && families.length > 0) ||
        (c.family === NFPROTO_IPV4 && families.includes(4)) ||
        (c.family === NFPROTO_IPV6 && families.includes(6))),
  );
  for (const c of relevant) {
    const where = `${familyName(c.family)} ${c.table} ${c.name} (hook ${c.hook === NF_INET_LOCAL_IN ? 'input' : 'prerouting'})`;
    const rs = rules.filter((r) => r.family === c.family && r.table === c.table && r.chain === c.name);
    const fix = `add a rule before the drop: nft insert rule ${familyName(c.family)} ${c.table} ${c.name} meta l4proto vrrp accept`;
    let decided: Finding | null = null;
    let uncertain = 0;
    for (const [n, r] of rs.entries()) {
      if (r.matchesVrrp && r.otherMatches === 0 && r.verdict === 'accept') {
        decided = f('firewall', 'OK', `${where}: rule ${n + 1} accepts protocol 112 (vrrp)`, undefined, where);
        break;
      }
      if (r.matchesVrrp && r.verdict === 'drop') {
        decided = f(
          'firewall',
          r.otherMatches === 0 ? 'FAIL' : 'WARN',
          `${where}: rule ${n + 1} drops protocol 112 (vrrp)${r.otherMatches ? ' under further conditions' : ''}`,
          `delete that rule or narrow it; ${fix}`,
          where,
        );
        break;
      }
      if (!r.matchesVrrp && r.otherMatches === 0 && r.verdict === 'drop') {
        decided = f('firewall', 'FAIL', `${where}: rule ${n + 1} drops everything, VRRP included`, fix, where);
        break;
      }
      if (r.otherMatches > 0 || r.matchesVrrp) {
        if (r.verdict === 'accept' || r.verdict === 'jump' || r.verdict === 'goto' || r.verdict === 'drop') uncertain++;
      }
    }
    if (decided) {
      out.push(decided);
      continue;
    }
    if (c.policy === NF_DROP) {
      out.push(
        uncertain > 0
          ? f(
              'firewall',
              'WARN',
              `${where}: policy drop, no rule accepting protocol 112 (vrrp) by itself; ${uncertain} conditional rule(s) vipd cannot evaluate (interfaces, addresses, sets, jumps) might`,
              fix,
              where,
            )
          : f('firewall', 'FAIL', `${where}: policy drop and no rule accepting protocol 112 (vrrp): adverts are dropped`, fix, where),
      );
    } else {
      out.push(
        f(
          'firewall',
          uncertain > 0 ? 'OK' : 'OK',
          `${where}: policy accept${uncertain ? `; ${uncertain} conditional rule(s) not evaluated` : ''}`,
          undefined,
          where,
        ),
      );
    }
  }
  if (relevant.length === 0) out.push(f('firewall', 'OK', 'nftables: no filter chain on the input path (nothing drops protocol 112)'));
  return out;
}

/** Dump chains and rules of every nftables table over nfnetlink (read-only). */
export async function dumpNftables(timeoutMs = 3000): Promise<{ chains: NftChainInfo[]; rules: NftRuleSummary[] }> {
  const n = native();
  let h;
  try {
    h = n.socket(K('AF_NETLINK'), K('SOCK_RAW'), n.constants.NETLINK_NETFILTER ?? NETLINK_NETFILTER);
  } catch (e) {
    throw wrapError('open nfnetlink socket', e);
  }
  const rbuf = new Uint8Array(1 << 16);
  const outArr = new Int32Array(3);
  try {
    n.bind(h, sockaddrNl(0, 0));
    const dump = async (msgType: number, seq: number): Promise<NlMessage[]> => {
      const w = new NlWriter(32).header(nftType(msgType), NLM_F_REQUEST | NLM_F_DUMP, seq);
      w.u8(0).u8(0).u16(0); // nfgenmsg: AF_UNSPEC (every family), version 0, res_id 0
      const bytes = w.finish();
      const sent = n.sendmsg(h, bytes, null, null, 0);
      if (sent < 0) throw new Error(`nfnetlink dump: ${n.strerror(-sent)}`);
      const got: NlMessage[] = [];
      const end = Date.now() + timeoutMs;
      for (;;) {
        const r = n.recvmsg(h, rbuf, null, null, 0, outArr);
        if (r < 0) {
          if (r === -(n.constants.EAGAIN ?? 11) || r === -(n.constants.EINTR ?? 4)) {
            if (Date.now() > end) throw new Error('nfnetlink dump: no reply from the kernel');
            await new Promise((res) => setTimeout(res, 5));
            continue;
          }
          throw new Error(`nfnetlink dump: ${n.strerror(-r)}`);
        }
        for (const m of parseMessages(rbuf, r)) {
          if (m.seq !== seq) continue;
          if (m.type === NLMSG_DONE) return got;
          if (m.type === NLMSG_ERROR) {
            const e = parseError(m);
            if (e && e.errno !== 0) throw new Error(`nfnetlink dump: ${n.strerror(e.errno)}${e.errno === 1 ? ' (needs CAP_NET_ADMIN)' : ''}`);
            return got;
          }
          got.push({ ...m, body: m.body.slice() });
        }
      }
    };
    const seq = (Date.now() & 0xffffff) >>> 0;
    const chains = (await dump(NFT_MSG_GETCHAIN, seq)).map(parseNftChain).filter((c): c is NftChainInfo => c !== null);
    const rules = (await dump(NFT_MSG_GETRULE, seq + 1)).map(parseNftRule).filter((r): r is NftRuleSummary => r !== null);
    return { chains, rules };
  } finally {
    n.close(h);
  }
}

/** Legacy iptables tables loaded in this namespace (their rules cannot be read without iptables itself). */
export function legacyIptables(): string[] {
  const out: string[] = [];
  for (const [file, fam] of [
    ['/proc/net/ip_tables_names', 'iptables'],
    ['/proc/net/ip6_tables_names', 'ip6tables'],
  ] as const) {
    try {
      const names = readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
      if (names.length) out.push(`${fam} (${names.join(', ')})`);
    } catch {
      /* not loaded */
    }
  }
  return out;
}

export async function checkFirewall(families: (4 | 6)[]): Promise<Finding[]> {
  const out: Finding[] = [];
  try {
    const { chains, rules } = await dumpNftables();
    out.push(...analyzeNftRules(chains, rules, families));
  } catch (e) {
    out.push(f('firewall', 'WARN', `cannot read the nftables ruleset: ${(e as Error).message}`, 'run the doctor as root'));
  }
  const legacy = legacyIptables();
  if (legacy.length) {
    out.push(
      f(
        'firewall',
        'WARN',
        `legacy ${legacy.join(' and ')} loaded: vipd cannot read those rules (only nftables, including iptables-nft)`,
        'check them yourself: iptables -S INPUT; allow VRRP with iptables -I INPUT -p vrrp -j ACCEPT (and ip6tables)',
      ),
    );
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ adverts heard

export interface HeardAdvert {
  ifname: string;
  family: 4 | 6;
  src: string;
  advert: Advert;
  ttl: number;
  count: number;
}

export interface HeardBad {
  ifname: string;
  family: 4 | 6;
  src: string;
  reason: string;
  detail: string;
  count: number;
}

function sameSet(a: string[], b: string[]): boolean {
  const A = new Set(a);
  const B = new Set(b);
  return A.size === B.size && [...A].every((x) => B.has(x));
}

/** Compare adverts heard on the segment with the configuration: foreign routers on our VRIDs, duplicate VRIDs. */
export function analyzeAdverts(
  config: KeepalivedConfig | null,
  heard: HeardAdvert[],
  bad: HeardBad[],
  seconds: number,
  listened: (4 | 6)[] = [4, 6],
): Finding[] {
  const out: Finding[] = [];
  const key = (ifname: string, fam: number, vrid: number) => `${ifname}/${fam}/${vrid}`;
  const groups = new Map<string, HeardAdvert[]>();
  for (const h of heard) {
    const k = key(h.ifname, h.family, h.advert.vrid);
    groups.set(k, [...(groups.get(k) ?? []), h]);
  }
  const configured = new Set<string>();
  for (const i of config?.instances ?? []) {
    if (!i.interface || !listened.includes(i.family)) continue;
    const k = key(i.interface, i.family, i.virtualRouterId);
    configured.add(k);
    const subject = `VRID ${i.virtualRouterId} IPv${i.family} on ${i.interface}`;
    const others = groups.get(k) ?? [];
    if (others.length === 0) {
      out.push(f('vrrp', 'OK', `${subject} (${i.name}): no other router advertising it in ${seconds} s`, undefined, subject));
      continue;
    }
    const ours = i.vips.map((v) => v.address);
    for (const h of others) {
      const a = h.advert;
      const problems: string[] = [];
      if (a.version !== i.version) problems.push(`speaks VRRPv${a.version}, ${i.name} is VRRPv${i.version} (version)`);
      if (!sameSet(a.addresses, ours)) problems.push(`advertises ${a.addresses.join(', ') || 'no address'}, ${i.name} has ${ours.join(', ') || 'none'}`);
      if (a.version === 2 && i.version === 2) {
        const authType = i.auth ? (i.auth.type === 'PASS' ? 1 : 2) : 0;
        if (a.authType !== authType) problems.push(`authentication type ${a.authType}, ${i.name} uses ${authType}`);
        if (a.interval !== Math.round(i.advertInterval)) problems.push(`advert_int ${a.interval} s, ${i.name} has ${i.advertInterval} s`);
      }
      const desc = `${h.src} (priority ${a.priority}, VRRPv${a.version}, ${h.count} advert${h.count === 1 ? '' : 's'})`;
      if (problems.length > 0) {
        out.push(
          f(
            'vrrp',
            'FAIL',
            `${subject} (${i.name}): another router uses this VRID differently: ${desc} ${problems.join('; ')}`,
            sameSet(a.addresses, ours)
              ? 'make both routers agree (version, authentication, advert_int)'
              : `pick a virtual_router_id nobody uses on ${i.interface}, or make the addresses match if ${h.src} is meant to be the peer`,
            subject,
          ),
        );
      } else {
        const prio = a.priority === i.priority ? ` — same priority ${a.priority}: the higher address wins ties` : '';
        out.push(
          f(
            'vrrp',
            a.priority === i.priority ? 'WARN' : 'OK',
            `${subject} (${i.name}): peer ${desc} agrees (version, addresses${a.version === 2 ? ', authentication, interval' : ''})${prio}`,
            a.priority === i.priority ? 'give the routers different priorities so that the master is the one you chose' : undefined,
            subject,
          ),
        );
      }
    }
  }
  for (const [k, hs] of groups) {
    const [ifname, fam, vrid] = k.split('/');
    const subject = `VRID ${vrid} IPv${fam} on ${ifname}`;
    const srcs = hs.map((h) => h.src);
    if (hs.length >= 2) {
      const distinct = hs.some((h) => !sameSet(h.advert.addresses, hs[0]!.advert.addresses));
      out.push(
        distinct
          ? f(
              'vrrp',
              'FAIL',
              `${subject}: duplicate VRID on the segment: ${hs.map((h) => `${h.src} (${h.advert.addresses.join(', ')})`).join(' and ')} are different virtual routers`,
              'give each virtual router on a segment its own virtual_router_id',
              subject,
            )
          : f(
              'vrrp',
              'WARN',
              `${subject}: ${srcs.join(' and ')} all advertise as master at once: they do not hear each other (firewall, snooping, VLAN, authentication?)`,
              'run the doctor on each of them; check the firewall and snooping findings',
              subject,
            ),
      );
    } else if (!configured.has(k)) {
      const h = hs[0]!;
      out.push(
        f(
          'vrrp',
          'OK',
          `${subject}: in use by ${h.src} (priority ${h.advert.priority}, ${h.advert.addresses.join(', ')}); not configured here — do not reuse this VRID on ${ifname}`,
          undefined,
          subject,
        ),
      );
    }
  }
  for (const b of bad) {
    out.push(
      f(
        'vrrp',
        'WARN',
        `${b.ifname}: ${b.count} VRRP packet${b.count === 1 ? '' : 's'} from ${b.src} rejected (${b.reason}: ${b.detail})`,
        b.reason === 'ttl' ? 'VRRP must be sent with TTL / hop limit 255: the sender is not on this link or is misconfigured' : 'check the sender\'s VRRP implementation and configuration',
        b.ifname,
      ),
    );
  }
  return out;
}

/** Listen on the VRRP sockets of `families` on `ifnames` for `seconds` and collect what is heard. */
export async function listenAdverts(
  ifnames: string[],
  families: (4 | 6)[],
  seconds: number,
  ownAddresses: Set<string>,
): Promise<{ heard: HeardAdvert[]; bad: HeardBad[]; errors: string[]; listened: (4 | 6)[] }> {
  const heard = new Map<string, HeardAdvert>();
  const bad = new Map<string, HeardBad>();
  const errors: string[] = [];
  const sockets: VrrpSocket[] = [];
  const listened: (4 | 6)[] = [];
  const n = native();
  const indexes = new Map<number, string>();
  for (const name of ifnames) {
    const idx = n.ifNameToIndex(name);
    if (idx > 0) indexes.set(idx, name);
  }
  try {
    for (const fam of families) {
      let s: VrrpSocket;
      try {
        s = VrrpSocket.open(fam);
      } catch (e) {
        errors.push((e as Error).message);
        continue;
      }
      sockets.push(s);
      listened.push(fam);
      for (const idx of indexes.keys()) {
        try {
          s.join(idx);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      s.onPacket((pkt) => {
        const ifname = indexes.get(pkt.ifindex);
        if (!ifname) return;
        const src = formatIP(fam, pkt.src);
        if (ownAddresses.has(src)) return;
        const r =
          fam === 4
            ? decodeIPv4(pkt.data, { requireTtl255: true })
            : decodeIPv6(pkt.data, { src: pkt.src, dst: pkt.dst, hopLimit: pkt.ttlOrHopLimit }, { requireTtl255: true });
        if (!r.ok) {
          const k = `${ifname}/${src}/${r.reason}`;
          const b = bad.get(k);
          if (b) b.count++;
          else bad.set(k, { ifname, family: fam, src, reason: r.reason, detail: r.detail, count: 1 });
          return;
        }
        const k = `${ifname}/${fam}/${r.advert.vrid}/${src}`;
        const h = heard.get(k);
        if (h) {
          h.count++;
          h.advert = { ...r.advert, authData: r.advert.authData.slice() };
        } else heard.set(k, { ifname, family: fam, src, advert: { ...r.advert, authData: r.advert.authData.slice() }, ttl: r.ttl, count: 1 });
      });
    }
    await new Promise((res) => setTimeout(res, Math.max(0, seconds * 1000)));
    for (const s of sockets) s.drain();
  } finally {
    for (const s of sockets) s.close();
  }
  return { heard: [...heard.values()], bad: [...bad.values()], errors, listened };
}

// ------------------------------------------------------------------------------------------------ links

export async function readLinksAndAddrs(): Promise<{ links: LinkInfo[]; addrs: AddrInfo[] }> {
  const rtnl = Rtnl.open();
  try {
    return { links: await rtnl.listLinks(), addrs: await rtnl.listAddrs() };
  } finally {
    rtnl.close();
  }
}

export function addressText(a: AddrInfo): string {
  return formatIP(a.family, a.address);
}
