/**
 * The story `vipd lab` plays on the DENT-guide topology: a host pings through the virtual router of two routers
 * (R1 priority 150, R2 priority 100); the master fails, the backup takes over, the master returns and preempts.
 * Three ways to fail: `unplanned` (R1 loses power: its daemon is killed and its cables pulled), `planned` (R1's
 * daemon is stopped with SIGTERM: vipd hands over make-before-break) and `handover` (`vipd handover` through R1's
 * control socket). Each failure is followed by R1's return.
 *
 * The runner reports what happens through callbacks (story lines, router states, VIP holders, the host's probes,
 * waits with an expected duration), so that the CLI can draw a live line or print plain lines, and returns a
 * summary: the outage the host saw per event, against the protocol's bound.
 *
 * Lab tooling only (it runs `ip` through the topology); see docs/lab.md.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabError, removeDir, sleep } from './exec.js';
import { keepalivedConf, keepalivedVersion, masterDownIntervalMs, RouterDaemon, type VrrpInstanceSpec } from './daemons.js';
import { outagesIn, Prober, type ProbeReply, type ProbeReport, type ProbeTarget } from './prober.js';
import { buildTopology, canonical, cleanStaleLab, labNamespaceNames, type RouterName, type Topology } from './topology.js';

export type ScenarioName = 'unplanned' | 'planned' | 'handover';
export const SCENARIOS: readonly ScenarioName[] = ['unplanned', 'planned', 'handover'];

/** The tag of the lab `vipd lab` builds: namespaces `vipd-lab-*`. */
export const LAB_TAG = 'lab';
export const LAB_TAG_RE = /^lab[a-z0-9]{0,13}$/;
export const R1_PRIORITY = 150;
export const R2_PRIORITY = 100;

export interface StoryOptions {
  /** Advertisement interval, seconds (0.01-40, default 1). */
  advert?: number;
  /** An IPv6 virtual router too (VI_6), probed beside IPv4. */
  ipv6?: boolean;
  /** use_vmac on both routers. */
  vmac?: boolean;
  /** unicast_peer instead of multicast adverts. */
  unicast?: boolean;
  /** What R2 runs (default vipd). */
  peer?: 'vipd' | 'keepalived';
  scenarios?: ScenarioName[];
  /** Leave the lab running at the end (daemons survive this process). */
  keep?: boolean;
  /** Lab tag (namespaces `vipd-<tag>-*`): `lab` (default) or `lab` + up to 13 letters / digits (tests). */
  tag?: string;
  /** Probe interval, ms (default 2). */
  probeIntervalMs?: number;
}

export type EventKind = 'unplanned' | 'planned' | 'handover' | 'return';

/** One event of the story and what it cost the host. */
export interface EventSummary {
  scenario: ScenarioName;
  kind: EventKind;
  /** A short name for a table: 'R1 power loss', 'R1 SIGTERM', 'handover', 'R1 back'. */
  label: string;
  /** What happened, in words. */
  description: string;
  /** Wall clock (ms since the epoch). */
  t: number;
  /** The router that holds the VIP afterwards. */
  newMaster: RouterName;
  /** From the event to the new master's "Entering MASTER STATE" line, ms (null when not seen). */
  takeoverMs: number | null;
  /** The longest time the host got no reply, over every probe target, ms (0: not one probe lost). */
  outageMs: number;
  /** Probes lost (the target that lost most). */
  lostProbes: number;
  /**
   * Per probe target. silenceMs: the longest time without any reply (kernel receive times), lost probes or not;
   * above outageMs only when the prober itself could not send for a while (a stalled, overloaded machine).
   */
  targets: { name: string; address: string; outageMs: number; lostProbes: number; silenceMs: number; duplicates: number }[];
  /** The protocol's bound for this event, ms, and what it is. */
  boundMs: number;
  bound: string;
  /** outageMs <= boundMs + toleranceMs. */
  withinBound: boolean;
}

