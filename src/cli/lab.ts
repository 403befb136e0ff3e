/**
 * `vipd lab`: build the DENT guide's network in network namespaces (host, switch, two routers running vipd,
 * upstream host), play the failover story and print what happens, then the outage per event against the
 * protocol's bound. `vipd lab --destroy` removes a lab left with --keep. See docs/lab.md.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  destroyLab,
  labExists,
  LAB_TAG,
  LAB_TAG_RE,
  runStory,
  SCENARIOS,
  type ScenarioName,
  type StoryHooks,
  type StorySummary,
} from '../linux/lab/scenario.js';
import { labUnavailableReason, type Prober, type Topology } from '../linux/lab/index.js';

interface LabCliOptions {
  advert: number;
  ipv6?: boolean;
  vmac?: boolean;
  unicast?: boolean;
  scenario: string;
  peer: string;
  keep?: boolean;
  json?: boolean;
  destroy?: boolean;
  tag: string;
}

function parseAdvert(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d{1,2})?$/.test(v.trim()) || !(n >= 0.01 && n <= 40)) {
    throw new InvalidArgumentError('an interval in seconds from 0.01 to 40, in hundredths (e.g. 1, 0.1)');
  }
  return n;
}

export function registerLab(program: Command): void {
  program
    .command('lab')
    .description('build a virtual network in namespaces and show a failover (needs root)')
    .option('--advert <SECONDS>', 'advertisement interval', parseAdvert, 1)
    .option('--scenario <NAME>', `how the master fails: ${SCENARIOS.join(', ')} or all`, 'unplanned')
    .option('--ipv6', 'an IPv6 virtual router too (VI_6), probed beside IPv4')
    .option('--vmac', 'use_vmac on both routers (virtual MAC 00:00:5e:00:01:VRID)')
    .option('--no-vmac', 'no VMAC: the host relearns the master\'s MAC from its gratuitous ARP (default)')
    .option('--unicast', 'unicast adverts between the routers (unicast_peer) instead of multicast')
    .option('--peer <DAEMON>', 'what router R2 runs: vipd or keepalived (to show interop)', 'vipd')
    .option('--keep', 'leave the lab running at the end and print how to explore it')
    .option('--json', 'print the summary as JSON on stdout (the story goes to stderr)')
    .option('--destroy', 'remove a lab left running by --keep, and exit')
    // For tests that must not meet a lab of the user's (or of another test run): vipd-<tag>-*.
    .addOption(new Option('--tag <TAG>', 'lab tag').default(LAB_TAG).hideHelp())
    .action(async (opts: LabCliOptions) => {
      process.exitCode = await labCommand(opts);
    });
}

function fail(msg: string, code = 1): number {
  process.stderr.write(`vipd lab: ${msg}\n`);
  return code;
}

async function labCommand(o: LabCliOptions): Promise<number> {
  const why = labUnavailableReason();
  if (why) return fail(`${why}.\n  e.g.: sudo ./bin/vipd lab`, 2);
  if (!LAB_TAG_RE.test(o.tag)) return fail(`--tag ${o.tag}: lab followed by up to 13 lower-case letters or digits`);
  if (o.destroy) {
    const had = labExists(o.tag);
    const r = await destroyLab(o.tag);
    if (!had && r.dirs.length === 0) process.stdout.write('no lab to remove\n');
    else process.stdout.write(`removed the lab: ${[...r.namespaces].join(', ') || 'no namespaces'}${r.dirs.length ? ` and ${r.dirs.length} temp dir(s)` : ''}\n`);
    return 0;
  }
  let scenarios: ScenarioName[];
  if (o.scenario === 'all') scenarios = [...SCENARIOS];
  else if ((SCENARIOS as readonly string[]).includes(o.scenario)) scenarios = [o.scenario as ScenarioName];
  else return fail(`unknown scenario ${JSON.stringify(o.scenario)} (use ${SCENARIOS.join(', ')} or all)`);
  if (o.peer !== 'vipd' && o.peer !== 'keepalived') return fail(`--peer ${o.peer}: use vipd or keepalived`);

  const out = o.json ? process.stderr : process.stdout;
  const ui = new Display(out, !!out.isTTY);
  let topo: Topology | null = null;
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    ui.close();
    out.write(`\n${sig === 'SIGINT' ? 'interrupted' : 'terminated'}: removing the lab\n`);
    const done = (): void => process.exit(sig === 'SIGINT' ? 130 : 143);
    const cleanup = topo ? topo.destroy() : destroyLab(o.tag).then(() => undefined);
    void cleanup.then(done, done);
    setTimeout(done, 15_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary: StorySummary;
  try {
    summary = await runStory(
      { advert: o.advert, ipv6: !!o.ipv6, vmac: !!o.vmac, unicast: !!o.unicast, peer: o.peer, scenarios, keep: !!o.keep, tag: o.tag },
      ui.hooks(),
      (t) => {
        topo = t;
      },
    );
  } catch (e) {
    ui.close();
    if (interrupted) return new Promise<number>(() => undefined); // the signal handler exits
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const msg = e instanceof Error ? e.message : String(e);
    return fail(`${msg}\n(the lab has been removed)`);
  }
  ui.close();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  out.write('\n' + formatSummary(summary) + '\n');
  if (summary.kept) out.write('\n' + keepHelp(summary) + '\n');
  if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  return summary.ok ? 0 : 1;
}

// ---- display ---------------------------------------------------------------------------------------------------

const useColor = (tty: boolean): boolean => tty && !process.env.NO_COLOR;

/**
 * Story lines as they happen, with the time since the start. On a terminal a live status line stays at the
 * bottom (router states, VIP holders, the host's probes, a progress bar while waiting), redrawn 10 times a
 * second; otherwise state changes and probe losses are printed as plain lines.
 */
