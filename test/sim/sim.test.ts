/**
 * Deterministic simulation of 2-5 routers on a simulated LAN (see scenario.ts for the invariants I1-I6).
 * Seeds are fixed so CI is reproducible; `npm run sim -- --seeds N --seed S` explores others.
 * VIPD_SIM_SEEDS / VIPD_SIM_FIRST change the count and the first seed here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultVrConfig } from '../../src/core/machine.js';
import { Rng } from './rng.js';
import { SimLan } from './lan.js';
import { expectedMdi, runScenario, runStable } from './scenario.js';

const SEEDS = Number(process.env.VIPD_SIM_SEEDS ?? 1000);
const FIRST = Number(process.env.VIPD_SIM_FIRST ?? 1);

test(`${SEEDS} random scenarios hold every invariant (seeds ${FIRST}..${FIRST + SEEDS - 1})`, () => {
  const failed: string[] = [];
  let checks = 0;
  let transitions = 0;
  for (let s = FIRST; s < FIRST + SEEDS; s++) {
    const r = runScenario(s);
    checks += r.stats.checks;
    transitions += r.stats.transitions;
    if (!r.ok) failed.push(`${r.description}\n  ${r.failures.join('\n  ')}\n--- trace ---\n${r.trace}\n--- rerun: npm run sim -- --seeds 1 --seed ${s} --verbose`);
  }
  assert.equal(failed.length, 0, `${failed.length} scenarios failed; first:\n${failed[0]}`);
  // The run must actually exercise the invariants, not pass vacuously.
  assert.ok(checks > SEEDS * 3, `only ${checks} invariant checks ran`);
  assert.ok(transitions > SEEDS * 5, `only ${transitions} transitions happened`);
});

test('a stable LAN never transitions: one simulated hour at 10 ms adverts, 3 routers', () => {
  const r = runStable(7, 3, 1, 3600 * 1_000_000);
  assert.equal(r.transitions, 0);
  assert.equal(r.master, 2, 'the highest priority router (R2) is master');
  assert.ok(r.adverts >= 359_000, `only ${r.adverts} adverts in an hour at 10 ms`);
});

function lanOf(family: 4 | 6, prios: number[], intervalCs: number, opts: { version?: 2 | 3; delayUs?: number } = {}) {
  const vips = new Map([[9, [family === 4 ? '192.0.2.9' : 'fe80::9']]]);
  const lan = new SimLan(family, new Rng(1), vips);
  for (const p of prios) {
    lan.addRouter(
      { machines: [defaultVrConfig({ vrid: 9, primaryAddress: new Uint8Array(0), version: opts.version ?? 3, priority: p, advertIntervalCs: intervalCs })] },
      { loss: 0, delayUs: opts.delayUs ?? 100, jitterUs: 0 },
    );
  }
  return lan;
}

for (const family of [4, 6] as const) {
  for (const n of [2, 3, 5]) {
    test(`RFC 5798 §6.4.3 tie-break: ${n} equal-priority IPv${family} routers started together elect the highest address`, () => {
      const lan = lanOf(family, new Array<number>(n).fill(100), 10);
      for (const r of lan.routers) lan.startup(r);
      lan.runUntil(2_000_000);
      const m = lan.masters(9);
      assert.equal(m.length, 1);
      assert.equal(m[0]!.id, n - 1, 'the router with the highest address wins');
    });
  }
}

test('after the master dies, the best backup is master within its Master_Down_Interval (v3, 100 cs)', () => {
  const lan = lanOf(4, [200, 150, 100], 100, { delayUs: 0 });
  for (const r of lan.routers) lan.startup(r);
  lan.runUntil(10_000_000);
  assert.equal(lan.masters(9)[0]!.id, 0);
  const crashAt = lan.now;
  lan.crash(lan.routers[0]!);
  const mdi = expectedMdi(3, 150, 1_000_000); // 3 s + (106 x 1 s / 256) = 3.4140625 s
  assert.equal(mdi, 3_414_062);
  let tookOver = -1;
  lan.onTransition = () => {
    if (tookOver < 0 && lan.masters(9).length === 1) tookOver = lan.now;
  };
  lan.runUntil(crashAt + mdi + 1);
  assert.equal(lan.masters(9)[0]?.id, 1, 'R1 (150) took over');
  assert.ok(tookOver - crashAt <= mdi, `took ${tookOver - crashAt} us, bound ${mdi}`);
  assert.ok(tookOver - crashAt > mdi - 1_000_000, 'and not before the last advert + MDI');
});

test('a master that stops sends priority 0: the backup takes over after Skew_Time only', () => {
  const lan = lanOf(6, [200, 100], 100, { delayUs: 0 });
  for (const r of lan.routers) lan.startup(r);
  lan.runUntil(10_000_000);
  const stopAt = lan.now;
  lan.shutdown(lan.routers[0]!);
  lan.runUntil(stopAt + 700_000);
  assert.equal(lan.masters(9)[0]?.id, 1);
  const t = lan.routers[1]!.states.get(9)!.lastTransition!;
  assert.equal(t.at - stopAt, Math.floor((156 * 1_000_000) / 256), 'Skew_Time = (256-100)/256 x 1 s');
});

test('after a partition heals, two masters last at most one advert interval', () => {
  for (const intervalCs of [1, 10, 100]) {
    const lan = lanOf(4, [200, 100], intervalCs, { delayUs: 50 });
    for (const r of lan.routers) lan.startup(r);
    lan.runUntil(10 * intervalCs * 10_000);
    lan.partition([0, 1]);
    lan.runUntil(lan.now + 10 * intervalCs * 10_000);
    assert.equal(lan.masters(9).length, 2, 'both are master while partitioned');
    const healAt = lan.now;
    lan.heal();
    let single = -1;
    lan.onTransition = () => {
      if (single < 0 && lan.masters(9).length === 1) single = lan.now;
    };
    lan.runUntil(healAt + 5 * intervalCs * 10_000);
    assert.equal(lan.masters(9).length, 1);
    assert.equal(lan.masters(9)[0]!.id, 0);
    assert.ok(single - healAt <= intervalCs * 10_000 + 50, `two masters for ${single - healAt} us at ${intervalCs} cs`);
  }
});

test('VRRPv2: a backup discards adverts of another interval (RFC 3768 §7.1) and so takes over', () => {
  const vips = new Map([[9, ['192.0.2.9']]]);
  const lan = new SimLan(4, new Rng(1), vips);
  lan.addRouter({ machines: [defaultVrConfig({ vrid: 9, primaryAddress: new Uint8Array(0), priority: 200, advertIntervalCs: 100 })] }, { loss: 0, delayUs: 0, jitterUs: 0 });
  lan.addRouter({ machines: [defaultVrConfig({ vrid: 9, primaryAddress: new Uint8Array(0), priority: 100, advertIntervalCs: 200 })] }, { loss: 0, delayUs: 0, jitterUs: 0 });
  for (const r of lan.routers) lan.startup(r);
  lan.runUntil(20_000_000);
  assert.equal(lan.masters(9).length, 2, 'mismatched v2 intervals give two masters, as RFC 3768 demands');
  assert.ok((lan.rejects.get('interval_mismatch') ?? 0) > 0);
});

test('the simulation is deterministic: the same seed gives the same trace', () => {
  const a = runScenario(4242);
  const b = runScenario(4242);
  assert.equal(a.trace, b.trace);
  assert.deepEqual(a.stats, b.stats);
});