export interface StorySummary {
  ok: boolean;
  lab: {
    tag: string;
    namespaces: string[];
    advert: number;
    version: 3;
    ipv6: boolean;
    vmac: boolean;
    unicast: boolean;
    /** dir: the daemon's files (keepalived.conf, pid files, control socket, daemon.log with --keep). */
    routers: { name: RouterName; daemon: 'vipd' | 'keepalived'; priority: number; lan4: string; dir: string }[];
    vip4: string;
    vip6: string | null;
    probeIntervalMs: number;
    /** Slack allowed above a bound: two probe intervals (resolution) plus 40 ms (installing and announcing the VIP, the host switching MAC, scheduling on a busy machine). */
    toleranceMs: number;
  };
  events: EventSummary[];
  final: { states: Record<string, string>; vipHolders: Record<string, RouterName[]> };
  probes: { name: string; address: string; sent: number; received: number; lost: number; duplicates: number }[];
  /** What went wrong (empty when ok). */
  problems: string[];
  durationMs: number;
  kept: boolean;
}

export interface ProbeStatus {
  name: string;
  sent: number;
  replies: number;
  silentMs: number;
}

/** What the runner tells its display. */
export interface StoryHooks {
  /** A line of the story. */
  say?(text: string): void;
  /** A router's instance changed state (from its daemon's log), or its daemon stopped / was killed. */
  state?(router: RouterName, instance: string, state: string, t: number): void;
  /** The routers holding each VIP changed. */
  holders?(vip: string, routers: RouterName[]): void;
  /**
   * Probe targets (comma-separated) stopped answering (up false; t: their last reply) or answer again (up true,
   * after darkMs without reply). Only silences that lost probes are reported.
   */
  probe?(targets: string, up: boolean, darkMs: number, t: number, noneLost?: boolean): void;
  /** A wait began (expectedMs: what the protocol promises, for a progress bar); null ends it. */
  wait?(w: { label: string; start: number; expectedMs: number } | null): void;
  /** The host's prober started (its live() feeds a status line). */
  prober?(p: Prober): void;
}

/** Remove the lab `vipd lab` leaves with --keep (or a crashed run left): namespaces, processes, temp dirs. */
export async function destroyLab(tag = LAB_TAG): Promise<{ namespaces: string[]; dirs: string[] }> {
  const namespaces = await cleanStaleLab(tag);
  const dirs: string[] = [];
  const prefix = `vipd-lab-${tag}-`;
  for (const d of safeReaddir(tmpdir())) {
    if (!d.startsWith(prefix)) continue;
    // Only the directories of a lab with exactly this tag: vipd-lab-<tag>-r1-vipd-XXXXXX and the like.
    if (!/^(?:r[123]|h|u|sw)-(?:vipd|keepalived|tmp)/.test(d.slice(prefix.length)) && !d.slice(prefix.length).startsWith('story-')) continue;
    removeDir(join(tmpdir(), d));
    dirs.push(d);
  }
  return { namespaces, dirs };
}

function safeReaddir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

/** Does a lab with this tag exist (any of its namespaces)? */
export function labExists(tag = LAB_TAG): boolean {
  return labNamespaceNames(tag).some((n) => existsSync(`/run/netns/${n}`));
}

/** Throws a LabError when the options make no sense (before anything is built). */
export function checkStoryOptions(o: StoryOptions): void {
  const a = o.advert ?? 1;
  if (!Number.isFinite(a) || a < 0.01 || a > 40) throw new LabError(`--advert ${a}: must be 0.01 to 40 seconds`);
  if (Math.abs(Math.round(a * 100) - a * 100) > 1e-6) throw new LabError(`--advert ${a}: VRRPv3 counts in hundredths of a second`);
  if (o.tag !== undefined && !LAB_TAG_RE.test(o.tag)) throw new LabError(`lab tag ${JSON.stringify(o.tag)}: must be lab followed by up to 13 lower-case letters or digits`);
  for (const s of o.scenarios ?? []) {
    if (!SCENARIOS.includes(s)) throw new LabError(`unknown scenario ${s} (known: ${SCENARIOS.join(', ')}, all)`);
  }
}

/**
 * Build the lab, play the scenarios and return the summary. The lab is destroyed at the end unless `keep`
 * (then `summary.kept` and the caller prints how to explore it). `topoOut` receives the topology as soon as it
 * exists, so that a signal handler can destroy it.
 */
export async function runStory(
  o: StoryOptions,
  hooks: StoryHooks = {},
  topoOut: (t: Topology) => void = () => undefined,
): Promise<StorySummary> {
  checkStoryOptions(o);
  const t0 = Date.now();
  const story = new Story(o, hooks);
  try {
    return await story.run(topoOut, t0);
  } finally {
    story.stopMonitors();
    if (!o.keep || !story.finished) await story.topo?.destroy();
  }
}

