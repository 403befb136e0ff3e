/**
 * The DENT-guide topology in network namespaces, built with one call:
 *
 *   H (host) ── br-lan ──┬── R1.eth0      R1.eth1 ──┬── br-wan ── U (upstream host)
 *          (switch ns)   ├── R2.eth0      R2.eth1 ──┤   (switch ns)
 *                        └── R3.eth0      R3.eth1 ──┘
 *
 * Namespaces are named `vipd-<tag>-{h,sw,r1,r2,r3,u}`; addresses come only from documentation ranges. The host's
 * default routes point at the VIP; each router forwards (inside its namespace only) and masquerades LAN traffic
 * out of eth1 (nftables), so U answers whichever router forwarded and the upstream path survives a failover.
 *
 * Lab tooling (tests, benchmarks, `vipd lab`), never used by the daemon: it runs `ip`, `nft` and `sysctl`.
 * See docs/lab-harness.md.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  execCapture,
  execOk,
  LabError,
  LabProcess,
  makeTempDir,
  nsArgs,
  removeDir,
  sleep,
  spawnInNs,
  type ExecOptions,
  type SpawnOptions,
} from './exec.js';

export type RouterName = 'R1' | 'R2' | 'R3';
export type NodeName = 'H' | 'SW' | 'U' | RouterName;

export interface TopologyOptions {
  /** Names: `vipd-<tag>-*`. Lower-case letters and digits, 1-16 chars. Default `lab`. */
  tag?: string;
  /** 2 (default) or 3 routers. */
  routers?: 2 | 3;
  /** IPv6 addresses and routes too (default true). */
  ipv6?: boolean;
  /** The host's IPv4 gateway, the VIP (default 192.0.2.1). Must be in 192.0.2.0/24. */
  vip4?: string;
  /** The host's IPv6 gateway, the VIP (default 2001:db8:1::1). Must be in 2001:db8:1::/64. */
  vip6?: string;
  /** Multicast snooping on the LAN bridge (default false). */
  snooping?: boolean;
  /** With snooping: the bridge acts as IGMP/MLD querier (default false). */
  querier?: boolean;
  /** Masquerade LAN traffic out of each router's eth1 (default true). */
  masquerade?: boolean;
  /** Remove leftovers `vipd-<tag>-*` of an earlier run first (default true). */
  cleanStale?: boolean;
}

/** One router's names and addresses. */
export interface RouterInfo {
  name: RouterName;
  /** 1, 2 or 3. */
  index: number;
  ns: string;
  lanIf: 'eth0';
  wanIf: 'eth1';
  /** The LAN / WAN bridge ports facing this router, in the switch namespace. */
  lanPort: string;
  wanPort: string;
  lan4: string;
  lan6: string;
  wan4: string;
  wan6: string;
}

/** One step of the fault / event timeline (wall clock, ms since the epoch, taken just before the action). */
export interface LabEvent {
  t: number;
  name: string;
}

/** An address as `ip -j addr` shows it. */
export interface IfAddr {
  ifname: string;
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}

export const LAN4_PREFIX = '192.0.2';
export const WAN4_PREFIX = '198.51.100';
export const LAN6_PREFIX = '2001:db8:1::';
export const WAN6_PREFIX = '2001:db8:2::';
export const DEFAULT_VIP4 = '192.0.2.1';
export const DEFAULT_VIP6 = '2001:db8:1::1';

const ROLES = ['h', 'sw', 'u', 'r1', 'r2', 'r3'] as const;

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((d) => d && existsSync(join(d, cmd)));
}

