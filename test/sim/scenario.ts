/**
 * Random, seeded scenarios for the simulated LAN, with the protocol's invariants checked as the run goes:
 *
 *  I1  On a connected, lossless LAN, once Master_Down_Interval plus one advert interval (plus link delay; with
 *      preempt_delay configured, plus the delay and one more Master_Down_Interval) has passed since the last change, each VRID has exactly one master; if the highest-priority live router
 *      has preempt on, the master has that priority (ties may be held by either router).
 *  I2  Once I1 has held, nothing transitions until the next change (a settled LAN is stable).
 *  I3  When a master crashes or stops, some backup in its partition is master within its Master_Down_Interval
 *      (measured from the crash, plus link delay).
 *  I4  After a partition heals on a lossless LAN, two masters of a VRID last at most one advert interval (plus delay).
 *  I5  Every router that holds a VRID's addresses is its master, and every master holds them.
 *  I6  Every frame a router sends decodes and passes the receiver's checks (no rejection but `vrid`).
 */
import { defaultVrConfig } from '../../src/core/machine.js';
import type { VrConfig } from '../../src/core/types.js';
import { Rng } from './rng.js';
import { SimLan, type SimRouter } from './lan.js';

export interface ScenarioResult {
  seed: number;
  ok: boolean;
  failures: string[];
  description: string;
  trace: string;
  stats: { transitions: number; adverts: number; simulatedMs: number; checks: number };
}

const US_PER_CS = 10_000;

interface Plan {
  family: 4 | 6;
  version: 2 | 3;
  routers: number;
  vrids: number[];
  intervalsCs: number[]; // per router
  description: string;
}

