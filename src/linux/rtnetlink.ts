/**
 * rtnetlink client over the native addon: requests matched to replies by sequence number, dumps of
 * links and addresses, address add/delete, macvlan create/update/delete, addrgenmode, link up/down;
 * and a separate event socket (RtnlMonitor) that resynchronises with a dump after ENOBUFS.
 *
 * rtnetlink processes a request inside sendmsg(), so the reply is normally already queued when
 * sendmsg returns: requests read it synchronously (no event-loop turn); a libuv poll handle covers the
 * rest (large dumps continue on each read; anything late).
 */
import { formatIP } from '../wire/inet.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IN6_ADDR_GEN_MODE_NONE,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  NLM_F_ACK,
  NLM_F_DUMP_INTR,
  RTMGRP_IPV4_IFADDR,
  RTMGRP_IPV6_IFADDR,
  RTMGRP_LINK,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  encodeAddr,
  encodeDelLink,
  encodeGetAddrs,
  encodeGetLink,
  encodeGetLinks,
  encodeNewMacvlan,
  encodeSetAddrGenMode,
  encodeSetLinkUp,
  encodeUpdateMacvlan,
  parseAddr,
  parseError,
  parseLink,
  parseMessages,
  type AddrInfo,
  type AddrSpec,
  type LinkInfo,
  type MacvlanSpec,
  type NlMessage,
} from '../wire/netlink.js';
import { K, SysError, errnoError, native, wrapError, type SocketHandle } from './native.js';
import { sockaddrNl } from './sockaddr.js';

export type { AddrInfo, AddrSpec, LinkInfo, MacvlanSpec } from '../wire/netlink.js';

const RECV_SIZE = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 5000;

interface Pending {
  seq: number;
  what: string;
  dump: boolean;
  msgs: NlMessage[];
  interrupted: boolean;
  resolve: (msgs: NlMessage[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

/** Friendlier wording for the errors a daemon meets most. */
function explain(errno: number): string | null {
  switch (native().errnoName(errno)) {
    case 'EEXIST':
      return 'already present';
    case 'ENODEV':
      return 'no such interface';
    case 'EADDRNOTAVAIL':
      return 'address not present';
    case 'EPERM':
      return 'operation not permitted (needs root or CAP_NET_ADMIN)';
    default:
      return null;
  }
}

export function nlError(what: string, errno: number, extack?: string): SysError {
  const n = native();
  const name = n.errnoName(errno);
  const text = explain(errno) ?? n.strerror(errno);
  return new SysError(`${what}: ${text} (${name})${extack ? ` [kernel: ${extack}]` : ''}`, errno, name);
}

function openNetlink(groups: number, rcvbuf?: number): SocketHandle {
  const n = native();
  let h: SocketHandle;
  try {
    h = n.socket(K('AF_NETLINK'), K('SOCK_RAW'), K('NETLINK_ROUTE'));
  } catch (e) {
    throw wrapError('open rtnetlink socket', e);
  }
  try {
    const SOL_NETLINK = K('SOL_NETLINK');
    for (const opt of ['NETLINK_EXT_ACK', 'NETLINK_CAP_ACK']) {
      try {
        n.setsockopt(h, SOL_NETLINK, K(opt), 1);
      } catch {
        /* older kernels: plain errors */
      }
    }
    if (rcvbuf !== undefined) {
      try {
        n.setsockopt(h, K('SOL_SOCKET'), K('SO_RCVBUFFORCE'), rcvbuf);
      } catch {
        n.setsockopt(h, K('SOL_SOCKET'), K('SO_RCVBUF'), rcvbuf);
      }
    }
    n.bind(h, sockaddrNl(0, groups));
  } catch (e) {
    n.close(h);
    throw wrapError('set up rtnetlink socket', e);
  }
  return h;
}

function ifLabel(ifindex: number, ifname?: string): string {
  const name = ifname ?? native().ifIndexToName(ifindex);
  return name ?? `ifindex ${ifindex}`;
}

/** Human text for an address spec: "192.0.2.10/24 on eth0". */
export function describeAddr(spec: AddrSpec, ifname?: string): string {
  return `${formatIP(spec.family, spec.address)}/${spec.prefixlen} on ${ifLabel(spec.ifindex, ifname)}`;
}

/** A request/reply rtnetlink socket. */
export class Rtnl {
  private readonly h: SocketHandle;
  private seq: number;
  private readonly pending = new Map<number, Pending>();
  private readonly rbuf = new Uint8Array(RECV_SIZE);
  private readonly out = new Int32Array(3);
  private closed = false;
  private polling = false;
  timeoutMs = DEFAULT_TIMEOUT_MS;

  private constructor(h: SocketHandle) {
    this.h = h;
    this.seq = (Date.now() & 0x3fffffff) >>> 0;
  }

  static open(): Rtnl {
    return new Rtnl(openNetlink(0));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().close(this.h);
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new SysError(`${p.what}: rtnetlink socket closed`, 9, 'EBADF'));
    }
    this.pending.clear();
  }

  /** Send one request (bytes built with seq = the value passed to `build`) and collect its reply. */
  request(build: (seq: number) => Uint8Array, what: string, dump = false): Promise<NlMessage[]> {
    if (this.closed) return Promise.reject(new SysError(`${what}: rtnetlink socket closed`, 9, 'EBADF'));
    this.seq = (this.seq + 1) >>> 0 || 1;
    const seq = this.seq;
    const bytes = build(seq);
    return new Promise<NlMessage[]>((resolve, reject) => {
      const p: Pending = { seq, what, dump, msgs: [], interrupted: false, resolve, reject, timer: null };
      this.pending.set(seq, p);
      const n = native().sendmsg(this.h, bytes, null, null, 0);
      if (n < 0) {
        this.pending.delete(seq);
        reject(errnoError(what, n));
        return;
      }
      this.pump();
      if (this.pending.has(seq)) {
        this.ensurePolling();
        p.timer = setTimeout(() => {
          if (this.pending.delete(seq)) reject(new SysError(`${what}: no reply from the kernel in ${this.timeoutMs} ms`, 110, 'ETIMEDOUT'));
          this.updateRef();
        }, this.timeoutMs);
        this.updateRef();
      }
    });
  }

  private ensurePolling(): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    native().poll(this.h, K('UV_READABLE'), () => this.pump());
  }

