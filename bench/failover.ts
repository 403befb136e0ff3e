/**
 * Failover benchmark: the lab topology (docs/lab-harness.md), R1 (priority 150) and R2 (100) running the same
 * daemon with two instances (VI_4: the IPv4 VIP, vrid 51; VI_6: the IPv6 VIP, vrid 52), the host probing both
 * VIPs and the upstream host behind the routers every 2 ms. One run = one daemon, advert interval and VMAC
 * setting; it goes through every fault in turn and returns the router each time:
 *
 *   link-down   R1's LAN cable pulled (switch port down; R1 sees NO-CARRIER)     back: cable returned
 *   blackhole   R1's LAN frames dropped in the switch, link up                    back: blackhole removed
 *   sigkill     SIGKILL of R1's daemon (VIPs stay configured)                     back: daemon restarted
 *   stop        planned: SIGTERM of R1's daemon (priority-0 advert)               back: daemon restarted
 *
 * For each fault and family: the longest outage the host saw (VIP or upstream, whichever is longer), the probes
 * lost, R2's takeover time from its log, the bound (Master_Down_Interval for R2, or its skew for a planned
 * stop) and the ratio; for each return ("failback") the same with bound 0 (target: no lost probe).
 */
import {
  buildTopology,
  keepalivedConf,
  masterDownIntervalMs,
  processTag,
  Prober,
  startDaemon,
  type ProbeReport,
  type RouterDaemon,
  type Topology,
} from '../src/linux/lab/index.js';
import { fmt, log, mdTable, median, round, type DaemonVariant } from './common.js';

export type FaultKind = 'link-down' | 'blackhole' | 'sigkill' | 'stop';
export const FAULTS: FaultKind[] = ['link-down', 'blackhole', 'sigkill', 'stop'];

export interface FailoverRow {
  daemon: string;
  advertSec: number;
  /** VRRP version of this family's instance (v2 at 1 s for IPv4, else v3). */
  version: 2 | 3;
  family: 4 | 6;
  vmac: boolean;
  fault: FaultKind;
  phase: 'fault' | 'failback';
  rep: number;
  /** Longest outage of the VIP or the upstream target in the phase, ms (0 = none). */
  outageMs: number;
  vipOutageMs: number;
  upstreamOutageMs: number;
  lostProbes: number;
  /** Every outage of the phase: target, start relative to the event, duration, probes lost. */
  outages: string[];
  /** A reply gap longer than its lost probes explain (prober paused, or requests queued and answered late). */
  proberStalled?: boolean;
  /** From the event to R2's "Entering MASTER STATE" (fault) or "Entering BACKUP STATE" (failback: R2 yields). */
  takeoverMs: number | null;
  /** Master_Down_Interval of R2 (unplanned), its skew (planned stop), 0 (failback). */
  boundMs: number;
  /** outage / bound (null when the bound is 0). */
  ratio: number | null;
  error?: string;
}