/** Why a lab cannot be built here (not Linux, not root, a missing tool), or null when it can. */
export function labUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'the lab needs Linux network namespaces';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'the lab needs root (network namespaces, bridges, nftables): run it with sudo';
  }
  const missing = [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['sysctl', 'procps'],
  ].filter(([c]) => !onPath(c!));
  if (missing.length) {
    return `the lab needs ${missing.map(([c, p]) => `\`${c}\` (apt-get install ${p})`).join(', ')}`;
  }
  return null;
}
const TAG_RE = /^[a-z0-9]{1,16}$/;

function checkTag(tag: string): void {
  if (!TAG_RE.test(tag)) {
    throw new LabError(`lab tag ${JSON.stringify(tag)} must be 1-16 lower-case letters or digits`);
  }
}

/** The namespace names a lab with this tag uses (all of them, whether or not they exist). */
export function labNamespaceNames(tag: string): string[] {
  checkTag(tag);
  return ROLES.map((r) => `vipd-${tag}-${r}`);
}

function existingNamespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

/** Kill every process inside namespace `ns` (by PID, as `ip netns pids` lists them) and delete it. Never throws. */
async function deleteNamespace(ns: string): Promise<void> {
  try {
    const r = await execCapture('ip', ['netns', 'pids', ns], { timeoutMs: 5_000 });
    for (const p of r.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  } catch {
    /* ignore */
  }
  for (let i = 0; i < 3; i++) {
    const r = await execCapture('ip', ['netns', 'del', ns], { timeoutMs: 5_000 });
    if (r.code === 0 || !existsSync(`/run/netns/${ns}`)) return;
    await sleep(50);
  }
}

/**
 * Remove the namespaces of an earlier (crashed) lab with exactly this tag: `vipd-<tag>-{h,sw,u,r1,r2,r3}`,
 * killing their processes by PID first. Returns the names removed. Never touches other namespaces.
 */
export async function cleanStaleLab(tag: string): Promise<string[]> {
  const wanted = new Set(labNamespaceNames(tag));
  const stale = existingNamespaces().filter((n) => wanted.has(n));
  for (const ns of stale) await deleteNamespace(ns);
  return stale;
}

let tagCounter = 0;

/**
 * A tag owned by this process: `<prefix><pid>x<n>` (prefix: 1-6 lower-case letters). Tests use it so that
 * parallel runs never collide, and cleanOrphanLabs(prefix) can later remove the labs of a run that died.
 */
export function processTag(prefix: string): string {
  if (!/^[a-z]{1,6}$/.test(prefix)) throw new LabError(`lab tag prefix ${JSON.stringify(prefix)} must be 1-6 lower-case letters`);
  tagCounter += 1;
  return `${prefix}${process.pid}x${tagCounter}`;
}

/**
 * Remove the labs made by processTag(prefix) in processes that are gone (a crashed or killed test run):
 * namespaces `vipd-<prefix><pid>x<n>-<role>` whose <pid> no longer exists. Labs of live processes are left
 * alone. Returns the namespaces removed.
 */
export async function cleanOrphanLabs(prefix: string): Promise<string[]> {
  if (!/^[a-z]{1,6}$/.test(prefix)) throw new LabError(`lab tag prefix ${JSON.stringify(prefix)} must be 1-6 lower-case letters`);
  const re = new RegExp(`^vipd-${prefix}(\\d+)x\\d+-(?:${ROLES.join('|')})$`);
  const removed: string[] = [];
  for (const ns of existingNamespaces()) {
    const m = re.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (alive) continue;
    await deleteNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

/** A built lab. Create it with `buildTopology()`; always `await topo.destroy()` in `finally`. */
export class Topology {
  readonly tag: string;
  readonly ipv6: boolean;
  readonly vip4: string;
  readonly vip6: string;
  readonly host4 = `${LAN4_PREFIX}.100`;
  readonly host6 = `${LAN6_PREFIX}100`;
  readonly upstream4 = `${WAN4_PREFIX}.100`;
  readonly upstream6 = `${WAN6_PREFIX}100`;
  readonly routers: RouterInfo[];
  /** Namespace names by node. */
  readonly ns: Record<'H' | 'SW' | 'U', string> & Partial<Record<RouterName, string>>;
  /** Fault injections and marks, in order (see mark()). */
  readonly events: LabEvent[] = [];
  readonly processes: LabProcess[] = [];
  private readonly created: string[] = [];
  private readonly dirs: string[] = [];
  private destroyed = false;

  /** Use buildTopology(). */
  constructor(opts: Required<Pick<TopologyOptions, 'tag' | 'routers' | 'ipv6' | 'vip4' | 'vip6'>>) {
    this.tag = opts.tag;
    this.ipv6 = opts.ipv6;
    this.vip4 = opts.vip4;
    this.vip6 = opts.vip6;
    const p = `vipd-${opts.tag}-`;
    this.ns = { H: `${p}h`, SW: `${p}sw`, U: `${p}u` };
    this.routers = [];
    for (let i = 1; i <= opts.routers; i++) {
      const name = `R${i}` as RouterName;
      this.ns[name] = `${p}r${i}`;
      this.routers.push({
        name,
        index: i,
        ns: `${p}r${i}`,
        lanIf: 'eth0',
        wanIf: 'eth1',
        lanPort: `lan-r${i}`,
        wanPort: `wan-r${i}`,
        lan4: `${LAN4_PREFIX}.${10 + i}`,
        lan6: `${LAN6_PREFIX}${10 + i}`,
        wan4: `${WAN4_PREFIX}.${10 + i}`,
        wan6: `${WAN6_PREFIX}${10 + i}`,
      });
    }
  }

  /** The namespace of a node (or a namespace name given as is, if it belongs to this lab). */
  nsOf(node: NodeName | string): string {
    const n = (this.ns as Record<string, string | undefined>)[node];
    if (n) return n;
    if (Object.values(this.ns).includes(node)) return node;
    throw new LabError(`unknown lab node ${node} (have ${Object.keys(this.ns).join(', ')})`);
  }

  router(name: RouterName): RouterInfo {
    const r = this.routers.find((x) => x.name === name);
    if (!r) throw new LabError(`this lab has no router ${name} (it has ${this.routers.map((x) => x.name).join(', ')})`);
    return r;
  }

  /** Record a named moment on the timeline (returns its time); fault helpers call it themselves. */
  mark(name: string): number {
    const t = Date.now();
    this.events.push({ t, name });
    return t;
  }

  /** Run a command in a node's namespace; resolves with stdout, throws a LabError naming node, command, stderr. */
  async exec(node: NodeName | string, cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<string> {
    const r = await execCapture('ip', nsArgs(this.nsOf(node), cmd, args), opts);
    if (r.code !== 0) throw new LabError(`[${node}] ${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout;
  }

  /** Run a command in a node's namespace; resolves with code/stdout/stderr, never rejects. */
  execCapture(node: NodeName | string, cmd: string, args: readonly string[] = [], opts: ExecOptions = {}) {
    return execCapture('ip', nsArgs(this.nsOf(node), cmd, args), opts);
  }

  /** `ip` in a node: topo.ip('R1', 'addr show dev eth0'). */
  ip(node: NodeName | string, line: string): Promise<string> {
    return this.exec(node, 'ip', line.split(/\s+/).filter(Boolean));
  }

  /** Start a long-running process in a node's namespace; destroy() kills it (its process group, by PID). */
  spawn(node: NodeName | string, cmd: string, args: readonly string[] = [], opts: SpawnOptions = {}): LabProcess {
    if (this.destroyed) throw new LabError('lab already destroyed');
    const p = spawnInNs(this.nsOf(node), cmd, args, opts);
    this.processes.push(p);
    return p;
  }

  /** A private temp directory (config, pid files) removed by destroy(). */
  tempDir(prefix = 'tmp'): string {
    const d = makeTempDir(`${this.tag}-${prefix}`);
    this.dirs.push(d);
    return d;
  }

  // ---- fault injection -------------------------------------------------------------------------------------

  /**
   * Take a router's LAN port down. side 'switch': the bridge port in the switch goes down, the router sees
   * NO-CARRIER (cable pulled). side 'router': the router's own eth0 is set admin down.
   */
  async linkDown(name: RouterName, side: 'switch' | 'router' = 'switch'): Promise<number> {
    const r = this.router(name);
    const t = this.mark(`${name} LAN link down (${side} side)`);
    if (side === 'switch') await this.ip('SW', `link set ${r.lanPort} down`);
    else await this.ip(name, `link set ${r.lanIf} down`);
    return t;
  }

  /** Bring a router's LAN port back up (re-adding its static IPv6 address, which the kernel drops on admin down). */
  async linkUp(name: RouterName, side: 'switch' | 'router' = 'switch'): Promise<number> {
    const r = this.router(name);
    const t = this.mark(`${name} LAN link up (${side} side)`);
    if (side === 'switch') {
      await this.ip('SW', `link set ${r.lanPort} up`);
    } else {
      await this.ip(name, `link set ${r.lanIf} up`);
      if (this.ipv6) await this.ip(name, `addr replace ${r.lan6}/64 dev ${r.lanIf} nodad`);
    }
    return t;
  }

  /**
   * Drop a router's frames in the switch with the link up (nftables bridge filter on its bridge port):
   * 'both' (default), 'from-router' (the LAN does not hear it) or 'to-router' (it does not hear the LAN).
   * port 'wan' does the same on its upstream port.
   */
  async blackhole(
    name: RouterName,
    dir: 'both' | 'from-router' | 'to-router' = 'both',
    port: 'lan' | 'wan' = 'lan',
  ): Promise<number> {
    const r = this.router(name);
    const ifn = port === 'lan' ? r.lanPort : r.wanPort;
    const t = this.mark(`${name} ${port.toUpperCase()} blackholed (${dir})`);
    const cmds: string[] = [];
    if (dir !== 'to-router') cmds.push(`add element bridge vipdlab from_router { "${ifn}" }`);
    if (dir !== 'from-router') cmds.push(`add element bridge vipdlab to_router { "${ifn}" }`);
    await this.exec('SW', 'nft', ['-f', '-'], { input: cmds.join('\n') + '\n' });
    return t;
  }

  /** Undo blackhole() for that port (both directions). */
  async unblackhole(name: RouterName, port: 'lan' | 'wan' = 'lan'): Promise<number> {
    const r = this.router(name);
    const ifn = port === 'lan' ? r.lanPort : r.wanPort;
    const t = this.mark(`${name} ${port.toUpperCase()} blackhole removed`);
    // Deleting a missing element is an error in nft; flush-and-refill keeps it idempotent.
    const list = await this.exec('SW', 'nft', ['-j', 'list', 'table', 'bridge', 'vipdlab']);
    const keep = (set: string): string[] => setElements(list, set).filter((e) => e !== ifn);
    const lines = ['flush set bridge vipdlab from_router', 'flush set bridge vipdlab to_router'];
    const f = keep('from_router');
    const g = keep('to_router');
    if (f.length) lines.push(`add element bridge vipdlab from_router { ${f.map((e) => `"${e}"`).join(', ')} }`);
    if (g.length) lines.push(`add element bridge vipdlab to_router { ${g.map((e) => `"${e}"`).join(', ')} }`);
    await this.exec('SW', 'nft', ['-f', '-'], { input: lines.join('\n') + '\n' });
    return t;
  }

  /**
   * Make the LAN bridge flood every unicast frame (no MAC learning: ageing_time 0) or learn again (default
   * 300 s). With flooding, two routers that share a MAC (a VMAC) both receive each request, so two masters
   * show up as duplicate replies in the prober.
   */
  async floodUnicast(on: boolean): Promise<number> {
    const t = this.mark(`LAN bridge ${on ? 'floods unicast' : 'learns MACs'}`);
    await this.ip('SW', `link set br-lan type bridge ageing_time ${on ? 0 : 30000}`);
    return t;
  }

  /** Turn multicast snooping on the LAN bridge on or off. */
  async setSnooping(on: boolean): Promise<number> {
    const t = this.mark(`LAN bridge multicast snooping ${on ? 'on' : 'off'}`);
    await this.ip('SW', `link set br-lan type bridge mcast_snooping ${on ? 1 : 0}`);
    return t;
  }

  // ---- observation -------------------------------------------------------------------------------------------

  /** Every address in a node's namespace (all interfaces, VMACs included), without loopback. */
  async addresses(node: NodeName): Promise<IfAddr[]> {
    const out = await this.exec(node, 'ip', ['-j', 'addr', 'show']);
    const links = JSON.parse(out || '[]') as {
      ifname: string;
      addr_info?: { family: string; local: string; prefixlen: number }[];
    }[];
    const res: IfAddr[] = [];
    for (const l of links) {
      if (l.ifname === 'lo') continue;
      for (const a of l.addr_info ?? []) {
        if (a.family === 'inet' || a.family === 'inet6') {
          res.push({ ifname: l.ifname, family: a.family, local: a.local, prefixlen: a.prefixlen });
        }
      }
    }
    return res;
  }

  /** Does the router hold `vip` (default: the IPv4 VIP) on any interface? */
  async holdsVip(name: RouterName, vip: string = this.vip4): Promise<boolean> {
    const want = canonical(vip);
    return (await this.addresses(name)).some((a) => canonical(a.local) === want);
  }

  /** The routers holding `vip` right now (default: the IPv4 VIP). */
  async vipHolders(vip: string = this.vip4): Promise<RouterName[]> {
    const held = await Promise.all(this.routers.map((r) => this.holdsVip(r.name, vip)));
    return this.routers.filter((_, i) => held[i]).map((r) => r.name);
  }

  /** Wait until exactly `expected` holds the VIP (and no other router); resolves false on timeout. */
  async waitForVipHolders(expected: RouterName[], vip: string = this.vip4, timeoutMs = 10_000): Promise<boolean> {
    const want = [...expected].sort().join(',');
    const end = Date.now() + timeoutMs;
    for (;;) {
      const now = (await this.vipHolders(vip)).sort().join(',');
      if (now === want) return true;
      if (Date.now() > end) return false;
      await sleep(20);
    }
  }

  /** The MAC address of a router's LAN interface (or another interface in its namespace). */
  async mac(name: RouterName, ifname = 'eth0'): Promise<string> {
    const j = JSON.parse(await this.exec(name, 'ip', ['-j', 'link', 'show', 'dev', ifname])) as { address: string }[];
    return j[0]?.address ?? '';
  }

  /** The host's neighbour entry for `ip` (default the IPv4 VIP): the MAC it sends to, or null. */
  async hostNeighbor(ip: string = this.vip4): Promise<string | null> {
    const j = JSON.parse(await this.exec('H', 'ip', ['-j', 'neigh', 'show', 'to', ip])) as {
      lladdr?: string;
      state?: string[];
    }[];
    return j.find((e) => e.lladdr)?.lladdr ?? null;
  }

  // ---- teardown ------------------------------------------------------------------------------------------------

  /** Kill every process this lab spawned (process group, by PID), then delete its namespaces. Never throws. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    for (const p of this.processes) p.kill('SIGKILL', true);
    await Promise.all(this.processes.map((p) => p.waitExit(2_000)));
    const all = new Set([...this.created, ...labNamespaceNames(this.tag).filter((n) => Object.values(this.ns).includes(n))]);
    for (const ns of [...all].reverse()) {
      try {
        await deleteNamespace(ns);
      } catch {
        /* never throw */
      }
    }
    for (const d of this.dirs) removeDir(d);
  }

  /**
   * Destroy the lab when this process gets SIGINT or SIGTERM (Ctrl-C in `vipd lab`), then exit with 130 / 143.
   * Returns a function that removes the handlers.
   */
  destroyOnSignals(): () => void {
    const handler = (sig: NodeJS.Signals): void => {
      off();
      void this.destroy().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    };
    const off = (): void => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    return off;
  }

  /** @internal used by buildTopology */
  noteCreated(ns: string): void {
    this.created.push(ns);
  }
}