  private updateRef(): void {
    if (this.polling && !this.closed) native().pollRef(this.h, this.pending.size > 0);
  }

  /** Read everything queued and dispatch it to pending requests. */
  private pump(): void {
    const n = native();
    const MSG_TRUNC = K('MSG_TRUNC');
    for (;;) {
      if (this.closed) return;
      const r = n.recvmsg(this.h, this.rbuf, null, null, MSG_TRUNC, this.out);
      if (r < 0) {
        const name = n.errnoName(-r);
        if (name === 'EAGAIN') break;
        if (name === 'EINTR') continue;
        // ENOBUFS on a request socket: replies were lost; fail everything outstanding.
        this.failAll(errnoError('rtnetlink receive', r));
        break;
      }
      if (r > this.rbuf.length) {
        this.failAll(new SysError(`rtnetlink reply of ${r} bytes exceeds the ${this.rbuf.length}-byte buffer`, 90, 'EMSGSIZE'));
        continue;
      }
      for (const m of parseMessages(this.rbuf, r)) this.dispatch(m);
    }
    this.updateRef();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }

  private finish(p: Pending, err: Error | null): void {
    this.pending.delete(p.seq);
    if (p.timer) clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(p.msgs);
  }

  private dispatch(m: NlMessage): void {
    const p = this.pending.get(m.seq);
    if (!p) return;
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    if (m.type === NLMSG_ERROR) {
      const e = parseError(m);
      if (!e) return this.finish(p, new SysError(`${p.what}: malformed netlink error`, 71, 'EPROTO'));
      return this.finish(p, e.errno === 0 ? null : nlError(p.what, e.errno, e.message));
    }
    if (m.type === NLMSG_DONE) {
      if (p.interrupted) return this.finish(p, new SysError(`${p.what}: dump interrupted`, 4, 'EINTR'));
      return this.finish(p, null);
    }
    if (m.type === NLMSG_NOOP || m.type === NLMSG_OVERRUN) return;
    p.msgs.push({ ...m, body: m.body.slice() });
  }

