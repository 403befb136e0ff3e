/**
 * ARP for Ethernet/IPv4 (RFC 826) and gratuitous ARP (RFC 5227 §3, RFC 5798 §6.4.1 / errata 7947):
 * a broadcast ARP request whose sender and target IP are both the VIP and whose sender MAC is the
 * virtual MAC (or the interface's MAC). Pure; never throws.
 */
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETH_HLEN, writeEthernetHeader } from './ethernet.js';

export const ARP_LEN = 28;
export const ARPHRD_ETHER = 1;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
/** Ethernet header + ARP: 42 bytes (the NIC pads to the 60-byte minimum, as keepalived's frames). */
export const GARP_FRAME_LEN = ETH_HLEN + ARP_LEN;

export interface ArpPacket {
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

/** Write a 28-byte Ethernet/IPv4 ARP packet at `off`; returns the offset after it. */
export function writeArp(buf: Uint8Array, off: number, p: ArpPacket): number {
  buf[off] = 0;
  buf[off + 1] = ARPHRD_ETHER;
  buf[off + 2] = ETHERTYPE_IPV4 >> 8;
  buf[off + 3] = ETHERTYPE_IPV4 & 0xff;
  buf[off + 4] = 6;
  buf[off + 5] = 4;
  buf[off + 6] = (p.op >> 8) & 0xff;
  buf[off + 7] = p.op & 0xff;
  buf.set(p.senderMac.subarray(0, 6), off + 8);
  buf.set(p.senderIp.subarray(0, 4), off + 14);
  buf.set(p.targetMac.subarray(0, 6), off + 18);
  buf.set(p.targetIp.subarray(0, 4), off + 24);
  return off + ARP_LEN;
}

export function encodeArp(p: ArpPacket): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  writeArp(b, 0, p);
  return b;
}

/** Parse an Ethernet/IPv4 ARP packet (the Ethernet payload), or null. */
export function parseArp(b: Uint8Array): ArpPacket | null {
  if (b.length < ARP_LEN) return null;
  if (((b[0]! << 8) | b[1]!) !== ARPHRD_ETHER || ((b[2]! << 8) | b[3]!) !== ETHERTYPE_IPV4) return null;
  if (b[4] !== 6 || b[5] !== 4) return null;
  return {
    op: (b[6]! << 8) | b[7]!,
    senderMac: b.subarray(8, 14),
    senderIp: b.subarray(14, 18),
    targetMac: b.subarray(18, 24),
    targetIp: b.subarray(24, 28),
  };
}

/**
 * Write a complete gratuitous-ARP frame (42 bytes) into `buf` at `off`: Ethernet broadcast from `mac`,
 * ARP request, sender = target = `ip`, target MAC ff:ff:ff:ff:ff:ff (the bytes keepalived sends).
 */
export function writeGarpFrame(buf: Uint8Array, off: number, mac: Uint8Array, ip: Uint8Array): number {
  const o = writeEthernetHeader(buf, off, BROADCAST_MAC, mac, ETHERTYPE_ARP);
  return writeArp(buf, o, { op: ARPOP_REQUEST, senderMac: mac, senderIp: ip, targetMac: BROADCAST_MAC, targetIp: ip });
}

export function encodeGarpFrame(mac: Uint8Array, ip: Uint8Array): Uint8Array {
  const b = new Uint8Array(GARP_FRAME_LEN);
  writeGarpFrame(b, 0, mac, ip);
  return b;
}

/** True when an ARP packet is gratuitous (sender IP equals target IP). */
export function isGratuitous(p: ArpPacket): boolean {
  for (let i = 0; i < 4; i++) if (p.senderIp[i] !== p.targetIp[i]) return false;
  return true;
}
