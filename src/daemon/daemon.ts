/**
 * The vipd daemon: reads a keepalived.conf, runs one Instance per vrrp_instance on real sockets and real time, and
 * carries out their actions through the Linux layer (src/linux). Implements DaemonControl for the control plane.
 *
 * The path of one advert: VrrpSocket (poll) -> onPacket -> decodeIPv4/decodeIPv6 (src/wire) -> demultiplex by
 * family, interface and VRID (or unicast peer) -> checkAdvert -> Instance.onAdvert -> step() (src/core) -> actions
 * -> Host methods here (send, addresses, GARP/NA) and timers in Instance.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { parseConfig, formatDiagnostic } from '../config/index.js';
import type { KeepalivedConfig, SyncGroup, VirtualAddress, VrrpInstance } from '../config/model.js';
import {
  GarpSender,
  Routes,
  Rtnl,
  VipFirewall,
  RtnlMonitor,
  SysError,
  VmacManager,
  VrrpSocket,
  processRunning,
  setRealtimePriority,
  type AddrSpec,
  type LinkInfo,
  type RtnlEvent,
  type VrrpPacket,
} from '../linux/index.js';
import { readStateFile, removeStateFile, writeStateFile } from '../linux/state-file.js';
import { IFA_F_SECONDARY } from '../wire/netlink.js';
import { formatIP, isIPv6LinkLocal, isMulticast, parseIP, sameAddr } from '../wire/inet.js';
import { parseRouteSpec, parseRuleSpec, type RouteSpec, type RuleSpec } from '../wire/route-spec.js';
import { checkAdvert, decodeIPv4, decodeIPv6, encodeAdvert, type DecodeResult, type Rejection } from '../wire/vrrp.js';
import { VERSION } from '../version.js';
import type { DaemonControl, DaemonStatus, ReloadResult, TrackerStatus, TransitionInfo } from './api.js';
import { Instance, newCounters, REASON_COUNTER, type Attachment, type Host, type RxMemo } from './instance.js';
import { Logger } from './log.js';
import { Notifier, ScriptSecurity, type NotifyState, type ScriptLog } from './notify.js';
import { syncGroupStep, type GroupState, type MemberState, type SyncGroupView } from './syncgroup.js';
import { Tracker } from './track.js';

export interface DaemonOptions {
  configFile: string;
  instanceId?: string;
  /** Directory for the state file (what to clean up after a crash). */
  stateDir: string;
  logFormat?: 'text' | 'json';
  debug?: boolean;
  /** SCHED_FIFO priority (1-99) and mlockall, or null. */
  realtimePriority?: number | null;
  logger?: Logger;
  /** On stop, masters hold their addresses until the new master is heard (default true). */
  makeBeforeBreak?: boolean;
}

/** Where a VIP goes: interface index, name and the MAC to announce it with. */
interface Placement {
  vip: VirtualAddress;
  bytes: Uint8Array;
  ifindex: number;
  ifname: string;
  mac: Uint8Array;
}

interface StateFile {
  pid: number;
  vips: Array<{ ifname: string; family: 4 | 6; address: string; prefix: number }>;
  vmacs: string[];
}

const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };

export class DaemonError extends Error {}

export class Daemon extends EventEmitter implements DaemonControl, Host {
  readonly log: Logger;
  private config: KeepalivedConfig | null = null;
  private instances: Instance[] = [];
  private rtnl: Rtnl | null = null;
  private monitor: RtnlMonitor | null = null;
  private sockets: { 4: VrrpSocket | null; 6: VrrpSocket | null } = { 4: null, 6: null };
  private garpSender: GarpSender | null = null;
  private vmacs: VmacManager | null = null;
  private placements = new Map<Instance, Placement[]>();
  private vipsReady = new Map<Instance, Promise<void>>();
  private installed = new Map<string, { ifname: string; family: 4 | 6; address: string; prefix: number }>();
  private linkState = new Map<number, boolean>();
  private readonly startedAt = new Date();
  private stopping: Promise<void> | null = null;
  /** True once the state directory is ours (after stale cleanup); only then may stop() remove the state file. */
  private ownsState = false;
  private acceptedErrors = new Set<string>();
  private readonly reattaching = new Set<Instance>();
  private reloading = false;
  private tracker: Tracker | null = null;
  private routes: Routes | null = null;
  private firewall: VipFirewall | null = null;
  /** VMAC name -> parent ifindex: IGMP/MLD leaving these is dropped and copied out of the parent (keepalived #882). */
  private readonly vmacFilter = new Map<string, number>();
  private parsedRoutes = new Map<Instance, { routes: RouteSpec[]; rules: RuleSpec[] }>();
  private notifier: Notifier | null = null;
  private groups = new Map<string, { cfg: SyncGroup; state: GroupState; wantMaster: Set<string> }>();
  /** Own interface down (keepalived tracks the instance's interface unless dont_track_primary). */
  private linkFault = new Map<Instance, boolean>();
  private faultApplied = new Map<Instance, boolean>();
  private readonly scriptLog: ScriptLog = {
    info: (m) => this.log.info(m),
    warn: (m) => this.log.warn(m),
    error: (m) => this.log.error(m),
  };
  /** Packets that matched no instance, by reason. */
  readonly unmatched = newCounters();
  // Receive fast path (see onPacket): multicast instances by family/ifindex/VRID, the distinct advert sources of our
  // own instances, both rebuilt when the instance list or an attachment changes.
  private readonly rxIndex = new Map<number, Instance>();
  private ownSrc: { 4: Uint8Array[]; 6: Uint8Array[] } = { 4: [], 6: [] };
  private rxBuiltFor: Instance[] | null = null;
  private rxBuiltSeq = -1;
  private attachSeq = 0;
  private readonly groupMemo = new WeakMap<Instance, { cfg: VrrpInstance; conf: KeepalivedConfig | null; bytes: Uint8Array }>();

  constructor(private readonly opts: DaemonOptions) {
    super();
    this.log = opts.logger ?? new Logger({ format: opts.logFormat ?? 'text', debug: opts.debug ?? false });
  }

  nowUs(): number {
    return Math.floor(performance.now() * 1000);
  }

  // --- start ----------------------------------------------------------------------------------------------------