interface ControlAnswer {
  ok: boolean;
  reload?: { unchanged: string[]; changed: string[]; diagnostics?: string[] };
  message?: string;
  error?: string;
}

interface RouterSlot {
  name: RouterName;
  kind: 'vipd' | 'keepalived';
  priority: number;
  daemon: RouterDaemon | null;
  states: Map<string, string>;
  unsubscribe: (() => void) | null;
}

class Story {
  topo: Topology | null = null;
  prober: Prober | null = null;
  finished = false;
  private readonly advert: number;
  private readonly tag: string;
  private readonly ipv6: boolean;
  private readonly instances: string[];
  private readonly slots: RouterSlot[];
  private readonly events: EventSummary[] = [];
  private readonly problems: string[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private holders = new Map<string, string>();
  private probeUp = new Map<string, boolean>();
  private probeDarkSince = new Map<string, number>();
  private polling = false;
  private quiet = false;
  private stalls: string[] = [];
  private probeMark = new Map<string, { index: number; seq: number }>();

  constructor(
    private readonly o: StoryOptions,
    private readonly hooksIn: StoryHooks,
  ) {
    this.advert = o.advert ?? 1;
    this.tag = o.tag ?? LAB_TAG;
    this.ipv6 = o.ipv6 ?? false;
    this.instances = this.ipv6 ? ['VI_1', 'VI_6'] : ['VI_1'];
    this.slots = [
      { name: 'R1', kind: 'vipd', priority: R1_PRIORITY, daemon: null, states: new Map(), unsubscribe: null },
      { name: 'R2', kind: o.peer ?? 'vipd', priority: R2_PRIORITY, daemon: null, states: new Map(), unsubscribe: null },
    ];
  }

  private say(s: string): void {
    this.hooks.say?.(s);
  }

  /** Hooks, silenced once the story is over (teardown kills the daemons: no news). */
  private get hooks(): StoryHooks {
    return this.quiet ? {} : this.hooksIn;
  }

  private get r1(): RouterSlot {
    return this.slots[0]!;
  }

  private get r2(): RouterSlot {
    return this.slots[1]!;
  }

  private mdi(priority: number): number {
    return masterDownIntervalMs(this.advert, priority, 3);
  }

  private skew(priority: number): number {
    return ((256 - priority) * this.advert * 1000) / 256;
  }

  get toleranceMs(): number {
    return 2 * (this.o.probeIntervalMs ?? 2) + 40;
  }

  async run(topoOut: (t: Topology) => void, t0: number): Promise<StorySummary> {
    if (this.r2.kind === 'keepalived' && !(await keepalivedVersion())) {
      throw new LabError('--peer keepalived needs keepalived installed (apt-get install keepalived)');
    }
    const left = await destroyLab(this.tag);
    if (left.namespaces.length) this.say(`removed the leftovers of an earlier lab: ${left.namespaces.join(', ')}`);

    this.say(`building the lab: host H, switch SW, routers R1 and R2, upstream host U (network namespaces vipd-${this.tag}-*)`);
    const topo = await buildTopology({ tag: this.tag, routers: 2, ipv6: this.ipv6 });
    this.topo = topo;
    topoOut(topo);

    const v = this.ipv6 ? `${topo.vip4} and ${topo.vip6}` : topo.vip4;
    this.say(
      `starting R1 (${this.r1.kind}, priority ${R1_PRIORITY}) and R2 (${this.r2.kind}, priority ${R2_PRIORITY}): ` +
        `virtual router ${v}, advert ${this.advert} s${this.o.vmac ? ', VMAC' : ''}${this.o.unicast ? ', unicast' : ''}`,
    );
    await Promise.all([this.startRouter(this.r1), this.startRouter(this.r2)]);
    this.startHolderPoll();
    await this.waitMaster(this.r1, 'electing a master', this.mdi(R1_PRIORITY), 0);
    await this.waitAllState(this.r2, 'BACKUP', this.mdi(R1_PRIORITY) + 5_000);
    this.say('R1 is MASTER, R2 is BACKUP');

    const targets: ProbeTarget[] = Prober.defaultTargets(topo);
    this.prober = await Prober.start(topo, targets, { intervalMs: this.o.probeIntervalMs ?? 2, maxDurationMs: 3_600_000 });
    this.startProbeMonitor();
    this.hooks.prober?.(this.prober);
    this.say(`H pings ${targets.map((x) => x.address).join(', ')} every ${this.prober.intervalMs} ms (VIP and upstream host U, through the virtual router)`);
    if (!(await this.prober.waitForReplies({ consecutive: 50, timeoutMs: 10_000 }))) {
      throw new LabError('the host gets no replies through the virtual router (is the lab broken?)');
    }

    for (const s of this.o.scenarios ?? ['unplanned']) {
      this.say('');
      this.say(`── scenario ${s} ──`);
      await this.failover(s);
      await this.returnOfR1(s);
    }

    this.stopMonitors();
    this.quiet = true;
    const report = await this.prober.stop();
    const replies = new Map(report.targets.map((x) => [x.name, [...this.prober!.replies(x.name)].sort((a, b) => a.t - b.t)]));
    this.prober = null;
    this.attribute(report, replies);
    const final = await this.finalState();
    const ok = this.problems.length === 0 && this.events.every((e) => e.withinBound);
    this.finished = true;
    return {
      ok,
      lab: {
        tag: this.tag,
        namespaces: labNamespaceNames(this.tag).filter((n) => Object.values(topo.ns).includes(n)),
        advert: this.advert,
        version: 3,
        ipv6: this.ipv6,
        vmac: !!this.o.vmac,
        unicast: !!this.o.unicast,
        routers: this.slots.map((s) => ({ name: s.name, daemon: s.kind, priority: s.priority, lan4: topo.router(s.name).lan4, dir: s.daemon?.dir ?? '' })),
        vip4: topo.vip4,
        vip6: this.ipv6 ? topo.vip6 : null,
        probeIntervalMs: report.intervalMs,
        toleranceMs: this.toleranceMs,
      },
      events: this.events,
      final,
      probes: report.targets.map((x) => ({
        name: x.name,
        address: x.address,
        sent: x.sent,
        received: x.received,
        lost: x.lost,
        duplicates: x.duplicates,
      })),
      problems: this.problems,
      durationMs: Date.now() - t0,
      kept: !!this.o.keep,
    };
  }

  // ---- the routers ---------------------------------------------------------------------------------------------

  private config(slot: RouterSlot): string {
    const topo = this.topo!;
    const me = topo.router(slot.name);
    const other = topo.router(slot.name === 'R1' ? 'R2' : 'R1');
    const base = (over: Partial<VrrpInstanceSpec> & Pick<VrrpInstanceSpec, 'vips'>): VrrpInstanceSpec => ({
      priority: slot.priority,
      advertInt: this.advert,
      version: 3,
      state: 'BACKUP',
      // Unicast adverts from a VMAC need vmac_xmit_base (keepalived sets it itself, with a config error).
      ...(this.o.vmac ? { useVmac: true, ...(this.o.unicast ? { vmacXmitBase: true } : {}) } : {}),
      ...over,
    });
    const inst: VrrpInstanceSpec[] = [
      base({
        name: 'VI_1',
        vrid: 51,
        vips: [`${topo.vip4}/24`],
        ...(this.o.unicast ? { unicastSrcIp: me.lan4, unicastPeers: [other.lan4] } : {}),
      }),
    ];
    if (this.ipv6) {
      inst.push(
        base({
          name: 'VI_6',
          vrid: 52,
          vips: ['fe80::1:1/64', `${topo.vip6}/64`],
          ...(this.o.unicast ? { unicastSrcIp: me.lan6, unicastPeers: [other.lan6] } : {}),
        }),
      );
    }
    return keepalivedConf({ routerId: slot.name, instances: inst });
  }

  private async startRouter(slot: RouterSlot, dir?: string): Promise<void> {
    const topo = this.topo!;
    const opts = { kind: slot.kind, config: this.config(slot), detached: !!this.o.keep };
    if (dir && opts.detached) {
      // A restarted daemon appends to daemon.log, which is read from its start: move the earlier run's lines
      // to daemon.log.old so that its state lines are not taken for the new daemon's.
      const log = join(dir, 'daemon.log');
      if (existsSync(log)) {
        appendFileSync(join(dir, 'daemon.log.old'), readFileSync(log));
        truncateSync(log, 0);
      }
    }
    slot.daemon = await RouterDaemon.start(topo, slot.name, opts, dir);
    const d = slot.daemon;
    slot.unsubscribe?.();
    slot.unsubscribe = d.proc.onLine((l) => {
      const m = /\((\S+)\) Entering (\w+) STATE/.exec(l.text);
      if (m) this.setState(slot, m[1]!, m[2]!, l.t);
    });
    for (const l of d.proc.lines) {
      const m = /\((\S+)\) Entering (\w+) STATE/.exec(l.text);
      if (m) this.setState(slot, m[1]!, m[2]!, l.t);
    }
    void d.proc.exited.then(() => {
      if (slot.daemon === d) for (const i of this.instances) this.setState(slot, i, 'DOWN', Date.now());
    });
  }

  private setState(slot: RouterSlot, inst: string, state: string, t: number): void {
    if (slot.states.get(inst) === state) return;
    slot.states.set(inst, state);
    this.hooks.state?.(slot.name, inst, state, t);
  }

  /** Wait until every instance of `slot` logged MASTER after log index `from`; returns the time of the first. */
  private async waitMaster(
    slot: RouterSlot,
    label: string,
    expectedMs: number,
    from: number,
    since = Date.now(),
    timeoutMs = expectedMs + 10_000,
  ): Promise<number | null> {
    this.hooks.wait?.({ label, start: since, expectedMs });
    try {
      let first: number | null = null;
      const end = Date.now() + timeoutMs;
      for (const i of this.instances) {
        const l = await slot.daemon!.waitForState('MASTER', { instance: i, from, timeoutMs: Math.max(1, end - Date.now()) });
        first = first === null ? l.t : Math.min(first, l.t);
      }
      return first;
    } finally {
      this.hooks.wait?.(null);
    }
  }

  private async waitAllState(slot: RouterSlot, state: 'MASTER' | 'BACKUP', timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (this.instances.every((i) => slot.states.get(i) === state)) return true;
      await sleep(10);
    }
    this.problems.push(`${slot.name} is not ${state} within ${timeoutMs} ms (${this.describeStates(slot)})`);
    return false;
  }

