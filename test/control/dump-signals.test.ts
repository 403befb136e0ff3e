/**
 * keepalived's dump signals on a process: SIGUSR1 -> keepalived.data, SIGUSR2 -> keepalived.stats,
 * SIGRTMIN+2 -> keepalived.json. Node alone cannot catch SIGRTMIN+2 (it would kill the process); the native
 * addon's signal watcher does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonDumpSignal } from '../../src/control/signals.js';

const rt = jsonDumpSignal();
const skip = rt === null ? 'the native addon is not built (npm ci); skipped' : undefined;

test('SIGUSR1 / SIGUSR2 / SIGRTMIN+2 write the three dumps and the process lives on', { skip, timeout: 30_000 }, async () => {
  assert.equal(rt, 36, 'keepalived --signum=JSON is 36 on Linux/glibc');
  const dir = mkdtempSync(join(tmpdir(), 'vipd-sig-'));
  const child = spawn(process.execPath, [join('dist', 'test', 'control', 'dump-signals-child.js'), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  const waitFor = async (pred: () => boolean, what: string) => {
    const end = Date.now() + 5000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; child said: ${out}`);
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`child died (${child.signalCode ?? child.exitCode}) waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await waitFor(() => out.includes('ready\n'), 'ready');
    process.kill(child.pid!, 'SIGUSR1');
    await waitFor(() => existsSync(join(dir, 'keepalived.data')), 'keepalived.data');
    process.kill(child.pid!, 'SIGUSR2');
    await waitFor(() => existsSync(join(dir, 'keepalived.stats')), 'keepalived.stats');
    process.kill(child.pid!, rt!);
    await waitFor(() => existsSync(join(dir, 'keepalived.json')), 'keepalived.json');
    assert.match(readFileSync(join(dir, 'keepalived.data'), 'utf8'), /^------< Global definitions >------\n/);
    assert.match(readFileSync(join(dir, 'keepalived.stats'), 'utf8'), /^VRRP Instance: VI_1\n {2}Advertisements:\n/);
    const j = JSON.parse(readFileSync(join(dir, 'keepalived.json'), 'utf8')) as { data: { iname: string } }[];
    assert.deepEqual(j.map((x) => x.data.iname), ['VI_1', 'VI_6']);
    assert.match(out, /Printing VRRP as json for process\(\d+\) on signal/);
    // Still alive after all three.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(child.exitCode, null);
    assert.equal(child.signalCode, null);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
