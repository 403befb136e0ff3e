/**
 * Encoders/decoders for the C structures passed to the addon: sockaddr_in/in6/ll/nl, ip_mreqn,
 * ipv6_mreq, in_pktinfo, in6_pktinfo, and control messages (cmsg). Layouts are Linux LP64
 * little-endian; sizes and alignment come from the addon so a mismatch fails loudly.
 */
import { K } from './native.js';

const LE = true;

export function sockaddrIn(addr: Uint8Array, port = 0): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, K('AF_INET'), LE);
  dv.setUint16(2, port, false);
  b.set(addr.subarray(0, 4), 4);
  return b;
}

export function sockaddrIn6(addr: Uint8Array, scopeId = 0, port = 0): Uint8Array {
  const b = new Uint8Array(28);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, K('AF_INET6'), LE);
  dv.setUint16(2, port, false);
  b.set(addr.subarray(0, 16), 8);
  dv.setUint32(24, scopeId >>> 0, LE);
  return b;
}

/** sockaddr_ll for AF_PACKET: protocol is an ETH_P_* value (host order, encoded big-endian). */
export function sockaddrLl(ifindex: number, protocol: number, mac?: Uint8Array): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, K('AF_PACKET'), LE);
  dv.setUint16(2, protocol, false);
  dv.setInt32(4, ifindex, LE);
  if (mac) {
    b[11] = Math.min(mac.length, 8);
    b.set(mac.subarray(0, 8), 12);
  }
  return b;
}

export function sockaddrNl(pid = 0, groups = 0): Uint8Array {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, K('AF_NETLINK'), LE);
  dv.setUint32(4, pid >>> 0, LE);
  dv.setUint32(8, groups >>> 0, LE);
  return b;
}

/** struct ip_mreqn { multiaddr, address, ifindex } */
export function ipMreqn(group: Uint8Array, ifindex: number, local?: Uint8Array): Uint8Array {
  const b = new Uint8Array(K('SIZEOF_IP_MREQN'));
  b.set(group.subarray(0, 4), 0);
  if (local) b.set(local.subarray(0, 4), 4);
  new DataView(b.buffer).setInt32(8, ifindex, LE);
  return b;
}

/** struct ipv6_mreq { multiaddr, ifindex } */
export function ipv6Mreq(group: Uint8Array, ifindex: number): Uint8Array {
  const b = new Uint8Array(K('SIZEOF_IPV6_MREQ'));
  b.set(group.subarray(0, 16), 0);
  new DataView(b.buffer).setUint32(16, ifindex >>> 0, LE);
  return b;
}

/** The source address from a received sockaddr_in / sockaddr_in6, copied into `out`. */
export function sockaddrAddr(sa: Uint8Array, len: number, out: Uint8Array): boolean {
  const fam = sa[0]! | (sa[1]! << 8);
  if (fam === K('AF_INET') && len >= 8 && out.length >= 4) {
    out.set(sa.subarray(4, 8));
    return true;
  }
  if (fam === K('AF_INET6') && len >= 24 && out.length >= 16) {
    out.set(sa.subarray(8, 24));
    return true;
  }
  return false;
}

// ---- control messages ----

let hdr = 0;
let align = 0;
function cmsgHdr(): number {
  if (!hdr) {
    hdr = K('SIZEOF_CMSGHDR');
    align = K('CMSG_ALIGN');
  }
  return hdr;
}
function cmsgAlign(n: number): number {
  cmsgHdr();
  return (n + align - 1) & ~(align - 1);
}
/** CMSG_SPACE(n) */
export function cmsgSpace(n: number): number {
  return cmsgHdr() + cmsgAlign(n);
}

/** Writes control messages into a reusable buffer. */
export class CmsgWriter {
  readonly buf: Uint8Array;
  private readonly dv: DataView;
  len = 0;
  constructor(capacity = 128) {
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
  }
  reset(): this {
    this.len = 0;
    return this;
  }
  /** Append one cmsg; returns the offset of its data. */
  add(level: number, type: number, dataLen: number): number {
    const h = cmsgHdr();
    const off = this.len;
    const space = cmsgSpace(dataLen);
    if (off + space > this.buf.length) throw new RangeError('control buffer too small');
    this.buf.fill(0, off, off + space);
    // cmsg_len is size_t: write the low 32 bits, the high half is already zero.
    this.dv.setUint32(off, h + dataLen, LE);
    this.dv.setInt32(off + (h === 16 ? 8 : 4), level, LE);
    this.dv.setInt32(off + (h === 16 ? 12 : 8), type, LE);
    this.len = off + space;
    return off + h;
  }
  addInt(level: number, type: number, v: number): void {
    const o = this.add(level, type, 4);
    this.dv.setInt32(o, v, LE);
  }
  /** IP_PKTINFO { ipi_ifindex, ipi_spec_dst (source to use), ipi_addr } */
  addInPktinfo(ifindex: number, specDst?: Uint8Array): void {
    const o = this.add(K('IPPROTO_IP'), K('IP_PKTINFO'), K('SIZEOF_IN_PKTINFO'));
    this.dv.setInt32(o, ifindex, LE);
    if (specDst) for (let i = 0; i < 4; i++) this.buf[o + 4 + i] = specDst[i]!;
  }
  /** IPV6_PKTINFO { ipi6_addr (source to use), ipi6_ifindex } */
  addIn6Pktinfo(ifindex: number, src?: Uint8Array): void {
    const o = this.add(K('IPPROTO_IPV6'), K('IPV6_PKTINFO'), K('SIZEOF_IN6_PKTINFO'));
    if (src) for (let i = 0; i < 16; i++) this.buf[o + i] = src[i]!;
    this.dv.setUint32(o + 16, ifindex >>> 0, LE);
  }
  /** The bytes written so far (a view, valid until the next reset). */
  view(): Uint8Array | null {
    if (!this.len) return null;
    // Per-packet callers: the same length gives the same view, so keep the last one instead of allocating.
    if (this.lastView?.length !== this.len) this.lastView = this.buf.subarray(0, this.len);
    return this.lastView;
  }
  private lastView: Uint8Array | null = null;
}

/** Iterate received control messages: cb(level, type, dataOffset, dataLen). */
export function forEachCmsg(
  buf: Uint8Array,
  len: number,
  cb: (level: number, type: number, off: number, dataLen: number) => void,
): void {
  const h = cmsgHdr();
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + h <= len) {
    const clen = dv.getUint32(off, LE);
    if (clen < h || off + clen > len) break;
    const level = dv.getInt32(off + (h === 16 ? 8 : 4), LE);
    const type = dv.getInt32(off + (h === 16 ? 12 : 8), LE);
    cb(level, type, off + h, clen - h);
    off += cmsgAlign(clen);
  }
}