  /** Read the configuration; returns it or throws DaemonError with the diagnostics. */
  loadConfig(): KeepalivedConfig {
    const res = parseConfig(this.opts.configFile, this.opts.instanceId !== undefined ? { instanceId: this.opts.instanceId } : {});
    // Errors keepalived corrects and runs with (as vipd does at start) do not make a later reload fail.
    this.acceptedErrors = new Set(res.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message));
    for (const d of res.diagnostics) {
      const line = formatDiagnostic(d);
      if (d.severity === 'error') this.log.error(line);
      else if (d.severity === 'warning') this.log.warn(line);
      else this.log.info(line);
    }
    if (!res.usable) throw new DaemonError(`${this.opts.configFile}: configuration is not usable (see the errors above)`);
    return res.config;
  }

  async start(): Promise<void> {
    this.log.info(`Starting vipd ${VERSION} (VRRP)`);
    const config = this.loadConfig();
    this.config = config;
    if (config.instances.length === 0) this.log.warn('No vrrp_instance configured: nothing to do');
    if (this.opts.realtimePriority) {
      try {
        // SCHED_FIFO only. keepalived also mlockall()s (vrrp_no_swap), but V8 aborts when it discards pages of a
        // locked process (mprotect/madvise fail with VM_LOCKED: seen within seconds at 50 instances x 10 ms), so vipd
        // does not lock memory; run it on a host without swap pressure instead (docs/daemon.md).
        setRealtimePriority(this.opts.realtimePriority);
        this.log.info(`Realtime scheduling: SCHED_FIFO priority ${this.opts.realtimePriority} (memory not locked: see docs/daemon.md)`);
      } catch (e) {
        this.log.warn(`Realtime scheduling not available: ${(e as Error).message}`);
      }
    }
    this.rtnl = Rtnl.open();
    this.routes = new Routes(this.rtnl);
    this.vmacs = new VmacManager(this.rtnl);
    this.garpSender = GarpSender.open();
    const families = new Set(config.instances.map((i) => i.family));
    for (const f of families) {
      const s = VrrpSocket.open(f, { rcvbuf: 4 << 20 });
      s.onPacket(
        (p) => this.onPacket(p),
        (err) => this.log.limited(`sock${f}`, 'error', `VRRP socket IPv${f}: ${err.message}`),
      );
      this.sockets[f] = s;
    }
    this.monitor = RtnlMonitor.open({
      onEvent: (ev) => this.onNetlink(ev),
      onResync: (snap) => {
        this.log.warn('Netlink event overflow (ENOBUFS): resynchronised from a full dump');
        for (const link of snap.links) this.onLink(link);
        this.restoreMissingVips(snap.addrs);
      },
      onError: (err) => this.log.limited('rtnl', 'error', `netlink events: ${err.message}`),
    });
    await this.cleanupStale();
    this.ownsState = true;
    this.instances = config.instances.map((c) => new Instance(c, this));
    await this.removeConfiguredAddresses();
    for (const inst of this.instances) await this.attachInstance(inst);
    await this.setupTracking(config, null);
    await this.applyFirewall(config);
    this.writeState();
    const delay = config.global.startupDelay;
    if (delay > 0) {
      this.log.info(`Delaying startup for ${delay} seconds (vrrp_startup_delay)`);
      await new Promise((r) => setTimeout(r, delay * 1000));
    }
    for (const inst of this.instances) if (inst.attachment) inst.startup();
  }

  /** Resolve interface facts, create the VMAC, join the group. On failure the instance stays in FAULT. */
  private async attachInstance(inst: Instance): Promise<void> {
    const c = inst.cfg;
    try {
      if (!c.interface) throw new DaemonError(`(${c.name}) no interface configured (unicast without interface is not supported yet)`);
      const link = await this.rtnl!.getLink(c.interface);
      if (!link) throw new DaemonError(`(${c.name}) interface ${c.interface} does not exist`);
      let vmac = null;
      if (c.useVmac) {
        const mac = c.vmacAddress ? parseMac(c.vmacAddress) : undefined;
        // Before ensure(): the kernel sends MLD/IGMP reports as soon as the VMAC is up, and a BACKUP's reports from
        // the VMAC MAC would teach the switch the wrong port (measured: up to one advert interval lost on failback).
        this.vmacFilter.set(c.useVmac, link.ifindex);
        await this.applyVmacFilter();
        vmac = await this.vmacs!.ensure({
          parent: c.interface,
          vrid: c.virtualRouterId,
          family: c.family,
          name: c.useVmac,
          ...(mac ? { mac } : {}),
          disableIpv6: c.family === 4 && !c.vipsExcluded.some((v) => v.family === 6),
        });
        this.log.info(`(${c.name}) Using VMAC ${vmac.name} on ${c.interface}`);
      }
      const src = await this.sourceAddress(inst, link, vmac?.linkLocal ?? null);
      const xmitBase = c.vmacXmitBase || inst.unicast;
      const txIfindex = vmac && !xmitBase ? vmac.ifindex : link.ifindex;
      const a: Attachment = {
        ifname: c.interface,
        ifindex: link.ifindex,
        txIfindex,
        rxIfindex: txIfindex,
        vmacName: vmac?.name ?? null,
        vmacIfindex: vmac?.ifindex ?? null,
        mac: vmac?.mac ?? link.mac ?? new Uint8Array(6),
        src,
        srcText: formatIP(c.family, src),
      };
      if (!inst.unicast) this.sockets[c.family]!.join(a.rxIfindex);
      inst.attach(a);
      this.attachSeq++;
      this.placements.set(inst, await this.placeVips(inst, a));
      const up = link.up && link.lowerUp;
      this.linkState.set(link.ifindex, up);
      this.linkFault.set(inst, !up);
      this.refreshFault(inst);
    } catch (e) {
      this.log.error(e instanceof SysError || e instanceof DaemonError ? `(${c.name}) ${stripName(e.message, c.name)}` : `(${c.name}) ${(e as Error).message}`);
      this.log.info(`(${c.name}) Entering FAULT STATE (init)`);
    }
  }

  private async sourceAddress(inst: Instance, link: LinkInfo, vmacLinkLocal: Uint8Array | null): Promise<Uint8Array> {
    const c = inst.cfg;
    const given = c.unicastSrcIp ?? c.mcastSrcIp;
    if (given) {
      const p = parseIP(given);
      if (!p || p.family !== c.family) throw new DaemonError(`source address ${given} is not an IPv${c.family} address`);
      return p.bytes;
    }
    if (c.family === 6 && vmacLinkLocal) return vmacLinkLocal;
    const addrs = (await this.rtnl!.listAddrs(c.family)).filter((a) => a.ifindex === link.ifindex);
    const vips = new Set(inst.installs.map((v) => v.address));
    const pick =
      c.family === 4
        ? addrs.find((a) => (a.flags & IFA_F_SECONDARY) === 0 && !vips.has(formatIP(4, a.address)))
        : addrs.find((a) => isIPv6LinkLocal(a.address));
    if (!pick) throw new DaemonError(`interface ${link.name} has no ${c.family === 4 ? 'IPv4 address' : 'IPv6 link-local address'} to send adverts from`);
    return pick.address;
  }

  private async placeVips(inst: Instance, a: Attachment): Promise<Placement[]> {
    const out: Placement[] = [];
    for (const vip of inst.installs) {
      const bytes = parseIP(vip.address)?.bytes;
      if (!bytes) continue;
      let ifindex = a.vmacIfindex ?? a.ifindex;
      let ifname = a.vmacName ?? a.ifname;
      let mac = a.mac;
      if (vip.dev && !(vip.useVmac && a.vmacIfindex)) {
        const l = await this.rtnl!.getLink(vip.dev);
        if (!l) {
          this.log.error(`(${inst.name}) interface ${vip.dev} for VIP ${vip.text} does not exist - ignoring the address`);
          continue;
        }
        ifindex = l.ifindex;
        ifname = l.name;
        mac = l.mac ?? mac;
      }
      out.push({ vip, bytes, ifindex, ifname, mac });
    }
    return out;
  }

  // --- receive --------------------------------------------------------------------------------------------------

  /**
   * One received packet. The hot path at a backup is the same advert again and again (200 instances at 0.1 s: 2000
   * a second), so it avoids work that does not change: the instance is found through an index (verified on every
   * hit), and a packet byte-identical to the last one this instance accepted (same VRRP bytes, IP header but for the
   * identification and header checksum the kernel already checked, source, destination, TTL) reuses that decode.
   * Everything that depends on our own state (checkAdvert, unicast peers, the state machine) still runs every time.
   */
  private onPacket(p: VrrpPacket): void {
    const family = p.family;
    if (this.rxBuiltFor !== this.instances || this.rxBuiltSeq !== this.attachSeq) this.buildRxIndex();
    // Our own adverts (multicast loop is off, but a second instance may share the segment): ignore.
    for (const own of this.ownSrc[family]) if (sameAddr(own, p.src)) return;
    const multicast = isMulticast(p.dst);
    const vridPeek = family === 4 ? peekVrid4(p.data) : p.data.length > 1 ? p.data[1]! : -1;
    const inst = this.match(family, vridPeek, p, multicast);
    if (p.truncated) return this.reject(inst, { ok: false, reason: 'length', detail: 'packet truncated (larger than the receive buffer)' }, p);
    const memo = inst?.rxMemo;
    let dec: DecodeResult;
    if (memo && sameRx(memo, p, multicast)) {
      dec = memo.dec;
    } else {
      dec =
        family === 4
          ? decodeIPv4(p.data, { requireTtl255: multicast, checksum: 'either' })
          : decodeIPv6(p.data, { src: p.src, dst: p.dst, hopLimit: p.ttlOrHopLimit }, { requireTtl255: multicast, checksum: 'either' });
      if (dec.ok && inst) {
        inst.rxMemo = { data: p.data.slice(), src: p.src.slice(), dst: p.dst.slice(), ttl: p.ttlOrHopLimit, multicast, dec };
      }
    }
    if (!dec.ok) return this.reject(inst, dec, p);
    if (!inst) return this.reject(null, { ok: false, reason: 'vrid', detail: `VRID ${dec.advert.vrid} not configured on this interface` }, p);
    if (!multicast) {
      const peer = inst.cfg.unicastPeers.find((x) => x.address === dec.src);
      if (!peer) return this.reject(inst, { ok: false, reason: 'unicast_peer', detail: `unicast source address ${dec.src} not a unicast peer` }, p);
      const ttl = dec.ttl;
      if ((peer.minTtl !== null && ttl < peer.minTtl) || (peer.maxTtl !== null && ttl > peer.maxTtl)) {
        return this.reject(inst, { ok: false, reason: 'ttl', detail: `TTL/HL ${ttl} not in range ${peer.minTtl ?? 0} - ${peer.maxTtl ?? 255}` }, p);
      }
    }
    const chk = checkAdvert(dec.advert, inst.expectation());
    if (!chk.ok) return this.reject(inst, chk, p);
    if (chk.addrListMismatch) {
      inst.counters.addr_list_err++;
      this.log.limited(`${inst.name}:addr`, 'warning', `(${inst.name}) expected ${inst.advertised.length} VIPs [${inst.advertised.join(' ')}] but received ${dec.advert.addresses.length} [${dec.advert.addresses.join(' ')}] - accepted (RFC 5798 §7.1 logs only)`);
    }
    inst.onAdvert(dec.advert, p.src, dec.src, dec.checksumForm);
  }

  /** Rebuild the receive index and the own-source list (after a reload or an attachment). */
  private buildRxIndex(): void {
    this.rxIndex.clear();
    const own: { 4: Uint8Array[]; 6: Uint8Array[] } = { 4: [], 6: [] };
    for (const inst of this.instances) {
      const a = inst.attachment;
      if (!a) continue;
      if (!own[inst.family].some((x) => sameAddr(x, a.src))) own[inst.family].push(a.src);
      if (!inst.unicast) {
        const key = rxKey(inst.family, a.rxIfindex, inst.vrid);
        if (!this.rxIndex.has(key)) this.rxIndex.set(key, inst); // the first wins, as in the linear search
      }
      inst.rxMemo = null;
    }
    this.ownSrc = own;
    this.rxBuiltFor = this.instances;
    this.rxBuiltSeq = this.attachSeq;
  }

  /** The instance a packet is for: same family and VRID, and either the receive interface (multicast) or a configured peer (unicast). */
  private match(family: 4 | 6, vrid: number, p: VrrpPacket, multicast: boolean): Instance | null {
    if (multicast) {
      const hit = this.rxIndex.get(rxKey(family, p.ifindex, vrid));
      // The index is a cache of the search below: trust a hit only when it still holds.
      if (hit && hit.family === family && hit.vrid === vrid && !hit.unicast && hit.attachment?.rxIfindex === p.ifindex) return hit;
    }
    for (const inst of this.instances) {
      if (inst.family !== family || inst.vrid !== vrid || !inst.attachment) continue;
      if (multicast) {
        if (!inst.unicast && inst.attachment.rxIfindex === p.ifindex) return inst;
      } else if (inst.unicast && inst.peers.some((x) => sameAddr(x, p.src))) {
        return inst;
      }
    }
    // A unicast packet from an unknown source still belongs to the instance with that VRID on that interface.
    if (!multicast) {
      for (const inst of this.instances) if (inst.family === family && inst.vrid === vrid && inst.unicast && inst.attachment) return inst;
    }
    return null;
  }

  private reject(inst: Instance | null, r: Rejection, p: VrrpPacket): void {
    this.emit('reject', inst?.name ?? null, r.reason);
    if (!inst) {
      this.unmatched[REASON_COUNTER[r.reason]]++;
      if (r.reason !== 'vrid') this.log.limited(`unmatched:${r.reason}`, 'warning', `Discarding bogus packet from ${formatIP(p.family, p.src)}: ${r.detail}`);
      return;
    }
    inst.countReject(r.reason);
    this.log.limited(`${inst.name}:${r.reason}`, 'warning', `(${inst.name}) ${rejectMessage(inst, r, p)}`);
  }

  // --- Host: actions ---------------------------------------------------------------------------------------------

  sendAdvert(inst: Instance, priority: number): void {
    const a = inst.attachment;
    const s = this.sockets[inst.family];
    if (!a || !s) return;
    const dsts = inst.unicast ? inst.peers : [this.groupOf(inst)];
    for (let i = 0; i < dsts.length; i++) {
      const dst = dsts[i]!;
      // A master sends the same bytes every interval: encode again only when something in them changed.
      const m = inst.txMemo[i];
      let bytes: Uint8Array;
      if (m && m.priority === priority && m.cfg === inst.cfg && m.src === a.src && m.form === inst.checksumForm && sameAddr(m.dst, dst)) {
        bytes = m.bytes;
      } else {
        const enc = encodeAdvert(
          {
            version: inst.version,
            family: inst.family,
            vrid: inst.vrid,
            priority,
            interval: inst.wireInterval,
            addresses: inst.advertised,
            authType: inst.authType,
            authData: inst.authData,
          },
          { src: a.src, dst, checksumForm: inst.checksumForm },
        );
        if (!enc.ok) {
          this.log.limited(`${inst.name}:enc`, 'error', `(${inst.name}) cannot build advert: ${enc.error}`);
          return;
        }
        bytes = enc.bytes;
        inst.txMemo[i] = { priority, cfg: inst.cfg, src: a.src, dst: dst.slice(), form: inst.checksumForm, bytes };
      }
      const r = s.trySend(bytes, { ifindex: a.txIfindex, src: a.src, dst });
      if (r < 0) this.log.limited(`${inst.name}:send`, 'error', `(${inst.name}) Cant send advert to ${formatIP(inst.family, dst)} (errno ${-r})`);
    }
  }

  private groupOf(inst: Instance): Uint8Array {
    // Parsed once per instance configuration (this runs for every advert sent).
    const memo = this.groupMemo.get(inst);
    if (memo && memo.cfg === inst.cfg && memo.conf === this.config) return memo.bytes;
    const g = inst.cfg.mcastDstIp ?? (inst.family === 4 ? this.config!.global.mcastGroup4 : this.config!.global.mcastGroup6);
    const bytes = parseIP(g)?.bytes ?? (inst.family === 4 ? Uint8Array.of(224, 0, 0, 18) : parseIP('ff02::12')!.bytes);
    this.groupMemo.set(inst, { cfg: inst.cfg, conf: this.config, bytes });
    return bytes;
  }

  private addrSpec(p: Placement): AddrSpec {
    const v = p.vip;
    const spec: AddrSpec = { family: v.family, ifindex: p.ifindex, address: p.bytes, prefixlen: v.prefix, dad: !v.nodad };
    if (v.family === 4 && v.brd && v.brd !== '-') {
      const b = v.brd === '+' ? broadcastOf(p.bytes, v.prefix) : parseIP(v.brd)?.bytes;
      if (b) spec.broadcast = b;
    }
    if (v.label) spec.label = v.label;
    if (v.scope) {
      const s = SCOPES[v.scope] ?? Number(v.scope);
      if (Number.isInteger(s)) spec.scope = s;
    }
    return spec;
  }

  addVips(inst: Instance): void {
    const ps = this.placements.get(inst) ?? [];
    const ready = Promise.all(
      ps.map(async (p) => {
        try {
          await this.rtnl!.addAddress(this.addrSpec(p), p.ifname);
        } catch (e) {
          if ((e as SysError).code !== 'EEXIST') this.log.error(`(${inst.name}) ${(e as Error).message}`);
        }
        this.installed.set(`${p.ifname}|${p.vip.address}`, { ifname: p.ifname, family: p.vip.family, address: p.vip.address, prefix: p.vip.prefix });
      }),
    )
      .then(() => this.routesFor(inst, true))
      .then(() => this.scheduleStateWrite());
    this.vipsReady.set(inst, ready);
  }

  /** keepalived's no_accept: one nftables table of vipd's own, set at start-up and on reload, never on takeover. */
  private async applyFirewall(config: KeepalivedConfig): Promise<void> {
    const vips = config.instances
      .filter((c) => !c.accept && c.priority !== 255)
      .flatMap((c) => [...c.vips, ...c.vipsExcluded].map((v) => ({ family: v.family, address: v.address })));
    if (vips.length === 0 && !this.firewall) return;
    try {
      this.firewall ??= VipFirewall.open();
      await this.firewall.apply(vips);
      if (vips.length > 0) this.log.info(`no_accept: nftables table inet vipd drops traffic to ${vips.length} VIP(s)`);
    } catch (e) {
      this.log.error(`no_accept cannot be enforced: ${(e as Error).message}`);
    }
  }

  /** keepalived #882: no IGMP/MLD from a VMAC (a BACKUP's would teach switches the VMAC's port); copies leave the parent. */
  private async applyVmacFilter(): Promise<void> {
    const list = [...this.vmacFilter].map(([name, parentIndex]) => ({ name, parentIndex }));
    if (list.length === 0 && !this.firewall) return;
    try {
      this.firewall ??= VipFirewall.open();
      await this.firewall.setVmacs(list);
    } catch (e) {
      this.log.error(`VMAC IGMP/MLD filter cannot be installed: ${(e as Error).message}`);
    }
  }

  /** virtual_routes / virtual_rules, installed with the VIPs and removed with them. */
  private async routesFor(inst: Instance, add: boolean): Promise<void> {
    let parsed = this.parsedRoutes.get(inst);
    if (!parsed) {
      parsed = { routes: [], rules: [] };
      for (const r of inst.cfg.virtualRoutes) {
        const res = parseRouteSpec(r.text, { family: inst.family });
        if (res.ok) parsed.routes.push(res.spec);
        else this.log.error(`(${inst.name}) virtual_routes "${r.text}": ${res.error} - ignoring`);
      }
      for (const r of inst.cfg.virtualRules) {
        const res = parseRuleSpec(r.text, { family: inst.family });
        if (res.ok) parsed.rules.push(res.spec);
        else this.log.error(`(${inst.name}) virtual_rules "${r.text}": ${res.error} - ignoring`);
      }
      this.parsedRoutes.set(inst, parsed);
    }
    const rt = this.routes!;
    const run = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        this.log.error(`(${inst.name}) ${what}: ${(e as Error).message}`);
      }
    };
    if (add) {
      for (const r of parsed.rules) await run('add rule', () => rt.addRule(r));
      for (const r of parsed.routes) await run('add route', () => rt.addRoute(r, { replace: true }));
    } else {
      for (const r of parsed.routes) await run('delete route', () => rt.delRoute(r, { ignoreMissing: true }));
      for (const r of parsed.rules) await run('delete rule', () => rt.delRule(r, { ignoreMissing: true }));
    }
  }

  removeVips(inst: Instance): void {
    const ps = this.placements.get(inst) ?? [];
    const before = this.vipsReady.get(inst) ?? Promise.resolve();
    const done = before.then(() =>
      Promise.all(
        ps.map(async (p) => {
          try {
            await this.rtnl!.delAddress(this.addrSpec(p), p.ifname);
          } catch (e) {
            const code = (e as SysError).code;
            if (code !== 'EADDRNOTAVAIL' && code !== 'ENOENT' && code !== 'ENODEV') this.log.error(`(${inst.name}) ${(e as Error).message}`);
          }
          this.installed.delete(`${p.ifname}|${p.vip.address}`);
        }),
      )
        .then(() => this.routesFor(inst, false))
        .then(() => this.scheduleStateWrite()),
    );
    this.vipsReady.set(inst, done);
  }

  announce(inst: Instance, repeat: number): Promise<void> {
    const ps = this.placements.get(inst) ?? [];
    const g = inst.cfg.garp;
    const epoch = inst.epoch;
    const ready = this.vipsReady.get(inst) ?? Promise.resolve();
    let firstSent: () => void = () => undefined;
    const first = new Promise<void>((r) => (firstSent = r));
    // RFC 5798 §8.1.2 / §8.2.2: announce only once the addresses are configured.
    void ready.then(async () => {
      for (let i = 0; i < repeat; i++) {
        if (i === 1) firstSent();
        if (i > 0) {
          const gap = ps.some((p) => p.vip.family === 4) ? g.garpInterval : g.gnaInterval;
          if (gap > 0) await sleep(gap * 1000);
          if (inst.state !== 'MASTER' || inst.epoch !== epoch) return;
        }
        for (const p of ps) {
          try {
            if (p.vip.family === 4) this.garpSender!.sendGarp(p.ifindex, p.mac, p.bytes);
            else this.garpSender!.sendNa(p.ifindex, p.mac, naSource(inst, p), p.bytes, { router: true });
          } catch (e) {
            this.log.limited(`${inst.name}:garp`, 'error', `(${inst.name}) ${(e as Error).message}`);
          }
          if (i === 0) this.log.debug(`(${inst.name}) Sending/queueing ${p.vip.family === 4 ? 'gratuitous ARPs' : 'Unsolicited Neighbour Adverts'} on ${p.ifname} for ${p.vip.address}`);
        }
      }
      firstSent();
    });
    return first;
  }

  drainSockets(): void {
    this.sockets[4]?.drain();
    this.sockets[6]?.drain();
  }

  onTransition(inst: Instance, info: TransitionInfo): void {
    this.emit('transition', inst.name, inst.family, info);
    const prio = inst.vr?.priority ?? inst.cfg.priority;
    const ns: NotifyState | null =
      info.to === 'MASTER' || info.to === 'BACKUP' || info.to === 'FAULT' ? info.to : info.reason === 'shutdown' ? 'STOP' : null;
    if (ns) this.notifier?.instanceTransition(inst.cfg, ns, ns === 'STOP' ? 0 : prio);
    this.syncGroupMove(inst, info);
  }

  // --- tracking, sync groups, notify --------------------------------------------------------------------------------

  private async setupTracking(config: KeepalivedConfig, prev: Tracker | null): Promise<void> {
    const security = new ScriptSecurity(config.global, this.scriptLog);
    const tracker = new Tracker(config, { log: this.scriptLog, security });
    if (prev) tracker.adoptState(prev);
    const links = new Map((await this.rtnl!.listLinks()).map((l) => [l.name, l.up && l.lowerUp]));
    for (const name of tracker.trackedInterfaces()) tracker.setInterface(name, links.get(name) ?? false);
    tracker.on('change', (name: string) => this.refreshTracking(name));
    prev?.stop();
    this.tracker = tracker;
    this.notifier?.close();
    this.notifier = new Notifier(config.global, { log: this.scriptLog, security });
    const groups = new Map<string, { cfg: SyncGroup; state: GroupState; wantMaster: Set<string> }>();
    for (const g of config.syncGroups) {
      const old = this.groups.get(g.name);
      groups.set(g.name, { cfg: g, state: old?.state ?? 'INIT', wantMaster: new Set() });
    }
    this.groups = groups;
    tracker.start();
    for (const inst of this.instances) this.refreshTracking(inst.name);
  }

  /** Apply the tracker's effective priority and fault state to an instance. */
  private refreshTracking(name: string): void {
    const inst = this.instances.find((i) => i.name === name);
    if (!inst || !inst.vr || !this.tracker) return;
    const p = this.tracker.effectivePriority(name);
    if (p !== inst.vr.priority) {
      // The Tracker logs keepalived's "(VI_1) Changing effective priority from X to Y".
      inst.feed({ type: 'set_priority', priority: p });
      const st = inst.state;
      if (st === 'MASTER' || st === 'BACKUP') this.notifier?.priorityChange(inst.cfg, st, p);
    }
    this.refreshFaultGroup(inst);
  }

  private ownFault(inst: Instance): boolean {
    const link = (this.linkFault.get(inst) ?? false) && !inst.cfg.dontTrackPrimary;
    return link || (this.tracker?.isFault(inst.name) ?? false);
  }

  private syncGroupOf(inst: Instance): { cfg: SyncGroup; state: GroupState; wantMaster: Set<string> } | null {
    return inst.cfg.syncGroup ? (this.groups.get(inst.cfg.syncGroup) ?? null) : null;
  }

  private members(g: { cfg: SyncGroup }): Instance[] {
    return g.cfg.instances.map((n) => this.instances.find((i) => i.name === n)).filter((i): i is Instance => i !== undefined);
  }

  /** Fault when the instance's own trackers or interface fail, or (sync group) any member's do. */
  private refreshFault(inst: Instance): void {
    const g = this.syncGroupOf(inst);
    const want = g ? this.members(g).some((m) => this.ownFault(m)) : this.ownFault(inst);
    if (want === (this.faultApplied.get(inst) ?? false)) return;
    this.faultApplied.set(inst, want);
    if (want) inst.fault();
    else inst.recover();
  }

  private refreshFaultGroup(inst: Instance): void {
    const g = this.syncGroupOf(inst);
    for (const m of g ? this.members(g) : [inst]) this.refreshFault(m);
  }

  private groupView(g: { cfg: SyncGroup; state: GroupState; wantMaster: Set<string> }, self?: Instance, selfState?: MemberState): SyncGroupView {
    const memberState: Record<string, MemberState> = {};
    const faultCondition = new Set<string>();
    for (const m of this.members(g)) {
      const st = m === self && selfState ? selfState : m.state;
      memberState[m.name] = st === 'STOP' ? 'INIT' : st;
      if (this.ownFault(m)) faultCondition.add(m.name);
    }
    return { name: g.cfg.name, members: g.cfg.instances, state: g.state, memberState, faultCondition, wantMaster: g.wantMaster };
  }

  mayBecomeMaster(inst: Instance): boolean {
    const g = this.syncGroupOf(inst);
    if (!g) return true;
    const d = syncGroupStep(this.groupView(g), inst.name, 'MASTER');
    if (!d.allow) {
      g.wantMaster.add(inst.name);
      return false;
    }
    return true;
  }

  private syncGroupMove(inst: Instance, info: TransitionInfo): void {
    const g = this.syncGroupOf(inst);
    if (!g || (info.to !== 'MASTER' && info.to !== 'BACKUP' && info.to !== 'FAULT')) return;
    const from = info.from === 'STOP' ? 'INIT' : info.from;
    const d = syncGroupStep(this.groupView(g, inst, from), inst.name, info.to);
    g.state = d.groupState;
    if (d.log) this.log.info(d.log);
    if (d.groupChanged) {
      g.wantMaster.clear();
      this.notifier?.groupTransition(g.cfg, d.groupState === 'INIT' ? 'BACKUP' : d.groupState);
    }
    for (const f of d.force) {
      const m = this.instances.find((i) => i.name === f.instance);
      if (!m) continue;
      if (f.to === 'MASTER') m.feed({ type: 'force_master' });
      else if (f.to === 'BACKUP') m.feed({ type: 'force_backup' });
      else this.refreshFault(m);
    }
  }

  onLowerPriorityAdvert(inst: Instance, priority: number): void {
    this.notifier?.masterRxLowerPri(inst.cfg, priority);
  }

  trackerStatus(inst: Instance): TrackerStatus[] {
    return this.tracker?.status(inst.name) ?? [];
  }

  onAdvert(inst: Instance, interArrivalMs: number | null): void {
    this.emit('advert', inst.name, inst.family, interArrivalMs);
  }

  // --- netlink events ---------------------------------------------------------------------------------------------

  private onNetlink(ev: RtnlEvent): void {
    if (ev.kind === 'link') {
      if (ev.op === 'del') this.onLinkGone(ev.link.ifindex);
      else this.onLink(ev.link);
      return;
    }
    if (ev.op === 'del') {
      // An address removed behind our back while we are master: put it back.
      for (const inst of this.instances) {
        if (inst.state !== 'MASTER') continue;
        for (const p of this.placements.get(inst) ?? []) {
          if (p.ifindex === ev.addr.ifindex && sameAddr(p.bytes, ev.addr.address)) {
            this.log.warn(`(${inst.name}) VIP ${p.vip.text} was removed from ${p.ifname} - restoring it`);
            this.rtnl!.addAddress(this.addrSpec(p), p.ifname).catch((e: SysError) => {
              if (e.code !== 'EEXIST') this.log.error(`(${inst.name}) ${e.message}`);
            });
          }
        }
      }
    }
  }

  /** After lost events: every address a master should hold and that the dump does not show is put back. */
  private restoreMissingVips(addrs: readonly { ifindex: number; address: Uint8Array }[]): void {
    for (const inst of this.instances) {
      if (inst.state !== 'MASTER') continue;
      for (const p of this.placements.get(inst) ?? []) {
        if (addrs.some((a) => a.ifindex === p.ifindex && sameAddr(a.address, p.bytes))) continue;
        this.log.warn(`(${inst.name}) VIP ${p.vip.text} missing from ${p.ifname} after a netlink overflow - restoring it`);
        this.rtnl!.addAddress(this.addrSpec(p), p.ifname).catch((e: SysError) => {
          if (e.code !== 'EEXIST') this.log.error(`(${inst.name}) ${e.message}`);
        });
      }
    }
  }

  private onLink(link: LinkInfo): void {
    // An interface of an instance that came back under a new index (deleted and recreated), or that did not exist
    // when the daemon started: attach (again).
    for (const inst of this.instances) {
      if (!this.stopping && inst.cfg.interface === link.name && inst.attachment?.ifindex !== link.ifindex && !this.reattaching.has(inst)) {
        void this.reattach(inst);
      }
    }
    const up = link.up && link.lowerUp;
    const prev = this.linkState.get(link.ifindex);
    if (prev === up) return;
    this.linkState.set(link.ifindex, up);
    this.log.info(`Netlink reports ${link.name} ${up ? 'up' : 'down'}`);
    this.tracker?.setInterface(link.name, up);
    for (const inst of this.instances) {
      if (inst.attachment?.ifindex !== link.ifindex) continue;
      this.linkFault.set(inst, !up);
      this.refreshFaultGroup(inst);
    }
  }

  /** Re-resolve an instance's interface (new ifindex), recreate its VMAC, rejoin the group and start it again. */
  private async reattach(inst: Instance): Promise<void> {
    this.reattaching.add(inst);
    try {
      const old = inst.attachment;
      if (old && !inst.unicast) this.sockets[inst.family]?.leave(old.rxIfindex);
      this.log.info(`(${inst.name}) interface ${inst.cfg.interface} ${old ? 'was recreated' : 'appeared'} - attaching`);
      await this.attachInstance(inst);
      if (!inst.attachment || inst.attachment === old) return;
      const want = this.ownFault(inst);
      if (!want && inst.vr?.faulted) inst.feed({ type: 'recover' }); // clears the carried fault flag in Initialize
      this.faultApplied.set(inst, want);
      inst.startup();
      this.writeState();
    } finally {
      this.reattaching.delete(inst);
    }
  }

  private onLinkGone(ifindex: number): void {
    this.linkState.set(ifindex, false);
    for (const inst of this.instances) {
      if (inst.attachment?.ifindex === ifindex) {
        this.log.info(`Interface ${inst.attachment.ifname} deleted`);
        this.tracker?.setInterface(inst.attachment.ifname, false);
        this.linkFault.set(inst, true);
        this.refreshFaultGroup(inst);
      }
    }
  }

  // --- state file and stale cleanup ------------------------------------------------------------------------------

  private get statePath(): string {
    return join(this.opts.stateDir, 'vipd.state.json');
  }

  /**
   * Write the state file once for every instance that changed in this turn of the event loop: 1000 instances taking
   * over at once wrote it 1000 times (each with up to 1000 VIPs) before.
   */
  private scheduleStateWrite(): void {
    if (this.stateWritePending) return;
    this.stateWritePending = true;
    setImmediate(() => {
      this.stateWritePending = false;
      this.writeState();
    });
  }
  private stateWritePending = false;

  private writeState(): void {
    if (!this.ownsState) return;
    const st: StateFile = {
      pid: process.pid,
      vips: [...this.installed.values()],
      vmacs: (this.vmacs?.list() ?? []).filter((v) => v.created).map((v) => v.name),
    };
    try {
      writeStateFile(this.statePath, st);
    } catch (e) {
      this.log.limited('statefile', 'warning', `cannot write state file ${this.statePath}: ${(e as Error).message}`);
    }
  }

  /** Remove VIPs and VMACs that a crashed vipd left behind (listed in the state file). */
  private async cleanupStale(): Promise<void> {
    const st = readStateFile<StateFile>(this.statePath);
    if (!st) return;
    if (st.pid && st.pid !== process.pid && processRunning(st.pid, 'vipd')) {
      throw new DaemonError(`another vipd (pid ${st.pid}) uses state directory ${this.opts.stateDir}; give each daemon its own --state-dir`);
    }
    for (const v of st.vips ?? []) {
      const link = await this.rtnl!.getLink(v.ifname).catch(() => null);
      const bytes = parseIP(v.address)?.bytes;
      if (!link || !bytes) continue;
      try {
        await this.rtnl!.delAddress({ family: v.family, ifindex: link.ifindex, address: bytes, prefixlen: v.prefix }, v.ifname);
        this.log.info(`Removed stale VIP ${v.address}/${v.prefix} from ${v.ifname} (left by pid ${st.pid})`);
      } catch {
        /* already gone */
      }
    }
    for (const name of st.vmacs ?? []) {
      const link = await this.rtnl!.getLink(name).catch(() => null);
      if (!link || link.kind !== 'macvlan') continue;
      try {
        await this.rtnl!.deleteLink(link.ifindex, name);
        this.log.info(`Removed stale VMAC ${name} (left by pid ${st.pid})`);
      } catch {
        /* already gone */
      }
    }
    removeStateFile(this.statePath);
  }

  /** keepalived removes configured VIPs at startup, so that a restarted router does not hold them as BACKUP. */
  private async removeConfiguredAddresses(): Promise<void> {
    const want = new Map<string, VrrpInstance>();
    for (const inst of this.instances) for (const v of inst.installs) want.set(v.address, inst.cfg);
    if (want.size === 0) return;
    const addrs = await this.rtnl!.listAddrs();
    const links = new Map((await this.rtnl!.listLinks()).map((l) => [l.ifindex, l]));
    for (const a of addrs) {
      const text = formatIP(a.family, a.address);
      const cfg = want.get(text);
      if (!cfg) continue;
      // An address that is also the interface's own primary address is not ours to remove.
      if (a.family === 4 && (a.flags & IFA_F_SECONDARY) === 0 && cfg.vips.every((v) => v.address !== text || v.prefix !== a.prefixlen)) continue;
      const ifname = links.get(a.ifindex)?.name ?? String(a.ifindex);
      try {
        await this.rtnl!.delAddress({ family: a.family, ifindex: a.ifindex, address: a.address, prefixlen: a.prefixlen }, ifname);
        this.log.info(`(${cfg.name}) removed VIP ${text} found on ${ifname} at startup`);
      } catch {
        /* gone */
      }
    }
  }

  // --- stop -----------------------------------------------------------------------------------------------------

  /** Priority 0 from every master, VIPs removed, VMACs deleted, sysctls restored, sockets closed. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.log.info('Stopping');
      // Make-before-break: masters keep their addresses until the new master is heard (bounded by
      // Master_Down_Interval). --no-make-before-break gives keepalived's exact behaviour (release at once).
      const releases: Promise<boolean>[] = [];
      for (const inst of this.instances) {
        if (this.opts.makeBeforeBreak !== false && inst.state === 'MASTER') releases.push(inst.handover('stop'));
        else inst.shutdown();
      }
      await Promise.all(releases);
      if (this.notifier) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.notifier.idle(), new Promise<void>((r) => (timer = setTimeout(r, 2_000)))]);
        clearTimeout(timer);
        this.notifier.close();
      }
      this.tracker?.stop();
      await Promise.all([...this.vipsReady.values()]).catch(() => undefined);
      if (this.vmacs) {
        for (const err of await this.vmacs.releaseAll()) this.log.error(err.message);
      }
      if (this.firewall) {
        await this.firewall.setVmacs([]).catch((e: Error) => this.log.error(e.message));
        await this.firewall.remove().catch((e: Error) => this.log.error(e.message));
        this.firewall.close();
      }
      this.sockets[4]?.close();
      this.sockets[6]?.close();
      this.monitor?.close();
      this.garpSender?.close();
      this.rtnl?.close();
      if (this.ownsState) removeStateFile(this.statePath);
      this.ownsState = false; // a write scheduled before the stop must not bring the file back
      this.log.info('Stopped vipd');
    })();
    return this.stopping;
  }

  // --- DaemonControl ----------------------------------------------------------------------------------------------

  status(): DaemonStatus {
    return {
      pid: process.pid,
      version: VERSION,
      startedAt: this.startedAt.toISOString(),
      configFile: this.opts.configFile,
      instances: this.instances.map((i) => i.status()),
      unmatched: { ...this.unmatched },
    };
  }

  /**
   * Hitless reload (SIGHUP, `vipd reload`): instances whose configuration is unchanged keep running untouched (no
   * transition, no advert gap, no GARP); changed ones are rebuilt; removed ones release (priority 0) and stop; new ones
   * start as at a fresh start. A file with errors is refused and the running configuration stays.
   */
  async reload(): Promise<ReloadResult> {
    if (this.reloading) return { ok: false, diagnostics: ['a reload is already in progress'], added: [], removed: [], changed: [], unchanged: [] };
    this.reloading = true;
    try {
      return await this.doReload();
    } finally {
      this.reloading = false;
    }
  }

  private async doReload(): Promise<ReloadResult> {
    const res = parseConfig(this.opts.configFile, this.opts.instanceId !== undefined ? { instanceId: this.opts.instanceId } : {});
    const diagnostics = res.diagnostics.map((d) => formatDiagnostic(d));
    const errors = res.diagnostics.filter((d) => d.severity === 'error' && !this.acceptedErrors.has(d.message));
    const result: ReloadResult = { ok: false, diagnostics, added: [], removed: [], changed: [], unchanged: [] };
    if (!res.usable || errors.length > 0) {
      for (const d of errors) this.log.error(formatDiagnostic(d));
      this.log.error(`Reload refused: ${this.opts.configFile} has ${errors.length || 'fatal'} error(s); the running configuration stays`);
      return result;
    }
    const next = res.config;
    const oldByName = new Map(this.instances.map((i) => [i.name, i]));
    const kept: Instance[] = [];
    const starting: Instance[] = [];
    for (const cfg of next.instances) {
      const old = oldByName.get(cfg.name);
      if (old && sameConfig(old.cfg, cfg)) {
        old.resumePreemption(); // a reload ends the hold a `vipd handover` put on this instance
        kept.push(old);
        result.unchanged.push(cfg.name);
        oldByName.delete(cfg.name);
        continue;
      }
      if (old && old.cfg.priority !== 255 && cfg.priority !== 255 && sameConfig({ ...old.cfg, priority: cfg.priority }, cfg)) {
        // Only the priority changed: in place, as keepalived does (tracking re-applies its weights below).
        old.resumePreemption();
        old.changePriority(cfg);
        kept.push(old);
        result.changed.push(cfg.name);
        oldByName.delete(cfg.name);
        continue;
      }
      if (old) result.changed.push(cfg.name);
      else result.added.push(cfg.name);
      starting.push(new Instance(cfg, this));
    }
    // Stop what is removed or changed: masters release with priority 0, addresses removed.
    for (const old of oldByName.values()) {
      if (!result.changed.includes(old.name)) result.removed.push(old.name);
      old.shutdown();
      this.placements.delete(old);
    }
    await Promise.all([...oldByName.values()].map((i) => this.vipsReady.get(i) ?? Promise.resolve()));
    for (const old of oldByName.values()) this.vipsReady.delete(old);
    await this.releaseUnusedVmacs(next.instances);
    this.config = next;
    this.instances = [...kept, ...starting];
    for (const f of new Set(next.instances.map((i) => i.family))) {
      if (!this.sockets[f]) {
        const sock = VrrpSocket.open(f, { rcvbuf: 4 << 20 });
        sock.onPacket((p) => this.onPacket(p), (err) => this.log.limited(`sock${f}`, 'error', `VRRP socket IPv${f}: ${err.message}`));
        this.sockets[f] = sock;
      }
    }
    for (const inst of starting) await this.attachInstance(inst);
    await this.setupTracking(next, this.tracker);
    await this.applyFirewall(next);
    for (const inst of starting) if (inst.attachment) inst.startup();
    this.writeState();
    result.ok = true;
    this.log.info(
      `Reload complete: ${result.unchanged.length} unchanged, ${result.changed.length} changed, ${result.added.length} added, ${result.removed.length} removed`,
    );
    return result;
  }

  /** Delete VMACs we created that no instance of the new configuration uses. */
  private async releaseUnusedVmacs(next: VrrpInstance[]): Promise<void> {
    if (!this.vmacs) return;
    const keep = new Set<string>();
    for (const v of this.vmacs.list()) {
      if (next.some((c) => c.useVmac === v.name && c.interface === v.parent && c.family === v.family)) keep.add(v.name);
    }
    for (const v of this.vmacs.list()) {
      if (!keep.has(v.name)) await this.vmacs.release(v.name).catch((e: Error) => this.log.error(e.message));
    }
    const live = new Set(this.vmacs.list().map((v) => v.name));
    for (const name of [...this.vmacFilter.keys()]) if (!live.has(name)) this.vmacFilter.delete(name);
    await this.applyVmacFilter();
  }

  async handover(instance: string): Promise<{ ok: boolean; message: string }> {
    const inst = this.instances.find((i) => i.name === instance);
    if (!inst) return { ok: false, message: `no instance named ${instance}` };
    if (inst.state !== 'MASTER') return { ok: false, message: `(${instance}) is ${inst.state}, not MASTER: nothing to hand over` };
    const t0 = performance.now();
    await inst.handover('backup');
    return {
      ok: true,
      message: `(${instance}) handed over in ${(performance.now() - t0).toFixed(1)} ms; staying BACKUP without preemption until reload or restart`,
    };
  }

  async garp(instance: string): Promise<{ ok: boolean; message: string }> {
    const inst = this.instances.find((i) => i.name === instance);
    if (!inst) return { ok: false, message: `no instance named ${instance}` };
    return inst.announceNow() ? { ok: true, message: `(${instance}) gratuitous ARP / NA burst sent` } : { ok: false, message: `(${instance}) is not MASTER` };
  }

  /** The configuration the daemon runs (for the keepalived dumps). */
  currentConfig(): KeepalivedConfig | null {
    return this.config;
  }

  /** For tests and status. */
  get instanceList(): readonly Instance[] {
    return this.instances;
  }
}