function setElements(nftJson: string, set: string): string[] {
  try {
    const j = JSON.parse(nftJson) as { nftables: { set?: { name: string; elem?: unknown[] } }[] };
    for (const o of j.nftables) if (o.set?.name === set) return (o.set.elem ?? []).map(String);
  } catch {
    /* fall through */
  }
  return [];
}

/** A canonical text form for comparing addresses (IPv6 zero compression, case). */
export function canonical(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = 8 - h.length - t.length;
  if (fill < 0) return ip.toLowerCase();
  const groups = tail === undefined ? h : [...h, ...Array<string>(fill).fill('0'), ...t];
  return groups.map((g) => parseInt(g || '0', 16).toString(16)).join(':');
}

function checkAddr(what: string, ip: string, v6: boolean): void {
  const ok = v6
    ? /^[0-9a-fA-F:]+$/.test(ip) && canonical(ip).startsWith('2001:db8:1:0:') && canonical(ip).split(':').length === 8
    : /^192\.0\.2\.(\d{1,3})$/.test(ip) && Number(ip.split('.')[3]) >= 1 && Number(ip.split('.')[3]) <= 254;
  if (!ok) throw new LabError(`${what} ${ip} must be an address in ${v6 ? '2001:db8:1::/64' : '192.0.2.0/24'}`);
}

