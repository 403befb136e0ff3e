/**
 * Scripts under hostile conditions (issue 9), on a running vipd pair:
 *  - no data from the wire reaches a script: an on-link attacker drives R1 through transitions (a valid priority-255
 *    advert, then lower-priority adverts at the master) and every argv the notify scripts got is one of the static
 *    forms (configured words + INSTANCE, the configured name, a state keyword, our own priority); nothing of the
 *    attacker's (its address, its priority) appears;
 *  - a track script that never returns is timed out, killed, counted as a failure (the priority drops, the backup
 *    takes over) and run again: one copy at a time, never piling up;
 *  - a track script that forks forever is killed with its whole process group at its timeout: its children do
 *    not survive it;
 *  - a notify script that hangs and forks forever does not hold up the protocol (transitions go on), and the group
 *    it forked is bounded.
 * Needs root and the lab. About 30 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blast,
  buildTopology,
  cleanOrphanLabs,
  keepalivedConf,
  processTag,
  startDaemon,
  type HostileTarget,
  type Topology,
} from '../../src/linux/lab/index.js';
import { inst, labSkip, sleep, status } from './common.js';

const skip = labSkip();
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('rs');

/** PIDs of processes whose command line contains `marker` (all namespaces share the PID space here). */
function pidsWith(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // zombies do not run
      if (cmd.includes(marker)) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Kill (by PID) what a test started and may have left: processes carrying the test's marker. */
function killMarked(marker: string): void {
  for (const pid of pidsWith(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('no data from the wire reaches notify scripts: an attacker drives transitions, every argv is static', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo: Topology = await buildTopology({ tag: processTag('rs'), routers: 2, ipv6: false });
  const dir = topo.tempDir('scripts');
  chmodSync(dir, 0o755);
  try {
    const log = join(dir, 'argv.log');
    const rec = script(join(dir, 'rec.sh'), `for a in "$@"; do printf '%s\\037' "$a"; done >> ${log}; echo >> ${log}`);
    const conf = (p: number) =>
      keepalivedConf({
        instances: [
          {
            name: 'VI_1',
            vrid: 51,
            priority: p,
            advertInt: 0.1,
            vips: ['192.0.2.1/24'],
            extra: [`notify ${rec}`, `notify_master "${rec} master-words"`, `notify_backup ${rec}`, `notify_master_rx_lower_pri "${rec} rx-lower"`],
          },
        ],
      });
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100) });
    await r1.waitForState('MASTER');
    await r2.waitForState('BACKUP');
    const target: HostileTarget = {
      src4: topo.host4,
      src6: null,
      v3: { vrid: 51, vips: ['192.0.2.1'] },
      v2: { vrid: 52, vips: ['192.0.2.2'], pass: 'x', intervalSec: 1 },
      v6: null,
      unicast: null,
      configuredVrids: [51],
    };
    const m1 = r1.mark();
    await blast(topo, 'H', { target, seed: 3, total: 10, ratePps: 20, classes: ['prio255'] });
    await r1.waitForState('BACKUP', { from: m1, timeoutMs: 2000 });
    // The impostor advertised a 1 s interval, which the backups learned: Master_Down_Interval is ~3.4 s.
    await r1.waitForState('MASTER', { from: m1, timeoutMs: 6000 });
    await sleep(300);
    await blast(topo, 'H', { target, seed: 4, total: 10, ratePps: 50, classes: ['prio_low'] });
    await sleep(1500);
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\x1f').slice(0, -1));
    const allowed = (argv: string[]): boolean =>
      (argv.length === 1 && ['master-words', 'rx-lower'].includes(argv[0]!)) ||
      argv.length === 0 ||
      (argv.length === 4 && argv[0] === 'INSTANCE' && argv[1] === 'VI_1' && ['MASTER', 'BACKUP', 'FAULT', 'STOP'].includes(argv[2]!) && ['150', '100', '0'].includes(argv[3]!));
    assert.ok(calls.length >= 4, `scripts ran (${calls.length} calls)`);
    for (const c of calls) {
      assert.ok(allowed(c), `static argv: ${JSON.stringify(c)}`);
      assert.ok(!c.some((a) => a.includes('192.0.2.100') || a === '255' || a === '1'), `nothing from the attacker: ${JSON.stringify(c)}`);
    }
    assert.ok(calls.some((c) => c[0] === 'rx-lower'), 'notify_master_rx_lower_pri ran (with its configured words only)');
    assert.ok(calls.some((c) => c[2] === 'BACKUP'), 'the forced BACKUP was notified');
    console.log('notify calls:', calls.length);
  } finally {
    await topo.destroy();
    killMarked(dir);
    killMarked('sleep\x00999.25');
  }
});

