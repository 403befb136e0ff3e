/**
 * rtnetlink message codec (links and addresses), pure: builds request bytes and parses replies and
 * events. Never throws: parsers return null / typed results on malformed input, encoders encode what
 * they are given (validation of names and addresses is the caller's job, in src/linux/).
 *
 * Netlink is host-endian; vipd runs on little-endian Linux (x86-64, arm64), which is what this codec
 * writes. Network-order fields (addresses) are raw bytes.
 */

const LE = true;

// ---- constants (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h) ----
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ECHO = 0x8;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
/** In NLMSG_ERROR replies: the original request was not echoed / extended-ack TLVs follow. */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

/** Multicast group bits for sockaddr_nl.nl_groups. */
export const RTMGRP_LINK = 0x1;
export const RTMGRP_IPV4_IFADDR = 0x10;
export const RTMGRP_IPV6_IFADDR = 0x100;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_AF_SPEC = 26;
export const IFLA_GROUP = 27;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const IFLA_MACVLAN_MODE = 1;
export const IFLA_INET6_ADDR_GEN_MODE = 8;
export const IN6_ADDR_GEN_MODE_EUI64 = 0;
export const IN6_ADDR_GEN_MODE_NONE = 1;

export const MACVLAN_MODE_PRIVATE = 1;
export const MACVLAN_MODE_VEPA = 2;
export const MACVLAN_MODE_BRIDGE = 4;
export const MACVLAN_MODE_PASSTHRU = 8;
export const MACVLAN_MODE_SOURCE = 16;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_NOPREFIXROUTE = 0x200;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;

/** IF_OPER_* values of IFLA_OPERSTATE (RFC 2863). */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

// ---- encoding ----

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** A growable netlink message writer with nested-attribute support. */
export class NlWriter {
  buf: Uint8Array;
  dv: DataView;
  len = 0;
  private readonly nests: number[] = [];

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
    this.dv = new DataView(nb.buffer);
  }

  /** Start a message: header with length patched by finish(). */
  header(type: number, flags: number, seq: number, pid = 0): this {
    this.ensure(NLMSG_HDRLEN);
    this.dv.setUint32(this.len, 0, LE);
    this.dv.setUint16(this.len + 4, type & 0xffff, LE);
    this.dv.setUint16(this.len + 6, flags & 0xffff, LE);
    this.dv.setUint32(this.len + 8, seq >>> 0, LE);
    this.dv.setUint32(this.len + 12, pid >>> 0, LE);
    this.len += NLMSG_HDRLEN;
    return this;
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.dv.setUint16(this.len, v & 0xffff, LE);
    this.len += 2;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.dv.setUint32(this.len, v >>> 0, LE);
    this.len += 4;
    return this;
  }
  i32(v: number): this {
    this.ensure(4);
    this.dv.setInt32(this.len, v | 0, LE);
    this.len += 4;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  pad(): this {
    const p = (4 - (this.len & 3)) & 3;
    this.ensure(p);
    this.buf.fill(0, this.len, this.len + p);
    this.len += p;
    return this;
  }

  /** A complete attribute with a raw payload. */
  attr(type: number, payload: Uint8Array): this {
    if (!(payload instanceof Uint8Array)) payload = new Uint8Array(0);
    this.ensure(4 + payload.length + 3);
    this.dv.setUint16(this.len, 4 + payload.length, LE);
    this.dv.setUint16(this.len + 2, type, LE);
    this.len += 4;
    this.bytes(payload);
    return this.pad();
  }
  attrU8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v & 0xff));
  }
  attrU32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, LE);
    return this.attr(type, b);
  }
  /** NUL-terminated string attribute. */
  attrStr(type: number, s: string): this {
    const enc = textEncoder.encode(String(s));
    const b = new Uint8Array(enc.length + 1);
    b.set(enc);
    return this.attr(type, b);
  }
  beginNest(type: number): this {
    this.ensure(4);
    this.nests.push(this.len);
    this.dv.setUint16(this.len + 2, type, LE);
    this.len += 4;
    return this;
  }
  endNest(): this {
    const start = this.nests.pop();
    if (start !== undefined) this.dv.setUint16(start, this.len - start, LE);
    return this;
  }

  /** Patch the length of the message begun at `start` and return a copy of all bytes written. */
  finish(start = 0): Uint8Array {
    this.dv.setUint32(start, this.len - start, LE);
    return this.buf.slice(0, this.len);
  }
}

