/**
 * High-rate prober: from a lab node (the host by default), echo-probe the VIP and the upstream host every
 * 1-2 ms, continuously, and report what a host behind the virtual router saw: sent, received, lost, duplicates,
 * the outages (gaps in the replies) with start / end times, and the longest one.
 *
 * An outage is a run of lost probes; it lasts from the last reply before the gap to the first reply after it
 * (both kernel receive timestamps), so with a 2 ms interval one lost probe reads ~4 ms and the resolution is one
 * interval. Outages are attributed to lab events (Topology.mark(), fault helpers) by time.
 *
 * The probing runs in a child process inside the namespace (probe-child.ts); this module parses its stream and
 * holds the pure analysis (analyzeProbes), which needs no root and is unit-tested.
 *
 * Duplicates (the same sequence answered twice) mean two routers answered one request, i.e. two masters on a
 * path that floods; with unicast forwarding through a learning bridge two masters usually show as no duplicate
 * at all, so tests also check who holds the VIP (Topology.vipHolders()).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabEvent, NodeName, Topology } from './topology.js';
import { LabError, type LabProcess } from './exec.js';
import type { ProbeChildConfig } from './probe-child.js';

export interface ProbeTarget {
  /** A label for reports, e.g. 'vip4', 'upstream6'. */
  name: string;
  address: string;
}

export interface ProberOptions {
  /** Interval between requests to each target, ms (1-1000, default 2). */
  intervalMs?: number;
  /** The prober stops by itself after this long (default 120 s). */
  maxDurationMs?: number;
  /** ICMP payload bytes (16-1400, default 24). */
  payloadBytes?: number;
  /** Namespace node to probe from (default 'H'). */
  from?: NodeName;
  /** After stop, wait this long for late replies (default 100 ms). */
  drainMs?: number;
  /** A reply slower than this is counted as late (default 50 ms). */
  lateMs?: number;
}

/** One reply as received: kernel receive time and round-trip time, ms. */
export interface ProbeReply {
  seq: number;
  t: number;
  rttMs: number;
}

export interface Outage {
  target: string;
  /** The last reply before the gap (or the first request sent, for an outage at the very start). */
  start: number;
  /** The first reply after the gap (or the prober's stop time, for an outage still open at the end). */
  end: number;
  durationMs: number;
  /** Probes lost in the gap. */
  lost: number;
  firstLostSeq: number;
  lastLostSeq: number;
  /** 'start': no reply yet when probing began; 'end': still no reply when it stopped. */
  open?: 'start' | 'end';
}

export interface TargetReport {
  name: string;
  address: string;
  /** Requests sent (including failed sends). */
  sent: number;
  /** Distinct requests answered. */
  received: number;
  lost: number;
  /** Extra replies to an already-answered request. */
  duplicates: number;
  /** Times (ms since the epoch) of the duplicates (at most 1000 kept). */
  duplicateTimes: number[];
  /**
   * Replies that came back later than `lateMs` (default 50 ms): not lost, but held somewhere (e.g. queued in a
   * router's neighbour table while nobody owned the VIP). They do not make or end an outage; see lateReplies.
   */
  late: number;
  /** The late replies (at most 10000 kept): sequence, receive time, round-trip time. */
  lateReplies: ProbeReply[];
  /** Requests the kernel refused (e.g. EHOSTUNREACH when the gateway's neighbour entry failed). */
  sendErrors: number;
  longestOutageMs: number;
  outages: Outage[];
  firstReply: number | null;
  lastReply: number | null;
  rttMs: { min: number; avg: number; max: number } | null;
}

export interface ProbeReport {
  intervalMs: number;
  startedAt: number;
  stoppedAt: number;
  targets: TargetReport[];
  /** Lab events in the probing window (from the topology, if one was given). */
  events: LabEvent[];
}

/** Raw per-target data the analysis works on. */
export interface ProbeData {
  name: string;
  address: string;
  /** Requests sent so far; seqs are 0..sent-1, request k sent at about startedAt + k * intervalMs. */
  sent: number;
  replies: ProbeReply[];
  sendErrors: number;
}

/**
 * Pure analysis of one target's replies. `stoppedAt` closes an outage still open at the end. Every gap is an
 * outage, however short (one lost probe at a 2 ms interval reads ~4 ms).
 */
