/**
 * VRRP sockets: one raw socket (protocol 112) per address family, serving every interface.
 *
 *  - join(ifindex) joins 224.0.0.18 / ff02::12 on that interface (IP_MULTICAST_ALL / IPV6_MULTICAST_ALL
 *    off, so only groups joined by this socket are delivered; multicast loop off).
 *  - send() chooses interface and source per packet with IP_PKTINFO / IPV6_PKTINFO control messages;
 *    the kernel builds the IP header with TTL / hop limit 255 (a per-packet `ttl` overrides, for tests).
 *    For IPv6 the kernel fills the VRRP checksum (IPV6_CHECKSUM at offset 6) and drops bad ones on receive.
 *  - received packets are delivered as { data, ifindex, src, dst, ttlOrHopLimit }: for IPv4 `data` is the
 *    whole IP datagram (raw IPv4 sockets include the header), for IPv6 the VRRP message. The object and
 *    its buffers are reused: they are valid only during the callback (copy what you keep).
 *  - drain() reads everything queued synchronously (for the daemon's timer path: read pending adverts
 *    before deciding that the master is down).
 */
import { formatIP, sameAddr } from '../wire/inet.js';
import { K, SysError, errnoError, native, wrapError, type SocketHandle } from './native.js';
import { CmsgWriter, ipMreqn, ipv6Mreq, sockaddrIn, sockaddrIn6 } from './sockaddr.js';

export const VRRP_PROTOCOL = 112;
export const VRRP_GROUP4 = Uint8Array.of(224, 0, 0, 18);
export const VRRP_GROUP6 = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12);

export interface VrrpPacket {
  family: 4 | 6;
  /** IPv4: the whole IP datagram; IPv6: the VRRP message. A view into the receive buffer (valid during the callback). */
  data: Uint8Array;
  /** Interface the packet arrived on (IP_PKTINFO / IPV6_PKTINFO). */
  ifindex: number;
  /** Source address (4 or 16 bytes; reused buffer). */
  src: Uint8Array;
  /** Destination address (4 or 16 bytes; reused buffer). */
  dst: Uint8Array;
  /** IP TTL or IPv6 hop limit as received, -1 if the kernel did not report it. */
  ttlOrHopLimit: number;
  /** The datagram was larger than the receive buffer (data holds only its beginning). */
  truncated: boolean;
}

export interface VrrpSendOptions {
  /** Outgoing interface. */
  ifindex: number;
  /** Source address (4 or 16 bytes); omitted or all-zero lets the kernel choose. */
  src?: Uint8Array;
  /** Destination: a unicast peer, default the VRRP multicast group. */
  dst?: Uint8Array;
  /** TTL / hop limit for this packet (default 255). Only tests should need this. */
  ttl?: number;
}

export interface VrrpSocketOptions {
  /** SO_RCVBUF(FORCE) in bytes. */
  rcvbuf?: number;
  /** IPv6: let the kernel compute and verify the VRRP checksum (IPV6_CHECKSUM 6). Default true. */
  kernelChecksum?: boolean;
  /** Protocol number, default 112. */
  protocol?: number;
}

const RECV_SIZE = 9216;

export class VrrpSocket {
  readonly family: 4 | 6;
  private readonly h: SocketHandle;
  private readonly n = native();
  private closed = false;
  private cb: ((pkt: VrrpPacket) => void) | null = null;
  private errCb: ((err: Error) => void) | null = null;
  private readonly joined = new Set<number>();
  // Receive state, allocated once.
  private readonly rbuf = new Uint8Array(RECV_SIZE);
  private readonly abuf = new Uint8Array(32);
  private readonly cbuf = new Uint8Array(256);
  private readonly cdv = new DataView(this.cbuf.buffer);
  private readonly out = new Int32Array(3);
  private readonly pkt: VrrpPacket;
  // Send state.
  private readonly cw = new CmsgWriter(128);
  private readonly dstSa: Uint8Array;
  /** The last destination sockaddr per interface (see trySend). */
  private readonly saMemo = new Map<number, { dst: Uint8Array; sa: Uint8Array }>();
  private readonly group: Uint8Array;
  // Constants looked up once.
  private readonly c: Record<string, number>;
  private readonly cmsgHdr: number;
  private readonly cmsgAlign: number;
  private readonly cmsgLevelOff: number;
  private readonly cmsgTypeOff: number;