class Display {
  private readonly t0 = Date.now();
  private readonly states = new Map<string, string>();
  private readonly holders = new Map<string, string>();
  private prober: Prober | null = null;
  private waiting: { label: string; start: number; expectedMs: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private drawn = false;
  private closed = false;
  private readonly color: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly live: boolean,
  ) {
    this.color = useColor(live);
    if (live) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
  }

  private c(code: string, s: string): string {
    return this.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }

  private stamp(t = Date.now()): string {
    return `[${((t - this.t0) / 1000).toFixed(3).padStart(7)}]`;
  }

  line(text: string, t?: number): void {
    if (this.closed) return;
    this.clear();
    this.out.write(text === '' ? '\n' : `${this.stamp(t)} ${text}\n`);
    this.draw();
  }

  hooks(): StoryHooks {
    return {
      say: (s) => this.line(s),
      state: (r, inst, st, t) => {
        this.states.set(`${r} ${inst}`, st);
        const col = st === 'MASTER' ? '32' : st === 'BACKUP' ? '36' : '31';
        this.line(`${r} ${inst} ${this.c(col, st)}`, t);
      },
      holders: (vip, rs) => {
        this.holders.set(vip, rs.join('+') || 'nobody');
        this.line(`${vip} held by ${rs.join(' and ') || 'nobody'}${rs.length > 1 ? ' (two holders)' : ''}`);
      },
      probe: (targets, up, darkMs, t, noneLost) => {
        if (up && noneLost) this.line(`H: ${targets}: replies delayed ${Math.round(darkMs)} ms, none lost (this machine stalled)`, t);
        else if (up) this.line(`H: ${this.c('32', `${targets} answering again`)} (${Math.round(darkMs)} ms without reply)`, t);
        else this.line(`H: ${this.c('31', `${targets} not answering`)}`, t);
      },
      wait: (w) => {
        this.waiting = w;
        if (w && !this.live) this.line(`waiting: ${w.label} (the protocol allows ${fmtMs(w.expectedMs)})`);
        this.draw();
      },
      prober: (p) => {
        this.prober = p;
      },
    };
  }

  private status(): string {
    const parts: string[] = [];
    // Per router: one state when its instances agree (R1 MASTER), else each (R1 VI_1 MASTER VI_6 BACKUP).
    const byRouter = new Map<string, [string, string][]>();
    for (const [k, v] of [...this.states.entries()].sort()) {
      const [r, inst] = k.split(' ') as [string, string];
      byRouter.set(r, [...(byRouter.get(r) ?? []), [inst, v]]);
    }
    const col = (v: string): string => this.c(v === 'MASTER' ? '32' : v === 'BACKUP' ? '36' : '31', v);
    const st = [...byRouter.entries()].map(([r, xs]) =>
      new Set(xs.map((x) => x[1])).size === 1 ? `${r} ${col(xs[0]![1])}` : `${r} ${xs.map(([i, v]) => `${i} ${col(v)}`).join(' ')}`,
    );
    if (st.length) parts.push(st.join('  '));
    if (this.holders.size) parts.push('VIP on ' + [...new Set(this.holders.values())].join(' / '));
    if (this.prober) {
      parts.push(
        'H ' +
          this.prober
            .live()
            .map((x) => (x.silentMs > 0 ? this.c('31', `${x.name} ✗ ${fmtMs(x.silentMs)}`) : this.c('32', `${x.name} ✓ ${x.replies}`)))
            .join(' '),
      );
    }
    if (this.waiting) {
      const el = Date.now() - this.waiting.start;
      const frac = Math.min(1, el / Math.max(1, this.waiting.expectedMs));
      const n = 16;
      const full = Math.round(frac * n);
      parts.push(`${this.waiting.label} [${'#'.repeat(full)}${'.'.repeat(n - full)}] ${fmtMs(el)} / ${fmtMs(this.waiting.expectedMs)}`);
    }
    return parts.join(' │ ');
  }

