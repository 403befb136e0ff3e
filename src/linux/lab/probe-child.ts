/**
 * The probe process: run by prober.ts inside the host's namespace as
 *   ip netns exec NS node probe-child.js '<json config>'
 * It sends ICMP / ICMPv6 echo requests to each target on a fixed schedule (1-2 ms) through Linux "ping sockets"
 * (SOCK_DGRAM + IPPROTO_ICMP[V6]: the kernel demultiplexes replies by echo identifier and fills checksums) and
 * reports, batched every 10 ms on stdout, one line per reply with the kernel's receive timestamp (SO_TIMESTAMPNS):
 *
 *   r <target> <seq> <recv_ms> <rtt_ms>      a reply (a repeated seq is a duplicate)
 *   s <target> <sent> <t_ms>                 progress: how many requests were sent by t
 *   e <target> <seq> <t_ms> <ERRNO>          a request the kernel refused to send
 *   ready | done                             start and end markers
 *
 * Times are wall-clock milliseconds since the epoch (the same clock as Date.now()). The analysis is in prober.ts.
 *
 * Why not iputils ping: below 10 ms intervals (its idea of a scheduler tick) ping spins with sched_yield
 * between probes, burning ~90% of a CPU per target; four of them would starve the daemons under test on a
 * 2-core machine. This process sleeps between sends (about 1-3% CPU per target at 2 ms).
 */
import { performance } from 'node:perf_hooks';
import { native, K } from '../native.js';
import { sockaddrIn, sockaddrIn6 } from '../sockaddr.js';
import type { SocketHandle } from '../native.js';

export interface ProbeChildConfig {
  targets: { address: string }[];
  intervalMs: number;
  maxDurationMs: number;
  payloadBytes: number;
  /** After the last send, how long to wait for replies before `done`. */
  drainMs: number;
}

const IPPROTO_ICMP = 1;
const ECHO_REQUEST_4 = 8;
const ECHO_REPLY_4 = 0;
const ECHO_REQUEST_6 = 128;
const ECHO_REPLY_6 = 129;
const MAGIC = 0x76697064; // 'vipd'

function parseV4(s: string): Uint8Array | null {
  const p = s.split('.');
  if (p.length !== 4) return null;
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(p[i]);
    if (!/^\d{1,3}$/.test(p[i]!) || n > 255) return null;
    b[i] = n;
  }
  return b;
}

function parseV6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:]+$/.test(s)) return null;
  const parts = s.split('::');
  if (parts.length > 2) return null;
  const h = parts[0] ? parts[0].split(':') : [];
  const t = parts.length === 2 && parts[1] ? parts[1].split(':') : [];
  const fill = parts.length === 2 ? 8 - h.length - t.length : 0;
  if (fill < 0 || (parts.length === 1 && h.length !== 8)) return null;
  const groups = [...h, ...Array<string>(fill).fill('0'), ...t];
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    b[2 * i] = v >> 8;
    b[2 * i + 1] = v & 0xff;
  }
  return b;
}

/** Wall-clock ms with sub-ms resolution. */
const now = (): number => performance.timeOrigin + performance.now();

interface Target {
  index: number;
  v6: boolean;
  sock: SocketHandle;
  sa: Uint8Array;
  sent: number;
}