export function analyzeProbes(d: ProbeData, startedAt: number, stoppedAt: number, lateMs = 50): TargetReport {
  const bySeq = new Map<number, ProbeReply>();
  let duplicates = 0;
  let late = 0;
  const lateReplies: ProbeReply[] = [];
  const duplicateTimes: number[] = [];
  let rmin = Infinity;
  let rmax = 0;
  let rsum = 0;
  for (const r of d.replies) {
    if (r.seq >= d.sent && d.sent > 0) {
      // A reply for a request we do not know of was sent: impossible unless the stream is cut; ignore.
      continue;
    }
    if (bySeq.has(r.seq)) {
      duplicates += 1;
      if (duplicateTimes.length < 1000) duplicateTimes.push(r.t);
      continue;
    }
    bySeq.set(r.seq, r);
    if (r.rttMs > lateMs) {
      late += 1;
      if (lateReplies.length < 10_000) lateReplies.push(r);
    }
    rmin = Math.min(rmin, r.rttMs);
    rmax = Math.max(rmax, r.rttMs);
    rsum += r.rttMs;
  }
  const got = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const outages: Outage[] = [];
  const push = (o: Omit<Outage, 'target' | 'durationMs'>): void => {
    outages.push({ target: d.name, ...o, durationMs: Math.max(0, o.end - o.start) });
  };
  if (got.length === 0) {
    if (d.sent > 0) {
      push({ start: startedAt, end: stoppedAt, lost: d.sent, firstLostSeq: 0, lastLostSeq: d.sent - 1, open: 'start' });
    }
  } else {
    const first = got[0]!;
    if (first.seq > 0) {
      push({ start: startedAt, end: first.t, lost: first.seq, firstLostSeq: 0, lastLostSeq: first.seq - 1, open: 'start' });
    }
    for (let i = 1; i < got.length; i++) {
      const a = got[i - 1]!;
      const b = got[i]!;
      if (b.seq - a.seq > 1) {
        push({ start: a.t, end: b.t, lost: b.seq - a.seq - 1, firstLostSeq: a.seq + 1, lastLostSeq: b.seq - 1 });
      }
    }
    const last = got[got.length - 1]!;
    if (last.seq < d.sent - 1) {
      push({
        start: last.t,
        end: Math.max(last.t, stoppedAt),
        lost: d.sent - 1 - last.seq,
        firstLostSeq: last.seq + 1,
        lastLostSeq: d.sent - 1,
        open: 'end',
      });
    }
  }
  return {
    name: d.name,
    address: d.address,
    sent: d.sent,
    received: got.length,
    lost: Math.max(0, d.sent - got.length),
    duplicates,
    duplicateTimes,
    late,
    lateReplies,
    sendErrors: d.sendErrors,
    longestOutageMs: outages.reduce((m, o) => Math.max(m, o.durationMs), 0),
    outages,
    firstReply: got.length ? got[0]!.t : null,
    lastReply: got.length ? got.reduce((m, r) => Math.max(m, r.t), 0) : null,
    rttMs: got.length ? { min: rmin, avg: rsum / got.length, max: rmax } : null,
  };
}

/** What one event cost one target. */
export interface EventImpact {
  event: LabEvent;
  target: string;
  /** The longest outage attributed to the event, 0 if none. */
  outageMs: number;
  lostProbes: number;
  outages: Outage[];
  /** Duplicate replies between this event and the next. */
  duplicates: number;
  /** Late replies to requests sent between this event and the next, and the longest round trip among them. */
  lateProbes: number;
  maxLateRttMs: number;
}

/** The outages of a target that overlap the window [t, until): they end after t and start before until. */
export function outagesIn(r: TargetReport, t: number, until: number): Outage[] {
  return r.outages.filter((o) => o.end > t && o.start < until);
}

/**
 * Attribute each outage to the latest event at or before its start + slackMs (default 50 ms; an outage caused
 * by an event at t starts with the last reply before t, or a little after t when the fault takes a moment to
 * bite) and sum up per event and target. Outages before the first event are not listed.
 */
export function attributeOutages(report: ProbeReport, events: LabEvent[] = report.events, slackMs = 50): EventImpact[] {
  const evs = [...events].sort((a, b) => a.t - b.t);
  const owner = (o: Outage): number => {
    let k = -1;
    for (let i = 0; i < evs.length; i++) if (evs[i]!.t <= o.start + slackMs) k = i;
    return k;
  };
  const res: EventImpact[] = [];
  evs.forEach((ev, i) => {
    const until = i + 1 < evs.length ? evs[i + 1]!.t : Infinity;
    for (const tr of report.targets) {
      const os = tr.outages.filter((o) => owner(o) === i);
      const lateIn = tr.lateReplies.filter((r) => r.t - r.rttMs >= ev.t - slackMs && r.t - r.rttMs < until - slackMs);
      res.push({
        event: ev,
        target: tr.name,
        outageMs: os.reduce((m, o) => Math.max(m, o.durationMs), 0),
        lostProbes: os.reduce((s, o) => s + o.lost, 0),
        outages: os,
        duplicates: tr.duplicateTimes.filter((x) => x >= ev.t && x < until).length,
        lateProbes: lateIn.length,
        maxLateRttMs: lateIn.reduce((m, r) => Math.max(m, r.rttMs), 0),
      });
    }
  });
  return res;
}

function childScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'probe-child.js');
}

/**
 * A running prober. Start it with Prober.start(topo, targets); stop() returns the report, report() gives a
 * live one. Targets are named; the defaults of Prober.defaultTargets(topo) are vip4, upstream4 and, with IPv6,
 * vip6 and upstream6.
 */
export class Prober {
  readonly intervalMs: number;
  lateMs = 50;
  startedAt = 0;
  stoppedAt: number | null = null;
  private readonly data: ProbeData[];
  private readonly waiters = new Set<() => void>();
  private doneSeen = false;

  private constructor(
    private readonly topo: Topology | null,
    readonly proc: LabProcess,
    targets: ProbeTarget[],
    intervalMs: number,
  ) {
    this.intervalMs = intervalMs;
    this.data = targets.map((t) => ({ name: t.name, address: t.address, sent: 0, replies: [], sendErrors: 0 }));
    proc.onLine((l) => {
      if (l.stream === 'stdout') this.parse(l.text);
    });
    for (const l of proc.lines) if (l.stream === 'stdout') this.parse(l.text);
  }

  /** The VIP(s) and the upstream host, both families when the lab has IPv6. */
  static defaultTargets(topo: Topology): ProbeTarget[] {
    const t: ProbeTarget[] = [
      { name: 'vip4', address: topo.vip4 },
      { name: 'upstream4', address: topo.upstream4 },
    ];
    if (topo.ipv6) t.push({ name: 'vip6', address: topo.vip6 }, { name: 'upstream6', address: topo.upstream6 });
    return t;
  }

  /** Start probing; resolves once the probe process is sending. */
  static async start(topo: Topology, targets: ProbeTarget[] = Prober.defaultTargets(topo), opts: ProberOptions = {}): Promise<Prober> {
    const intervalMs = opts.intervalMs ?? 2;
    if (!(intervalMs >= 1 && intervalMs <= 1000)) throw new LabError(`probe interval ${intervalMs} ms is outside 1-1000`);
    if (targets.length === 0) throw new LabError('prober needs at least one target');
    const names = new Set(targets.map((t) => t.name));
    if (names.size !== targets.length) throw new LabError('probe target names must be unique');
    const cfg: ProbeChildConfig = {
      targets: targets.map((t) => ({ address: t.address })),
      intervalMs,
      maxDurationMs: opts.maxDurationMs ?? 120_000,
      payloadBytes: Math.min(1400, Math.max(16, opts.payloadBytes ?? 24)),
      drainMs: opts.drainMs ?? 100,
    };
    const proc = topo.spawn(opts.from ?? 'H', process.execPath, [childScript(), JSON.stringify(cfg)]);
    const p = new Prober(topo, proc, targets, intervalMs);
    p.lateMs = opts.lateMs ?? 50;
    const ready = await proc.waitForLine(/^ready /, { timeoutMs: 10_000, stream: 'stdout' }).catch((e: Error) => {
      throw new LabError(`prober did not start: ${e.message}`);
    });
    p.startedAt = Number(ready.text.split(' ')[1]);
    return p;
  }

  private parse(line: string): void {
    const f = line.split(' ');
    switch (f[0]) {
      case 'r': {
        const d = this.data[Number(f[1])];
        if (d) d.replies.push({ seq: Number(f[2]), t: Number(f[3]), rttMs: Number(f[4]) });
        break;
      }
      case 's': {
        const d = this.data[Number(f[1])];
        if (d) d.sent = Math.max(d.sent, Number(f[2]));
        break;
      }
      case 'e': {
        const d = this.data[Number(f[1])];
        if (d) d.sendErrors += 1;
        break;
      }
      case 'ready':
        this.startedAt = Number(f[1]);
        break;
      case 'done':
        this.doneSeen = true;
        this.stoppedAt ??= Date.now();
        break;
      default:
        return;
    }
    for (const w of [...this.waiters]) w();
  }

  /** Live: replies so far for a target. */
  replies(target: string): readonly ProbeReply[] {
    return this.target(target).replies;
  }

