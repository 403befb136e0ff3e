/**
 * Tracker against the real OS: short scripts in a temp dir, a track file watched with fs.watch, and real processes
 * counted from /proc (copies of `sleep` under a unique name, killed by PID).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { parseConfigText } from '../../src/config/index.js';
import type { KeepalivedConfig } from '../../src/config/index.js';
import { Tracker } from '../../src/daemon/track.js';
import { runScript } from '../../src/linux/proc.js';

function cfgOf(text: string): KeepalivedConfig {
  const r = parseConfigText(text, 'test.conf', { instanceId: 'x' });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], 'test config must parse');
  return r.config;
}

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vipd-track-'));
  fs.chmodSync(d, 0o755);
  return d;
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

const inst = (body: string) => `vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  priority 100
  virtual_ipaddress { 192.0.2.1 }
  ${body}
}`;

test('vrrp_script for real: exit status moves the priority, rise/fall, a hanging script is a failure', async () => {
  const dir = tmpDir();
  const flag = path.join(dir, 'ok');
  const chk = path.join(dir, 'chk.sh');
  // Succeeds while the flag exists, hangs while the "hang" file exists.
  fs.writeFileSync(chk, `#!/bin/sh\n[ -e ${dir}/hang ] && sleep 30\n[ -e ${flag} ]\n`, { mode: 0o755 });
  fs.writeFileSync(flag, '');
  const cfg = cfgOf(`vrrp_script chk {
  script "${chk}"
  interval 0.1
  timeout 0.3
  weight -30
  fall 2
}
${inst('track_script {\n chk\n}')}`);
  const tr = new Tracker(cfg);
  const changes: number[] = [];
  tr.on('change', () => changes.push(tr.effectivePriority('VI_1')));
  try {
    tr.start();
    assert.ok(await waitFor(() => tr.status('VI_1')[0]!.status === 'up', 3000), 'first run: up');
    assert.equal(tr.effectivePriority('VI_1'), 100);
    fs.rmSync(flag);
    assert.ok(await waitFor(() => tr.effectivePriority('VI_1') === 70, 3000), 'fails: 100 - 30');
    fs.writeFileSync(flag, '');
    assert.ok(await waitFor(() => tr.effectivePriority('VI_1') === 100, 3000), 'recovers');
    const t0 = Date.now();
    fs.writeFileSync(path.join(dir, 'hang'), '');
    assert.ok(await waitFor(() => tr.effectivePriority('VI_1') === 70, 4000), 'two timed-out runs: down');
    const took = Date.now() - t0;
    assert.ok(took >= 500, `fall 2 × timeout 0.3 s takes ≥ 0.6 s (${took} ms)`);
    assert.deepEqual(changes, [70, 100, 70]);
  } finally {
    tr.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('runScript: a script that forks a hanging child has its whole group killed at the timeout', async () => {
  const dir = tmpDir();
  const pidFile = path.join(dir, 'pid');
  const s = path.join(dir, 'fork.sh');
  fs.writeFileSync(s, `#!/bin/sh\n(trap '' TERM HUP; sleep 30) &\necho $! > ${pidFile}\nsleep 30\n`, { mode: 0o755 });
  let child = 0;
  try {
    const t0 = Date.now();
    const r = await runScript({ argv: [s], timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 3000);
    child = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(await waitFor(() => isDead(child), 2000), `child ${child} killed`);
    // A script that ignores SIGTERM (ignored signals are inherited, so its children ignore it too) gets SIGKILL
    // after the grace period.
    const t1 = Date.now();
    const stubborn = await runScript({ argv: ['/bin/sh', '-c', "trap '' TERM; sleep 30; true"], timeoutMs: 200, termGraceMs: 300 });
    const took1 = Date.now() - t1;
    assert.deepEqual([stubborn.timedOut, stubborn.signal], [true, 'SIGKILL']);
    assert.ok(took1 >= 450 && took1 < 3000, `SIGKILL after timeout + grace (${took1} ms)`);
    const ok = await runScript({ argv: ['/bin/sh', '-c', 'exit 3'], timeoutMs: 2000 });
    assert.deepEqual([ok.code, ok.timedOut, ok.error], [3, false, null]);
    const missing = await runScript({ argv: [path.join(dir, 'nope')], timeoutMs: 2000 });
    assert.match(missing.error ?? '', /not found/);
  } finally {
    if (child && !isDead(child)) process.kill(child, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('track_file for real: init_file, changes seen through fs.watch, deletion reads as 0', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'prio');
  const cfg = cfgOf(`track_file tf {
  file ${file}
  weight -5
  init_file 4
}
${inst('track_file {\n tf\n}')}`);
  // A long poll interval so only the watcher can be fast.
  const tr = new Tracker(cfg, { filePollMs: 60_000 });
  try {
    tr.start();
    assert.equal(fs.readFileSync(file, 'utf8').trim(), '4', 'init_file created it');
    assert.equal(tr.effectivePriority('VI_1'), 80);
    fs.writeFileSync(file, '-2\n');
    assert.ok(await waitFor(() => tr.effectivePriority('VI_1') === 110, 2000), 'watch saw the write');
    fs.writeFileSync(file + '.new', '60');
    fs.renameSync(file + '.new', file);
    assert.ok(await waitFor(() => tr.isFault('VI_1'), 2000), 'rename-in seen; 60 × -5 faults');
    fs.rmSync(file);
    assert.ok(await waitFor(() => !tr.isFault('VI_1') && tr.effectivePriority('VI_1') === 100, 2000), 'deleted = 0');
  } finally {
    tr.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const mode of ['poll', 'connector'] as const)
test(`vrrp_track_process for real (${mode}): counts processes by name from /proc, quorum`, async (t) => {
  const dir = tmpDir();
  const name = `vtp${process.pid % 100000}${mode[0]}`;
  const bin = path.join(dir, name);
  fs.copyFileSync('/bin/sleep', bin);
  fs.chmodSync(bin, 0o755);
  const cfg = cfgOf(`vrrp_track_process p {
  process ${name}
  quorum 2
  weight 20
}
${inst('track_process {\n p\n}')}`);
  const kids: ChildProcess[] = [];
  // Connector mode: a poll far too slow to matter, so only events can make it in time.
  const tr = new Tracker(cfg, mode === 'poll' ? { processPollMs: 100, useProcConnector: false } : { processPollMs: 60_000 });
  try {
    kids.push(spawn(bin, ['30'], { stdio: 'ignore' }));
    tr.start();
    if (mode === 'connector' && tr.processMode !== 'connector') {
      t.skip('proc connector unavailable here (needs CAP_NET_ADMIN in the initial network namespace)');
      return;
    }
    assert.equal(tr.processMode, mode);
    assert.equal(tr.effectivePriority('VI_1'), 100, 'one process: no quorum');
    kids.push(spawn(bin, ['30'], { stdio: 'ignore' }));
    assert.ok(await waitFor(() => tr.effectivePriority('VI_1') === 120, 3000), 'two: quorum');
    process.kill(kids[0]!.pid!, 'SIGKILL');
    kids.shift();
    assert.ok(await waitFor(() => tr.effectivePriority('VI_1') === 100, 3000), 'one left: quorum lost');
    assert.deepEqual(tr.status('VI_1'), [{ kind: 'process', name: 'p', status: 'down', weight: 20 }]);
  } finally {
    tr.stop();
    for (const k of kids) {
      try {
        if (k.pid) process.kill(k.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
