/**
 * Reload benchmark: 50 IPv4 VRRPv3 instances at 0.1 s adverts, R1 MASTER (150), R2 BACKUP (100). VI_1 holds the
 * host's gateway 192.0.2.1/24 and VI_2 holds 192.0.2.2/24; VI_3..VI_50 hold /32s from 203.0.113.0/24. The host
 * probes 192.0.2.1, the upstream host through it and 192.0.2.2 every 2 ms. Then SIGHUP to R1's daemon (the
 * master; keepalived: its parent, which reloads the VRRP child) twice:
 *
 *   unchanged   the same file
 *   changed     VI_2's priority 150 -> 140 (R1 stays the rightful master)
 *
 * For each: "Entering ... STATE" lines on both routers and probes lost in the window after the signal.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildTopology,
  keepalivedConf,
  outagesIn,
  processTag,
  Prober,
  startDaemon,
  type RouterDaemon,
} from '../src/linux/lab/index.js';
import { countTransitions, log, mdTable, waitSettled, type DaemonVariant } from './common.js';
import { costInstances } from './cost.js';

export interface ReloadRow {
  daemon: string;
  change: 'unchanged' | 'one instance changed';
  instances: number;
  transitionsR1: number;
  transitionsR2: number;
  /** Lost probes per target in the window. */
  lost: Record<string, number>;
  longestOutageMs: number;
  windowMs: number;
  /** Instances settled before the first SIGHUP. */
  settled: number;
  error?: string;
}

export async function reloadRun(variant: DaemonVariant, n = 50, advertSec = 0.1, windowMs = 4_000): Promise<ReloadRow[]> {
  const topo = await buildTopology({ tag: processTag('br'), routers: 2, ipv6: false });
  const off = topo.destroyOnSignals();
  try {
    const conf = (p: number, changed: boolean) => {
      const inst = costInstances(n, p, advertSec);
      inst[0]!.vips = [`${topo.vip4}/24`];
      inst[1]!.vips = ['192.0.2.2/24'];
      if (changed && p > 100) inst[1]!.priority = 140;
      return keepalivedConf({ instances: inst });
    };
    const r1: RouterDaemon = await startDaemon(topo, 'R1', { kind: variant.kind, config: conf(150, false), extraArgs: variant.extraArgs });
    const r2: RouterDaemon = await startDaemon(topo, 'R2', { kind: variant.kind, config: conf(100, false), extraArgs: variant.extraArgs });
    const settled = await waitSettled(r1, r2, n, 20_000);
    const targets = [
      { name: 'vip', address: topo.vip4 },
      { name: 'upstream', address: topo.upstream4 },
      { name: 'vip-VI_2', address: '192.0.2.2' },
    ];
    const prober = await Prober.start(topo, targets, { intervalMs: 2, maxDurationMs: 600_000 });
    const rows: ReloadRow[] = [];
    try {
      if (!(await prober.waitForReplies({ consecutive: 50, timeoutMs: 15_000 }))) throw new Error('no steady replies before the reload');
      for (const change of ['unchanged', 'one instance changed'] as const) {
        writeFileSync(join(r1.dir, 'keepalived.conf'), conf(150, change !== 'unchanged'));
        const m1 = r1.mark();
        const m2 = r2.mark();
        const t = topo.mark(`R1 ${variant.label} SIGHUP (${change})`);
        process.kill(r1.pid, 'SIGHUP');
        await new Promise((r) => setTimeout(r, windowMs));
        const rep = prober.report();
        const lost: Record<string, number> = {};
        let longest = 0;
        for (const tr of rep.targets) {
          const os = outagesIn(tr, t, t + windowMs);
          lost[tr.name] = os.reduce((s, o) => s + o.lost, 0);
          longest = Math.max(longest, ...os.map((o) => o.durationMs));
        }
        rows.push({
          daemon: variant.label,
          change,
          instances: n,
          transitionsR1: countTransitions(r1, m1),
          transitionsR2: countTransitions(r2, m2),
          lost,
          longestOutageMs: Math.round(longest),
          windowMs,
          settled,
          ...(r1.proc.running ? {} : { error: 'R1 daemon exited' }),
        });
        log(`reload ${variant.label} ${change}: transitions R1 ${rows.at(-1)!.transitionsR1} R2 ${rows.at(-1)!.transitionsR2}, lost ${JSON.stringify(lost)}`);
        // Back to a steady state before the next case.
        await prober.waitForReplies({ consecutive: 50, timeoutMs: 10_000 });
      }
    } finally {
      await prober.stop();
    }
    return rows;
  } finally {
    off();
    await topo.destroy();
  }
}

export function reloadTable(rows: ReloadRow[]): string {
  return mdTable(
    ['daemon', 'SIGHUP to R1 with', 'transitions R1', 'transitions R2', 'lost probes 192.0.2.1 / upstream / 192.0.2.2 (VI_2)', 'longest outage ms'],
    rows.map((r) => [
      `${r.daemon}${r.error ? ' ⚠' : ''}`,
      r.change,
      r.transitionsR1,
      r.transitionsR2,
      `${r.lost['vip'] ?? 0} / ${r.lost['upstream'] ?? 0} / ${r.lost['vip-VI_2'] ?? 0}`,
      r.longestOutageMs,
    ]),
  );
}