/**
 * Build the lab. Resolves when every namespace, link, address, route and nft rule is in place (links up).
 * On failure it removes what it made and rethrows.
 */
export async function buildTopology(opts: TopologyOptions = {}): Promise<Topology> {
  const tag = opts.tag ?? 'lab';
  checkTag(tag);
  const nRouters = opts.routers ?? 2;
  if (nRouters !== 2 && nRouters !== 3) throw new LabError(`routers must be 2 or 3, not ${String(nRouters)}`);
  const ipv6 = opts.ipv6 ?? true;
  const vip4 = opts.vip4 ?? DEFAULT_VIP4;
  const vip6 = opts.vip6 ?? DEFAULT_VIP6;
  checkAddr('vip4', vip4, false);
  if (ipv6) checkAddr('vip6', vip6, true);
  const topo = new Topology({ tag, routers: nRouters, ipv6, vip4, vip6 });
  const taken = new Set([topo.host4, ...topo.routers.map((r) => r.lan4)]);
  if (taken.has(vip4)) throw new LabError(`vip4 ${vip4} is a host or router address`);
  if (ipv6 && new Set([topo.host6, ...topo.routers.map((r) => r.lan6)].map(canonical)).has(canonical(vip6))) {
    throw new LabError(`vip6 ${vip6} is a host or router address`);
  }

  if (opts.cleanStale ?? true) await cleanStaleLab(tag);
  try {
    await build(topo, opts, ipv6);
  } catch (e) {
    await topo.destroy();
    throw e;
  }
  return topo;
}