export function runScenario(seed: number): ScenarioResult {
  const rng = new Rng(seed);
  const family: 4 | 6 = rng.chance(0.5) ? 4 : 6;
  const version: 2 | 3 = family === 6 ? 3 : rng.chance(0.4) ? 2 : 3;
  const n = rng.int(2, 5);
  const vrids = rng.chance(0.3) ? [7, 51] : [rng.int(1, 255)];
  const baseCs = version === 2 ? 100 : rng.pick([1, 5, 10, 100]);
  const sameInterval = version === 2 || rng.chance(0.8);
  const intervalsCs = Array.from({ length: n }, () => (sameInterval ? baseCs : rng.pick([baseCs, baseCs * 2, Math.max(1, baseCs / 5)])));
  const plan: Plan = { family, version, routers: n, vrids, intervalsCs, description: '' };

  const vips = new Map<number, string[]>();
  for (const v of vrids) {
    vips.set(v, family === 4 ? [`192.0.2.${100 + (v % 100)}`] : [`fe80::1:${v.toString(16)}`, `2001:db8::${v.toString(16)}`]);
  }
  const lan = new SimLan(family, rng, vips);
  if (family === 4 && version === 3 && rng.chance(0.5)) lan.checksumForm = 'plain';

  const maxIntUs = Math.max(...intervalsCs) * US_PER_CS;
  const maxDelayUs = Math.min(2000, Math.floor(maxIntUs / 20));
  const allPreempt = rng.chance(0.75);
  let maxPreemptDelayUs = 0;
  const ownerOf = new Map<number, number>();
  for (const v of vrids) if (rng.chance(0.15)) ownerOf.set(v, rng.int(0, n - 1));

  const descr: string[] = [];
  for (let i = 0; i < n; i++) {
    const machines: VrConfig[] = vrids.map((vrid) => {
      const owner = ownerOf.get(vrid) === i;
      const preemptDelayUs = rng.chance(0.15) ? rng.int(1, 3) * maxIntUs : 0;
      maxPreemptDelayUs = Math.max(maxPreemptDelayUs, preemptDelayUs);
      return defaultVrConfig({
        vrid,
        primaryAddress: new Uint8Array(0), // filled by addRouter
        family,
        version,
        priority: owner ? 255 : rng.chance(0.2) ? 100 : rng.int(1, 254),
        advertIntervalCs: intervalsCs[i]!,
        preempt: allPreempt || rng.chance(0.5),
        preemptDelayUs,
        lowerPrioNoAdvert: rng.chance(0.2),
        higherPrioSendAdvert: rng.chance(0.2),
        initialMaster: rng.chance(0.1),
      });
    });
    const delayUs = rng.int(0, maxDelayUs);
    const r = lan.addRouter({ machines }, { loss: 0, delayUs, jitterUs: rng.int(0, Math.floor(maxDelayUs / 4)) });
    descr.push(
      `R${r.id}(${machines.map((m) => `vrid ${m.vrid} p${m.priority}${m.preempt ? '' : ' nopreempt'}${m.preemptDelayUs ? ` pd${m.preemptDelayUs / 1000}ms` : ''}${m.initialMaster ? ' MASTER' : ''} ${m.advertIntervalCs}cs`).join('; ')})`,
    );
  }
  // Links may differ per direction: redraw each directed link's delay within the bound.
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      lan.links[i]![j]!.delayUs = rng.int(0, maxDelayUs);
      lan.links[i]![j]!.jitterUs = rng.int(0, Math.floor(maxDelayUs / 4));
    }
  plan.description = `seed ${seed}: IPv${family} v${version}, ${n} routers, vrids ${vrids.join(',')}; ${descr.join(' ')}`;

  const failures: string[] = [];
  const fail = (msg: string) => {
    if (failures.length < 10) failures.push(`t=${(lan.now / 1000).toFixed(3)}ms ${msg}`);
    lan.trace(`INVARIANT VIOLATED: ${msg}`);
  };
  let checks = 0;
  const maxLinkDelay = () => Math.max(...lan.links.flat().map((l) => l.delayUs + l.jitterUs));
  let minPrioSeen = 255;
  const notePrio = () => {
    for (const r of lan.routers) for (const s of r.states.values()) minPrioSeen = Math.min(minPrioSeen, s.priority, s.cfg.priority);
  };
  notePrio();
  /** Master_Down_Interval bound for the current configuration. */
  const mdiBound = () => expectedMdi(version, minPrioSeen, maxIntUs);
  // With preempt_delay, the delay starts only when the higher router first hears the lower master, which may itself
  // have needed a Master_Down_Interval to take over: one more MDI plus the delay.
  const settleBound = () => (maxPreemptDelayUs > 0 ? maxPreemptDelayUs + mdiBound() : 0) + mdiBound() + maxIntUs + 2 * maxLinkDelay() + 2;

  // --- change tracking and I1/I2 ---
  let changeSeq = 0;
  let settledAt: { seq: number; transitions: number } | null = null;
  const change = () => {
    changeSeq++;
    if (settledAt) settledAt = null;
    notePrio();
    const mySeq = changeSeq;
    lan.at(lan.now + settleBound(), () => checkSettled(mySeq));
  };
  const checkSettled = (seq: number) => {
    if (seq !== changeSeq || !lan.connected() || !lan.lossless()) return;
    checks++;
    const alive = lan.routers.filter((r) => r.alive);
    if (alive.length === 0) return;
    for (const vrid of vrids) {
      const masters = lan.masters(vrid);
      if (masters.length !== 1) {
        fail(`I1 vrid ${vrid}: ${masters.length} masters (${masters.map((m) => `R${m.id}`).join(',')}) after settling`);
        continue;
      }
      const top = Math.max(...alive.map((r) => r.states.get(vrid)!.priority));
      const tops = alive.filter((r) => r.states.get(vrid)!.priority === top);
      const topPreempts = tops.some((r) => r.states.get(vrid)!.cfg.preempt);
      const m = masters[0]!;
      if (topPreempts && m.states.get(vrid)!.priority !== top) {
        fail(`I1 vrid ${vrid}: master R${m.id} has priority ${m.states.get(vrid)!.priority}, highest live priority is ${top}`);
      }
    }
    settledAt = { seq, transitions: lan.transitions };
  };
  const checkStable = () => {
    if (settledAt && settledAt.seq === changeSeq && lan.transitions !== settledAt.transitions) {
      fail(`I2 ${lan.transitions - settledAt.transitions} transitions on a settled LAN`);
    }
  };

  // --- I3: takeover after the master dies ---
  const prevPriority = new Map<string, number>();
  const scheduleTakeoverCheck = (dead: SimRouter) => {
    const seq = changeSeq;
    for (const vrid of vrids) {
      if (dead.states.get(vrid)?.state !== 'master') continue;
      const peers = lan.routers.filter((r) => r !== dead && r.alive && lan.group[r.id] === lan.group[dead.id]);
      const backups = peers.filter((r) => r.states.get(vrid)!.state === 'backup');
      if (backups.length === 0) continue;
      const d = maxLinkDelay();
      const bound = Math.min(
        ...backups.map((b) => {
          const s = b.states.get(vrid)!;
          // The backup's timer was last reset by an advert that arrived by now + d, with the priority it had then.
          const p = Math.min(s.priority, prevPriority.get(`${b.id}/${vrid}`) ?? s.priority);
          return d + expectedMdi(version, p, s.masterAdverIntervalUs);
        }),
      );
      const group = lan.group[dead.id];
      lan.at(lan.now + bound + 1, () => {
        if (changeSeq !== seq) return; // any later change voids the check
        checks++;
        const ok = lan.routers.some((r) => r.alive && lan.group[r.id] === group && r.states.get(vrid)!.state === 'master');
        if (!ok) fail(`I3 vrid ${vrid}: no master ${(bound / 1000).toFixed(3)}ms after R${dead.id} (master) died`);
      });
    }
  };

  // --- I4: partition heal ---
  const scheduleHealCheck = () => {
    const seq = changeSeq;
    const reachedSingle = new Map<number, boolean>();
    for (const vrid of vrids) reachedSingle.set(vrid, lan.masters(vrid).length <= 1);
    const prev = lan.onTransition;
    lan.onTransition = (vrid) => {
      prev?.(vrid);
      if (lan.masters(vrid).length <= 1) reachedSingle.set(vrid, true);
    };
    lan.at(lan.now + maxIntUs + maxLinkDelay() + 2, () => {
      lan.onTransition = prev;
      if (changeSeq !== seq || !lan.lossless()) return;
      checks++;
      for (const vrid of vrids) {
        if (!reachedSingle.get(vrid)) fail(`I4 vrid ${vrid}: two masters more than one advert interval after the partition healed`);
      }
    });
  };

  // --- I5 checked after every event of the run; I6 at the end ---
  const checkVips = () => {
    for (const r of lan.routers) {
      if (!r.alive) continue;
      for (const vrid of vrids) {
        const isMaster = r.states.get(vrid)!.state === 'master';
        if (isMaster !== r.holding.has(vrid)) fail(`I5 R${r.id} vrid ${vrid}: state ${r.states.get(vrid)!.state} but holding=${r.holding.has(vrid)}`);
      }
    }
  };

  // --- The run ---
  const simultaneous = rng.chance(0.3);
  for (const r of lan.routers) {
    const t = simultaneous ? 0 : rng.int(0, maxIntUs);
    lan.at(t, () => {
      lan.startup(r);
      change();
    });
  }
  lan.runUntil(maxIntUs + 1);

  const nEvents = rng.int(5, 15);
  for (let e = 0; e < nEvents && failures.length === 0 && !lan.runaway; e++) {
    const gap = Math.floor(settleBound() * (0.1 + rng.next() * 2.4));
    const until = lan.now + gap;
    stepTo(lan, until, checkStable, checkVips);
    const alive = lan.routers.filter((r) => r.alive);
    const dead = lan.routers.filter((r) => !r.alive);
    const kind = rng.pick(['crash', 'crash', 'restart', 'restart', 'shutdown', 'priority', 'priority', 'partition', 'heal', 'loss', 'clear'] as const);
    checkStable();
    switch (kind) {
      case 'crash':
      case 'shutdown': {
        if (alive.length <= 1) break;
        const r = rng.chance(0.6) ? (lan.routers.find((x) => x.alive && [...x.states.values()].some((s) => s.state === 'master')) ?? rng.pick(alive)) : rng.pick(alive);
        change();
        scheduleTakeoverCheck(r);
        if (kind === 'crash') lan.crash(r);
        else lan.shutdown(r);
        break;
      }
      case 'restart': {
        if (dead.length === 0) break;
        const r = rng.pick(dead);
        change();
        lan.startup(r);
        break;
      }
      case 'priority': {
        if (alive.length === 0) break;
        const r = rng.pick(alive);
        const vrid = rng.pick(vrids);
        if (r.states.get(vrid)!.cfg.priority === 255) break; // the owner's priority is fixed
        change();
        prevPriority.set(`${r.id}/${vrid}`, r.states.get(vrid)!.priority);
        lan.setPriority(r, vrid, rng.int(1, 254));
        break;
      }
      case 'partition': {
        change();
        lan.partition(lan.routers.map(() => rng.int(0, 1)));
        break;
      }
      case 'heal': {
        if (lan.connected()) break;
        change();
        lan.heal();
        scheduleHealCheck();
        break;
      }
      case 'loss': {
        change();
        const i = rng.int(0, n - 1);
        const j = rng.int(0, n - 1);
        lan.links[i]![j]!.loss = rng.pick([0.1, 0.3, 1]);
        lan.trace(`loss ${lan.links[i]![j]!.loss} on R${i}->R${j}`);
        break;
      }
      case 'clear': {
        if (lan.lossless()) break;
        change();
        for (const row of lan.links) for (const l of row) l.loss = 0;
        lan.trace('loss cleared');
        break;
      }
    }
    checkVips();
  }
  // Finally: heal, clear loss, make sure at least one router runs, and require the settled invariants.
  change(); // the final phase counts as a change, so that a settle check always runs after it
  {
    if (!lan.connected()) {
      lan.heal();
      scheduleHealCheck();
    }
    for (const row of lan.links) for (const l of row) l.loss = 0;
    if (lan.routers.every((r) => !r.alive)) lan.startup(lan.routers[0]!);
  }
  const checksBefore = checks;
  stepTo(lan, lan.now + 2 * settleBound(), checkStable, checkVips);
  checkStable();
  if (checks === checksBefore && failures.length === 0) fail('the final settle check did not run');

  if (lan.runaway) fail(`runaway: more than ${lan.eventBudget} events (an advert storm?)`);
  for (const [reason, count] of lan.rejects) {
    if (reason !== 'vrid') fail(`I6 ${count} adverts rejected with reason ${reason}`);
  }
  return {
    seed,
    ok: failures.length === 0,
    failures,
    description: plan.description,
    trace: lan.traceText(),
    stats: { transitions: lan.transitions, adverts: lan.advertsSent, simulatedMs: Math.round(lan.now / 1000), checks },
  };
}

