/**
 * The wall clock jumped by hours (issue 9): timers must be monotonic, so nothing happens.
 *
 * `date -s` would change the clock of the whole machine (it is not per network namespace), so the tests never
 * touch the host clock. Instead they fake the wall clock inside the process under test: `Date` and `Date.now()`
 * jump by hours while `performance.now()` and libuv timers (which use CLOCK_MONOTONIC) run on. That is what a
 * real jump looks like from inside Node: only the Date family sees it.
 *  - a vipd pair whose daemons' Date jumps forward and back by hours every 700 ms: no transition, status works;
 *  - Daemon.nowUs (the clock of every protocol timer) does not move with Date;
 *  - the helpers that once measured durations with Date (the log rate limiter, the tracker's clock) are checked
 *    too: they now use the monotonic clock (bugs found by this file, fixed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Daemon } from '../../src/daemon/daemon.js';
import { Logger } from '../../src/daemon/log.js';
import { realTrackerEnv } from '../../src/daemon/track.js';
import { buildTopology, cleanOrphanLabs, keepalivedConf, processTag, startDaemon } from '../../src/linux/lab/index.js';
import { inst, labSkip, ROOT, sleep, status, transitions } from './common.js';

const skip = labSkip();
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('rk');
const HOUR = 3_600_000;

/** Run `fn` with Date.now() shifted by `offsetMs` (the Date constructor too). */
function withDateOffset<T>(offsetMs: number, fn: () => T): T {
  const RealDate = Date;
  const realNow = Date.now;
  class Shifted extends RealDate {
    constructor(...a: unknown[]) {
      if (a.length === 0) super(realNow() + offsetMs);
      else super(...(a as [number]));
    }
    static override now(): number {
      return realNow() + offsetMs;
    }
  }
  globalThis.Date = Shifted as DateConstructor;
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

test('Daemon.nowUs, the clock of the protocol timers, ignores wall-clock jumps', () => {
  const d = new Daemon({ configFile: '/nonexistent', stateDir: '/nonexistent' });
  const a = d.nowUs();
  const b = withDateOffset(-5 * HOUR, () => d.nowUs());
  const c = withDateOffset(+5 * HOUR, () => d.nowUs());
  assert.ok(b >= a && c >= b, `monotonic: ${a} ${b} ${c}`);
  assert.ok(c - a < 1_000_000, 'and did not jump by hours');
});

test('the log rate limiter keeps working after the clock jumps back by an hour', () => {
  const lines: string[] = [];
  const log = new Logger({ sink: { write: (l) => lines.push(l) } });
  for (let i = 0; i < 10; i++) log.limited('k', 'warning', `flood ${i}`, undefined, 5, 50);
  assert.equal(lines.length, 5);
  // The clock goes back an hour; 60 ms of real time later (beyond the 50 ms window) a line must get through.
  const start = performance.now();
  while (performance.now() - start < 60);
  withDateOffset(-HOUR, () => log.limited('k', 'warning', 'after the jump', undefined, 5, 50));
  assert.equal(lines.length, 6, 'a new window opened after the window length in real time');
});

test('the tracker\'s clock (script intervals, process delays) ignores wall-clock jumps', () => {
  const a = realTrackerEnv.now();
  const b = withDateOffset(-HOUR, () => realTrackerEnv.now());
  assert.ok(b >= a, `tracker clock went back by ${a - b} ms`);
});

test('a vipd pair whose wall clock jumps by hours every 700 ms: no transition, status still answers', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('rk'), routers: 2, ipv6: false });
  try {
    // A launcher that fakes the wall clock inside the daemon, then runs the real CLI.
    const dir = topo.tempDir('clock');
    const launcher = join(dir, 'vipd-clockjump.mjs');
    writeFileSync(
      launcher,
      [
        'const RealDate = Date;',
        'const realNow = Date.now;',
        'let offset = 0;',
        'const steps = [3 * 3600e3, -5 * 3600e3, 26 * 3600e3, -26 * 3600e3, 0];',
        'let i = 0;',
        'setInterval(() => { offset = steps[i++ % steps.length]; }, 700).unref();',
        'class Jumpy extends RealDate {',
        '  constructor(...a) { if (a.length === 0) super(realNow() + offset); else super(...a); }',
        '  static now() { return realNow() + offset; }',
        '}',
        'globalThis.Date = Jumpy;',
        `const { main } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'src', 'cli', 'main.js')).href)});`,
        'await main(process.argv);',
        '',
      ].join('\n'),
    );
    const conf = (p: number) => keepalivedConf({ instances: [{ name: 'VI_1', vrid: 51, priority: p, advertInt: 0.1, vips: ['192.0.2.1/24'] }] });
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150), vipdBin: launcher });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100), vipdBin: launcher });
    await r1.waitForState('MASTER');
    await r2.waitForState('BACKUP');
    const m1 = r1.mark();
    const m2 = r2.mark();
    await sleep(6000); // eight jumps of 3 to 26 hours, forward and back
    assert.deepEqual(transitions(r1, m1), []);
    assert.deepEqual(transitions(r2, m2), []);
    const s1 = await status(r1);
    const s2 = await status(r2);
    assert.equal(inst(s1, 'VI_1').state, 'MASTER');
    assert.equal(inst(s2, 'VI_1').state, 'BACKUP');
    assert.ok(inst(s2, 'VI_1').counters.advert_rcvd >= 40, 'R2 kept hearing R1 at the advert rate');
    // The jumps did happen inside the daemon: reload lines carry its (faked) wall-clock time.
    let skewed = 0;
    for (let k = 0; k < 3; k++) {
      const m = r1.mark();
      r1.proc.kill('SIGHUP', false);
      const l = await r1.waitForLine(/Reload complete/, { from: m, timeoutMs: 3000 });
      const stamp = Date.parse(l.text.slice(0, l.text.indexOf(': Reload')).replace(/^\w+ /, ''));
      if (Math.abs(stamp - l.t) > HOUR / 2) skewed++;
      await sleep(750);
    }
    assert.ok(skewed >= 1, 'the daemon saw its wall clock jump');
    assert.deepEqual(transitions(r1, m1), [], 'reloads of an unchanged file: no transition either');
  } finally {
    await topo.destroy();
  }
});