  private draw(): void {
    if (!this.live || this.timer === null) return;
    const cols = this.out.columns || 160;
    let s = this.status();
    // Cut to the terminal's width (counting visible characters only) so the line never wraps.
    const visible = s.replace(/\x1b\[[0-9;]*m/g, '');
    if (visible.length > cols - 1) s = visible.slice(0, cols - 2) + '…';
    this.out.write(`\r\x1b[2K${s}`);
    this.drawn = true;
  }

  private clear(): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }

  close(): void {
    this.closed = true;
    this.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** The summary table: one row per event. */
export function formatSummary(s: StorySummary): string {
  const rows = [
    `summary: advert ${s.lab.advert} s, ${s.lab.routers.map((r) => `${r.name} ${r.daemon} (priority ${r.priority})`).join(', ')}` +
      `${s.lab.ipv6 ? ', IPv4 + IPv6' : ''}${s.lab.vmac ? ', VMAC' : ''}${s.lab.unicast ? ', unicast' : ''}; probes every ${s.lab.probeIntervalMs} ms`,
    '',
    `${'scenario'.padEnd(10)} ${'event'.padEnd(13)} ${'new master'.padEnd(10)} ${'takeover'.padStart(9)} ${'outage'.padStart(9)} ${'lost'.padStart(5)} ${'bound'.padStart(9)}`,
  ];
  for (const e of s.events) {
    rows.push(
      `${e.scenario.padEnd(10)} ${e.label.padEnd(13)} ${e.newMaster.padEnd(10)} ${(e.takeoverMs === null ? '-' : `${e.takeoverMs} ms`).padStart(9)} ` +
        `${`${e.outageMs.toFixed(0)} ms`.padStart(9)} ${String(e.lostProbes).padStart(5)} ${`${e.boundMs.toFixed(0)} ms`.padStart(9)}  ` +
        `${e.withinBound ? 'ok' : 'OVER BOUND'}`,
    );
  }
  rows.push('');
  rows.push('outage: the longest time the host got no reply (VIP or upstream host), from its last reply before to its');
  rows.push(`first reply after; bound: Master_Down_Interval (3 x advert + skew) for an unplanned failure, R2's Skew_Time`);
  rows.push(`for a planned one (plus ${s.lab.toleranceMs} ms of slack: probe resolution, announcing, scheduling).`);
  const fin = Object.entries(s.final.states).map(([k, v]) => `${k} ${v}`).join(', ');
  rows.push(`final: ${fin}; ${Object.entries(s.final.vipHolders).map(([v, h]) => `${v} on ${h.join('+') || 'nobody'}`).join(', ')}`);
  for (const p of s.problems) rows.push(`problem: ${p}`);
  rows.push(s.ok ? 'result: ok' : 'result: FAILED');
  return rows.join('\n');
}

function keepHelp(s: StorySummary): string {
  const [r1, r2] = s.lab.routers;
  const l = [
    'the lab is still running; explore it (as root):',
    `  ip netns exec vipd-${s.lab.tag}-h ping ${s.lab.vip4}                      # the host through the VIP`,
    `  ip netns exec vipd-${s.lab.tag}-h ping 198.51.100.100                 # the upstream host, routed by the master`,
    `  ip netns exec vipd-${s.lab.tag}-r1 ip addr show                        # R1's addresses (the VIP on the master)`,
    `  ip netns exec vipd-${s.lab.tag}-h ip neigh                             # whose MAC the host uses for the VIP`,
    `  ip netns exec vipd-${s.lab.tag}-r1 tcpdump -ni eth0 vrrp               # the adverts`,
    `  ip netns exec vipd-${s.lab.tag}-sw ip link set lan-r1 down             # pull R1's cable (up again: ... up)`,
  ];
  if (r1?.daemon === 'vipd') l.push(`  ./bin/vipd status --control-socket ${r1.dir}/vipd.sock`);
  if (r1) l.push(`  tail -f ${r1.dir}/daemon.log`);
  if (r2) l.push(`  tail -f ${r2.dir}/daemon.log`);
  l.push('remove it with:', `  sudo ./bin/vipd lab --destroy${s.lab.tag === LAB_TAG ? '' : ` --tag ${s.lab.tag}`}`);
  return l.join('\n');
}