function rejectMessage(inst: Instance, r: Rejection, p: VrrpPacket): string {
  const src = formatIP(p.family, p.src);
  switch (r.reason) {
    case 'ttl':
      return r.detail.startsWith('TTL/HL') ? r.detail : `invalid TTL/HL. Received ${p.ttlOrHopLimit} and expect 255`;
    case 'auth_type_mismatch':
      return `received a ${r.detail}`;
    case 'auth_failure':
      return 'received an invalid passwd!';
    case 'interval_mismatch':
      return `advertisement interval mismatch (${r.detail}) from ${src}`;
    case 'type':
      return `Invalid packet type. ${r.detail}`;
    case 'version_mismatch':
    case 'version':
      return `wrong version. ${r.detail} from ${src}`;
    case 'addr_list':
      return `ip address associated with VRID ${inst.vrid} not present in MASTER advert from ${src}: ${r.detail}`;
    default:
      return `${r.detail} (from ${src}, discarded: ${r.reason})`;
  }
}

/** Source of an unsolicited NA: the VIP itself when link-local, else the instance's link-local advert source. */
/** Compare two instance configurations, ignoring where they were written. */
function sameConfig(a: VrrpInstance, b: VrrpInstance): boolean {
  const strip = (_k: string, v: unknown) => (_k === 'src' ? undefined : v);
  return JSON.stringify(a, strip) === JSON.stringify(b, strip);
}

