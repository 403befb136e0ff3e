/**
 * `vipd lab` end to end: the CLI builds the DENT lab (namespaces vipd-lab-*), plays every scenario with a 0.1 s
 * advert interval and prints a JSON summary, which is checked here: every event present, outages within the
 * protocol's bound, planned changes (SIGTERM, handover) with no or next to no lost probe, R1 master at the end,
 * nothing left behind. Also: IPv6 with keepalived as R2, leftovers removed at start, Ctrl-C cleans up, --keep /
 * --destroy, bad options and the message without root.
 *
 * Needs root and nft (skips otherwise; the interop case needs keepalived). About 25 s on the 2-core machine, 40 s
 * when it is busy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haveCommand, netnsUnavailableReason } from '../helpers/netns.js';
import type { StorySummary } from '../../src/linux/lab/scenario.js';
import { cleanOrphanLabs, processTag } from '../../src/linux/lab/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const vipd = join(root, 'bin', 'vipd');

function skipReason(): string | false {
  const r = netnsUnavailableReason();
  if (r) return r;
  if (!haveCommand('nft')) return 'nft is not installed (apt-get install nftables); skipped';
  return false;
}
const skip = skipReason();
// A tag of our own (namespaces vipd-labt<pid>x<n>-*): never the user's lab (vipd-lab-*), nor another test run's.
const tag = skip ? 'labt' : processTag('labt');
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('labt').then(removeOrphanDirs);

/** Temp dirs of labs made by earlier runs of this file that were killed (their pid is gone). */
function removeOrphanDirs(): void {
  for (const d of readdirSync(tmpdir())) {
    const m = /^vipd-lab-labt(\d+)x\d+-/.exec(d);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), d), { recursive: true, force: true });
    }
  }
}
const destroy = (): void => {
  spawnSync(process.execPath, [vipd, 'lab', '--destroy', '--tag', tag]);
};

