/**
 * The packet blaster process: run by blaster.ts inside a lab namespace as
 *   ip netns exec NS node blaster-child.js '<json BlastConfig>'
 * It sends `total` hostile VRRP packets (hostile.ts), cycling through the classes, at up to `ratePps`, through
 * raw sockets of protocol 112 (the kernel adds the IP header; TTL / hop limit per packet). It prints one JSON line
 * at the end: how many it sent per class and per expected counter, send errors, and the time it took.
 */
import { VrrpSocket } from '../vrrp-socket.js';
import { parseIP } from '../../wire/inet.js';
import { expectKey, HostileFactory, type HostileClass, type HostilePacket, type HostileTarget } from './hostile.js';

export interface BlastConfig {
  target: HostileTarget;
  seed: number;
  total: number;
  /** Packets per second (0: as fast as possible). */
  ratePps: number;
  /** Only these classes (default all the target supports). */
  classes?: HostileClass[];
  /** Distinct packets pre-built per class and cycled (building is slower than sending). */
  poolPerClass?: number;
}

export interface BlastResult {
  sent: number;
  /** Expected counter key ("vrid:counter" or "unmatched") -> packets sent (multicast: each receiver sees all). */
  multicast: Record<string, number>;
  /** Same for unicast packets, keyed additionally by destination: "dst|vrid:counter". */
  unicast: Record<string, number>;
  perClass: Record<string, number>;
  /** Sends the kernel refused (errno name -> count); those packets are not in the tallies. */
  errors: Record<string, number>;
  elapsedMs: number;
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as BlastConfig;
  const f = new HostileFactory(cfg.target, cfg.seed);
  const classes = cfg.classes ?? f.classes;
  const poolSize = cfg.poolPerClass ?? 512;
  const pools: HostilePacket[][] = classes.map((c) => Array.from({ length: poolSize }, () => f.make(c)));
  const s4 = VrrpSocket.open(4);
  const s6 = cfg.target.src6 ? VrrpSocket.open(6, { kernelChecksum: false }) : null;
  const ifindex = (await import('../native.js')).native().ifNameToIndex('eth0');
  const src4 = parseIP(cfg.target.src4)!.bytes;
  const src6 = cfg.target.src6 ? parseIP(cfg.target.src6)!.bytes : undefined;
  const dsts = new Map<string, Uint8Array>();
  const res: BlastResult = { sent: 0, multicast: {}, unicast: {}, perClass: {}, errors: {}, elapsedMs: 0 };
  const t0 = performance.now();
  let i = 0;
  const sendOne = (): void => {
    const ci = i % classes.length;
    const p = pools[ci]![Math.floor(i / classes.length) % poolSize]!;
    i++;
    let dst: Uint8Array | undefined;
    if (p.dst) {
      dst = dsts.get(p.dst);
      if (!dst) dsts.set(p.dst, (dst = parseIP(p.dst)!.bytes));
    }
    const sock = p.family === 4 ? s4 : s6!;
    for (let attempt = 0; ; attempt++) {
      const r = sock.trySend(p.payload, { ifindex, src: p.family === 4 ? src4 : src6, ttl: p.ttl, ...(dst ? { dst } : {}) });
      if (r >= 0) break;
      // ENOBUFS / EAGAIN: the queue is full; retry a little (the packet is not lost, only late).
      if ((r === -105 || r === -11) && attempt < 1000) continue;
      const code = `errno${-r}`;
      res.errors[code] = (res.errors[code] ?? 0) + 1;
      return;
    }
    res.sent++;
    const cls = classes[ci]!;
    res.perClass[cls] = (res.perClass[cls] ?? 0) + 1;
    const k = expectKey(p.expect);
    if (p.dst) res.unicast[`${p.dst}|${k}`] = (res.unicast[`${p.dst}|${k}`] ?? 0) + 1;
    else res.multicast[k] = (res.multicast[k] ?? 0) + 1;
  };
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - t0;
      const due = cfg.ratePps > 0 ? Math.min(cfg.total, Math.floor((elapsed / 1000) * cfg.ratePps) + 1) : cfg.total;
      // Paced: at most ~2 ms worth per tick (a receiver's default socket queue holds only a few hundred
      // packets, so long bursts would measure the queue, not the daemon). Unpaced: 5000 per tick.
      const until = Math.min(due, i + (cfg.ratePps > 0 ? Math.max(1, Math.ceil(cfg.ratePps / 500)) : 5000));
      while (i < until) sendOne();
      if (i >= cfg.total) return resolve();
      if (cfg.ratePps > 0 && i >= due) setTimeout(tick, 1);
      else setImmediate(tick);
    };
    tick();
  });
  res.elapsedMs = Math.round(performance.now() - t0);
  s4.close();
  s6?.close();
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

main().catch((e) => {
  process.stderr.write(`blaster: ${(e as Error).message}\n`);
  process.exit(1);
});