function ifinfomsg(w: NlWriter, family: number, index: number, flags = 0, change = 0): void {
  w.u8(family).u8(0).u16(0).i32(index).u32(flags).u32(change);
}

function ifaddrmsg(w: NlWriter, family: number, prefixlen: number, flags: number, scope: number, index: number): void {
  w.u8(family).u8(prefixlen).u8(flags).u8(scope).u32(index);
}

/** RTM_GETLINK dump of every link. */
export function encodeGetLinks(seq: number): Uint8Array {
  const w = new NlWriter(64).header(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq);
  ifinfomsg(w, AF_UNSPEC, 0);
  return w.finish();
}

/** RTM_GETLINK for one link, by index (index > 0) or by name. */
export function encodeGetLink(seq: number, link: { index?: number; name?: string }): Uint8Array {
  const w = new NlWriter(64).header(RTM_GETLINK, NLM_F_REQUEST, seq);
  ifinfomsg(w, AF_UNSPEC, link.index ?? 0);
  if (link.name !== undefined && !link.index) w.attrStr(IFLA_IFNAME, link.name);
  return w.finish();
}

/** RTM_GETADDR dump, of one family or both (AF_UNSPEC). */
export function encodeGetAddrs(seq: number, family = AF_UNSPEC): Uint8Array {
  const w = new NlWriter(64).header(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq);
  ifaddrmsg(w, family, 0, 0, 0, 0);
  return w.finish();
}

export interface AddrSpec {
  family: 4 | 6;
  ifindex: number;
  /** 4 or 16 bytes. */
  address: Uint8Array;
  prefixlen: number;
  /** IPv4 broadcast address (4 bytes). */
  broadcast?: Uint8Array;
  /** IPv4 label, "eth0" or "eth0:vip" (at most 15 characters). */
  label?: string;
  /** RT_SCOPE_*; default universe (link for fe80::/10 is the kernel's choice). */
  scope?: number;
  /** IFA_F_* flags (IFA_F_NODAD is added for IPv6 unless dad is true). */
  flags?: number;
  /** IPv6: run duplicate address detection (default false: nodad, as keepalived). */
  dad?: boolean;
}

function addrFlags(spec: AddrSpec): number {
  let flags = spec.flags ?? 0;
  if (spec.family === 6 && !spec.dad) flags |= IFA_F_NODAD;
  return flags;
}

/** RTM_NEWADDR (create, exclusive: an address already present is EEXIST) or RTM_DELADDR. */
export function encodeAddr(seq: number, op: 'add' | 'del', spec: AddrSpec): Uint8Array {
  const type = op === 'add' ? RTM_NEWADDR : RTM_DELADDR;
  const nlflags = NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0);
  const w = new NlWriter(96).header(type, nlflags, seq);
  const flags = addrFlags(spec);
  const fam = spec.family === 4 ? AF_INET : AF_INET6;
  ifaddrmsg(w, fam, spec.prefixlen, flags & 0xff, spec.scope ?? RT_SCOPE_UNIVERSE, spec.ifindex);
  if (spec.family === 4) w.attr(IFA_LOCAL, spec.address);
  w.attr(IFA_ADDRESS, spec.address);
  if (op === 'add') {
    if (spec.family === 4 && spec.broadcast) w.attr(IFA_BROADCAST, spec.broadcast);
    if (spec.family === 4 && spec.label) w.attrStr(IFA_LABEL, spec.label);
    if (flags > 0xff) w.attrU32(IFA_FLAGS, flags);
  }
  return w.finish();
}