  private constructor(family: 4 | 6, h: SocketHandle) {
    this.family = family;
    this.h = h;
    this.c = this.n.constants;
    this.cmsgHdr = K('SIZEOF_CMSGHDR');
    this.cmsgAlign = K('CMSG_ALIGN');
    // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; }
    this.cmsgLevelOff = this.cmsgHdr - 8;
    this.cmsgTypeOff = this.cmsgHdr - 4;
    const alen = family === 4 ? 4 : 16;
    this.pkt = {
      family,
      data: this.rbuf.subarray(0, 0),
      ifindex: 0,
      src: new Uint8Array(alen),
      dst: new Uint8Array(alen),
      ttlOrHopLimit: -1,
      truncated: false,
    };
    this.group = family === 4 ? VRRP_GROUP4 : VRRP_GROUP6;
    this.dstSa = family === 4 ? sockaddrIn(this.group) : sockaddrIn6(this.group);
  }

  /** Open the VRRP socket of one family (needs CAP_NET_RAW). */
  static open(family: 4 | 6, opts: VrrpSocketOptions = {}): VrrpSocket {
    const n = native();
    const what = `open IPv${family} VRRP socket`;
    let h: SocketHandle;
    try {
      h = n.socket(K(family === 4 ? 'AF_INET' : 'AF_INET6'), K('SOCK_RAW'), opts.protocol ?? VRRP_PROTOCOL);
    } catch (e) {
      const err = wrapError(what, e);
      if (err.code === 'EPERM') err.message += ' (needs root or CAP_NET_RAW)';
      throw err;
    }
    try {
      if (family === 4) {
        const IP = K('IPPROTO_IP');
        n.setsockopt(h, IP, K('IP_MULTICAST_ALL'), 0);
        n.setsockopt(h, IP, K('IP_MULTICAST_LOOP'), 0);
        n.setsockopt(h, IP, K('IP_MULTICAST_TTL'), 255);
        n.setsockopt(h, IP, K('IP_TTL'), 255);
        n.setsockopt(h, IP, K('IP_PKTINFO'), 1);
        n.setsockopt(h, IP, K('IP_RECVTTL'), 1);
      } else {
        const IP6 = K('IPPROTO_IPV6');
        n.setsockopt(h, IP6, K('IPV6_MULTICAST_ALL'), 0);
        n.setsockopt(h, IP6, K('IPV6_MULTICAST_LOOP'), 0);
        n.setsockopt(h, IP6, K('IPV6_MULTICAST_HOPS'), 255);
        n.setsockopt(h, IP6, K('IPV6_UNICAST_HOPS'), 255);
        n.setsockopt(h, IP6, K('IPV6_RECVPKTINFO'), 1);
        n.setsockopt(h, IP6, K('IPV6_RECVHOPLIMIT'), 1);
        if (opts.kernelChecksum !== false) n.setsockopt(h, IP6, K('IPV6_CHECKSUM'), 6);
      }
      if (opts.rcvbuf !== undefined) {
        try {
          n.setsockopt(h, K('SOL_SOCKET'), K('SO_RCVBUFFORCE'), opts.rcvbuf);
        } catch {
          n.setsockopt(h, K('SOL_SOCKET'), K('SO_RCVBUF'), opts.rcvbuf);
        }
      }
    } catch (e) {
      n.close(h);
      throw wrapError(`${what}: socket options`, e);
    }
    return new VrrpSocket(family, h);
  }

  private ifname(ifindex: number): string {
    return this.n.ifIndexToName(ifindex) ?? `ifindex ${ifindex}`;
  }