  private target(name: string): ProbeData {
    const d = this.data.find((x) => x.name === name);
    if (!d) throw new LabError(`no probe target ${name} (have ${this.data.map((x) => x.name).join(', ')})`);
    return d;
  }

  /** Live: the time of the latest reply from a target, or null. */
  lastReply(target: string): number | null {
    const r = this.target(target).replies;
    return r.length ? r[r.length - 1]!.t : null;
  }

  /**
   * Live and cheap (for a status line): per target, requests sent, replies received (duplicates included),
   * the latest reply's time and how long the target has been silent (0 while replies flow).
   */
  live(now = Date.now()): { name: string; sent: number; replies: number; lastReply: number | null; silentMs: number }[] {
    return this.data.map((d) => {
      const last = d.replies.length ? d.replies[d.replies.length - 1]!.t : null;
      const since = last ?? this.startedAt;
      const silent = now - since;
      return {
        name: d.name,
        sent: d.sent,
        replies: d.replies.length,
        lastReply: last,
        silentMs: silent > 3 * this.intervalMs + 10 ? silent : 0,
      };
    });
  }

  /**
   * Wait until every listed target (default: all) answered `consecutive` requests in a row, all received at or
   * after `since` (default now). Resolves false on timeout.
   */
  waitForReplies(opts: { targets?: string[]; consecutive?: number; since?: number; timeoutMs?: number } = {}): Promise<boolean> {
    const names = opts.targets ?? this.data.map((d) => d.name);
    const need = opts.consecutive ?? 20;
    const since = opts.since ?? Date.now();
    const ok = (): boolean =>
      names.every((n) => {
        const r = this.target(n).replies;
        let run = 0;
        let prev = -2;
        for (let i = r.length - 1; i >= 0 && r[i]!.t >= since; i--) {
          const s = r[i]!.seq;
          if (prev === -2 || s === prev - 1) run += 1;
          else if (s !== prev) break; // a gap (a duplicate, s === prev, neither counts nor breaks)
          prev = s;
          if (run >= need) return true;
        }
        return false;
      });
    return this.waitUntil(ok, opts.timeoutMs ?? 10_000);
  }

  private waitUntil(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      const check = (): void => {
        if (pred()) done(true);
        else if (this.doneSeen || !this.proc.running) done(false);
      };
      const timer = setTimeout(() => done(pred()), timeoutMs);
      this.waiters.add(check);
    });
  }

  /** A report of everything so far (the prober keeps running). */
  report(): ProbeReport {
    const end = this.stoppedAt ?? Date.now();
    // While running, requests sent in the last ~interval+RTT may simply not be answered yet: leave them out.
    const grace = this.stoppedAt === null ? Math.ceil(50 / this.intervalMs) : 0;
    const targets = this.data.map((d) =>
      analyzeProbes({ ...d, sent: Math.max(0, d.sent - grace) }, this.startedAt, end, this.lateMs),
    );
    const events = (this.topo?.events ?? []).filter((e) => e.t >= this.startedAt - 1 && e.t <= end);
    return { intervalMs: this.intervalMs, startedAt: this.startedAt, stoppedAt: end, targets, events };
  }

  /** Stop probing (waits for late replies) and return the final report. Idempotent. */
  async stop(): Promise<ProbeReport> {
    if (this.proc.running) {
      this.proc.kill('SIGTERM', false);
      const x = await this.proc.waitExit(5_000);
      if (!x) this.proc.kill('SIGKILL', true);
    }
    await this.proc.waitExit(2_000);
    this.stoppedAt ??= Date.now();
    return this.report();
  }
}

/** A compact human-readable table of a report (for test logs and `vipd lab`). */
export function formatReport(r: ProbeReport): string {
  const lines = [
    `probes every ${r.intervalMs} ms for ${((r.stoppedAt - r.startedAt) / 1000).toFixed(1)} s`,
    'target      address              sent   recv   lost  dup  late  longest outage  max rtt',
  ];
  for (const t of r.targets) {
    lines.push(
      `${t.name.padEnd(11)} ${t.address.padEnd(20)} ${String(t.sent).padStart(6)} ${String(t.received).padStart(6)} ` +
        `${String(t.lost).padStart(6)} ${String(t.duplicates).padStart(4)} ${String(t.late).padStart(5)}  ` +
        `${`${t.longestOutageMs.toFixed(1)} ms`.padStart(14)}  ${t.rttMs ? `${t.rttMs.max.toFixed(1)} ms` : '-'}`,
    );
  }
  return lines.join('\n');
}