async function build(topo: Topology, opts: TopologyOptions, ipv6: boolean): Promise<void> {
  const { H, SW, U } = topo.ns;
  const all = [H, SW, U, ...topo.routers.map((r) => r.ns)];
  for (const ns of all) {
    if (existsSync(`/run/netns/${ns}`)) {
      throw new LabError(`namespace ${ns} already exists (another lab with tag ${topo.tag} is running?)`);
    }
  }
  for (const ns of all) {
    await execOk('ip', ['netns', 'add', ns]);
    topo.noteCreated(ns);
  }
  const sysctl = (ns: string, kv: string[]): Promise<string> => execOk('ip', nsArgs(ns, 'sysctl', ['-q', '-w', ...kv]));
  const batch = (ns: string, lines: string[]): Promise<string> =>
    execOk('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });

  // Per-namespace sysctls before any link exists, so new interfaces inherit `default`.
  // The switch has no IP presence at all; the end hosts take no router advertisements and skip DAD.
  await sysctl(SW, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const v6conf = (on: boolean): string[] =>
    on
      ? ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.accept_ra=0']
      : ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
  // ping_group_range: the prober uses ICMP "ping sockets" (kernel-side echo identifiers), which need it.
  const ping = 'net.ipv4.ping_group_range=0 2147483647';
  await sysctl(H, [ping, ...v6conf(ipv6)]);
  await sysctl(U, [ping, ...v6conf(ipv6)]);
  for (const r of topo.routers) {
    const kv = ['net.ipv4.ip_forward=1', ...v6conf(ipv6)];
    if (ipv6) kv.push('net.ipv6.conf.all.forwarding=1');
    await sysctl(r.ns, kv);
  }

  // The switch: two bridges, one veth per attached node (created here, peer moved into the node as eth0/eth1).
  const snoop = opts.snooping ? 1 : 0;
  const sw: string[] = [
    'link set lo up',
    `link add br-lan type bridge stp_state 0 forward_delay 0 mcast_snooping ${snoop}` +
      (opts.snooping && opts.querier ? ' mcast_querier 1' : ''),
    'link add br-wan type bridge stp_state 0 forward_delay 0 mcast_snooping 0',
    `link add lan-h type veth peer name eth0 netns ${H}`,
    `link add wan-u type veth peer name eth0 netns ${U}`,
  ];
  for (const r of topo.routers) {
    sw.push(`link add ${r.lanPort} type veth peer name eth0 netns ${r.ns}`);
    sw.push(`link add ${r.wanPort} type veth peer name eth1 netns ${r.ns}`);
  }
  const ports = ['lan-h', ...topo.routers.map((r) => r.lanPort)];
  const wports = ['wan-u', ...topo.routers.map((r) => r.wanPort)];
  for (const p of ports) sw.push(`link set ${p} master br-lan`);
  for (const p of wports) sw.push(`link set ${p} master br-wan`);
  for (const p of [...ports, ...wports, 'br-lan', 'br-wan']) sw.push(`link set ${p} up`);
  await batch(SW, sw);
  // The blackhole filter: frames in from / out to a listed bridge port are dropped, link up.
  await execOk('ip', nsArgs(SW, 'nft', ['-f', '-']), {
    input: [
      'table bridge vipdlab {',
      '  set from_router { type ifname; }',
      '  set to_router { type ifname; }',
      '  chain forward { type filter hook forward priority 0; policy accept;',
      '    iifname @from_router drop',
      '    oifname @to_router drop',
      '  }',
      '}',
      '',
    ].join('\n'),
  });

  const hostCmds = ['link set lo up', `addr add ${topo.host4}/24 dev eth0`, 'link set eth0 up', `route add default via ${topo.vip4}`];
  if (ipv6) {
    hostCmds.splice(2, 0, `addr add ${topo.host6}/64 dev eth0 nodad`);
    hostCmds.push(`route add default via ${topo.vip6} dev eth0`);
  }
  await batch(H, hostCmds);

  const upCmds = ['link set lo up', `addr add ${topo.upstream4}/24 dev eth0`, 'link set eth0 up'];
  if (ipv6) upCmds.splice(2, 0, `addr add ${topo.upstream6}/64 dev eth0 nodad`);
  await batch(U, upCmds);

  for (const r of topo.routers) {
    const c = ['link set lo up', `addr add ${r.lan4}/24 dev eth0`, `addr add ${r.wan4}/24 dev eth1`];
    if (ipv6) c.push(`addr add ${r.lan6}/64 dev eth0 nodad`, `addr add ${r.wan6}/64 dev eth1 nodad`);
    c.push('link set eth0 up', 'link set eth1 up');
    await batch(r.ns, c);
    if (opts.masquerade ?? true) {
      await execOk('ip', nsArgs(r.ns, 'nft', ['-f', '-']), {
        input: [
          'table inet vipdlab {',
          '  chain postrouting { type nat hook postrouting priority srcnat; policy accept;',
          `    oifname "eth1" ip saddr ${LAN4_PREFIX}.0/24 masquerade`,
          ...(ipv6 ? [`    oifname "eth1" ip6 saddr ${LAN6_PREFIX}/64 masquerade`] : []),
          '  }',
          '}',
          '',
        ].join('\n'),
      });
    }
  }
  // Wait for carrier on every veth end (IPv6 link-locals are usable at once: DAD is off in the end hosts).
  const ready = async (): Promise<boolean> => {
    for (const ns of [H, U, ...topo.routers.map((r) => r.ns)]) {
      const j = JSON.parse(await execOk('ip', ['-n', ns, '-j', 'link', 'show'])) as { ifname: string; operstate: string }[];
      if (j.some((l) => l.ifname !== 'lo' && l.operstate !== 'UP')) return false;
    }
    return true;
  };
  const end = Date.now() + 5_000;
  while (!(await ready())) {
    if (Date.now() > end) throw new LabError('lab links did not come up within 5 s');
    await sleep(20);
  }
}