export interface MacvlanSpec {
  name: string;
  parentIndex: number;
  /** 6 bytes. */
  mac: Uint8Array;
  /** MACVLAN_MODE_*; default private. */
  mode?: number;
  /** IFLA_GROUP copied from the parent (firewall devgroup rules). */
  group?: number;
  /** IFLA_MASTER: the parent's VRF device, when it has one. */
  master?: number;
}

/** RTM_NEWLINK creating a macvlan (exclusive: an existing name is EEXIST). */
export function encodeNewMacvlan(seq: number, spec: MacvlanSpec): Uint8Array {
  const w = new NlWriter(128).header(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  ifinfomsg(w, AF_UNSPEC, 0);
  w.attrStr(IFLA_IFNAME, spec.name);
  w.attrU32(IFLA_LINK, spec.parentIndex);
  w.attr(IFLA_ADDRESS, spec.mac);
  if (spec.group !== undefined) w.attrU32(IFLA_GROUP, spec.group);
  if (spec.master) w.attrU32(IFLA_MASTER, spec.master);
  w.beginNest(IFLA_LINKINFO).attrStr(IFLA_INFO_KIND, 'macvlan');
  w.beginNest(IFLA_INFO_DATA).attrU32(IFLA_MACVLAN_MODE, spec.mode ?? MACVLAN_MODE_PRIVATE).endNest();
  w.endNest();
  return w.finish();
}

/** RTM_NEWLINK changing an existing macvlan's MAC and/or mode. */
export function encodeUpdateMacvlan(seq: number, ifindex: number, change: { mac?: Uint8Array; mode?: number }): Uint8Array {
  const w = new NlWriter(96).header(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  ifinfomsg(w, AF_UNSPEC, ifindex);
  if (change.mac) w.attr(IFLA_ADDRESS, change.mac);
  if (change.mode !== undefined) {
    w.beginNest(IFLA_LINKINFO).attrStr(IFLA_INFO_KIND, 'macvlan');
    w.beginNest(IFLA_INFO_DATA).attrU32(IFLA_MACVLAN_MODE, change.mode).endNest();
    w.endNest();
  }
  return w.finish();
}

/** RTM_NEWLINK setting IFLA_INET6_ADDR_GEN_MODE (must be a request separate from creation). */
export function encodeSetAddrGenMode(seq: number, ifindex: number, mode: number): Uint8Array {
  const w = new NlWriter(64).header(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  ifinfomsg(w, AF_UNSPEC, ifindex);
  w.beginNest(IFLA_AF_SPEC).beginNest(AF_INET6).attrU8(IFLA_INET6_ADDR_GEN_MODE, mode).endNest().endNest();
  return w.finish();
}

/** RTM_NEWLINK setting the link administratively up or down. */
export function encodeSetLinkUp(seq: number, ifindex: number, up: boolean): Uint8Array {
  const w = new NlWriter(48).header(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  ifinfomsg(w, AF_UNSPEC, ifindex, up ? IFF_UP : 0, IFF_UP);
  return w.finish();
}

/** RTM_DELLINK by index. */
export function encodeDelLink(seq: number, ifindex: number): Uint8Array {
  const w = new NlWriter(48).header(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
  ifinfomsg(w, AF_UNSPEC, ifindex);
  return w.finish();
}

// ---- parsing ----

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The payload after the 16-byte header (a view into the receive buffer: copy to keep). */
  body: Uint8Array;
}

/** Split a datagram into netlink messages; stops at the first malformed header. */
export function parseMessages(buf: Uint8Array, len = buf.length): NlMessage[] {
  const out: NlMessage[] = [];
  const dv = new DataView(buf.buffer, buf.byteOffset, Math.min(len, buf.length));
  const end = dv.byteLength;
  let off = 0;
  while (off + NLMSG_HDRLEN <= end) {
    const mlen = dv.getUint32(off, LE);
    if (mlen < NLMSG_HDRLEN || off + mlen > end) break;
    out.push({
      type: dv.getUint16(off + 4, LE),
      flags: dv.getUint16(off + 6, LE),
      seq: dv.getUint32(off + 8, LE),
      pid: dv.getUint32(off + 12, LE),
      body: buf.subarray(off + NLMSG_HDRLEN, off + mlen),
    });
    off += (mlen + 3) & ~3;
  }
  return out;
}

/** Attributes from `start` to the end of `body`, keyed by type (nested / byte-order flags masked off). */
export function parseAttrs(body: Uint8Array, start: number): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let off = Number.isInteger(start) && start >= 0 ? start : body.length;
  while (off + 4 <= body.length) {
    const alen = dv.getUint16(off, LE);
    const type = dv.getUint16(off + 2, LE) & 0x3fff;
    if (alen < 4 || off + alen > body.length) break;
    m.set(type, body.subarray(off + 4, off + alen));
    off += (alen + 3) & ~3;
  }
  return m;
}

function u32Of(b: Uint8Array | undefined): number | undefined {
  if (!b || b.length < 4) return undefined;
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, LE);
}

function strOf(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  const z = b.indexOf(0);
  return textDecoder.decode(z >= 0 ? b.subarray(0, z) : b);
}

export interface NlError {
  /** 0 for an ACK, otherwise a positive errno. */
  errno: number;
  /** Extended-ack message from the kernel, when it sent one. */
  message?: string;
}

/** Decode an NLMSG_ERROR body (an ACK when errno is 0). */
export function parseError(msg: NlMessage): NlError | null {
  const b = msg.body;
  if (b.length < 4) return null;
  const err = new DataView(b.buffer, b.byteOffset, 4).getInt32(0, LE);
  const res: NlError = { errno: err === 0 ? 0 : -err };
  if (msg.flags & NLM_F_ACK_TLVS && b.length >= 4 + NLMSG_HDRLEN) {
    let tlvStart = 4 + NLMSG_HDRLEN;
    if (!(msg.flags & NLM_F_CAPPED)) {
      const origLen = new DataView(b.buffer, b.byteOffset + 4, 4).getUint32(0, LE);
      tlvStart = 4 + Math.ceil(origLen / 4) * 4;
    }
    if (tlvStart <= b.length) {
      const text = strOf(parseAttrs(b, tlvStart).get(NLMSGERR_ATTR_MSG));
      if (text) res.message = text;
    }
  }
  return res;
}

export interface LinkInfo {
  ifindex: number;
  name: string;
  /** IFF_* flags. */
  flags: number;
  up: boolean;
  /** IFF_LOWER_UP (carrier). */
  lowerUp: boolean;
  /** ARPHRD_* type. */
  type: number;
  /** Hardware address (6 bytes on Ethernet), or null. */
  mac: Uint8Array | null;
  mtu: number;
  operstate: string;
  /** IFLA_LINK: the parent of a macvlan/vlan (0 when none). */
  parentIndex: number;
  master: number;
  group: number;
  /** IFLA_INFO_KIND ("macvlan", "veth", ...), or null for plain devices. */
  kind: string | null;
  /** MACVLAN_MODE_* of a macvlan. */
  macvlanMode: number | null;
  /** IFLA_INET6_ADDR_GEN_MODE, or null when IPv6 is absent. */
  addrGenMode: number | null;
}

/** Decode an RTM_NEWLINK / RTM_DELLINK body. */
export function parseLink(msg: NlMessage): LinkInfo | null {
  const b = msg.body;
  if (b.length < 16) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const a = parseAttrs(b, 16);
  const flags = dv.getUint32(8, LE);
  const info: LinkInfo = {
    ifindex: dv.getInt32(4, LE),
    name: strOf(a.get(IFLA_IFNAME)) ?? '',
    flags,
    up: (flags & IFF_UP) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    type: dv.getUint16(2, LE),
    mac: a.get(IFLA_ADDRESS)?.slice() ?? null,
    mtu: u32Of(a.get(IFLA_MTU)) ?? 0,
    operstate: OPERSTATES[a.get(IFLA_OPERSTATE)?.[0] ?? 0] ?? 'unknown',
    parentIndex: u32Of(a.get(IFLA_LINK)) ?? 0,
    master: u32Of(a.get(IFLA_MASTER)) ?? 0,
    group: u32Of(a.get(IFLA_GROUP)) ?? 0,
    kind: null,
    macvlanMode: null,
    addrGenMode: null,
  };
  const li = a.get(IFLA_LINKINFO);
  if (li) {
    const lia = parseAttrs(li, 0);
    info.kind = strOf(lia.get(IFLA_INFO_KIND)) ?? null;
    const data = lia.get(IFLA_INFO_DATA);
    if (data && (info.kind === 'macvlan' || info.kind === 'macvtap')) {
      info.macvlanMode = u32Of(parseAttrs(data, 0).get(IFLA_MACVLAN_MODE)) ?? null;
    }
  }
  const spec = a.get(IFLA_AF_SPEC);
  if (spec) {
    const inet6 = parseAttrs(spec, 0).get(AF_INET6);
    const mode = inet6 ? parseAttrs(inet6, 0).get(IFLA_INET6_ADDR_GEN_MODE) : undefined;
    if (mode && mode.length >= 1) info.addrGenMode = mode[0]!;
  }
  return info;
}

export interface AddrInfo {
  family: 4 | 6;
  ifindex: number;
  prefixlen: number;
  scope: number;
  /** IFA_F_* (the 32-bit IFA_FLAGS when present). */
  flags: number;
  /** The interface's own address (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6). */
  address: Uint8Array;
  /** IFA_ADDRESS (the peer on point-to-point IPv4 links). */
  peer: Uint8Array | null;
  broadcast: Uint8Array | null;
  label: string | null;
}

/** Decode an RTM_NEWADDR / RTM_DELADDR body. */
export function parseAddr(msg: NlMessage): AddrInfo | null {
  const b = msg.body;
  if (b.length < 8) return null;
  const fam = b[0];
  if (fam !== AF_INET && fam !== AF_INET6) return null;
  const family = fam === AF_INET ? 4 : 6;
  const alen = family === 4 ? 4 : 16;
  const a = parseAttrs(b, 8);
  const addrAttr = a.get(IFA_ADDRESS);
  const local = a.get(IFA_LOCAL);
  const own = family === 4 ? (local ?? addrAttr) : (addrAttr ?? local);
  if (!own || own.length !== alen) return null;
  const ifindex = new DataView(b.buffer, b.byteOffset, 8).getUint32(4, LE);
  return {
    family,
    ifindex,
    prefixlen: b[1]!,
    scope: b[3]!,
    flags: u32Of(a.get(IFA_FLAGS)) ?? b[2]!,
    address: own.slice(),
    peer: addrAttr?.length === alen ? addrAttr.slice() : null,
    broadcast: a.get(IFA_BROADCAST)?.slice() ?? null,
    label: strOf(a.get(IFA_LABEL)) ?? null,
  };
}

// ---- routes and rules (RTM_NEWROUTE/DELROUTE/GETROUTE, RTM_NEWRULE/DELRULE/GETRULE) ----

export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;

export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_IIF = 3;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_METRICS = 8;
export const RTA_TABLE = 15;
export const RTA_PREF = 20;
export const RTAX_MTU = 2;
export const RTNH_F_ONLINK = 4;

export const RTN_UNSPEC = 0;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTN_BROADCAST = 3;
export const RTN_ANYCAST = 4;
export const RTN_MULTICAST = 5;
export const RTN_BLACKHOLE = 6;
export const RTN_UNREACHABLE = 7;
export const RTN_PROHIBIT = 8;
export const RTN_THROW = 9;

export const RTPROT_UNSPEC = 0;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
/** What keepalived marks its routes and rules with (and what vipd uses unless told otherwise). */
export const RTPROT_KEEPALIVED = 18;

export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_COMPAT = 252;
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

export const FRA_DST = 1;
export const FRA_SRC = 2;
export const FRA_IIFNAME = 3;
export const FRA_GOTO = 4;
export const FRA_PRIORITY = 6;
export const FRA_FWMARK = 10;
export const FRA_SUPPRESS_PREFIXLEN = 14;
export const FRA_TABLE = 15;
export const FRA_FWMASK = 16;
export const FRA_OIFNAME = 17;
export const FRA_PROTOCOL = 21;

export const FR_ACT_TO_TBL = 1;
export const FR_ACT_GOTO = 2;
export const FR_ACT_NOP = 3;
export const FR_ACT_BLACKHOLE = 6;
export const FR_ACT_UNREACHABLE = 7;
export const FR_ACT_PROHIBIT = 8;
export const FIB_RULE_INVERT = 0x2;

/** A route as rtnetlink wants it (interface resolved to an index). */
export interface RouteMsg {
  family: 4 | 6;
  /** RTN_*; default unicast. */
  type?: number;
  /** Destination prefix bytes (4/16), or null for the default route. */
  dst: Uint8Array | null;
  dstLen: number;
  gateway?: Uint8Array | null;
  oif?: number;
  prefsrc?: Uint8Array | null;
  /** Routing table id (any u32); default main. */
  table?: number;
  /** RTA_PRIORITY (`metric`). */
  metric?: number;
  /** RT_SCOPE_*; default as `ip route` chooses (link for a unicast route without gateway, host for local). */
  scope?: number;
  /** RTPROT_*; default keepalived (18). */
  protocol?: number;
  tos?: number;
  onlink?: boolean;
  mtu?: number;
  /** IPv6 router preference (RTA_PREF: 0 medium, 1 high, 3 low). */
  pref?: number;
}

function defaultRouteScope(m: RouteMsg, op: 'add' | 'del'): number {
  if (m.scope !== undefined) return m.scope;
  const type = m.type ?? RTN_UNICAST;
  if (type === RTN_LOCAL) return RT_SCOPE_HOST;
  if (type === RTN_BROADCAST || type === RTN_MULTICAST || type === RTN_ANYCAST) return RT_SCOPE_LINK;
  if (type === RTN_UNICAST) {
    if (op === 'del') return RT_SCOPE_NOWHERE;
    if (!m.gateway) return RT_SCOPE_LINK;
  }
  return RT_SCOPE_UNIVERSE;
}

/** RTM_NEWROUTE (create, exclusive unless `replace`) or RTM_DELROUTE. */
export function encodeRoute(seq: number, op: 'add' | 'del', m: RouteMsg, opts: { replace?: boolean } = {}): Uint8Array {
  const type = op === 'add' ? RTM_NEWROUTE : RTM_DELROUTE;
  let nlflags = NLM_F_REQUEST | NLM_F_ACK;
  if (op === 'add') nlflags |= NLM_F_CREATE | (opts?.replace ? NLM_F_REPLACE : NLM_F_EXCL);
  const w = new NlWriter(128).header(type, nlflags, seq);
  const table = m.table ?? RT_TABLE_MAIN;
  const fam = m.family === 6 ? AF_INET6 : AF_INET;
  w.u8(fam)
    .u8(m.dst ? m.dstLen : 0)
    .u8(0)
    .u8(m.tos ?? 0)
    .u8(table < 256 ? table : RT_TABLE_COMPAT)
    .u8(m.protocol ?? (op === 'add' ? RTPROT_KEEPALIVED : RTPROT_UNSPEC))
    .u8(defaultRouteScope(m, op))
    .u8(m.type ?? RTN_UNICAST)
    .u32(m.onlink ? RTNH_F_ONLINK : 0);
  w.attrU32(RTA_TABLE, table);
  if (m.dst) w.attr(RTA_DST, m.dst);
  if (m.gateway) w.attr(RTA_GATEWAY, m.gateway);
  if (m.oif) w.attrU32(RTA_OIF, m.oif);
  if (m.prefsrc) w.attr(RTA_PREFSRC, m.prefsrc);
  if (m.metric !== undefined) w.attrU32(RTA_PRIORITY, m.metric);
  if (m.pref !== undefined) w.attrU8(RTA_PREF, m.pref);
  if (m.mtu !== undefined) w.beginNest(RTA_METRICS).attrU32(RTAX_MTU, m.mtu).endNest();
  return w.finish();
}

/** RTM_GETROUTE dump of one family (AF_UNSPEC: both). */
export function encodeGetRoutes(seq: number, family = AF_UNSPEC): Uint8Array {
  const w = new NlWriter(64).header(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq);
  w.u8(family).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0);
  return w.finish();
}

export interface RouteInfo {
  family: 4 | 6;
  type: number;
  dst: Uint8Array | null;
  dstLen: number;
  gateway: Uint8Array | null;
  oif: number;
  prefsrc: Uint8Array | null;
  table: number;
  metric: number;
  scope: number;
  protocol: number;
  tos: number;
  flags: number;
}

/** Decode an RTM_NEWROUTE / RTM_DELROUTE body. */
export function parseRoute(msg: NlMessage): RouteInfo | null {
  const b = msg?.body;
  if (!(b instanceof Uint8Array) || b.length < 12) return null;
  const fam = b[0];
  if (fam !== AF_INET && fam !== AF_INET6) return null;
  const alen = fam === AF_INET ? 4 : 16;
  const a = parseAttrs(b, 12);
  const addr = (t: number) => {
    const v = a.get(t);
    return v && v.length === alen ? v.slice() : null;
  };
  return {
    family: fam === AF_INET ? 4 : 6,
    dstLen: b[1]!,
    tos: b[3]!,
    table: u32Of(a.get(RTA_TABLE)) ?? b[4]!,
    protocol: b[5]!,
    scope: b[6]!,
    type: b[7]!,
    flags: new DataView(b.buffer, b.byteOffset, 12).getUint32(8, LE),
    dst: addr(RTA_DST),
    gateway: addr(RTA_GATEWAY),
    oif: u32Of(a.get(RTA_OIF)) ?? 0,
    prefsrc: addr(RTA_PREFSRC),
    metric: u32Of(a.get(RTA_PRIORITY)) ?? 0,
  };
}

/** A policy-routing rule as rtnetlink wants it. */
export interface RuleMsg {
  family: 4 | 6;
  /** FR_ACT_*; default to-table. */
  action?: number;
  table?: number;
  priority?: number;
  src?: Uint8Array | null;
  srcLen?: number;
  dst?: Uint8Array | null;
  dstLen?: number;
  fwmark?: number;
  fwmask?: number;
  iifname?: string;
  oifname?: string;
  tos?: number;
  /** `not`: FIB_RULE_INVERT. */
  invert?: boolean;
  /** FR_ACT_GOTO target priority. */
  goto?: number;
  suppressPrefixlen?: number;
  /** FRA_PROTOCOL; default keepalived (18). */
  protocol?: number;
}

/** RTM_NEWRULE (exclusive: an identical rule is EEXIST) or RTM_DELRULE. */
export function encodeRule(seq: number, op: 'add' | 'del', r: RuleMsg): Uint8Array {
  const type = op === 'add' ? RTM_NEWRULE : RTM_DELRULE;
  const nlflags = NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0);
  const w = new NlWriter(128).header(type, nlflags, seq);
  const table = r.table ?? (r.action === undefined || r.action === FR_ACT_TO_TBL ? RT_TABLE_MAIN : RT_TABLE_UNSPEC);
  // struct fib_rule_hdr: family, dst_len, src_len, tos, table, res1, res2, action; u32 flags.
  w.u8(r.family === 6 ? AF_INET6 : AF_INET)
    .u8(r.dst ? (r.dstLen ?? 0) : 0)
    .u8(r.src ? (r.srcLen ?? 0) : 0)
    .u8(r.tos ?? 0)
    .u8(table < 256 ? table : RT_TABLE_UNSPEC)
    .u8(0)
    .u8(0)
    .u8(r.action ?? FR_ACT_TO_TBL)
    .u32(r.invert ? FIB_RULE_INVERT : 0);
  if (table !== RT_TABLE_UNSPEC) w.attrU32(FRA_TABLE, table);
  if (r.priority !== undefined) w.attrU32(FRA_PRIORITY, r.priority);
  if (r.src) w.attr(FRA_SRC, r.src);
  if (r.dst) w.attr(FRA_DST, r.dst);
  if (r.fwmark !== undefined) w.attrU32(FRA_FWMARK, r.fwmark);
  if (r.fwmask !== undefined) w.attrU32(FRA_FWMASK, r.fwmask);
  if (r.iifname) w.attrStr(FRA_IIFNAME, r.iifname);
  if (r.oifname) w.attrStr(FRA_OIFNAME, r.oifname);
  if (r.goto !== undefined) w.attrU32(FRA_GOTO, r.goto);
  if (r.suppressPrefixlen !== undefined) w.attrU32(FRA_SUPPRESS_PREFIXLEN, r.suppressPrefixlen);
  if (op === 'add' || r.protocol !== undefined) w.attrU8(FRA_PROTOCOL, r.protocol ?? RTPROT_KEEPALIVED);
  return w.finish();
}

