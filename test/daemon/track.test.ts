/**
 * Tracking rules and the Tracker with a fake clock, fake script runner, fake files and fake process table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/index.js';
import type { KeepalivedConfig } from '../../src/config/index.js';
import {
  Tracker,
  computeInstance,
  initialScriptState,
  processMatches,
  quorumOk,
  scriptStep,
  termEffect,
  type TrackerEnv,
} from '../../src/daemon/track.js';
import { ScriptSecurity } from '../../src/daemon/notify.js';
import { parseTrackFileValue, type ProcInfo, type RunResult, type RunSpec } from '../../src/linux/proc.js';

function cfgOf(text: string, allowErrors = false): KeepalivedConfig {
  const r = parseConfigText(text, 'test.conf', { instanceId: 'x' });
  const errs = r.diagnostics.filter((d) => d.severity === 'error');
  if (!allowErrors) assert.deepEqual(errs, [], 'test config must parse');
  return r.config;
}

/** A fake world: a clock you advance, scripts whose exit codes you set, files and processes you edit. */
class FakeEnv implements TrackerEnv {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  exitCodes = new Map<string, number | 'hang'>();
  runs: RunSpec[] = [];
  files = new Map<string, number>();
  watchers = new Map<string, () => void>();
  procs: ProcInfo[] = [];
  inits: [string, number, boolean][] = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  runScript(spec: RunSpec): Promise<RunResult> {
    this.runs.push(spec);
    const c = this.exitCodes.get(spec.argv[0]!) ?? 0;
    const r: RunResult = c === 'hang'
      ? { code: null, signal: 'SIGKILL', timedOut: true, error: null, pid: 1 }
      : { code: c, signal: null, timedOut: false, error: null, pid: 1 };
    return Promise.resolve(r);
  }
  readTrackFile(file: string): number {
    return this.files.get(file) ?? 0;
  }
  initTrackFile(file: string, value: number, overwrite: boolean): string | null {
    this.inits.push([file, value, overwrite]);
    if (overwrite || !this.files.has(file)) this.files.set(file, value);
    return null;
  }
  watchFile(file: string, onChange: () => void): () => void {
    this.watchers.set(file, onChange);
    return () => this.watchers.delete(file);
  }
  listProcesses(): ProcInfo[] {
    return this.procs;
  }
  /** Advance the clock, firing timers in order and letting promise callbacks run between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await flush();
    }
    this.t = end;
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

const noSecurity = (cfg: KeepalivedConfig) =>
  new ScriptSecurity(cfg.global, undefined, {
    asRoot: false,
    checkSecurity: () => ({ secure: true, reason: null }),
    resolveExecutable: (c) => c,
  });

function tracker(text: string, env: FakeEnv, allowErrors = false) {
  const cfg = cfgOf(text, allowErrors);
  const tr = new Tracker(cfg, { env, security: noSecurity(cfg) });
  const changes: string[] = [];
  tr.on('change', (n: string) => changes.push(n));
  return { tr, changes, cfg };
}

const inst = (name: string, body: string, vrid = 1) => `
vrrp_instance ${name} {
  interface lo
  virtual_router_id ${vrid}
  virtual_ipaddress { 192.0.2.${vrid} }
  ${body}
}`;

// ------------------------------------------------------------------ pure rules

test('termEffect: weights by sign, reverse negates, weight 0 faults', () => {
  const s = (weight: number, up: boolean | null, reverse = false) => termEffect({ kind: 'script', name: 's', weight, reverse, up });
  assert.deepEqual(s(10, true), { delta: 10, fault: false });
  assert.deepEqual(s(10, false), { delta: 0, fault: false });
  assert.deepEqual(s(-10, true), { delta: 0, fault: false });
  assert.deepEqual(s(-10, false), { delta: -10, fault: false });
  assert.deepEqual(s(10, true, true), { delta: -10, fault: false });
  assert.deepEqual(s(-10, false, true), { delta: 10, fault: false });
  assert.deepEqual(s(0, false), { delta: 0, fault: true });
  assert.deepEqual(s(0, true), { delta: 0, fault: false });
  assert.deepEqual(s(0, true, true), { delta: 0, fault: true }, 'weight 0 reverse: FAULT while up');
  assert.deepEqual(s(0, null), { delta: 0, fault: false }, 'no result yet: nothing');
});

test('termEffect: track_file value × weight, clamps, -254 is FAULT, weight 0 non-zero is FAULT', () => {
  const f = (weight: number, value: number, reverse = false) => termEffect({ kind: 'file', name: 'f', weight, reverse, up: null, value });
  assert.deepEqual(f(1, 7), { delta: 7, fault: false });
  assert.deepEqual(f(-5, 3), { delta: -15, fault: false });
  assert.deepEqual(f(5, 3, true), { delta: -15, fault: false });
  assert.deepEqual(f(10, 100), { delta: 253, fault: false }, 'clamped to 253');
  assert.deepEqual(f(1, -253), { delta: -253, fault: false });
  assert.deepEqual(f(1, -254), { delta: 0, fault: true });
  assert.deepEqual(f(2, -200), { delta: 0, fault: true }, 'below -253 faults');
  assert.deepEqual(f(0, 1), { delta: 0, fault: true });
  assert.deepEqual(f(0, 0), { delta: 0, fault: false });
});

test('computeInstance: clamp to 1..254, owner stays 255, faults listed', () => {
  const up = (weight: number) => ({ kind: 'script' as const, name: `w${weight}`, weight, reverse: false, up: true });
  const down = (weight: number) => ({ kind: 'script' as const, name: `d${weight}`, weight, reverse: false, up: false });
  assert.equal(computeInstance(100, [up(20), down(-30)]).priority, 90);
  assert.equal(computeInstance(250, [up(20)]).priority, 254);
  assert.equal(computeInstance(10, [down(-100)]).priority, 1);
  assert.equal(computeInstance(255, [up(20), down(-100)]).priority, 255);
  const r = computeInstance(255, [down(0)]);
  assert.deepEqual([r.priority, r.fault, r.faultBy], [255, true, ['script d0']]);
  assert.equal(computeInstance(100, []).fault, false);
});

test('scriptStep: rise and fall counting, first result decides, init_fail starts down', () => {
  let st = initialScriptState({ rise: 3, initFail: false });
  assert.equal(st.up, null);
  st = scriptStep(st, true, 3, 2);
  assert.equal(st.up, true, 'first success is up at once');
  st = scriptStep(st, false, 3, 2);
  assert.equal(st.up, true, '1 of 2 failures');
  st = scriptStep(st, true, 3, 2);
  st = scriptStep(st, false, 3, 2);
  assert.equal(st.up, true, 'a success resets the fall count');
  st = scriptStep(st, false, 3, 2);
  assert.equal(st.up, false, '2 consecutive failures');
  st = scriptStep(st, true, 3, 2);
  st = scriptStep(st, true, 3, 2);
  assert.equal(st.up, false, '2 of 3 successes');
  st = scriptStep(st, false, 3, 2);
  st = scriptStep(st, true, 3, 2);
  st = scriptStep(st, true, 3, 2);
  assert.equal(st.up, false, 'a failure resets the rise count');
  st = scriptStep(st, true, 3, 2);
  assert.equal(st.up, true, '3 consecutive successes');
  let f = initialScriptState({ rise: 2, initFail: true });
  assert.equal(f.up, false);
  f = scriptStep(f, true, 2, 1);
  assert.equal(f.up, false);
  f = scriptStep(f, true, 2, 1);
  assert.equal(f.up, true);
  assert.equal(scriptStep(initialScriptState({ rise: 1, initFail: false }), false, 1, 5).up, false, 'first failure is down at once');
});

test('processMatches and quorum', () => {
  const p = (comm: string, ...cmdline: string[]): ProcInfo => ({ pid: 1, comm, cmdline });
  const base = { args: null, paramMatch: 'exact' as const, fullCommand: false };
  assert.ok(processMatches({ ...base, process: 'haproxy' }, p('haproxy', '/usr/sbin/haproxy', '-f', 'x')));
  assert.ok(!processMatches({ ...base, process: 'haproxy' }, p('haproxy2', 'haproxy')));
  assert.ok(processMatches({ ...base, process: 'a-very-long-process-name' }, p('a-very-long-pro', 'x')), 'comm is 15 chars');
  assert.ok(processMatches({ ...base, process: '/usr/sbin/haproxy', fullCommand: true }, p('haproxy', '/usr/sbin/haproxy')));
  assert.ok(!processMatches({ ...base, process: '/usr/sbin/haproxy', fullCommand: true }, p('haproxy', 'haproxy')));
  const args = { process: '/usr/bin/app', args: ['-c', 'x'], fullCommand: false };
  assert.ok(processMatches({ ...args, paramMatch: 'exact' }, p('app', '/usr/bin/app', '-c', 'x')));
  assert.ok(!processMatches({ ...args, paramMatch: 'exact' }, p('app', 'app', '-c', 'x')), 'parameters imply full_command');
  assert.ok(!processMatches({ ...args, paramMatch: 'exact' }, p('app', '/usr/bin/app', '-c', 'x', '-d')));
  assert.ok(!processMatches({ ...args, paramMatch: 'exact' }, p('app', '/usr/bin/app', '-c', 'xy')));
  assert.ok(processMatches({ ...args, paramMatch: 'partial' }, p('app', '/usr/bin/app', '-c', 'x', '-d')));
  assert.ok(!processMatches({ ...args, paramMatch: 'partial' }, p('app', '/usr/bin/app', '-c', 'xy')));
  assert.ok(!processMatches({ ...args, paramMatch: 'partial' }, p('app', '/usr/bin/app', '-d', '-c', 'x')));
  assert.ok(processMatches({ ...args, paramMatch: 'initial' }, p('app', '/usr/bin/app', '-c', 'xy', '-d')), 'last one a prefix');
  assert.ok(!processMatches({ ...args, paramMatch: 'initial' }, p('app', '/usr/bin/app', '-c')));
  assert.ok(processMatches({ ...base, process: '/usr/bin/app', fullCommand: true }, p('x', '/usr/bin/app', 'any', 'args')));
  assert.ok(quorumOk(2, 2, null) && !quorumOk(1, 2, null) && !quorumOk(4, 1, 3) && quorumOk(3, 1, 3));
});

test('parseTrackFileValue: strtol base 0, garbage is 0, clamped', () => {
  assert.equal(parseTrackFileValue('42\n'), 42);
  assert.equal(parseTrackFileValue('  -7 apples'), -7);
  assert.equal(parseTrackFileValue('0x10'), 16);
  assert.equal(parseTrackFileValue('010'), 8);
  assert.equal(parseTrackFileValue('abc'), 0);
  assert.equal(parseTrackFileValue(''), 0);
  assert.equal(parseTrackFileValue('100000'), 254);
  assert.equal(parseTrackFileValue('-100000'), -254);
});

// ------------------------------------------------------------------ the Tracker with a fake world

test('Tracker: script weights, rise/fall over time, change events, status', async () => {
  const env = new FakeEnv();
  const { tr, changes } = tracker(
    `vrrp_script up { script "/s/up"
  interval 2
  weight 10
  fall 2
}
vrrp_script down { script "/s/down"
  interval 1
  weight -30
  rise 2
}
${inst('VI_1', 'priority 100\n track_script {\n up\n down\n}')}`,
    env,
  );
  env.exitCodes.set('/s/up', 0).set('/s/down', 0);
  assert.equal(tr.effectivePriority('VI_1'), 100);
  tr.start();
  await env.advance(0);
  assert.equal(tr.effectivePriority('VI_1'), 110, 'up +10, down script passing: 0');
  assert.deepEqual(changes, ['VI_1']);
  assert.deepEqual(tr.status('VI_1'), [
    { kind: 'script', name: 'up', status: 'up', weight: 10 },
    { kind: 'script', name: 'down', status: 'up', weight: -30 },
  ]);
  env.exitCodes.set('/s/down', 1);
  await env.advance(1000);
  assert.equal(tr.effectivePriority('VI_1'), 80, 'fall 1: one failure subtracts 30');
  env.exitCodes.set('/s/down', 0);
  await env.advance(1000);
  assert.equal(tr.effectivePriority('VI_1'), 80, 'rise 2: one success is not enough');
  await env.advance(1000);
  assert.equal(tr.effectivePriority('VI_1'), 110);
  env.exitCodes.set('/s/up', 3);
  await env.advance(2000);
  assert.equal(tr.effectivePriority('VI_1'), 110, 'fall 2');
  await env.advance(2000);
  assert.equal(tr.effectivePriority('VI_1'), 100);
  assert.equal(tr.isFault('VI_1'), false);
  assert.ok(env.runs.every((r) => r.timeoutMs > 0));
  tr.stop();
});

test('Tracker: script interval runs, timeout counts as failure, weight 0 faults and pendingInit', async () => {
  const env = new FakeEnv();
  const { tr, changes } = tracker(
    `vrrp_script chk { script "/s/chk arg1 'two words'"
  interval 3
  timeout 1
}
${inst('VI_1', 'priority 100\n track_script {\n chk\n}')}`,
    env,
  );
  assert.equal(tr.pendingInit('VI_1'), true);
  tr.start();
  await env.advance(0);
  assert.equal(tr.pendingInit('VI_1'), false);
  assert.deepEqual(changes, ['VI_1'], 'leaving init is a change');
  assert.deepEqual(env.runs[0]!.argv, ['/s/chk', 'arg1', 'two words']);
  assert.equal(env.runs[0]!.timeoutMs, 1000);
  assert.equal(tr.isFault('VI_1'), false);
  env.exitCodes.set('/s/chk', 'hang');
  await env.advance(3000);
  assert.equal(tr.isFault('VI_1'), true);
  assert.deepEqual(tr.faultReasons('VI_1'), ['script chk']);
  assert.equal(env.runs.length, 2, 'one run per interval');
  env.exitCodes.set('/s/chk', 0);
  await env.advance(3000);
  assert.equal(tr.isFault('VI_1'), false);
  assert.equal(tr.effectivePriority('VI_1'), 100);
  tr.stop();
  await env.advance(10_000);
  assert.equal(env.runs.length, 3, 'no runs after stop');
});

test('Tracker: reverse, clamping at 254 and 1, owner ignores weights but faults on weight 0', async () => {
  const env = new FakeEnv();
  const { tr } = tracker(
    `vrrp_script big { script "/s/big"
  weight 200
}
vrrp_script rev { script "/s/rev"
  weight 50 reverse
}
vrrp_script z { script "/s/z"
}
${inst('HI', 'priority 100\n track_script {\n big\n}', 1)}
${inst('LO', 'priority 20\n track_script {\n rev\n}', 2)}
${inst('OWN', 'priority 255\n track_script {\n big\n rev weight -100\n z\n}', 3)}`,
    env,
  );
  env.exitCodes.set('/s/big', 0).set('/s/rev', 0).set('/s/z', 0);
  tr.start();
  await env.advance(0);
  assert.equal(tr.effectivePriority('HI'), 254);
  assert.equal(tr.effectivePriority('LO'), 1, '20 - 50 clamps to 1');
  assert.equal(tr.effectivePriority('OWN'), 255);
  assert.deepEqual(tr.status('OWN').map((s) => s.name), ['z'], 'weighted trackers dropped on an owner');
  env.exitCodes.set('/s/rev', 1).set('/s/z', 1);
  await env.advance(1000);
  assert.equal(tr.effectivePriority('LO'), 20, 'reverse: no adjustment while down');
  assert.equal(tr.isFault('OWN'), true);
  assert.equal(tr.effectivePriority('OWN'), 255);
  tr.stop();
});

test('Tracker: track_interface weight and FAULT without weight, reverse', () => {
  const env = new FakeEnv();
  const { tr, changes } = tracker(
    inst('VI_1', 'priority 100\n track_interface {\n eth1 weight -20\n eth2\n eth3 weight 5 reverse\n}'),
    env,
  );
  assert.deepEqual(tr.trackedInterfaces().sort(), ['eth1', 'eth2', 'eth3']);
  // Unknown = down (keepalived: a missing interface is down).
  assert.equal(tr.isFault('VI_1'), true);
  assert.equal(tr.effectivePriority('VI_1'), 80);
  tr.setInterface('eth1', true);
  tr.setInterface('eth2', true);
  assert.equal(tr.isFault('VI_1'), false);
  assert.equal(tr.effectivePriority('VI_1'), 100);
  tr.setInterface('eth3', true);
  assert.equal(tr.effectivePriority('VI_1'), 95, 'reverse: up subtracts');
  changes.length = 0;
  tr.setInterface('eth3', true);
  assert.deepEqual(changes, [], 'no event without a change');
  tr.setInterface('eth2', false);
  assert.equal(tr.isFault('VI_1'), true);
  assert.deepEqual(changes, ['VI_1']);
});

test('Tracker: track_file values, init_file, watch and poll', async () => {
  const env = new FakeEnv();
  const { tr } = tracker(
    `track_file tf {
  file /f/prio
  weight -5
  init_file 2
}
track_file flag {
  file /f/flag
  weight 0
}
${inst('VI_1', 'priority 100\n track_file {\n tf\n}', 1)}
${inst('VI_2', 'priority 100\n track_file {\n flag\n tf weight 10\n}', 2)}`,
    env,
  );
  tr.start();
  assert.deepEqual(env.inits, [['/f/prio', 2, false]]);
  assert.equal(tr.effectivePriority('VI_1'), 90);
  assert.equal(tr.effectivePriority('VI_2'), 120);
  env.files.set('/f/prio', -3);
  env.watchers.get('/f/prio')!();
  assert.equal(tr.effectivePriority('VI_1'), 115, 'seen at once through the watcher');
  assert.equal(tr.effectivePriority('VI_2'), 70);
  env.files.set('/f/flag', 1);
  assert.equal(tr.isFault('VI_2'), false, 'not yet polled');
  await env.advance(1000);
  assert.equal(tr.isFault('VI_2'), true, 'the poll catches it');
  env.files.set('/f/prio', 60);
  env.watchers.get('/f/prio')!();
  assert.equal(tr.isFault('VI_1'), true, '60 × -5 = -300: below -253 is FAULT');
  assert.deepEqual(tr.status('VI_1'), [{ kind: 'file', name: 'tf', status: '60', weight: -5 }]);
  tr.stop();
});

test('Tracker: track_process quorum, quorum_max and delay', async () => {
  const env = new FakeEnv();
  const { tr } = tracker(
    `vrrp_track_process web {
  process nginx
  quorum 2
  quorum_max 3
  delay 2
  weight 10
}
${inst('VI_1', 'priority 100\n track_process {\n web\n}')}`,
    env,
  );
  const nginx = (pid: number): ProcInfo => ({ pid, comm: 'nginx', cmdline: ['nginx'] });
  env.procs = [nginx(1), nginx(2)];
  tr.start();
  assert.equal(tr.effectivePriority('VI_1'), 110, 'initial scan: quorum at once');
  env.procs = [nginx(1)];
  await env.advance(1000);
  assert.equal(tr.effectivePriority('VI_1'), 110, 'loss waits for the delay');
  await env.advance(2000);
  assert.equal(tr.effectivePriority('VI_1'), 100);
  env.procs = [nginx(1), nginx(2), nginx(3), nginx(4)];
  await env.advance(5000);
  assert.equal(tr.effectivePriority('VI_1'), 100, 'above quorum_max');
  env.procs = [nginx(1), nginx(2), nginx(3)];
  await env.advance(1000);
  assert.equal(tr.effectivePriority('VI_1'), 100, 'gain waits for the delay too');
  await env.advance(2000);
  assert.equal(tr.effectivePriority('VI_1'), 110);
  env.procs = [nginx(1)];
  await env.advance(1000);
  env.procs = [nginx(1), nginx(2)];
  await env.advance(3000);
  assert.equal(tr.effectivePriority('VI_1'), 110, 'a blip shorter than the delay is ignored');
  tr.stop();
});

test('Tracker: sync group members get the group trackers; group weights count as 0 unless sync_group_tracking_weight', async () => {
  const env = new FakeEnv();
  const conf = (weighted: boolean) => `vrrp_script chk { script "/s/chk"
  weight -20
}
vrrp_sync_group G {
  group {
    A
    B
  }
  track_interface {
    eth5 weight -10
  }
  ${weighted ? 'sync_group_tracking_weight' : ''}
}
${inst('A', 'priority 100\n track_script {\n chk\n}\n track_interface {\n eth6 weight -7\n}', 1)}
${inst('B', 'priority 100', 2)}`;
  const t1 = tracker(conf(false), env, true).tr;
  env.exitCodes.set('/s/chk', 1);
  t1.setInterface('eth5', true);
  t1.start();
  await env.advance(0);
  assert.deepEqual(t1.status('A').map((s) => `${s.kind}:${s.name}:${s.weight}`), ['interface:eth6:0', 'interface:eth5:0'],
    'the parser dropped the weighted script and zeroed the member interface weight (keepalived -t)');
  assert.equal(t1.isFault('A'), true, 'eth6 (unknown = down) with weight 0 faults A');
  t1.setInterface('eth6', true);
  assert.equal(t1.isFault('A'), false);
  assert.equal(t1.effectivePriority('A'), 100);
  assert.equal(t1.isFault('B'), false);
  t1.setInterface('eth5', false);
  assert.equal(t1.isFault('B'), true, 'group track_interface applies to every member, as FAULT');
  assert.equal(t1.isFault('A'), true);
  t1.stop();
  const t2 = tracker(conf(true), env).tr;
  t2.setInterface('eth5', false);
  t2.setInterface('eth6', true);
  t2.start();
  await env.advance(0);
  assert.equal(t2.isFault('A'), false);
  assert.equal(t2.effectivePriority('A'), 70, 'script -20 and group eth5 -10');
  assert.equal(t2.effectivePriority('B'), 90);
  t2.stop();
});

test('Tracker.adoptState: a reload keeps unchanged script results (no flap), re-inits changed ones', async () => {
  const env = new FakeEnv();
  const conf = (w: string) => `vrrp_script a { script "/s/a"
  weight -10
}
vrrp_script b { script "/s/b ${w}"
  weight -20
}
${inst('VI_1', 'priority 100\n track_script {\n a\n b\n}\n track_interface {\n eth1 weight -1\n}')}`;
  const { tr: old } = tracker(conf('x'), env);
  env.exitCodes.set('/s/a', 1).set('/s/b', 1);
  old.setInterface('eth1', true);
  old.start();
  await env.advance(0);
  assert.equal(old.effectivePriority('VI_1'), 70);
  old.stop();
  const { tr: same, changes } = tracker(conf('x'), env);
  same.adoptState(old);
  assert.equal(same.effectivePriority('VI_1'), 70, 'before any run: the old results');
  same.start();
  await env.advance(0);
  assert.equal(same.effectivePriority('VI_1'), 70);
  assert.deepEqual(changes, [], 'no change event across the reload');
  same.stop();
  const { tr: changed } = tracker(conf('y'), env);
  changed.adoptState(old);
  assert.equal(changed.effectivePriority('VI_1'), 90, 'script b changed: back to init, only a counts');
});

test('Tracker: a script refused by script security is disabled and does not count', async () => {
  const env = new FakeEnv();
  const cfg = cfgOf(`global_defs {
  enable_script_security
  script_user root
}
vrrp_script bad { script "/s/bad"
  weight 0
}
${inst('VI_1', 'priority 100\n track_script {\n bad\n}')}`);
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
  const security = new ScriptSecurity(cfg.global, log, {
    asRoot: true,
    lookupUser: (n) => (n === 'root' ? { name: 'root', uid: 0, gid: 0 } : null),
    checkSecurity: () => ({ secure: false, reason: '/s is writable by all users' }),
    resolveExecutable: (c) => c,
  });
  const tr = new Tracker(cfg, { env, security, log });
  tr.start();
  await env.advance(5000);
  assert.equal(env.runs.length, 0, 'never run');
  assert.equal(tr.isFault('VI_1'), false);
  assert.equal(tr.pendingInit('VI_1'), false, 'a disabled script does not hold the instance in init');
  assert.deepEqual(tr.status('VI_1'), [{ kind: 'script', name: 'bad', status: 'disabled', weight: 0 }]);
  assert.ok(lines.some((l) => l.includes('disabling due to insecure')), lines.join('\n'));
  tr.stop();
});