  private membership(ifindex: number, add: boolean): void {
    const groupText = this.family === 4 ? '224.0.0.18' : 'ff02::12';
    const what = `${add ? 'join' : 'leave'} ${groupText} on ${this.ifname(ifindex)}`;
    if (this.closed) throw new SysError(`${what}: socket closed`, 9, 'EBADF');
    if (!Number.isInteger(ifindex) || ifindex <= 0) throw new SysError(`${what}: bad interface index`, 19, 'ENODEV');
    try {
      if (this.family === 4) {
        this.n.setsockopt(this.h, K('IPPROTO_IP'), K(add ? 'IP_ADD_MEMBERSHIP' : 'IP_DROP_MEMBERSHIP'), ipMreqn(this.group, ifindex));
      } else {
        this.n.setsockopt(this.h, K('IPPROTO_IPV6'), K(add ? 'IPV6_ADD_MEMBERSHIP' : 'IPV6_DROP_MEMBERSHIP'), ipv6Mreq(this.group, ifindex));
      }
    } catch (e) {
      throw wrapError(what, e);
    }
  }

  /** Join the VRRP group on an interface (idempotent). */
  join(ifindex: number): void {
    if (this.joined.has(ifindex)) return;
    this.membership(ifindex, true);
    this.joined.add(ifindex);
  }

  /** Leave the VRRP group on an interface (no-op when not joined). */
  leave(ifindex: number): void {
    if (!this.joined.has(ifindex)) return;
    this.joined.delete(ifindex);
    try {
      this.membership(ifindex, false);
    } catch (e) {
      // The interface may be gone, which already dropped the membership.
      if ((e as SysError).code !== 'ENODEV' && (e as SysError).code !== 'EADDRNOTAVAIL') throw e;
    }
  }

  joinedInterfaces(): number[] {
    return [...this.joined];
  }

  /** Send one VRRP message (the kernel adds the IP header). Throws SysError naming interface and destination. */
  send(payload: Uint8Array, opts: VrrpSendOptions): void {
    const r = this.trySend(payload, opts);
    if (r < 0) {
      const dst = opts.dst ? formatIP(this.family, opts.dst) : this.family === 4 ? '224.0.0.18' : 'ff02::12';
      throw errnoError(`send VRRP advert to ${dst} on ${this.ifname(opts.ifindex)}`, r);
    }
  }

  /** Like send() but returns the byte count or -errno instead of throwing. */
  trySend(payload: Uint8Array, opts: VrrpSendOptions): number {
    if (this.closed) return -9;
    const cw = this.cw.reset();
    let sa = this.dstSa;
    if (this.family === 4) {
      cw.addInPktinfo(opts.ifindex, opts.src);
      if (opts.ttl !== undefined) cw.addInt(this.c.IPPROTO_IP!, this.c.IP_TTL!, opts.ttl);
    } else {
      cw.addIn6Pktinfo(opts.ifindex, opts.src);
      if (opts.ttl !== undefined) cw.addInt(this.c.IPPROTO_IPV6!, this.c.IPV6_HOPLIMIT!, opts.ttl);
    }
    if (opts.dst) {
      // Link-local and multicast IPv6 destinations need the scope for the kernel's route lookup. A master sends to the
      // same destination every interval: reuse the last sockaddr when it is the same.
      const m = this.saMemo.get(opts.ifindex);
      if (m && sameAddr(m.dst, opts.dst)) sa = m.sa;
      else {
        sa = this.family === 4 ? sockaddrIn(opts.dst) : sockaddrIn6(opts.dst, opts.ifindex);
        this.saMemo.set(opts.ifindex, { dst: opts.dst.slice(), sa });
      }
    }
    return this.n.sendmsg(this.h, payload, sa, cw.view(), 0);
  }

  /** Deliver received packets to `cb` as they arrive (through the event loop). */
  onPacket(cb: (pkt: VrrpPacket) => void, onError?: (err: Error) => void): void {
    this.cb = cb;
    this.errCb = onError ?? null;
    // libuv stops a poll handle on POLLERR (a pending socket error, e.g. an ICMP error after a unicast send):
    // read it and start polling again, so the socket never goes deaf.
    const arm = (): void => {
      if (this.closed) return;
      this.n.poll(this.h, this.c.UV_READABLE!, (status: number) => {
        this.drain();
        if (status < 0 && !this.closed) setImmediate(arm); // re-arming inside the callback does not take
      });
    };
    arm();
  }

  /** Whether a pending onPacket() keeps the event loop alive (default yes). */
  ref(on: boolean): void {
    if (!this.closed && this.cb) this.n.pollRef(this.h, on);
  }