/**
 * Master_Down_Interval written out again from RFC 5798 §6.1 / RFC 3768 §6.1, independently of src/core, so that the
 * simulation does not grade the core with the core's own arithmetic.
 */
export function expectedMdi(version: 2 | 3, priority: number, masterAdverIntervalUs: number): number {
  const skew = version === 2 ? Math.floor(((256 - priority) * 1_000_000) / 256) : Math.floor(((256 - priority) * masterAdverIntervalUs) / 256);
  return 3 * masterAdverIntervalUs + skew;
}

/** Advance the LAN in slices, checking the continuous invariants between slices. */
function stepTo(lan: SimLan, until: number, ...checks: Array<() => void>): void {
  const slice = 50_000; // 50 ms of simulated time
  while (lan.now < until && !lan.runaway) {
    lan.runUntil(Math.min(until, lan.now + slice));
    for (const c of checks) c();
  }
}

/**
 * A stable LAN: `routers` routers, VRRPv3 at `intervalCs`, small delay and jitter, no loss, no changes.
 * Returns the transitions counted after the initial election, over `durationUs` of simulated time.
 */
export function runStable(seed: number, routers: number, intervalCs: number, durationUs: number): { transitions: number; adverts: number; master: number } {
  const rng = new Rng(seed);
  const vips = new Map([[42, ['192.0.2.42']]]);
  const lan = new SimLan(4, rng, vips);
  for (let i = 0; i < routers; i++) {
    lan.addRouter(
      { machines: [defaultVrConfig({ vrid: 42, primaryAddress: new Uint8Array(0), version: 3, priority: 100 + 10 * i, advertIntervalCs: intervalCs })] },
      { loss: 0, delayUs: 200, jitterUs: 300 },
    );
  }
  for (const r of lan.routers) lan.startup(r);
  lan.runUntil(5 * intervalCs * US_PER_CS);
  const before = lan.transitions;
  lan.runUntil(lan.now + durationUs);
  const m = lan.masters(42);
  return { transitions: lan.transitions - before, adverts: lan.advertsSent, master: m.length === 1 ? m[0]!.id : -1 };
}