const labNamespaces = (): string[] => {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`vipd-${tag}-`));
  } catch {
    return [];
  }
};
const labDirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith(`vipd-lab-${tag}-`));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `vipd lab ARGS`; `onStderr` may act on the story as it is told (it gets the stderr so far). */
function runLab(args: string[], timeoutMs: number, onOutput?: (all: string, kill: (s: NodeJS.Signals) => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vipd, 'lab', '--tag', tag, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const kill = (s: NodeJS.Signals): void => {
      child.kill(s);
    };
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      onOutput?.(stdout + stderr, kill);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      onOutput?.(stdout + stderr, kill);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

test('vipd lab --scenario all --json: every event within its bound, R1 master at the end, nothing left', { skip }, async () => {
  // A leftover of an earlier run that died: the lab must remove it and say so.
  await orphans;
  spawnSync('ip', ['netns', 'add', `vipd-${tag}-u`]);
  try {
    const t0 = Date.now();
    const r = await runLab(['--scenario', 'all', '--json', '--advert', '0.1'], 120_000);
    const took = Date.now() - t0;
    assert.equal(r.signal, null, `killed after ${took} ms; stderr:\n${r.stderr}`);
    assert.ok(r.stderr.includes(`removed the leftovers of an earlier lab: vipd-${tag}-u`), r.stderr);
    assert.doesNotMatch(r.stderr, /\x1b\[/, 'no terminal escapes when the output is not a terminal');
    const s = JSON.parse(r.stdout) as StorySummary;
    console.log(r.stderr.slice(r.stderr.indexOf('summary:')));
    console.log(`vipd lab --scenario all took ${took} ms`);
    assert.deepEqual(s.problems, []);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.ok, true);
    assert.equal(s.lab.advert, 0.1);
    assert.deepEqual(
      s.events.map((e) => `${e.scenario}/${e.kind}`),
      ['unplanned/unplanned', 'unplanned/return', 'planned/planned', 'planned/return', 'handover/handover', 'handover/return'],
    );
    const mdi = (3 * 0.1 + ((256 - 100) * 0.1) / 256) * 1000;
    const skew = (((256 - 100) * 0.1) / 256) * 1000;
    for (const e of s.events) {
      const what = `${e.scenario}/${e.kind}: ${JSON.stringify(e)}`;
      assert.equal(e.newMaster, e.kind === 'return' ? 'R1' : 'R2', what);
      assert.ok(e.takeoverMs !== null, what);
      assert.ok(e.withinBound, what);
      assert.ok(e.outageMs <= e.boundMs + s.lab.toleranceMs, what);
      assert.equal(e.targets.length, 2, what);
      if (e.kind === 'unplanned') {
        assert.ok(Math.abs(e.boundMs - mdi) < 0.1, what);
        // The power loss cuts the host off: no reply for a good part of Master_Down_Interval. (Lost probes show
        // it unless the prober itself stalled over the gap on a busy machine: the silence shows it then.)
        assert.ok(Math.max(...e.targets.map((x) => x.silenceMs)) > 100, what);
        if (e.lostProbes === 0) console.log(`note: no probe lost in the power loss (the prober stalled?): ${what}`);
      } else {
        assert.ok(Math.abs(e.boundMs - skew) < 0.1, what);
        if (e.kind !== 'return') assert.ok(e.lostProbes <= 10, `planned: no or next to no lost probe (at most 20 ms); ${what}`);
      }
      for (const x of e.targets) assert.equal(x.duplicates, 0, what);
    }
    assert.deepEqual(s.final.states, { 'R1/VI_1': 'MASTER', 'R2/VI_1': 'BACKUP' });
    assert.deepEqual(s.final.vipHolders, { '192.0.2.1': ['R1'] });
    for (const p of s.probes) assert.ok(p.received > 1000, JSON.stringify(p));
    assert.deepEqual(labNamespaces(), [], 'no namespace left');
    assert.deepEqual(labDirs(), [], 'no temp dir left');
  } finally {
    destroy();
  }
});

test('vipd lab --ipv6 --peer keepalived: vipd and keepalived 2.2.7 fail over both VIPs between them', {
  skip: skip || (haveCommand('keepalived') ? false : 'keepalived is not installed (apt-get install keepalived); skipped'),
}, async () => {
  try {
    const r = await runLab(['--ipv6', '--peer', 'keepalived', '--advert', '0.1', '--json'], 60_000);
    const s = JSON.parse(r.stdout) as StorySummary;
    assert.deepEqual(s.problems, [], r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.lab.routers.map((x) => x.daemon), ['vipd', 'keepalived']);
    assert.deepEqual(s.events.map((e) => e.kind), ['unplanned', 'return']);
    const [fail, back] = s.events as [StorySummary['events'][0], StorySummary['events'][0]];
    assert.deepEqual(fail.targets.map((x) => x.name), ['vip4', 'upstream4', 'vip6', 'upstream6']);
    // keepalived (R2) took over both the IPv4 and the IPv6 virtual router, within the bound.
    assert.ok(fail.withinBound && back.withinBound, JSON.stringify(s.events));
    for (const x of fail.targets) assert.ok(x.silenceMs > 100, JSON.stringify(x));
    assert.deepEqual(s.final.states, { 'R1/VI_1': 'MASTER', 'R1/VI_6': 'MASTER', 'R2/VI_1': 'BACKUP', 'R2/VI_6': 'BACKUP' });
    assert.deepEqual(s.final.vipHolders, { '192.0.2.1': ['R1'], '2001:db8:1::1': ['R1'] });
  } finally {
    destroy();
  }
});

test('vipd lab: Ctrl-C in the middle removes the lab', { skip }, async () => {
  let sent = false;
  const r = await runLab(['--advert', '1'], 60_000, (all, kill) => {
    // Interrupt while R2 is waiting to take over (namespaces, daemons and the prober all exist).
    if (!sent && /waiting: R2 taking over/.test(all)) {
      sent = true;
      kill('SIGINT');
    }
  });
  try {
    assert.ok(sent, r.stdout + r.stderr);
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stdout, /interrupted: removing the lab/);
    assert.deepEqual(labNamespaces(), []);
    assert.deepEqual(labDirs(), []);
  } finally {
    destroy();
  }
});

test('vipd lab --keep leaves the lab running; --destroy removes it', { skip }, async () => {
  try {
    const r = await runLab(['--keep', '--advert', '0.1', '--scenario', 'planned'], 60_000);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.includes(`ip netns exec vipd-${tag}-h ping 192.0.2.1`), r.stdout);
    assert.ok(r.stdout.includes(`vipd lab --destroy --tag ${tag}`), r.stdout);
    assert.deepEqual(labNamespaces().sort(), ['h', 'r1', 'r2', 'sw', 'u'].map((x) => `vipd-${tag}-${x}`));
    // The routers still run: the host still reaches the upstream host through the VIP.
    const ping = spawnSync('ip', ['netns', 'exec', `vipd-${tag}-h`, 'ping', '-c', '1', '-W', '2', '198.51.100.100'], { encoding: 'utf8' });
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    const sock = /--control-socket (\S+)/.exec(r.stdout)?.[1];
    assert.ok(sock, r.stdout);
    const st = spawnSync(process.execPath, [vipd, 'status', '--control-socket', sock], { encoding: 'utf8' });
    assert.equal(st.status, 0, st.stderr);
    assert.match(st.stdout, /VI_1.*MASTER/);
    const d = spawnSync(process.execPath, [vipd, 'lab', '--destroy', '--tag', tag], { encoding: 'utf8' });
    assert.equal(d.status, 0, d.stderr);
    assert.ok(d.stdout.includes(`vipd-${tag}-r1`), d.stdout);
    assert.deepEqual(labNamespaces(), []);
    assert.deepEqual(labDirs(), []);
    const again = spawnSync(process.execPath, [vipd, 'lab', '--destroy', '--tag', tag], { encoding: 'utf8' });
    assert.match(again.stdout, /no lab to remove/);
  } finally {
    destroy();
  }
});

test('vipd lab: bad options are refused with a clear message, before anything is built', { skip }, () => {
  for (const [args, re] of [
    [['--scenario', 'meteor'], /unknown scenario "meteor" \(use unplanned, planned, handover or all\)/],
    [['--advert', '0.001'], /--advert.*0\.01 to 40/],
    [['--peer', 'bird'], /--peer bird: use vipd or keepalived/],
  ] as const) {
    const r = spawnSync(process.execPath, [vipd, 'lab', '--tag', tag, ...args], { encoding: 'utf8', cwd: root });
    assert.notEqual(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.deepEqual(labNamespaces(), []);
});

test('vipd lab without root says what it needs and exits non-zero', { skip: skip || (haveCommand('setpriv') ? false : 'setpriv missing') }, (t) => {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, vipd, 'lab'], {
    encoding: 'utf8',
    cwd: '/',
  });
  if (/Cannot find module|EACCES/.test(r.stderr)) {
    t.skip('the checkout is not readable by nobody');
    return;
  }
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /vipd lab: the lab needs root .*sudo/);
  assert.ok(!existsSync(`/run/netns/vipd-${tag}-h`));
});
