/**
 * IPv6 Neighbor Advertisement (RFC 4861 §4.4) as a complete Ethernet frame, for the unsolicited NA a
 * new VRRP master sends per IPv6 VIP (RFC 5798 §6.4.2): to ff02::1, hop limit 255, R (router) and O
 * (override) set, S clear, target link-layer address option = the virtual MAC. The ICMPv6 checksum is
 * computed here (frames go out over AF_PACKET). Pure; never throws.
 */
import { ipv6PseudoSum, sum16, finish } from './checksum.js';
import { ETHERTYPE_IPV6, ETH_HLEN, writeEthernetHeader, ipv6MulticastMac } from './ethernet.js';

export const IPV6_HLEN = 40;
export const IPPROTO_ICMPV6 = 58;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
/** ICMPv6 NA (24) + target link-layer option (8). */
export const NA_LEN = 32;
export const NA_FRAME_LEN = ETH_HLEN + IPV6_HLEN + NA_LEN;
/** ff02::1, all nodes. */
export const ALL_NODES = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

export interface NaParams {
  /** Source MAC (the virtual MAC) and the target link-layer address. */
  mac: Uint8Array;
  /** IPv6 source: the interface's link-local address. */
  src: Uint8Array;
  /** The VIP being announced. */
  target: Uint8Array;
  /** Destination; default ff02::1. */
  dst?: Uint8Array;
  /** R flag (default true: VRRP routers are routers). */
  router?: boolean;
  /** O flag (default true). */
  override?: boolean;
  solicited?: boolean;
}

/** ICMPv6 checksum of `msg` (checksum field included as is) for the given IPv6 addresses. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, msg: Uint8Array, start = 0, end = msg.length): number {
  return finish(sum16(msg, start, end, ipv6PseudoSum(src, dst, IPPROTO_ICMPV6, end - start)));
}

/** Write an IPv6 header at `off`; returns the offset after it. */
export function writeIPv6Header(
  buf: Uint8Array,
  off: number,
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  payloadLen: number,
  hopLimit: number,
): number {
  buf.fill(0, off, off + 4);
  buf[off] = 0x60;
  buf[off + 4] = (payloadLen >> 8) & 0xff;
  buf[off + 5] = payloadLen & 0xff;
  buf[off + 6] = nextHeader;
  buf[off + 7] = hopLimit;
  buf.set(src.subarray(0, 16), off + 8);
  buf.set(dst.subarray(0, 16), off + 24);
  return off + IPV6_HLEN;
}

/** Write a complete NA frame (86 bytes) into `buf` at `off`; returns the offset after it. */
export function writeNaFrame(buf: Uint8Array, off: number, p: NaParams): number {
  const dst = p.dst ?? ALL_NODES;
  const dmac = dst[0] === 0xff ? ipv6MulticastMac(dst) : ipv6MulticastMac(ALL_NODES);
  let o = writeEthernetHeader(buf, off, dmac, p.mac, ETHERTYPE_IPV6);
  o = writeIPv6Header(buf, o, p.src, dst, IPPROTO_ICMPV6, NA_LEN, 255);
  const icmp = o;
  buf[o] = ND_NEIGHBOR_ADVERT;
  buf[o + 1] = 0;
  buf[o + 2] = 0;
  buf[o + 3] = 0;
  buf[o + 4] =
    (p.router !== false ? NA_FLAG_ROUTER : 0) | (p.override !== false ? NA_FLAG_OVERRIDE : 0) | (p.solicited ? NA_FLAG_SOLICITED : 0);
  buf.fill(0, o + 5, o + 8);
  buf.set(p.target.subarray(0, 16), o + 8);
  buf[o + 24] = ND_OPT_TARGET_LINKADDR;
  buf[o + 25] = 1;
  buf.set(p.mac.subarray(0, 6), o + 26);
  const ck = icmpv6Checksum(p.src, dst, buf, icmp, icmp + NA_LEN);
  buf[icmp + 2] = ck >> 8;
  buf[icmp + 3] = ck & 0xff;
  return icmp + NA_LEN;
}

export function encodeNaFrame(p: NaParams): Uint8Array {
  const b = new Uint8Array(NA_FRAME_LEN);
  writeNaFrame(b, 0, p);
  return b;
}

export interface ParsedNa {
  src: Uint8Array;
  dst: Uint8Array;
  hopLimit: number;
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: Uint8Array;
  /** Target link-layer address option, or null. */
  targetMac: Uint8Array | null;
  checksumOk: boolean;
}

/** Parse an IPv6 packet (starting at the IPv6 header) carrying an NA, or null. */
export function parseNa(pkt: Uint8Array): ParsedNa | null {
  if (pkt.length < IPV6_HLEN + 24 || pkt[0]! >> 4 !== 6 || pkt[6] !== IPPROTO_ICMPV6) return null;
  const plen = (pkt[4]! << 8) | pkt[5]!;
  if (plen < 24 || IPV6_HLEN + plen > pkt.length) return null;
  const icmp = pkt.subarray(IPV6_HLEN, IPV6_HLEN + plen);
  if (icmp[0] !== ND_NEIGHBOR_ADVERT) return null;
  const src = pkt.subarray(8, 24);
  const dst = pkt.subarray(24, 40);
  let targetMac: Uint8Array | null = null;
  let o = 24;
  while (o + 8 <= icmp.length) {
    const len = icmp[o + 1]! * 8;
    if (len === 0 || o + len > icmp.length) break;
    if (icmp[o] === ND_OPT_TARGET_LINKADDR && len >= 8) targetMac = icmp.subarray(o + 2, o + 8);
    o += len;
  }
  return {
    src,
    dst,
    hopLimit: pkt[7]!,
    router: (icmp[4]! & NA_FLAG_ROUTER) !== 0,
    solicited: (icmp[4]! & NA_FLAG_SOLICITED) !== 0,
    override: (icmp[4]! & NA_FLAG_OVERRIDE) !== 0,
    target: icmp.subarray(8, 24),
    targetMac,
    checksumOk: icmpv6Checksum(src, dst, icmp) === 0,
  };
}