test('a track script that never returns, and one that forks forever: timed out, killed with their children, never piling up', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo: Topology = await buildTopology({ tag: processTag('rs'), routers: 2, ipv6: false });
  const dir = topo.tempDir('scripts');
  chmodSync(dir, 0o755);
  try {
    const hang = script(join(dir, 'hang.sh'), `sleep 1000`); // the shell stays: its command line names hang.sh
    const fork = script(join(dir, 'fork.sh'), `while :; do sleep 999.25 & sleep 0.02; done`);
    const scripts = [
      'vrrp_script chk_hang {',
      `    script "${hang}"`,
      '    interval 1',
      '    timeout 1',
      '    fall 1',
      '    rise 1',
      '    weight -100',
      '}',
      'vrrp_script chk_fork {',
      `    script "${fork}"`,
      '    interval 1',
      '    timeout 1',
      '    fall 1',
      '    rise 1',
      '}',
      '',
    ].join('\n');
    const conf = (p: number, track: boolean) =>
      scripts +
      keepalivedConf({
        instances: [{ name: 'VI_1', vrid: 51, priority: p, advertInt: 0.1, vips: ['192.0.2.1/24'], extra: track ? ['track_script {', '    chk_hang', '    chk_fork weight -1', '}'] : [] }],
      });
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150, true) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100, false) });
    // The hanging script fails (timeout), the forking one too: R1 runs at 150 - 100 - 1 = 49; R2 (100) is master.
    await r1.waitForLine(/VRRP_Script\(chk_hang\) timed out/, { timeoutMs: 5000 });
    await r2.waitForState('MASTER', { timeoutMs: 5000 });
    const maxCopies = { hang: 0, fork: 0 };
    for (let i = 0; i < 25; i++) {
      maxCopies.hang = Math.max(maxCopies.hang, pidsWith(hang).length);
      maxCopies.fork = Math.max(maxCopies.fork, pidsWith('sleep\x00999.25').length);
      await sleep(200);
    }
    const s = await status(r1);
    assert.equal(inst(s, 'VI_1').effectivePriority, 49, 'the timed-out scripts count as failed');
    assert.equal(inst(s, 'VI_1').state, 'BACKUP');
    assert.ok(r1.proc.grep(/VRRP_Script\(chk_hang\) timed out/).length >= 1);
    // One run at a time: never two hanging copies (the killed one is gone before the next starts).
    assert.equal(maxCopies.hang, 1, 'the hanging script was seen running, one copy at a time');
    // The forking script makes ~50 children a second; each run is killed with its group after 1 s (+ up to 2 s
    // grace), so the number alive stays bounded instead of growing for the 5 s observed.
    assert.ok(maxCopies.fork <= 200, `forked children alive at once: ${maxCopies.fork}`);
    await r1.stop();
    await sleep(3000);
    assert.deepEqual(pidsWith(hang), [], 'no hanging script left after the daemon stopped');
    const left = pidsWith(dir);
    assert.ok(left.length === 0, `nothing of the scripts left after stop: ${left.length} processes`);
    assert.deepEqual(pidsWith('sleep\x00999.25'), [], 'no child of the forking script left after stop');
    console.log('track scripts: max copies', JSON.stringify(maxCopies));
  } finally {
    await topo.destroy();
    killMarked(dir);
    killMarked('sleep\x00999.25');
  }
});