  private async dump(build: (seq: number) => Uint8Array, what: string): Promise<NlMessage[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(build, what, true);
      } catch (e) {
        if ((e as SysError).code === 'EINTR' && attempt < 5) continue;
        throw e;
      }
    }
  }

  // ---- links ----

  async listLinks(): Promise<LinkInfo[]> {
    const msgs = await this.dump((s) => encodeGetLinks(s), 'dump links');
    const out: LinkInfo[] = [];
    for (const m of msgs) {
      if (m.type !== RTM_NEWLINK) continue;
      const l = parseLink(m);
      if (l) out.push(l);
    }
    return out;
  }

  /** One link by name or index, or null when it does not exist. */
  async getLink(link: string | number): Promise<LinkInfo | null> {
    if (typeof link === 'string') {
      const bad = checkIfName(link);
      if (bad) throw new SysError(bad, 36, 'ENAMETOOLONG');
    }
    const what = `get interface ${typeof link === 'string' ? link : `ifindex ${link}`}`;
    try {
      const msgs = await this.request(
        (s) => withAck(encodeGetLink(s, typeof link === 'string' ? { name: link } : { index: link })),
        what,
      );
      for (const m of msgs) if (m.type === RTM_NEWLINK) return parseLink(m);
      return null;
    } catch (e) {
      if ((e as SysError).code === 'ENODEV') return null;
      throw e;
    }
  }

  /** The link or a clear "interface X not found" error. */
  async requireLink(link: string | number): Promise<LinkInfo> {
    const l = await this.getLink(link);
    if (!l) {
      throw new SysError(`interface ${typeof link === 'string' ? link : `ifindex ${link}`} not found`, 19, 'ENODEV');
    }
    return l;
  }

  async setLinkUp(ifindex: number, up: boolean, ifname?: string): Promise<void> {
    await this.request((s) => encodeSetLinkUp(s, ifindex, up), `set ${ifLabel(ifindex, ifname)} ${up ? 'up' : 'down'}`);
  }

  async deleteLink(ifindex: number, ifname?: string): Promise<void> {
    await this.request((s) => encodeDelLink(s, ifindex), `delete interface ${ifLabel(ifindex, ifname)}`);
  }

  async setAddrGenMode(ifindex: number, mode = IN6_ADDR_GEN_MODE_NONE, ifname?: string): Promise<void> {
    await this.request(
      (s) => encodeSetAddrGenMode(s, ifindex, mode),
      `set IPv6 addrgenmode ${mode === IN6_ADDR_GEN_MODE_NONE ? 'none' : mode} on ${ifLabel(ifindex, ifname)}`,
    );
  }

  /** Create a macvlan (mode private unless given); resolves to the new link. */
  async createMacvlan(spec: MacvlanSpec): Promise<LinkInfo> {
    const bad = checkIfName(spec.name);
    if (bad) throw new SysError(bad, 36, 'ENAMETOOLONG');
    await this.request((s) => encodeNewMacvlan(s, spec), `create macvlan ${spec.name} on ${ifLabel(spec.parentIndex)}`);
    return this.requireLink(spec.name);
  }

  async updateMacvlan(ifindex: number, change: { mac?: Uint8Array; mode?: number }, ifname?: string): Promise<void> {
    await this.request((s) => encodeUpdateMacvlan(s, ifindex, change), `update macvlan ${ifLabel(ifindex, ifname)}`);
  }

  // ---- addresses ----

  async listAddrs(family?: 4 | 6): Promise<AddrInfo[]> {
    const fam = family === 4 ? AF_INET : family === 6 ? AF_INET6 : AF_UNSPEC;
    const msgs = await this.dump((s) => encodeGetAddrs(s, fam), 'dump addresses');
    const out: AddrInfo[] = [];
    for (const m of msgs) {
      if (m.type !== RTM_NEWADDR) continue;
      const a = parseAddr(m);
      if (a) out.push(a);
    }
    return out;
  }

  /** Add an address; an address already present is an EEXIST error naming it. */
  async addAddress(spec: AddrSpec, ifname?: string): Promise<void> {
    const bad = checkAddrSpec(spec);
    if (bad) throw new SysError(`add address: ${bad}`, 22, 'EINVAL');
    await this.request((s) => encodeAddr(s, 'add', spec), `add address ${describeAddr(spec, ifname)}`);
  }

  async delAddress(spec: AddrSpec, ifname?: string): Promise<void> {
    const bad = checkAddrSpec(spec);
    if (bad) throw new SysError(`delete address: ${bad}`, 22, 'EINVAL');
    await this.request((s) => encodeAddr(s, 'del', spec), `delete address ${describeAddr(spec, ifname)}`);
  }
}

function withAck(b: Uint8Array): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setUint16(6, dv.getUint16(6, true) | NLM_F_ACK, true);
  return b;
}

/** Why `name` is not a valid interface name, or null. */
export function checkIfName(name: string): string | null {
  if (name.length === 0) return 'empty interface name';
  if (Buffer.byteLength(name) > 15) return `interface name "${name}" is longer than 15 characters`;
  if (/[\s/:]/.test(name) || name === '.' || name === '..') return `interface name "${name}" contains an invalid character`;
  return null;
}

