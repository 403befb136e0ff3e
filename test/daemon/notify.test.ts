/**
 * Notifier with real short scripts in a temp dir: exact argv and FIFO lines in order, timeouts killing the process
 * group, script security refusals, script_user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseConfigText } from '../../src/config/index.js';
import type { KeepalivedConfig } from '../../src/config/index.js';
import { Notifier, ScriptSecurity, splitWords, type NotifyRun, type ScriptLog } from '../../src/daemon/notify.js';
import { checkScriptSecurity, lookupUser } from '../../src/linux/proc.js';

function cfgOf(text: string): KeepalivedConfig {
  const r = parseConfigText(text, 'test.conf', { instanceId: 'x' });
  assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), [], 'test config must parse');
  return r.config;
}

function tmpDir(base = os.tmpdir()): string {
  const d = fs.mkdtempSync(path.join(base, 'vipd-notify-'));
  fs.chmodSync(d, 0o755);
  return d;
}

function script(dir: string, name: string, body: string, mode = 0o755): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, body, { mode });
  fs.chmodSync(p, mode);
  return p;
}

/** Records "$@" joined by '|' into OUT, one line per run. */
const recorder = (out: string) => `#!/bin/sh\nprintf '%s|' "$@" >> ${out}\necho >> ${out}\n`;

class MemLog implements ScriptLog {
  lines: string[] = [];
  info(m: string) {
    this.lines.push(`info: ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn: ${m}`);
  }
  error(m: string) {
    this.lines.push(`error: ${m}`);
  }
}

function readFifoAll(fd: number): string {
  const b = Buffer.alloc(65536);
  let s = '';
  for (;;) {
    try {
      const n = fs.readSync(fd, b, 0, b.length, null);
      if (n <= 0) break;
      s += b.subarray(0, n).toString();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw e;
    }
  }
  return s;
}