  private describeStates(slot: RouterSlot): string {
    return this.instances.map((i) => `${i} ${slot.states.get(i) ?? '?'}`).join(', ');
  }

  /** One request on a vipd's control socket (what `vipd handover|reload` send), one JSON reply line. */
  private control(slot: RouterSlot, req: Record<string, unknown>, timeoutMs = 30_000): Promise<ControlAnswer> {
    const path = join(slot.daemon!.dir, 'vipd.sock');
    return new Promise((resolve, reject) => {
      const sock = createConnection({ path });
      let buf = '';
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new LabError(`no reply on ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.setEncoding('utf8');
      sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
      sock.on('data', (c: string) => {
        buf += c;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        sock.destroy();
        try {
          resolve(JSON.parse(buf.slice(0, nl)) as ControlAnswer);
        } catch {
          reject(new LabError(`unreadable reply on ${path}`));
        }
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(new LabError(`${slot.name}'s control socket ${path}: ${e.message}`));
      });
    });
  }

  // ---- the story -----------------------------------------------------------------------------------------------

  private async failover(s: ScenarioName): Promise<void> {
    const topo = this.topo!;
    const r1 = this.r1;
    const r2 = this.r2;
    const from = r2.daemon!.mark();
    let t: number;
    let kind: EventKind;
    let description: string;
    let boundMs: number;
    let bound: string;
    let stopping: Promise<number> | null = null;
    if (s === 'unplanned') {
      kind = 'unplanned';
      description = 'R1 loses power (its daemon killed with SIGKILL, its LAN cable pulled)';
      boundMs = this.mdi(R2_PRIORITY);
      bound = `Master_Down_Interval of R2 = 3 x ${this.advert} s + skew`;
      this.say(`R1 loses power: its ${r1.kind} is killed (SIGKILL) and its LAN cable pulled`);
      t = topo.mark('story: R1 loses power');
      await r1.daemon!.crash();
      await topo.linkDown('R1', 'switch');
      this.say('  (R1 keeps the VIP configured, as after any crash, but nobody can reach it)');
    } else if (s === 'planned') {
      kind = 'planned';
      boundMs = this.skew(R2_PRIORITY);
      bound = "R2's Skew_Time (planned: priority 0 advert)";
      description = `R1's ${r1.kind} stopped with SIGTERM (priority 0 advert; vipd keeps the VIP until R2 is heard)`;
      this.say(`R1 is taken down for maintenance: SIGTERM to its ${r1.kind}`);
      t = topo.mark('story: R1 SIGTERM');
      // The daemon exits once R2 is heard (or after Master_Down_Interval); wait for R2 meanwhile.
      stopping = r1.daemon!.stop(Math.max(5_000, this.mdi(R2_PRIORITY) + 2_000));
    } else {
      kind = 'handover';
      boundMs = this.skew(R2_PRIORITY);
      bound = "R2's Skew_Time (planned: priority 0 advert)";
      description = `vipd handover ${this.instances.join(', ')} on R1 (through its control socket)`;
      for (const i of this.instances) this.say(`R1: vipd handover ${i}   (through R1's control socket)`);
      t = topo.mark('story: vipd handover');
      const replies = await Promise.all(this.instances.map((i) => this.control(r1, { cmd: 'handover', instance: i })));
      for (const [k, r] of replies.entries()) {
        if (!r.ok) throw new LabError(`vipd handover ${this.instances[k]} on R1 failed: ${r.error ?? r.message ?? JSON.stringify(r)}`);
        this.say(`  ${this.instances[k]}: ${r.message ?? 'done'}`);
      }
    }
    const mt = await this.waitMaster(r2, 'R2 taking over', boundMs, from, t).catch((e: Error) => {
      this.problems.push(`R2 did not take over after "${s}": ${e.message.split('\n')[0]}`);
      return null;
    });
    if (mt !== null) this.say(`R2 is MASTER ${Math.round(mt - t)} ms after the event`);
    await this.waitReplies(t, 'host reaching the network again', boundMs);
    if (stopping) {
      await stopping;
      this.say(`R1's ${r1.kind} has exited`);
    }
    await this.settle();
    this.events.push(this.event(s, kind, description, t, 'R2', mt, boundMs, bound));
  }

  private async returnOfR1(s: ScenarioName): Promise<void> {
    const topo = this.topo!;
    const r1 = this.r1;
    const r2 = this.r2;
    let t: number;
    let description: string;
    let from = 0;
    const expected = this.mdi(R1_PRIORITY);
    if (s === 'unplanned') {
      description = 'R1 powers up again (daemon restarted, cable plugged back); it preempts';
      this.say('R1 comes back: daemon restarted, cable plugged back in');
      t = topo.mark('story: R1 returns');
      const old = r1.daemon!;
      await this.startRouter(r1, old.dir);
      // With its cable still out the daemon starts, removes the VIPs the killed one left, and waits for the link.
      await sleep(Math.min(500, 100 + this.advert * 1000));
      await topo.linkUp('R1', 'switch');
    } else if (s === 'planned') {
      description = `R1's ${r1.kind} started again; it preempts`;
      this.say(`maintenance done: R1's ${r1.kind} started again`);
      t = topo.mark('story: R1 restarted');
      await this.startRouter(r1, r1.daemon!.dir);
    } else {
      description = "R1's vipd reloaded (vipd reload), which ends the handover's hold on preemption; it preempts";
      this.say('maintenance done: vipd reload on R1 lets it preempt again');
      from = r1.daemon!.mark();
      t = topo.mark('story: vipd reload');
      const r = await this.control(r1, { cmd: 'reload' });
      if (!r.ok) {
        throw new LabError(`vipd reload on R1 failed: ${r.error ?? JSON.stringify(r)}\n${(r.reload?.diagnostics ?? []).join('\n')}`);
      }
      const rr = r.reload;
      if (rr) this.say(`  reloaded: ${rr.unchanged.length} unchanged, ${rr.changed.length} changed`);
    }
    const waitMs = s === 'handover' ? expected + 1_000 : expected + 10_000;
    const mt = await this.waitMaster(r1, 'R1 preempting', expected, from, t, waitMs).catch(async (e: Error) => {
      if (s !== 'handover') {
        this.problems.push(`R1 did not preempt after "${s}": ${e.message.split('\n')[0]}`);
        return null;
      }
      // Workaround: a reload keeps an unchanged instance as is, with preemption still suspended; restart.
      this.say(`  (R1 is still BACKUP ${Math.round(waitMs)} ms after the reload: restarting its vipd instead)`);
      await r1.daemon!.stop();
      await this.startRouter(r1, r1.daemon!.dir);
      return this.waitMaster(r1, 'R1 preempting', expected, 0).catch((e2: Error) => {
        this.problems.push(`R1 did not preempt after "${s}": ${e2.message.split('\n')[0]}`);
        return null;
      });
    });
    if (mt !== null) this.say(`R1 is MASTER again ${Math.round(mt - t)} ms later`);
    await this.waitAllState(r2, 'BACKUP', expected + 5_000);
    await this.waitReplies(t, 'host reaching the network again', this.skew(R2_PRIORITY));
    await this.settle();
    const boundMs = this.skew(R2_PRIORITY);
    this.events.push(
      this.event(s, 'return', description, t, 'R1', mt, boundMs, "R2's Skew_Time (planned: R1 preempts a working master)"),
    );
  }

  private async waitReplies(since: number, label: string, expectedMs: number): Promise<void> {
    const p = this.prober!;
    const needs = p.live().filter((x) => x.silentMs > 0);
    if (needs.length === 0 && p.live().every((x) => x.lastReply !== null && x.lastReply >= since)) {
      if (await p.waitForReplies({ consecutive: 10, since, timeoutMs: 2_000 })) return;
    }
    this.hooks.wait?.({ label, start: since, expectedMs });
    try {
      const ok = await p.waitForReplies({ consecutive: 20, since, timeoutMs: expectedMs + 10_000 });
      if (!ok) {
        const dark = p.live().filter((x) => x.silentMs > 0).map((x) => x.name);
        this.problems.push(`the host still gets no replies from ${dark.join(', ') || 'some targets'} ${Math.round((Date.now() - since) / 1000)} s after the event`);
      }
    } finally {
      this.hooks.wait?.(null);
    }
  }

  /** Let the network be quiet for a moment so that every outage of an event closes before the next one. */
  private async settle(): Promise<void> {
    await sleep(Math.max(300, Math.min(2_000, 2 * this.advert * 1000)));
  }

  private event(
    scenario: ScenarioName,
    kind: EventKind,
    description: string,
    t: number,
    newMaster: RouterName,
    masterAt: number | null,
    boundMs: number,
    bound: string,
  ): EventSummary {
    return {
      scenario,
      kind,
      label: kind === 'return' ? 'R1 back' : kind === 'unplanned' ? 'R1 power loss' : kind === 'planned' ? 'R1 SIGTERM' : 'handover',
      description,
      t,
      newMaster,
      takeoverMs: masterAt === null ? null : Math.max(0, Math.round(masterAt - t)),
      outageMs: 0,
      lostProbes: 0,
      targets: [],
      boundMs: Math.round(boundMs * 10) / 10,
      bound,
      withinBound: true,
    };
  }

  /** Outages per event: those overlapping [event, next event). */
  private attribute(report: ProbeReport, replies: Map<string, readonly ProbeReply[]>): void {
    this.events.forEach((e, i) => {
      const until = i + 1 < this.events.length ? this.events[i + 1]!.t : report.stoppedAt + 1;
      e.targets = report.targets.map((tr) => {
        const os = outagesIn(tr, e.t, until);
        const rs = replies.get(tr.name) ?? [];
        let silence = 0;
        for (let k = 1; k < rs.length; k++) {
          if (rs[k]!.t > e.t && rs[k - 1]!.t < until) silence = Math.max(silence, rs[k]!.t - rs[k - 1]!.t);
        }
        return {
          name: tr.name,
          address: tr.address,
          outageMs: Math.round(os.reduce((m, o) => Math.max(m, o.durationMs), 0) * 10) / 10,
          lostProbes: os.reduce((n, o) => n + o.lost, 0),
          silenceMs: Math.round(silence * 10) / 10,
          duplicates: tr.duplicateTimes.filter((x) => x >= e.t && x < until).length,
        };
      });
      e.outageMs = e.targets.reduce((m, x) => Math.max(m, x.outageMs), 0);
      e.lostProbes = e.targets.reduce((m, x) => Math.max(m, x.lostProbes), 0);
      e.withinBound = e.outageMs <= e.boundMs + this.toleranceMs;
    });
  }

  private async finalState(): Promise<StorySummary['final']> {
    const topo = this.topo!;
    const states: Record<string, string> = {};
    for (const s of this.slots) for (const i of this.instances) states[`${s.name}/${i}`] = s.states.get(i) ?? 'unknown';
    const vipHolders: Record<string, RouterName[]> = { [topo.vip4]: await topo.vipHolders(topo.vip4) };
    if (this.ipv6) vipHolders[topo.vip6] = await topo.vipHolders(topo.vip6);
    if (!this.instances.every((i) => states[`R1/${i}`] === 'MASTER' && states[`R2/${i}`] === 'BACKUP')) {
      this.problems.push(`at the end R1 should be MASTER and R2 BACKUP: ${JSON.stringify(states)}`);
    }
    for (const [vip, hs] of Object.entries(vipHolders)) {
      if (hs.join(',') !== 'R1') this.problems.push(`at the end ${vip} should be held by R1 only, not ${hs.join(', ') || 'nobody'}`);
    }
    return { states, vipHolders };
  }

  // ---- monitors ------------------------------------------------------------------------------------------------

  private startHolderPoll(): void {
    const topo = this.topo!;
    const vips = this.ipv6 ? [topo.vip4, topo.vip6] : [topo.vip4];
    const poll = async (): Promise<void> => {
      if (this.polling) return;
      this.polling = true;
      try {
        const held = await Promise.all(
          topo.routers.map(async (r) => {
            const addrs = await topo.addresses(r.name).catch(() => []);
            return new Set(addrs.map((a) => canonical(a.local)));
          }),
        );
        for (const vip of vips) {
          const who = topo.routers.filter((_, i) => held[i]!.has(canonical(vip))).map((r) => r.name);
          const key = who.join(',');
          if (this.holders.get(vip) !== key) {
            this.holders.set(vip, key);
            this.hooks.holders?.(vip, who);
          }
        }
      } finally {
        this.polling = false;
      }
    };
    void poll();
    this.timers.push(setInterval(() => void poll(), 200));
  }

  /**
   * Tell the display when the host's probes stop being answered and when they are answered again. A silence in
   * which no probe was lost (a scheduling stall on a busy machine delays replies without losing any) is not
   * reported. Targets that change together are reported together.
   */
  private startProbeMonitor(): void {
    const tick = (): void => {
      const p = this.prober;
      if (!p) return;
      const now = Date.now();
      const down: string[] = [];
      let downAt = now;
      const up: { name: string; darkMs: number }[] = [];
      for (const x of p.live(now)) {
        const silent = x.silentMs > Math.max(30, 5 * p.intervalMs);
        const wasDark = this.probeMark.has(x.name);
        const replies = p.replies(x.name);
        if (silent && !wasDark) {
          const last = replies[replies.length - 1];
          this.probeMark.set(x.name, { index: replies.length, seq: last ? last.seq : -1 });
          this.probeDarkSince.set(x.name, x.lastReply ?? now);
        } else if (!silent && x.silentMs === 0 && wasDark) {
          const m = this.probeMark.get(x.name)!;
          this.probeMark.delete(x.name);
          const fresh = new Set(replies.slice(m.index).map((r) => r.seq).filter((q) => q > m.seq));
          const top = Math.max(m.seq, ...fresh);
          const lost = top - m.seq - fresh.size;
          const reported = this.probeUp.get(x.name) === false;
          if (lost > 0 || reported) {
            if (lost === 0) this.stalls.push(x.name);
            if (!reported) {
              down.push(x.name);
              downAt = Math.min(downAt, this.probeDarkSince.get(x.name) ?? now);
            }
            up.push({ name: x.name, darkMs: (x.lastReply ?? now) - (this.probeDarkSince.get(x.name) ?? now) });
          }
          this.probeUp.set(x.name, true);
        } else if (silent && wasDark && this.probeUp.get(x.name) !== false) {
          // Still dark well past any scheduling stall: report it now, while it lasts.
          if (x.silentMs > 100) {
            this.probeUp.set(x.name, false);
            down.push(x.name);
            downAt = Math.min(downAt, this.probeDarkSince.get(x.name) ?? now);
          }
        }
      }
      if (down.length) this.hooks.probe?.(down.join(', '), false, 0, downAt);
      if (up.length) {
        const ms = Math.max(...up.map((u) => u.darkMs));
        const stalled = up.every((u) => this.stalls.includes(u.name));
        this.stalls = [];
        this.hooks.probe?.(up.map((u) => u.name).join(', '), true, ms, now, stalled);
      }
    };
    this.timers.push(setInterval(tick, 10));
  }

  /** The host's probes right now (for a live line). */
  probeStatus(): ProbeStatus[] {
    return (this.prober?.live() ?? []).map((x) => ({ name: x.name, sent: x.sent, replies: x.replies, silentMs: x.silentMs }));
  }

  stopMonitors(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}