function naSource(inst: Instance, p: Placement): Uint8Array {
  if (isIPv6LinkLocal(p.bytes)) return p.bytes;
  const src = inst.attachment?.src;
  return src && isIPv6LinkLocal(src) ? src : p.bytes;
}

/** The receive index key of a multicast instance: family, receive interface, VRID (-1 for an unreadable one). */
function rxKey(family: 4 | 6, ifindex: number, vrid: number): number {
  return family * 2 ** 41 + ifindex * 512 + (vrid + 1);
}

/**
 * Whether a packet is the one an instance last decoded: same length, bytes, source, destination, TTL/hop limit and
 * delivery (multicast or not). For IPv4 the data includes the IP header; its identification (bytes 4-5) changes with
 * every packet and its header checksum (10-11) with it, and the kernel verified that checksum before delivery, so
 * both are skipped. The VRRP checksum covers a pseudo-header of source and destination, which are compared.
 */
export function sameRx(m: RxMemo, p: VrrpPacket, multicast: boolean): boolean {
  const a = m.data;
  const b = p.data;
  const n = a.length;
  if (n !== b.length || m.ttl !== p.ttlOrHopLimit || m.multicast !== multicast) return false;
  if (!sameAddr(m.src, p.src) || !sameAddr(m.dst, p.dst)) return false;
  let i = 0;
  if (p.family === 4) {
    if (n < 12 || a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2] || a[3] !== b[3]) return false;
    if (a[6] !== b[6] || a[7] !== b[7] || a[8] !== b[8] || a[9] !== b[9]) return false;
    i = 12;
  }
  for (; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function peekVrid4(d: Uint8Array): number {
  if (d.length < 20) return -1;
  const ihl = (d[0]! & 0x0f) * 4;
  return d.length > ihl + 1 ? d[ihl + 1]! : -1;
}

function broadcastOf(addr: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(addr);
  for (let bit = prefix; bit < 32; bit++) out[bit >> 3]! |= 0x80 >> (bit & 7);
  return out;
}

function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((x) => !/^[0-9a-fA-F]{1,2}$/.test(x))) return undefined;
  return Uint8Array.from(parts.map((x) => parseInt(x, 16)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function stripName(msg: string, name: string): string {
  const p = `(${name}) `;
  return msg.startsWith(p) ? msg.slice(p.length) : msg;
}
