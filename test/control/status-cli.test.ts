/** The CLI against a control socket served by a fake daemon: `./bin/vipd status|reload|handover|garp`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlServer } from '../../src/control/server.js';
import { formatStatus } from '../../src/cli/status.js';
import { FakeDaemon, cannedStatus } from './fake-daemon.js';

const BIN = join(process.cwd(), 'bin', 'vipd');

function vipd(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

async function withDaemon(fn: (sock: string, d: FakeDaemon) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-cli-'));
  const sock = join(dir, 'vipd.sock');
  const d = new FakeDaemon();
  const srv = await startControlServer(d, { path: sock });
  try {
    await fn(sock, d);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('formatStatus: summary table, then per instance and family every field the issue lists', () => {
  const s = cannedStatus();
  const text = formatStatus(s, Date.parse('2026-11-21T06:34:31.113Z'));
  const lines = text.split('\n');
  assert.equal(lines[0], 'vipd 0.1.0, pid 4242, up since 2026-11-21T06:33:25.000Z (1m6s ago), config /etc/keepalived/keepalived.conf');
  assert.deepEqual(lines.slice(2, 5), [
    'INSTANCE  FAMILY  VRID  STATE   PRIORITY  MASTER                     VIPS',
    'VI_1      IPv4    51    MASTER  150->140  192.0.2.1                  2',
    'VI_6      IPv6    52    BACKUP  90        fe80::f87c:86ff:fed4:6321  1',
  ]);
  const vi1 = text.slice(text.indexOf('VI_1 (IPv4'), text.indexOf('VI_6 (IPv6'));
  for (const want of [
    'VI_1 (IPv4, VRID 51, VRRPv2) on eth0',
    '  state            MASTER',
    '  priority         150 base, 140 effective',
    '  master           192.0.2.1 (this router)',
    '  VIPs             192.0.2.100/24, 192.0.2.101/24',
    '  advert interval  1000 ms configured, 1000 ms learned',
    '  master down      3414.1 ms',
    '  last transition  2026-11-21T06:33:31.113Z (1m0s ago) BACKUP -> MASTER, master_down_timer',
    '  tracking         file tf_maint: 0 (weight -10)',
    '                   interface eth1: down (weight -10)',
    '  counters         advert_rcvd 0, advert_sent 3, become_master 1, release_master 0',
    '  checksum forms   v2 0, v3 pseudo-header 0, v3 plain 0',
  ]) {
    assert.ok(vi1.split('\n').includes(want), `missing line ${JSON.stringify(want)} in\n${vi1}`);
  }
  for (const c of ['packet_len_err', 'ip_ttl_err', 'invalid_type_rcvd', 'addr_list_err', 'invalid_authtype', 'authtype_mismatch', 'auth_failure 2', 'pri_zero_rcvd', 'pri_zero_sent', 'checksum_err']) {
    assert.ok(vi1.includes(c), c);
  }
  assert.match(text, /\n {2}master {11}fe80::f87c:86ff:fed4:6321\n/);
});

test('vipd status / status --json / status INSTANCE over the control socket', async () => {
  await withDaemon(async (sock, d) => {
    const r = await vipd('status', '--control-socket', sock);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.match(r.out, /^INSTANCE {2}FAMILY {2}VRID {2}STATE/m);
    assert.match(r.out, /^VI_6 \(IPv6, VRID 52, VRRPv3\) on eth0$/m);
    const j = await vipd('status', '--json', '--control-socket', sock);
    assert.deepEqual(JSON.parse(j.out), d.current);
    const one = await vipd('status', 'VI_6', '--control-socket', sock);
    assert.equal(one.code, 0);
    assert.ok(!one.out.includes('VI_1'));
    const none = await vipd('status', 'NOPE', '--control-socket', sock);
    assert.equal(none.code, 1);
    assert.equal(none.err, 'vipd: no instance named "NOPE"\n');
  });
});

test('vipd reload / handover / garp', async () => {
  await withDaemon(async (sock, d) => {
    const r = await vipd('reload', '--control-socket', sock);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'reloaded\n  changed: VI_1\n  unchanged: VI_6\n');
    d.reloadResult = { ok: false, diagnostics: ['/etc/keepalived/keepalived.conf:7: unknown keyword "priorty"'], added: [], removed: [], changed: [], unchanged: [] };
    const bad = await vipd('reload', '--control-socket', sock);
    assert.equal(bad.code, 1);
    assert.equal(bad.err, '/etc/keepalived/keepalived.conf:7: unknown keyword "priorty"\nvipd: reload failed: the new configuration has errors\n');
    const h = await vipd('handover', 'VI_1', '--control-socket', sock);
    assert.equal(h.code, 0, h.err);
    assert.equal(h.out, 'VI_1: handed over to 192.0.2.2\n');
    const h6 = await vipd('handover', 'VI_6', '--control-socket', sock);
    assert.equal(h6.code, 1);
    assert.equal(h6.err, 'vipd: VI_6: VI_6 is not MASTER\n');
    const g = await vipd('garp', 'VI_1', '--control-socket', sock);
    assert.equal(g.out, 'VI_1: sent 2 gratuitous ARPs\n');
    assert.deepEqual(d.calls.filter((c) => c !== 'status'), ['reload', 'reload', 'handover VI_1', 'handover VI_6', 'garp VI_1']);
    const missingArg = await vipd('garp', '--control-socket', sock);
    assert.notEqual(missingArg.code, 0);
    assert.match(missingArg.err, /missing required argument 'instance'/);
  });
});

test('a clear error when the daemon is not running (no socket, stale socket)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-cli-'));
  try {
    const missing = join(dir, 'none.sock');
    const r = await vipd('status', '--control-socket', missing);
    assert.equal(r.code, 3);
    assert.equal(r.err, `vipd: vipd is not running: no control socket at ${missing} (start the daemon, or pass --control-socket PATH)\n`);
    const stale = join(dir, 'stale.sock');
    execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
    const s = await vipd('reload', '--control-socket', stale);
    assert.equal(s.code, 3);
    assert.equal(s.err, `vipd: vipd is not running: the control socket ${stale} refuses connections (a stale socket file?)\n`);
    assert.ok(!/\n\s+at /.test(r.err + s.err), 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