export interface FailoverOptions {
  variant: DaemonVariant;
  advertSec: number;
  vmac: boolean;
  reps: number;
  faults?: FaultKind[];
  probeIntervalMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Phase {
  fault: FaultKind;
  phase: 'fault' | 'failback';
  rep: number;
  start: number;
  end: number;
  takeover: Record<4 | 6, number | null>;
  error?: string;
}

/** One run: one topology, one daemon on both routers, every fault `reps` times. */
export async function failoverRun(o: FailoverOptions): Promise<FailoverRow[]> {
  const faults = o.faults ?? FAULTS;
  const adv = o.advertSec;
  const v4version: 2 | 3 = adv >= 1 ? 2 : 3;
  const topo = await buildTopology({ tag: processTag('bf'), routers: 2, ipv6: true });
  const off = topo.destroyOnSignals();
  const phases: Phase[] = [];
  let report: ProbeReport | null = null;
  try {
    const conf = (priority: number) =>
      keepalivedConf({
        instances: [
          { name: 'VI_4', vrid: 51, priority, advertInt: adv, version: v4version, vips: [`${topo.vip4}/24`], useVmac: o.vmac },
          { name: 'VI_6', vrid: 52, priority, advertInt: adv, version: 3, vips: ['fe80::1:1/64', `${topo.vip6}/64`], useVmac: o.vmac },
        ],
      });
    const opts = (p: number) => ({ kind: o.variant.kind, config: conf(p), extraArgs: o.variant.extraArgs });
    const stateTimeout = Math.max(5_000, 3 * masterDownIntervalMs(adv, 100, v4version) + 3_000);
    let r1: RouterDaemon = await startDaemon(topo, 'R1', opts(150));
    const r2: RouterDaemon = await startDaemon(topo, 'R2', opts(100));
    const bothState = async (d: RouterDaemon, state: 'MASTER' | 'BACKUP', from: number, t0: number) => {
      const res: Record<4 | 6, number | null> = { 4: null, 6: null };
      await Promise.all(
        ([4, 6] as const).map(async (f) => {
          const l = await d.waitForState(state, { instance: `VI_${f}`, from, timeoutMs: stateTimeout });
          res[f] = round(l.t - t0, 1);
        }),
      );
      return res;
    };
    await bothState(r1, 'MASTER', 0, Date.now());
    const prober = await Prober.start(topo, Prober.defaultTargets(topo), {
      intervalMs: o.probeIntervalMs ?? 2,
      maxDurationMs: 3_600_000,
    });
    try {
      if (!(await prober.waitForReplies({ consecutive: 50, timeoutMs: 15_000 }))) {
        throw new Error('the host never got steady replies before the first fault');
      }
      const settle = Math.max(300, 3 * adv * 1000);
      for (let rep = 0; rep < o.reps; rep++) {
        for (const fault of faults) {
          // Fault.
          const m2 = r2.mark();
          let t: number;
          switch (fault) {
            case 'link-down':
              t = await topo.linkDown('R1', 'switch');
              break;
            case 'blackhole':
              t = await topo.blackhole('R1', 'both', 'lan');
              break;
            case 'sigkill':
              t = await r1.crash();
              break;
            case 'stop':
              t = await r1.stop();
              break;
          }
          const ph: Phase = { fault, phase: 'fault', rep, start: t, end: 0, takeover: { 4: null, 6: null } };
          phases.push(ph);
          try {
            ph.takeover = await bothState(r2, 'MASTER', m2, t);
            await prober.waitForReplies({ consecutive: 25, since: t, timeoutMs: 10_000 });
          } catch (e) {
            ph.error = (e as Error).message.split('\n')[0];
          }
          await sleep(settle);
          // Failback.
          let t2: number;
          const m2b = r2.mark();
          let m1b = r1.mark();
          switch (fault) {
            case 'link-down':
              t2 = await topo.linkUp('R1', 'switch');
              break;
            case 'blackhole':
              t2 = await topo.unblackhole('R1', 'lan');
              break;
            case 'sigkill':
            case 'stop':
              t2 = Date.now();
              r1 = await r1.restart();
              m1b = 0;
              break;
          }
          ph.end = t2;
          const fb: Phase = { fault, phase: 'failback', rep, start: t2, end: 0, takeover: { 4: null, 6: null } };
          phases.push(fb);
          try {
            // Failback is done when R2 yields (R1 stayed MASTER through a blackhole: it logs nothing new).
            fb.takeover = await bothState(r2, 'BACKUP', m2b, t2);
            if (fault !== 'blackhole') await bothState(r1, 'MASTER', m1b, t2);
            await prober.waitForReplies({ consecutive: 25, since: t2, timeoutMs: 10_000 });
          } catch (e) {
            fb.error = (e as Error).message.split('\n')[0];
          }
          await sleep(settle + 200);
          fb.end = Date.now();
          log(`failover ${o.variant.label} ${adv}s vmac=${o.vmac} ${fault} rep ${rep}: takeover ${ph.takeover[4]}/${ph.takeover[6]} ms, back ${fb.takeover[4]}/${fb.takeover[6]} ms`);
        }
      }
    } finally {
      report = await prober.stop();
    }
  } finally {
    off();
    await topo.destroy();
  }
  return rowsFrom(o, phases, report, v4version);
}

function ownerOf(phases: Phase[], t: number): Phase | null {
  let owner: Phase | null = null;
  for (const p of phases) if (p.start <= t + 10) owner = p;
  return owner;
}

function rowsFrom(o: FailoverOptions, phases: Phase[], report: ProbeReport | null, v4version: 2 | 3): FailoverRow[] {
  const rows: FailoverRow[] = [];
  const interval = report?.intervalMs ?? 2;
  for (const ph of phases) {
    for (const family of [4, 6] as const) {
      const version = family === 4 ? v4version : 3;
      const mdi = masterDownIntervalMs(o.advertSec, 100, version);
      const bound = ph.phase === 'failback' ? 0 : ph.fault === 'stop' ? mdi - 3 * o.advertSec * 1000 : mdi;
      const win = (name: string) => {
        const tr = report?.targets.find((x) => x.name === name);
        if (!tr) return { ms: 0, lost: 0, list: [] as string[], stalled: false };
        // An outage belongs to the latest phase that began at or before its start + 10 ms (it starts with the
        // last reply before the gap, i.e. a little before the event that caused it).
        const os = tr.outages.filter((x) => ownerOf(phases, x.start) === ph);
        // A reply gap much longer than the probes lost in it: the prober paused (a busy machine) or requests were
        // queued (neighbour resolution) and answered late. Flagged; the host saw no reply for that long either way.
        const stalled = os.some((x) => x.durationMs > 1.5 * (x.lost + 1) * interval + 20);
        return {
          stalled,
          ms: os.reduce((m, x) => Math.max(m, x.durationMs), 0),
          lost: os.reduce((s, x) => s + x.lost, 0),
          list: os.map((x) => `${name} +${Math.round(x.start - ph.start)} ms: ${Math.round(x.durationMs)} ms (${x.lost} lost)`),
        };
      };
      const vip = win(`vip${family}`);
      const up = win(`upstream${family}`);
      const outage = Math.max(vip.ms, up.ms);
      rows.push({
        daemon: o.variant.label,
        advertSec: o.advertSec,
        version,
        family,
        vmac: o.vmac,
        fault: ph.fault,
        phase: ph.phase,
        rep: ph.rep,
        outageMs: round(outage, 1),
        vipOutageMs: round(vip.ms, 1),
        upstreamOutageMs: round(up.ms, 1),
        lostProbes: vip.lost + up.lost,
        outages: [...vip.list, ...up.list],
        ...(vip.stalled || up.stalled ? { proberStalled: true } : {}),
        takeoverMs: ph.takeover[family],
        boundMs: round(bound, 1),
        ratio: bound > 0 ? round(outage / bound, 2) : null,
        ...(ph.error ? { error: ph.error } : {}),
      });
    }
  }
  return rows;
}

/**
 * Markdown: one line per (advert, family, VMAC, fault, phase) with vipd and keepalived side by side (medians
 * over repetitions; the max in brackets when there were several).
 */
export function failoverTable(rows: FailoverRow[], daemons: string[]): string {
  const keys = new Map<string, FailoverRow>();
  for (const r of rows) keys.set(`${r.advertSec}|${r.family}|${r.vmac}|${r.fault}|${r.phase}`, r);
  const head = ['advert', 'fam', 'VMAC', 'event', 'bound ms'];
  for (const d of daemons) head.push(`${d} outage ms`, `${d} /bound`, `${d} lost`, `${d} takeover ms`);
  const out: (string | number | null)[][] = [];
  for (const [k, r0] of keys) {
    const line: (string | number | null)[] = [
      `${r0.advertSec} s v${r0.version}`,
      `IPv${r0.family}`,
      r0.vmac ? 'on' : 'off',
      r0.phase === 'fault' ? r0.fault : `${r0.fault} → back`,
      r0.boundMs,
    ];
    for (const d of daemons) {
      const rs = rows.filter((r) => r.daemon === d && `${r.advertSec}|${r.family}|${r.vmac}|${r.fault}|${r.phase}` === k);
      if (rs.length === 0) {
        line.push(null, null, null, null);
        continue;
      }
      const med = (f: (r: FailoverRow) => number | null) => median(rs.map(f).filter((x): x is number => x !== null));
      const mx = (f: (r: FailoverRow) => number | null) => Math.max(...rs.map(f).filter((x): x is number => x !== null));
      const o = med((r) => r.outageMs);
      const err = (rs.some((r) => r.error) ? ' ⚠' : '') + (rs.some((r) => r.proberStalled) ? ' †' : '');
      line.push(
        `${fmt(o, 0)}${rs.length > 1 ? ` (max ${fmt(mx((r) => r.outageMs), 0)})` : ''}${err}`,
        r0.boundMs > 0 && o !== null ? fmt(o / r0.boundMs, 2) : null,
        fmt(med((r) => r.lostProbes), 0),
        fmt(med((r) => r.takeoverMs), 0),
      );
    }
    out.push(line);
  }
  return mdTable(head, out);
}

export type { Topology };

/**
 * Condensed Markdown: one line per (advert, event), every family / VMAC setting / repetition pooled: median
 * and max outage per daemon, lost probes (median), the bound and vipd's and keepalived's median / bound.
 */
export function failoverSummary(rows: FailoverRow[], daemons: string[]): string {
  const keys = [...new Set(rows.map((r) => `${r.advertSec}|${r.fault}|${r.phase}`))];
  const head = ['advert', 'event', 'bound ms'];
  for (const d of daemons) head.push(`${d} outage ms median (max)`, `${d} lost (median)`, `${d} median/bound`, `${d} takeover ms`);
  const out = keys.map((k) => {
    const [adv, fault, phase] = k.split('|');
    const rs0 = rows.filter((r) => `${r.advertSec}|${r.fault}|${r.phase}` === k);
    const bound = Math.max(...rs0.map((r) => r.boundMs));
    const line: (string | number | null)[] = [
      `${adv} s`,
      phase === 'fault' ? (fault === 'stop' ? 'planned stop' : fault!) : `${fault} → back`,
      [...new Set(rs0.map((r) => r.boundMs))].join(' / '),
    ];
    for (const d of daemons) {
      const rs = rs0.filter((r) => r.daemon === d);
      const good = rs.filter((r) => !r.proberStalled);
      const o = median(rs.map((r) => r.outageMs));
      const mx = rs.length ? Math.max(...rs.map((r) => r.outageMs)) : null;
      const n = rs.length;
      line.push(
        n ? `${fmt(o, 0)} (${fmt(mx, 0)})${rs.length > good.length ? ` †${rs.length - good.length}` : ''}${rs.some((r) => r.error) ? ' ⚠' : ''}` : null,
        n ? fmt(median(rs.map((r) => r.lostProbes)), 0) : null,
        n && bound > 0 && o !== null ? fmt(o / bound, 2) : null,
        n ? fmt(median(rs.map((r) => r.takeoverMs).filter((x): x is number => x !== null)), 0) : null,
      );
    }
    return line;
  });
  return mdTable(head, out);
}