  /**
   * Synchronously read every queued packet and deliver each to the onPacket callback; returns how
   * many were delivered. Never blocks.
   */
  drain(): number {
    let count = 0;
    const n = this.n;
    const c = this.c;
    const MSG_TRUNC = c.MSG_TRUNC!;
    for (;;) {
      if (this.closed) return count;
      const r = n.recvmsg(this.h, this.rbuf, this.family === 6 ? this.abuf : null, this.cbuf, MSG_TRUNC, this.out);
      if (r < 0) {
        if (r === -c.EAGAIN!) return count;
        if (r === -c.EINTR!) continue;
        this.errCb?.(errnoError(`receive on IPv${this.family} VRRP socket`, r));
        return count;
      }
      const pkt = this.pkt;
      pkt.truncated = r > this.rbuf.length || (this.out[2]! & MSG_TRUNC) !== 0;
      const len = Math.min(r, this.rbuf.length);
      // Same length, same view of rbuf: adverts of one size repeat, so do not allocate a new view for each.
      if (pkt.data.buffer !== this.rbuf.buffer || pkt.data.length !== len) pkt.data = this.rbuf.subarray(0, len);
      pkt.ifindex = 0;
      pkt.ttlOrHopLimit = -1;
      if (this.family === 4) this.parseV4Meta(this.out[1]!);
      else this.parseV6Meta(this.out[0]!, this.out[1]!);
      count++;
      if (this.cb) {
        try {
          this.cb(pkt);
        } catch (e) {
          if (this.errCb) this.errCb(e as Error);
          else throw e;
        }
      }
    }
  }

  /** Walk the control messages without allocating (the hot path runs this per packet). */
  private parseV4Meta(clen: number): void {
    const pkt = this.pkt;
    const d = pkt.data;
    if (d.length >= 20) {
      for (let i = 0; i < 4; i++) {
        pkt.src[i] = d[12 + i]!;
        pkt.dst[i] = d[16 + i]!;
      }
      pkt.ttlOrHopLimit = d[8]!;
    }
    const c = this.c;
    const cdv = this.cdv;
    const hdr = this.cmsgHdr;
    for (let off = 0; off + hdr <= clen; ) {
      const len = cdv.getUint32(off, true);
      if (len < hdr || off + len > clen) break;
      const level = cdv.getInt32(off + this.cmsgLevelOff, true);
      const type = cdv.getInt32(off + this.cmsgTypeOff, true);
      const data = off + hdr;
      if (level === c.IPPROTO_IP) {
        if (type === c.IP_PKTINFO && len - hdr >= 12) {
          pkt.ifindex = cdv.getInt32(data, true);
          for (let i = 0; i < 4; i++) pkt.dst[i] = this.cbuf[data + 8 + i]!;
        } else if (type === c.IP_TTL && len - hdr >= 4) {
          pkt.ttlOrHopLimit = cdv.getInt32(data, true);
        }
      }
      off += (len + this.cmsgAlign - 1) & ~(this.cmsgAlign - 1);
    }
  }

  private parseV6Meta(alen: number, clen: number): void {
    const pkt = this.pkt;
    if (alen >= 24) for (let i = 0; i < 16; i++) pkt.src[i] = this.abuf[8 + i]!;
    else pkt.src.fill(0);
    pkt.dst.fill(0);
    const c = this.c;
    const cdv = this.cdv;
    const hdr = this.cmsgHdr;
    for (let off = 0; off + hdr <= clen; ) {
      const len = cdv.getUint32(off, true);
      if (len < hdr || off + len > clen) break;
      const level = cdv.getInt32(off + this.cmsgLevelOff, true);
      const type = cdv.getInt32(off + this.cmsgTypeOff, true);
      const data = off + hdr;
      if (level === c.IPPROTO_IPV6) {
        if (type === c.IPV6_PKTINFO && len - hdr >= 20) {
          for (let i = 0; i < 16; i++) pkt.dst[i] = this.cbuf[data + i]!;
          pkt.ifindex = cdv.getUint32(data + 16, true);
        } else if (type === c.IPV6_HOPLIMIT && len - hdr >= 4) {
          pkt.ttlOrHopLimit = cdv.getInt32(data, true);
        }
      }
      off += (len + this.cmsgAlign - 1) & ~(this.cmsgAlign - 1);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.joined.clear();
    this.n.close(this.h);
  }
}
