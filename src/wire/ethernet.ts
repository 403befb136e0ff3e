/**
 * Ethernet II frames and MAC address text. Pure; never throws (parsers return null).
 */

export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  ethertype: number;
  /** Views into the frame. */
  payload: Uint8Array;
}

/** Write a 14-byte Ethernet II header at `off`; returns the offset after it. */
export function writeEthernetHeader(buf: Uint8Array, off: number, dst: Uint8Array, src: Uint8Array, ethertype: number): number {
  buf.set(dst.subarray(0, 6), off);
  buf.set(src.subarray(0, 6), off + 6);
  buf[off + 12] = (ethertype >> 8) & 0xff;
  buf[off + 13] = ethertype & 0xff;
  return off + ETH_HLEN;
}

export function encodeEthernet(dst: Uint8Array, src: Uint8Array, ethertype: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(ETH_HLEN + payload.length);
  writeEthernetHeader(b, 0, dst, src, ethertype);
  b.set(payload, ETH_HLEN);
  return b;
}

/** Parse an Ethernet II frame (no 802.1Q handling: a tagged frame reports ethertype 0x8100). */
export function parseEthernet(frame: Uint8Array): EthernetFrame | null {
  if (frame.length < ETH_HLEN) return null;
  return {
    dst: frame.subarray(0, 6),
    src: frame.subarray(6, 12),
    ethertype: (frame[12]! << 8) | frame[13]!,
    payload: frame.subarray(ETH_HLEN),
  };
}

/** "00:00:5e:00:01:07" */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Parse "00:00:5e:00:01:07" (also '-' separated), or null. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i]!)) return null;
    out[i] = parseInt(parts[i]!, 16);
  }
  return out;
}

export function isMulticastMac(mac: Uint8Array): boolean {
  return (mac[0]! & 1) === 1;
}

/** The VRRP virtual MAC: 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6), RFC 5798 §7.3. */
export function vrrpVirtualMac(family: 4 | 6, vrid: number): Uint8Array {
  return Uint8Array.of(0x00, 0x00, 0x5e, 0x00, family === 4 ? 0x01 : 0x02, vrid & 0xff);
}

/** The Ethernet multicast MAC for an IPv6 multicast address: 33:33 + its last 4 bytes. */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return Uint8Array.of(0x33, 0x33, group[12]!, group[13]!, group[14]!, group[15]!);
}
