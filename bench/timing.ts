/**
 * Timing benchmark: 50 IPv4 VRRPv3 instances at 10 ms adverts (R1 MASTER at 150, R2 BACKUP at 100), for a
 * while (10 min full, ~20 s quick), with and without `stress-ng --cpu 2` busy on both cores. Measured from the
 * wire: tcpdump in R2's namespace (the peer) captures R1's adverts; per VRID the gaps between consecutive adverts
 * minus the advert interval are the send lateness (p50 / p99 / max over all instances). Also counted: gaps
 * longer than 3 intervals (where a backup with no skew would give up on the master), adverts R2 sent (it
 * should send none as a backup), and every "Entering ... STATE" line on either router during the window (the
 * spurious transitions; the target is none).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildTopology,
  keepalivedConf,
  processTag,
  startDaemon,
  type LabProcess,
  type RouterDaemon,
} from '../src/linux/lab/index.js';
import { countTransitions, fmt, log, mdTable, percentiles, round, waitSettled, type DaemonVariant, type Percentiles } from './common.js';
import { costInstances } from './cost.js';
import { readPcap, vrrpAdverts } from './pcap.js';

export interface TimingRow {
  daemon: string;
  stress: boolean;
  instances: number;
  advertMs: number;
  durationSec: number;
  /** Adverts of R1 captured, and the number expected at the nominal rate. */
  adverts: number;
  expected: number;
  /** Inter-departure interval minus the advert interval, ms, over all instances. */
  latenessMs: Percentiles | null;
  /** Gaps longer than 3 intervals. */
  longGaps: number;
  /** Adverts sent by R2 (the backup) during the window. */
  backupAdverts: number;
  transitions: number;
  /** Instances settled (R1 MASTER, R2 BACKUP, 1 s without transitions) before the window. */
  settled: number;
  note?: string;
  error?: string;
}

export async function timingRun(variant: DaemonVariant, stress: boolean, n: number, advertSec: number, durationSec: number): Promise<TimingRow> {
  const topo = await buildTopology({ tag: processTag('bt'), routers: 2, ipv6: false });
  const off = topo.destroyOnSignals();
  let stressProc: LabProcess | null = null;
  try {
    const conf = (p: number) => keepalivedConf({ instances: costInstances(n, p, advertSec) });
    const r1: RouterDaemon = await startDaemon(topo, 'R1', { kind: variant.kind, config: conf(150), extraArgs: variant.extraArgs });
    const r2: RouterDaemon = await startDaemon(topo, 'R2', { kind: variant.kind, config: conf(100), extraArgs: variant.extraArgs });
    if (variant.chrtFifo) {
      for (const d of [r1, r2]) await topo.exec(d.router, 'chrt', ['-f', '-p', String(variant.chrtFifo), String(d.pid)]);
    }
    const settled = await waitSettled(r1, r2, n, 20_000);
    const file = join(topo.tempDir('pcap'), 'adverts.pcap');
    const dump = topo.spawn('R2', 'tcpdump', ['-i', 'eth0', '-n', '-s', '80', '-B', '16384', '-U', '-w', file, 'ip proto 112']);
    await dump.waitForLine(/listening on/, { timeoutMs: 30_000 });
    if (stress) {
      stressProc = topo.spawn('H', 'stress-ng', ['--cpu', '2', '--timeout', `${durationSec + 5}s`]);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const m1 = r1.mark();
    const m2 = r2.mark();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, durationSec * 1000));
    const transitions = countTransitions(r1, m1) + countTransitions(r2, m2);
    const t1 = Date.now();
    if (stressProc) await stressProc.stop('SIGTERM', 3_000);
    await dump.stop('SIGINT', 5_000);
    const pcap = readPcap(readFileSync(file));
    if (!pcap.ok) throw new Error(`${file}: ${pcap.error}`);
    const ads = vrrpAdverts(pcap.frames).filter((a) => a.tUs >= t0 * 1000 && a.tUs <= t1 * 1000);
    const byVrid = new Map<number, number[]>();
    let backupAdverts = 0;
    for (const a of ads) {
      if (a.src === topo.router('R2').lan4) {
        backupAdverts += 1;
        continue;
      }
      if (a.src !== topo.router('R1').lan4) continue;
      let l = byVrid.get(a.vrid);
      if (!l) byVrid.set(a.vrid, (l = []));
      l.push(a.tUs);
    }
    const dev: number[] = [];
    let longGaps = 0;
    let count = 0;
    const advMs = advertSec * 1000;
    for (const ts of byVrid.values()) {
      count += ts.length;
      for (let i = 1; i < ts.length; i++) {
        const gap = (ts[i]! - ts[i - 1]!) / 1000;
        dev.push(gap - advMs);
        if (gap > 3 * advMs) longGaps += 1;
      }
    }
    const row: TimingRow = {
      daemon: variant.label,
      stress,
      instances: n,
      advertMs: advMs,
      durationSec: round((t1 - t0) / 1000, 1),
      adverts: count,
      expected: Math.round(((t1 - t0) / advMs) * n),
      latenessMs: percentiles(dev),
      longGaps,
      backupAdverts,
      transitions,
      settled,
      ...(r1.proc.running && r2.proc.running ? {} : { error: `a daemon exited: ${exitNote(r1) ?? exitNote(r2)}` }),
      ...(settled < n ? { note: `only ${settled} of ${n} instances were MASTER on R1 / BACKUP on R2 and quiet for 1 s after 20 s` } : {}),
    };
    log(
      `timing ${variant.label} stress=${stress}: ${count}/${row.expected} adverts, lateness p50 ${row.latenessMs?.p50} p99 ${row.latenessMs?.p99} max ${row.latenessMs?.max} ms, ${transitions} transitions`,
    );
    return row;
  } finally {
    if (stressProc) await stressProc.stop('SIGKILL', 2_000).catch(() => undefined);
    off();
    await topo.destroy();
  }
}

export function timingTable(rows: TimingRow[]): string {
  return mdTable(
    ['daemon', 'stress-ng --cpu 2', 'duration s', 'adverts seen / expected', 'lateness p50 ms', 'p99 ms', 'max ms', 'gaps > 3 intervals', 'backup adverts', 'transitions', 'settled before'],
    rows.map((r) => [
      `${r.daemon}${r.error ? ' ⚠' : ''}`,
      r.stress ? 'yes' : 'no',
      r.durationSec,
      `${r.adverts} / ${r.expected}`,
      fmt(r.latenessMs?.p50, 3),
      fmt(r.latenessMs?.p99, 2),
      fmt(r.latenessMs?.max, 1),
      r.longGaps,
      r.backupAdverts,
      r.transitions,
      `${r.settled}/${r.instances}`,
    ]),
  );
}

function exitNote(d: RouterDaemon): string | null {
  const x = d.proc.exitStatus;
  if (!x) return null;
  const fatal = d.proc.grep(/Fatal error|Check failed|FATAL|Error/).slice(0, 2).map((l) => l.text.trim());
  return `${d.router} ${d.kind} exited (code ${x.code}, signal ${x.signal})${fatal.length ? `: ${fatal.join(' / ')}` : ''}`;
}