function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return / Z /.test(stat.slice(stat.lastIndexOf(')') + 1, stat.lastIndexOf(')') + 4));
  } catch {
    return true;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

test('notify: exact argv and FIFO lines, in order, for a failover and a failback', async () => {
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const rec = script(dir, 'rec.sh', recorder(out));
  // A notify script without "#!" runs through /bin/sh (keepalived's ENOEXEC fallback).
  const plain = script(dir, 'plain', `printf 'plain:%s|' "$@" >> ${out}\necho >> ${out}\n`);
  const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const cfg = cfgOf(`global_defs {
  vrrp_notify_fifo ${fifo}
}
vrrp_sync_group G {
  group {
    VI_1
    VI_2
  }
  notify "${rec} group"
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  priority 100
  virtual_ipaddress { 192.0.2.1 }
  notify_master "${rec} master 'two words'"
  notify_backup "${rec} backup"
  notify_fault ${plain}
  notify "${rec} any a;b $HOME"
}
vrrp_instance VI_2 {
  interface lo
  virtual_router_id 2
  priority 90
  virtual_ipaddress { 192.0.2.2 }
}`);
  const n = new Notifier(cfg.global, { log: new MemLog() });
  const vi1 = cfg.instances[0]!;
  const g = cfg.syncGroups[0]!;
  try {
    n.instanceTransition(vi1, 'BACKUP', 100);
    n.groupTransition(g, 'BACKUP');
    n.instanceTransition(vi1, 'MASTER', 100);
    n.groupTransition(g, 'MASTER');
    n.masterRxLowerPri(vi1, 100);
    n.instanceTransition(vi1, 'FAULT', 100);
    n.groupTransition(g, 'FAULT');
    n.instanceTransition(vi1, 'BACKUP', 100);
    n.instanceTransition(vi1, 'MASTER', 100);
    n.instanceTransition(vi1, 'STOP', 100);
    await n.idle();
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    const inst = lines.filter((l) => !l.startsWith('group|'));
    assert.deepEqual(inst, [
      'backup|',
      'any|a;b|$HOME|INSTANCE|VI_1|BACKUP|100|',
      'master|two words|',
      'any|a;b|$HOME|INSTANCE|VI_1|MASTER|100|',
      'plain:|',
      'any|a;b|$HOME|INSTANCE|VI_1|FAULT|100|',
      'backup|',
      'any|a;b|$HOME|INSTANCE|VI_1|BACKUP|100|',
      'master|two words|',
      'any|a;b|$HOME|INSTANCE|VI_1|MASTER|100|',
      'any|a;b|$HOME|INSTANCE|VI_1|STOP|100|',
    ]);
    assert.deepEqual(lines.filter((l) => l.startsWith('group|')), [
      'group|GROUP|G|BACKUP|0|',
      'group|GROUP|G|MASTER|0|',
      'group|GROUP|G|FAULT|0|',
    ]);
    assert.deepEqual(readFifoAll(rfd).split('\n'), [
      'INSTANCE "VI_1" BACKUP 100',
      'GROUP "G" BACKUP 0',
      'INSTANCE "VI_1" MASTER 100',
      'GROUP "G" MASTER 0',
      'INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100',
      'INSTANCE "VI_1" FAULT 100',
      'GROUP "G" FAULT 0',
      'INSTANCE "VI_1" BACKUP 100',
      'INSTANCE "VI_1" MASTER 100',
      'INSTANCE "VI_1" STOP 100',
      '',
    ]);
  } finally {
    n.close();
    fs.closeSync(rfd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('notify: FIFO without a reader never blocks; lines queue and arrive in order once read', async () => {
  const dir = tmpDir();
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const cfg = cfgOf(`global_defs {
  notify_fifo ${fifo}
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
}`);
  const n = new Notifier(cfg.global);
  try {
    const t0 = Date.now();
    // ~100 KB: more than a pipe holds, with nobody reading.
    for (let i = 0; i < 4000; i++) n.instanceTransition(cfg.instances[0]!, i % 2 ? 'MASTER' : 'BACKUP', i % 256);
    assert.ok(Date.now() - t0 < 2000, 'writing never blocks');
    assert.ok(n.fifoPending > 0, 'the rest waits in the queue');
    const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    let got = '';
    try {
      const ok = await waitFor(() => {
        got += readFifoAll(rfd);
        return got.split('\n').length > 4000;
      }, 5000);
      assert.ok(ok, `all lines arrive (${got.split('\n').length - 1})`);
    } finally {
      fs.closeSync(rfd);
    }
    const lines = got.trim().split('\n');
    assert.equal(lines.length, 4000);
    lines.forEach((l, i) => assert.equal(l, `INSTANCE "VI_1" ${i % 2 ? 'MASTER' : 'BACKUP'} ${i % 256}`));
  } finally {
    n.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('notify: a hanging script is killed at its timeout, with the children it forked; the next one still runs', async () => {
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  const pidFile = path.join(dir, 'child.pid');
  const hang = script(dir, 'hang.sh', `#!/bin/sh\nsleep 30 &\necho $! > ${pidFile}\nwait\n`);
  const rec = script(dir, 'rec.sh', recorder(out));
  const cfg = cfgOf(`vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
  notify_master ${hang}
  notify "${rec} after"
}`);
  const log = new MemLog();
  const n = new Notifier(cfg.global, { timeoutMs: 400, log });
  const runs: NotifyRun[] = [];
  n.on('ran', (r: NotifyRun) => runs.push(r));
  let child = 0;
  try {
    const t0 = Date.now();
    n.instanceTransition(cfg.instances[0]!, 'MASTER', 100);
    await n.idle();
    const took = Date.now() - t0;
    assert.ok(took >= 350 && took < 3000, `killed at the timeout (${took} ms)`);
    assert.equal(runs[0]!.result.timedOut, true);
    assert.equal(runs[0]!.result.signal, 'SIGTERM', 'SIGTERM first, as keepalived');
    child = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(child > 0);
    assert.ok(await waitFor(() => isDead(child), 2000), 'the forked child was killed with the group');
    assert.deepEqual(fs.readFileSync(out, 'utf8').trim().split('\n'), ['after|INSTANCE|VI_1|MASTER|100|']);
    assert.ok(log.lines.some((l) => l.includes('timed out')), log.lines.join('\n'));
  } finally {
    n.close();
    if (child && !isDead(child)) process.kill(child, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('notify: never blocks the caller while scripts run', async () => {
  const dir = tmpDir();
  const slow = script(dir, 'slow.sh', '#!/bin/sh\nsleep 5\n');
  const cfg = cfgOf(`vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
  notify ${slow}
}`);
  const n = new Notifier(cfg.global, { timeoutMs: 200 });
  try {
    const t0 = process.hrtime.bigint();
    n.instanceTransition(cfg.instances[0]!, 'MASTER', 100);
    n.instanceTransition(cfg.instances[0]!, 'BACKUP', 100);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 100, `instanceTransition returned in ${ms} ms`);
    await n.idle();
  } finally {
    n.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('script security: insecure scripts refused with enable_script_security, secure ones run', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root (ownership checks)');
    return;
  }
  const tmpBase = tmpDir(); // under /tmp: sticky world-writable parent, which keepalived accepts
  const insecureDir = path.join(tmpBase, 'open');
  fs.mkdirSync(insecureDir);
  fs.chmodSync(insecureDir, 0o777); // world-writable without the sticky bit: insecure
  const secureDir = tmpDir('/run'); // /run is root 0755
  const out = path.join(secureDir, 'out');
  try {
    const bad = script(insecureDir, 'bad.sh', recorder(out));
    const ok = script(secureDir, 'ok.sh', recorder(out));
    const gw = script(secureDir, 'gw.sh', recorder(out), 0o775);
    fs.chownSync(gw, 0, 1);
    const ww = script(secureDir, 'ww.sh', recorder(out), 0o757);
    assert.equal(checkScriptSecurity(ok).secure, true);
    assert.equal(checkScriptSecurity(script(tmpBase, 'in-tmp.sh', '#!/bin/sh\n')).secure, true, 'sticky /tmp is fine');
    assert.match(checkScriptSecurity(bad).reason ?? '', /open is writable by all users/);
    assert.equal(checkScriptSecurity(bad, 65534, 65534).secure, true, 'not run as root: no protection needed');
    const notExec = script(secureDir, 'noexec.sh', '#!/bin/sh\n', 0o644);
    assert.equal(checkScriptSecurity(notExec).executable, false);
    assert.match(checkScriptSecurity(gw).reason ?? '', /writable by group 1/);
    assert.match(checkScriptSecurity(ww).reason ?? '', /ww\.sh is writable by all users/);
    const link = path.join(secureDir, 'link.sh');
    fs.symlinkSync(bad, link);
    assert.equal(checkScriptSecurity(link).secure, false, 'symlinks are resolved');

    const cfg = cfgOf(`global_defs {
  enable_script_security
  script_user root
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
  notify_master "${bad} bad"
  notify_backup "${gw} gw"
  notify_fault "${ww} ww"
  notify "${ok} ok"
}`);
    const log = new MemLog();
    const n = new Notifier(cfg.global, { log });
    for (const s of ['MASTER', 'BACKUP', 'FAULT'] as const) n.instanceTransition(cfg.instances[0]!, s, 50);
    await n.idle();
    n.close();
    assert.deepEqual(fs.readFileSync(out, 'utf8').trim().split('\n'), [
      'ok|INSTANCE|VI_1|MASTER|50|',
      'ok|INSTANCE|VI_1|BACKUP|50|',
      'ok|INSTANCE|VI_1|FAULT|50|',
    ]);
    const errs = log.lines.filter((l) => l.startsWith('error:'));
    assert.equal(errs.length, 3, errs.join('\n'));
    assert.ok(errs.every((e) => e.includes('disabling due to insecure')), errs.join('\n'));

    // Without enable_script_security the insecure script runs, with one SECURITY VIOLATION warning.
    const cfg2 = cfgOf(`global_defs {
  script_user root
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
  notify "${bad} bad"
}`);
    const log2 = new MemLog();
    const n2 = new Notifier(cfg2.global, { log: log2 });
    n2.instanceTransition(cfg2.instances[0]!, 'MASTER', 1);
    n2.instanceTransition(cfg2.instances[0]!, 'BACKUP', 1);
    await n2.idle();
    n2.close();
    assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').filter((l) => l.startsWith('bad|')).length, 2);
    assert.equal(log2.lines.filter((l) => l.includes('SECURITY VIOLATION')).length, 1);
  } finally {
    fs.rmSync(tmpBase, { recursive: true, force: true });
    fs.rmSync(secureDir, { recursive: true, force: true });
  }
});

test('script_user: scripts run as the global script user, a script user of its own wins, unknown users refused', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root (setuid)');
    return;
  }
  const nobody = lookupUser('nobody');
  if (!nobody) {
    t.skip('no user "nobody" on this system');
    return;
  }
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  fs.writeFileSync(out, '');
  fs.chmodSync(out, 0o666);
  try {
    const who = script(dir, 'who.sh', `#!/bin/sh\necho "$1 $(id -u) $(id -g)" >> ${out}\n`);
    const cfg = cfgOf(`global_defs {
  script_user nobody
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
  notify_master "${who} global"
  notify_backup "${who} own" root
  notify_fault "${who} unknown" vipd-no-such-user
}`);
    const log = new MemLog();
    const n = new Notifier(cfg.global, { log });
    for (const s of ['MASTER', 'BACKUP', 'FAULT'] as const) n.instanceTransition(cfg.instances[0]!, s, 1);
    await n.idle();
    n.close();
    assert.deepEqual(fs.readFileSync(out, 'utf8').trim().split('\n'), [`global ${nobody.uid} ${nobody.gid}`, 'own 0 0']);
    assert.ok(log.lines.some((l) => l.startsWith('error:') && l.includes('vipd-no-such-user does not exist')), log.lines.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ScriptSecurity: default user keepalived_script, else root with one warning', () => {
  const log = new MemLog();
  const users: Record<string, { name: string; uid: number; gid: number }> = {};
  const sec = () =>
    new ScriptSecurity({ scriptUser: null, scriptGroup: null, enableScriptSecurity: false }, log, {
      asRoot: true,
      lookupUser: (n) => users[n] ?? null,
      checkSecurity: () => ({ secure: true, reason: null }),
      resolveExecutable: (c) => c,
    });
  const a = sec();
  assert.deepEqual([a.prepare(['/x'], null, null, 'x').uid, a.prepare(['/y'], null, null, 'y').uid], [0, 0]);
  assert.equal(log.lines.filter((l) => l.includes("default user 'keepalived_script'")).length, 1);
  users['keepalived_script'] = { name: 'keepalived_script', uid: 999, gid: 998 };
  const b = sec().prepare(['/x'], null, null, 'x');
  assert.deepEqual([b.ok, b.uid, b.gid], [true, 999, 998]);
  assert.equal(sec().prepare([], null, null, 'empty').ok, false);
  delete users['keepalived_script'];
  const strict = new ScriptSecurity({ scriptUser: null, scriptGroup: null, enableScriptSecurity: true }, log, {
    asRoot: true,
    lookupUser: (n) => users[n] ?? null,
    checkSecurity: () => ({ secure: true, reason: null }),
    resolveExecutable: (c) => c,
  });
  assert.equal(strict.prepare(['/x'], null, null, 'x').ok, false, 'enable_script_security without a default user: disabled');
  assert.equal(strict.prepare(['/x'], 'root', null, 'x').ok, false, 'root is not a user in this fake passwd');
  users['root'] = { name: 'root', uid: 0, gid: 0 };
  assert.equal(strict.prepare(['/y'], 'root', null, 'y').ok, true, 'a script with its own user still runs');
});

test('splitWords: quotes and escapes', () => {
  assert.deepEqual(splitWords(`/bin/r.sh a 'b c' "d \\" e" f\\ g`), ['/bin/r.sh', 'a', 'b c', 'd " e', 'f g']);
  assert.deepEqual(splitWords('  '), []);
});

test('vrrp_notify_fifo_script: the reader is started with the FIFO path appended (FIFO created), killed on close', async () => {
  const dir = tmpDir();
  const fifo = path.join(dir, 'fifo');
  const out = path.join(dir, 'out');
  const pidFile = path.join(dir, 'pid');
  const reader = script(dir, 'reader.sh', `#!/bin/sh\necho $$ > ${pidFile}\necho "args: $*" >> ${out}\nwhile read -r line; do echo "$line" >> ${out}; done < "$2"\n`);
  const cfg = cfgOf(`global_defs {
  vrrp_notify_fifo ${fifo}
  vrrp_notify_fifo_script "${reader} first"
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
}`);
  const n = new Notifier(cfg.global, { log: new MemLog() });
  let pid = 0;
  try {
    assert.ok(fs.statSync(fifo).isFIFO(), 'the FIFO was created');
    n.instanceTransition(cfg.instances[0]!, 'MASTER', 42);
    n.instanceTransition(cfg.instances[0]!, 'BACKUP', 42);
    const want = ['args: first ' + fifo, 'INSTANCE "VI_1" MASTER 42', 'INSTANCE "VI_1" BACKUP 42'];
    const got = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : []);
    assert.ok(await waitFor(() => got().length >= 3, 3000), got().join('\n'));
    assert.deepEqual(got(), want);
    pid = Number(fs.readFileSync(pidFile, 'utf8'));
  } finally {
    n.close();
    if (pid) assert.ok(await waitFor(() => isDead(pid), 2000), 'reader killed on close');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('notify FIFO: a path that is not a FIFO is refused with a clear error and never written', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'plain-file');
  fs.writeFileSync(file, '');
  const cfg = cfgOf(`global_defs {
  vrrp_notify_fifo ${file}
  notify_fifo ${path.join(dir, 'missing')}
}
vrrp_instance VI_1 {
  interface lo
  virtual_router_id 1
  virtual_ipaddress { 192.0.2.1 }
}`);
  const log = new MemLog();
  const n = new Notifier(cfg.global, { log });
  try {
    n.instanceTransition(cfg.instances[0]!, 'MASTER', 1);
    assert.equal(fs.readFileSync(file, 'utf8'), '');
    const errs = log.lines.filter((l) => l.startsWith('error:'));
    assert.equal(errs.length, 2, errs.join('\n'));
    assert.ok(errs.some((e) => e.includes('plain-file is not a FIFO')), errs.join('\n'));
    assert.ok(errs.some((e) => e.includes('missing') && e.includes('ENOENT')), errs.join('\n'));
  } finally {
    n.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