function checkAddrSpec(spec: AddrSpec): string | null {
  const alen = spec.family === 4 ? 4 : 16;
  if (!(spec.address instanceof Uint8Array) || spec.address.length !== alen) return `IPv${spec.family} address must be ${alen} bytes`;
  if (!Number.isInteger(spec.prefixlen) || spec.prefixlen < 0 || spec.prefixlen > alen * 8) {
    return `prefix length ${spec.prefixlen} out of range for IPv${spec.family}`;
  }
  if (!Number.isInteger(spec.ifindex) || spec.ifindex <= 0) return `bad interface index ${spec.ifindex}`;
  if (spec.label !== undefined && Buffer.byteLength(spec.label) > 15) return `label "${spec.label}" is longer than 15 characters`;
  return null;
}

// ---- events ----

export type RtnlEvent =
  | { kind: 'link'; op: 'new' | 'del'; link: LinkInfo }
  | { kind: 'addr'; op: 'new' | 'del'; addr: AddrInfo };

export interface RtnlSnapshot {
  links: LinkInfo[];
  addrs: AddrInfo[];
}

export interface RtnlMonitorOptions {
  onEvent: (ev: RtnlEvent) => void;
  /** Called with a fresh full dump after the event socket overflowed (ENOBUFS) and events were lost. */
  onResync?: (snap: RtnlSnapshot) => void;
  onError?: (err: Error) => void;
  /** SO_RCVBUF(FORCE) for the event socket. */
  rcvbuf?: number;
  /** RTMGRP_* bits; default link + IPv4 + IPv6 addresses. */
  groups?: number;
}

/** Link and address events on their own socket (events caused by our requests come here too). */
export class RtnlMonitor {
  private readonly h: SocketHandle;
  private readonly rbuf = new Uint8Array(RECV_SIZE);
  private readonly out = new Int32Array(3);
  private closed = false;
  private resyncing = false;
  private resyncAgain = false;
  private client: Rtnl | null = null;
  /** How many times events were lost and a resync dump was run. */
  overflows = 0;

  private constructor(h: SocketHandle, private readonly opts: RtnlMonitorOptions) {
    this.h = h;
  }

  static open(opts: RtnlMonitorOptions): RtnlMonitor {
    const groups = opts.groups ?? RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    const m = new RtnlMonitor(openNetlink(groups, opts.rcvbuf), opts);
    // An overflow (ENOBUFS) raises POLLERR, and libuv stops a poll handle on POLLERR: read the error (drain resyncs)
    // and start polling again, or no event would ever arrive after the first overflow.
    const arm = (): void => {
      native().poll(m.h, K('UV_READABLE'), (status: number) => {
        m.drain();
        // Re-arming inside libuv's callback does not take; do it on the next turn of the loop.
        if (status < 0 && !m.closed) setImmediate(arm);
      });
    };
    arm();
    return m;
  }

  /** Whether the monitor keeps the event loop alive (default yes). */
  ref(on: boolean): void {
    if (!this.closed) native().pollRef(this.h, on);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().close(this.h);
    this.client?.close();
    this.client = null;
  }

  /** Read and deliver every queued event (also called by the poll handle). */
  drain(): void {
    const n = native();
    const MSG_TRUNC = K('MSG_TRUNC');
    for (;;) {
      if (this.closed) return;
      const r = n.recvmsg(this.h, this.rbuf, null, null, MSG_TRUNC, this.out);
      if (r < 0) {
        const name = n.errnoName(-r);
        if (name === 'EAGAIN') return;
        if (name === 'EINTR') continue;
        if (name === 'ENOBUFS') {
          this.overflows++;
          this.startResync();
          continue;
        }
        this.opts.onError?.(errnoError('rtnetlink events', r));
        return;
      }
      if (r > this.rbuf.length) continue;
      for (const m of parseMessages(this.rbuf, r)) this.deliver(m);
    }
  }

  private deliver(m: NlMessage): void {
    try {
      if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) {
        const link = parseLink(m);
        if (link) this.opts.onEvent({ kind: 'link', op: m.type === RTM_NEWLINK ? 'new' : 'del', link });
      } else if (m.type === RTM_NEWADDR || m.type === RTM_DELADDR) {
        const addr = parseAddr(m);
        if (addr) this.opts.onEvent({ kind: 'addr', op: m.type === RTM_NEWADDR ? 'new' : 'del', addr });
      }
    } catch (e) {
      this.opts.onError?.(e as Error);
    }
  }

  private startResync(): void {
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = true;
    void this.resync();
  }

  private async resync(): Promise<void> {
    do {
      this.resyncAgain = false;
      try {
        this.client ??= Rtnl.open();
        const links = await this.client.listLinks();
        const addrs = await this.client.listAddrs();
        if (this.closed) return;
        this.opts.onResync?.({ links, addrs });
      } catch (e) {
        if (!this.closed) this.opts.onError?.(e as Error);
      }
    } while (this.resyncAgain && !this.closed);
    this.resyncing = false;
  }
}
