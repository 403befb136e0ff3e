/**
 * Cost benchmark: CPU % and RSS of each router's daemon with N instances (1, 50, 200, 1000) at an advert interval
 * (1 s, 0.1 s). R1 is MASTER of every instance (priority 150), R2 BACKUP (100). Instances are IPv4 VRRPv3 on eth0
 * (vrid 1..N, one /32 VIP each from 203.0.113.0/24); beyond 250 (the VRID space of one LAN and family) the
 * next 250 are IPv6 on eth0 (VIPs 2001:db8:100:1::/64), then IPv4 and IPv6 on eth1, the routers' other shared
 * segment (IPv4 VIPs /32 from 198.51.100.0/24 skipping the lab's addresses, IPv6 from 2001:db8:100:3::/64).
 * (A VLAN subinterface would be tidier, but the lab kernel has no 8021q module.)
 *
 * CPU: utime + stime from /proc/PID/stat over the measuring window, after every instance has settled. RSS:
 * VmRSS from /proc/PID/status at the end. keepalived: parent plus VRRP child, summed.
 */
import {
  buildTopology,
  keepalivedConf,
  processTag,
  startDaemon,
  type RouterDaemon,
  type VrrpInstanceSpec,
} from '../src/linux/lab/index.js';
import { CLK_TCK, daemonPids, fmt, log, mdTable, round, sumSample, waitSettled, type DaemonVariant } from './common.js';

export interface CostRow {
  daemon: string;
  instances: number;
  advertSec: number;
  router: 'R1 (master)' | 'R2 (backup)';
  cpuPercent: number;
  rssMb: number;
  /** Instances that reached their expected state before measuring. */
  settled: number;
  windowSec: number;
  error?: string;
}

const V4_GROUP2_SKIP = new Set([11, 12, 13, 100]);

/** The instance list for n instances (see the file comment); exported for the reload and timing benches. */
export function costInstances(n: number, priority: number, advertSec: number): VrrpInstanceSpec[] {
  const out: VrrpInstanceSpec[] = [];
  const wanPool = Array.from({ length: 254 }, (_, i) => i + 1).filter((x) => !V4_GROUP2_SKIP.has(x));
  for (let k = 0; k < n; k++) {
    const g = Math.floor(k / 250);
    const i = k % 250;
    const iface = g < 2 ? 'eth0' : 'eth1';
    const v6 = g % 2 === 1;
    const vip = v6
      ? `2001:db8:100:${g}::${(i + 1).toString(16)}/64`
      : g === 0
        ? `203.0.113.${i + 1}/32`
        : `198.51.100.${wanPool[i]}/32`;
    out.push({
      name: `VI_${k + 1}`,
      interface: iface,
      vrid: i + 1,
      priority,
      advertInt: advertSec,
      version: 3,
      state: priority > 100 ? 'MASTER' : 'BACKUP',
      vips: [vip],
    });
  }
  return out;
}

export async function costRun(variant: DaemonVariant, n: number, advertSec: number, windowSec: number): Promise<CostRow[]> {
  const topo = await buildTopology({ tag: processTag('bc'), routers: 2, ipv6: true });
  const off = topo.destroyOnSignals();
  try {
    const conf = (p: number) => keepalivedConf({ instances: costInstances(n, p, advertSec) });
    const r1 = await startDaemon(topo, 'R1', { kind: variant.kind, config: conf(150), extraArgs: variant.extraArgs });
    const r2 = await startDaemon(topo, 'R2', { kind: variant.kind, config: conf(100), extraArgs: variant.extraArgs });
    const settled = await waitSettled(r1, r2, n, Math.max(20_000, 4 * advertSec * 1000 + n * 30));
    // Let start-up work (address installs, GARP bursts, GC of the config) finish before measuring.
    await new Promise((r) => setTimeout(r, Math.max(2_000, 5 * advertSec * 1000)));
    const rows: CostRow[] = [];
    const ds: [RouterDaemon, CostRow['router']][] = [
      [r1, 'R1 (master)'],
      [r2, 'R2 (backup)'],
    ];
    const pids = ds.map(([d]) => daemonPids(d));
    const before = pids.map((p) => sumSample(p));
    const t0 = performance.now();
    let maxRss = pids.map(() => 0);
    const end = Date.now() + windowSec * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 500));
      maxRss = pids.map((p, i) => Math.max(maxRss[i]!, sumSample(p).rssKb));
    }
    const after = pids.map((p) => sumSample(p));
    const secs = (performance.now() - t0) / 1000;
    ds.forEach(([d, router], i) => {
      const cpu = ((after[i]!.ticks - before[i]!.ticks) / CLK_TCK / secs) * 100;
      rows.push({
        daemon: variant.label,
        instances: n,
        advertSec,
        router,
        cpuPercent: round(cpu, 2),
        rssMb: round(Math.max(maxRss[i]!, after[i]!.rssKb) / 1024, 1),
        settled,
        windowSec: round(secs, 1),
        ...(d.proc.running ? {} : { error: `${variant.label} on ${router} exited` }),
        ...(settled < n ? { error: `only ${settled} of ${n} instances settled` } : {}),
      });
    });
    log(`cost ${variant.label} n=${n} ${advertSec}s: ${rows.map((r) => `${r.router} ${r.cpuPercent}% ${r.rssMb} MB`).join(', ')}`);
    // Profiling (VIPD_LAB_NODE_ARGS='--cpu-prof ...'): a clean exit writes the profile; the topology's teardown kills.
    if (process.env.VIPD_LAB_NODE_ARGS) await Promise.all([r2.stop(10_000), r1.stop(10_000)]);
    return rows;
  } finally {
    off();
    await topo.destroy();
  }
}

export function costTable(rows: CostRow[], daemons: string[]): string {
  const keys = [...new Set(rows.map((r) => `${r.instances}|${r.advertSec}|${r.router}`))];
  const head = ['instances', 'advert', 'router'];
  for (const d of daemons) head.push(`${d} CPU %`, `${d} RSS MB`);
  const base = daemons.find((d) => d === 'keepalived');
  if (base) head.push('vipd CPU / keepalived');
  const out = keys.map((k) => {
    const [n, adv, router] = k.split('|');
    const line: (string | null)[] = [n!, `${adv} s`, router!];
    const get = (d: string) => rows.find((r) => r.daemon === d && `${r.instances}|${r.advertSec}|${r.router}` === k);
    for (const d of daemons) {
      const r = get(d);
      line.push(r ? `${fmt(r.cpuPercent, 2)}${r.error ? ' ⚠' : ''}` : null, r ? fmt(r.rssMb, 1) : null);
    }
    if (base) {
      const v = get('vipd');
      const kk = get(base);
      line.push(v && kk && kk.cpuPercent > 0 ? fmt(v.cpuPercent / kk.cpuPercent, 1) : null);
    }
    return line;
  });
  return mdTable(head, out);
}