/** RTM_GETRULE dump of one family. */
export function encodeGetRules(seq: number, family = AF_INET): Uint8Array {
  const w = new NlWriter(64).header(RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP, seq);
  w.u8(family).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0);
  return w.finish();
}

export interface RuleInfo {
  family: 4 | 6;
  action: number;
  table: number;
  priority: number;
  src: Uint8Array | null;
  srcLen: number;
  dst: Uint8Array | null;
  dstLen: number;
  fwmark: number | null;
  fwmask: number | null;
  iifname: string | null;
  oifname: string | null;
  tos: number;
  invert: boolean;
  protocol: number;
}

/** Decode an RTM_NEWRULE / RTM_DELRULE body. */
export function parseRule(msg: NlMessage): RuleInfo | null {
  const b = msg?.body;
  if (!(b instanceof Uint8Array) || b.length < 12) return null;
  const fam = b[0];
  if (fam !== AF_INET && fam !== AF_INET6) return null;
  const alen = fam === AF_INET ? 4 : 16;
  const a = parseAttrs(b, 12);
  const addr = (t: number) => {
    const v = a.get(t);
    return v && v.length === alen ? v.slice() : null;
  };
  return {
    family: fam === AF_INET ? 4 : 6,
    dstLen: b[1]!,
    srcLen: b[2]!,
    tos: b[3]!,
    table: u32Of(a.get(FRA_TABLE)) ?? b[4]!,
    action: b[7]!,
    invert: (new DataView(b.buffer, b.byteOffset, 12).getUint32(8, LE) & FIB_RULE_INVERT) !== 0,
    priority: u32Of(a.get(FRA_PRIORITY)) ?? 0,
    src: addr(FRA_SRC),
    dst: addr(FRA_DST),
    fwmark: u32Of(a.get(FRA_FWMARK)) ?? null,
    fwmask: u32Of(a.get(FRA_FWMASK)) ?? null,
    iifname: strOf(a.get(FRA_IIFNAME)) ?? null,
    oifname: strOf(a.get(FRA_OIFNAME)) ?? null,
    protocol: a.get(FRA_PROTOCOL)?.[0] ?? 0,
  };
}