function main(): void {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as ProbeChildConfig;
  const n = native();
  const SOL_SOCKET = K('SOL_SOCKET');
  const SO_TIMESTAMPNS = K('SO_TIMESTAMPNS');
  const EAGAIN = K('EAGAIN');
  const EINTR = K('EINTR');
  const payloadLen = Math.max(16, cfg.payloadBytes | 0);
  const interval = cfg.intervalMs;

  let out = '';
  const flush = (): void => {
    if (out) {
      process.stdout.write(out);
      out = '';
    }
  };

  const targets: Target[] = cfg.targets.map((t, index) => {
    const v6 = t.address.includes(':');
    const addr = v6 ? parseV6(t.address) : parseV4(t.address);
    if (!addr) throw new Error(`probe target ${t.address} is not an IP address`);
    const sock = n.socket(K(v6 ? 'AF_INET6' : 'AF_INET'), K('SOCK_DGRAM'), v6 ? K('IPPROTO_ICMPV6') : IPPROTO_ICMP);
    n.setsockopt(sock, SOL_SOCKET, SO_TIMESTAMPNS, 1);
    n.setsockopt(sock, SOL_SOCKET, K('SO_RCVBUF'), 1 << 20);
    return { index, v6, sock, sa: v6 ? sockaddrIn6(addr) : sockaddrIn(addr), sent: 0 };
  });

  const pkt = new Uint8Array(8 + payloadLen);
  const pdv = new DataView(pkt.buffer);
  const rbuf = new Uint8Array(2048);
  const rdv = new DataView(rbuf.buffer);
  const cbuf = new Uint8Array(256);
  const cdv = new DataView(cbuf.buffer);
  const rout = new Int32Array(3);

  const send = (t: Target): void => {
    const seq = t.sent;
    pkt[0] = t.v6 ? ECHO_REQUEST_6 : ECHO_REQUEST_4;
    pkt[1] = 0;
    pdv.setUint16(2, 0);
    pdv.setUint16(4, 0); // identifier: the kernel uses the socket's own
    pdv.setUint16(6, seq & 0xffff);
    pdv.setUint32(8, MAGIC);
    pdv.setUint32(12, seq >>> 0);
    const ts = now();
    pdv.setFloat64(16, ts);
    t.sent += 1;
    const r = n.sendmsg(t.sock, pkt, t.sa, null, 0);
    if (r < 0) out += `e ${t.index} ${seq} ${ts.toFixed(3)} ${n.errnoName(-r)}\n`;
  };

  const recvTime = (clen: number): number => {
    // struct cmsghdr { size_t len; int level; int type; } then struct timespec { long sec; long nsec; }
    let off = 0;
    while (off + 16 <= clen) {
      const len = Number(cdv.getBigUint64(off, true));
      const level = cdv.getInt32(off + 8, true);
      const type = cdv.getInt32(off + 12, true);
      if (len < 16) break;
      if (level === SOL_SOCKET && type === SO_TIMESTAMPNS && len >= 32) {
        const sec = Number(cdv.getBigInt64(off + 16, true));
        const nsec = Number(cdv.getBigInt64(off + 24, true));
        return sec * 1000 + nsec / 1e6;
      }
      off += (len + 7) & ~7;
    }
    return now();
  };

  const drain = (t: Target): void => {
    for (;;) {
      const r = n.recvmsg(t.sock, rbuf, null, cbuf, 0, rout);
      if (r < 0) {
        if (r === -EAGAIN) return;
        if (r === -EINTR) continue;
        // An ICMP error queued for this socket, for instance: nothing to report as a reply.
        return;
      }
      const tr = recvTime(rout[1]!);
      if (r < 24) continue;
      const type = rbuf[0];
      if (type !== (t.v6 ? ECHO_REPLY_6 : ECHO_REPLY_4)) continue;
      if (rdv.getUint32(8) !== MAGIC) continue;
      const seq = rdv.getUint32(12);
      const sentAt = rdv.getFloat64(16);
      out += `r ${t.index} ${seq} ${tr.toFixed(3)} ${(tr - sentAt).toFixed(3)}\n`;
    }
  };

  for (const t of targets) n.poll(t.sock, K('UV_READABLE'), () => drain(t));

  const start = now();
  const stopAt = start + cfg.maxDurationMs;
  let stopping = false;
  let sendTimer: NodeJS.Timeout | undefined;

  // Send everything that is due (catching up after a late timer), then sleep until the next slot.
  let slot = 0;
  const tick = (): void => {
    if (stopping) return;
    const tnow = now();
    if (tnow >= stopAt) return finish();
    let due = Math.floor((tnow - start) / interval);
    // Never burst more than 5 slots after a long stall: the gap is then visible as such.
    if (due - slot > 5) slot = due - 5;
    while (slot <= due) {
      for (const t of targets) send(t);
      slot += 1;
    }
    due = start + slot * interval;
    sendTimer = setTimeout(tick, Math.max(0, due - now() - 0.3));
  };

  const progress = (): void => {
    const t = now().toFixed(3);
    for (const x of targets) out += `s ${x.index} ${x.sent} ${t}\n`;
  };
  const flushTimer = setInterval(flush, 10);
  const progressTimer = setInterval(progress, 50);
  // If the parent is gone, stop (we would keep probing a deleted namespace otherwise).
  const parent = process.ppid;
  const orphanTimer = setInterval(() => {
    if (process.ppid !== parent) finish();
  }, 250);

  function finish(): void {
    if (stopping) return;
    stopping = true;
    if (sendTimer) clearTimeout(sendTimer);
    setTimeout(() => {
      for (const t of targets) drain(t);
      progress();
      out += 'done\n';
      clearInterval(flushTimer);
      clearInterval(progressTimer);
      clearInterval(orphanTimer);
      for (const t of targets) {
        n.pollStop(t.sock);
        n.close(t.sock);
      }
      process.stdout.write(out, () => process.exit(0));
    }, cfg.drainMs);
  }

  process.on('SIGTERM', finish);
  process.on('SIGINT', finish);
  process.stdout.on('error', () => process.exit(0));
  out += `ready ${start.toFixed(3)}\n`;
  flush();
  tick();
}

try {
  main();
} catch (e) {
  process.stderr.write(`vipd probe: ${(e as Error).message}\n`);
  process.exit(2);
}
