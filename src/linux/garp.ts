/**
 * Gratuitous ARP and unsolicited Neighbor Advertisements over one AF_PACKET socket (send only:
 * protocol 0, so the kernel queues nothing to it). Frames are built in TypeScript (src/wire/arp.ts,
 * src/wire/ndp.ts) into a reused buffer; nothing is allocated per packet.
 */
import { GARP_FRAME_LEN, writeGarpFrame } from '../wire/arp.js';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV6, formatMac } from '../wire/ethernet.js';
import { formatIPv4, formatIPv6, isIPv6LinkLocal } from '../wire/inet.js';
import { NA_FRAME_LEN, writeNaFrame } from '../wire/ndp.js';
import { K, SysError, errnoError, native, wrapError, type SocketHandle } from './native.js';

export interface NaOptions {
  /** R flag, default true. */
  router?: boolean;
  /** Destination, default ff02::1. */
  dst?: Uint8Array;
}

export class GarpSender {
  private readonly h: SocketHandle;
  private readonly frame = new Uint8Array(128);
  private readonly sll = new Uint8Array(20);
  private readonly sllDv = new DataView(this.sll.buffer);
  private closed = false;
  /** Frames sent so far (for tests and statistics). */
  sent = 0;

  private constructor(h: SocketHandle) {
    this.h = h;
    this.sllDv.setUint16(0, K('AF_PACKET'), true);
    this.sll[11] = 6; // sll_halen
  }

  static open(): GarpSender {
    try {
      return new GarpSender(native().socket(K('AF_PACKET'), K('SOCK_RAW'), 0));
    } catch (e) {
      const err = wrapError('open AF_PACKET socket for gratuitous ARP / NA', e);
      if (err.code === 'EPERM') err.message += ' (needs root or CAP_NET_RAW)';
      throw err;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().close(this.h);
  }

  private send(len: number, ifindex: number, ethertype: number, dstMac: Uint8Array, what: () => string): void {
    if (this.closed) throw new SysError(`${what()}: socket closed`, 9, 'EBADF');
    if (!Number.isInteger(ifindex) || ifindex <= 0) throw new SysError(`${what()}: bad interface index ${ifindex}`, 19, 'ENODEV');
    this.sllDv.setUint16(2, ethertype, false);
    this.sllDv.setInt32(4, ifindex, true);
    this.sll.set(dstMac.subarray(0, 6), 12);
    const r = native().sendmsg(this.h, this.frame.subarray(0, len), this.sll, null, 0);
    if (r < 0) throw errnoError(what(), r);
    this.sent++;
  }

  /** Broadcast a gratuitous ARP for `ip` (4 bytes) from `mac` out of `ifindex`. */
  sendGarp(ifindex: number, mac: Uint8Array, ip: Uint8Array): void {
    if (mac.length !== 6 || ip.length !== 4) throw new SysError('gratuitous ARP: MAC must be 6 bytes and IP 4 bytes', 22, 'EINVAL');
    writeGarpFrame(this.frame, 0, mac, ip);
    this.send(GARP_FRAME_LEN, ifindex, ETHERTYPE_ARP, BROADCAST_MAC, () => `gratuitous ARP for ${formatIPv4(ip)} from ${formatMac(mac)} on ${ifname(ifindex)}`);
  }

  /**
   * Send an unsolicited NA for `target` from `mac` out of `ifindex`; `src` is the interface's
   * link-local address (RFC 4861 §7.2.6 requires a link-local source for ND).
   */
  sendNa(ifindex: number, mac: Uint8Array, src: Uint8Array, target: Uint8Array, opts: NaOptions = {}): void {
    if (mac.length !== 6 || src.length !== 16 || target.length !== 16) {
      throw new SysError('unsolicited NA: MAC must be 6 bytes and addresses 16 bytes', 22, 'EINVAL');
    }
    if (!isIPv6LinkLocal(src)) throw new SysError(`unsolicited NA for ${formatIPv6(target)}: source ${formatIPv6(src)} is not link-local`, 22, 'EINVAL');
    writeNaFrame(this.frame, 0, { mac, src, target, dst: opts.dst, router: opts.router ?? true, override: true });
    const dmac = this.frame.subarray(0, 6);
    this.send(NA_FRAME_LEN, ifindex, ETHERTYPE_IPV6, dmac, () => `unsolicited NA for ${formatIPv6(target)} from ${formatMac(mac)} on ${ifname(ifindex)}`);
  }
}

function ifname(ifindex: number): string {
  return native().ifIndexToName(ifindex) ?? `ifindex ${ifindex}`;
}
