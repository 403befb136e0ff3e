/** `vipd check`: exit codes 0 / 3 / 4, file:line diagnostics, --dump JSON, no stack traces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FIXTURE_DIR } from './fixtures.js';

const VIPD = join(process.cwd(), 'bin', 'vipd');

function check(...args: string[]) {
  // The fixtures name eth0-eth3, which this machine may not have: interfaces are checked in their own test.
  const r = spawnSync(process.execPath, [VIPD, 'check', '--no-interfaces', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('vipd check: a usable configuration exits 0', () => {
  const r = check('-f', join(FIXTURE_DIR, 'two-instances.conf'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /OK \(2 VRRP instances, 0 sync groups\)/);
});

test('vipd check: errors exit 4 with file:line messages; unusable exits 3', () => {
  const f = join(FIXTURE_DIR, 'priority-out-of-range.conf');
  const r = check('-f', f);
  assert.equal(r.code, 4);
  assert.match(r.err, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6: 'priority': 300 is outside the range 1-255`, 'm'));
  const u = check('-f', join(FIXTURE_DIR, 'vrid-missing.conf'));
  assert.equal(u.code, 3);
  assert.match(u.err, /virtual_router_id is missing/);
  const m = check('-f', '/nonexistent/vipd/keepalived.conf');
  assert.equal(m.code, 3);
  assert.equal(m.err.trim(), '/nonexistent/vipd/keepalived.conf: cannot read configuration file /nonexistent/vipd/keepalived.conf: no such file');
  for (const x of [r, u, m]) assert.doesNotMatch(x.err, /\n\s+at /);
});

test('vipd check --dump prints the model as JSON', () => {
  const r = check('-f', join(FIXTURE_DIR, 'unicast.conf'), '--dump');
  assert.equal(r.code, 0, r.err);
  const m = JSON.parse(r.out) as { instances: Record<string, unknown>[]; syncGroups: unknown[]; scripts: unknown[] };
  const i = m.instances[0]!;
  for (const k of ['name', 'interface', 'virtualRouterId', 'priority', 'advertInterval', 'version', 'state', 'preempt', 'preemptDelay', 'useVmac', 'vmacXmitBase', 'vips', 'unicastPeers', 'unicastSrcIp', 'auth', 'trackScripts', 'trackInterfaces']) {
    assert.ok(k in i, `missing ${k}`);
  }
  assert.equal(i.name, 'VI_1');
  assert.equal(i.unicastSrcIp, '192.0.2.10');
  assert.deepEqual((i.vips as { text: string }[]).map((v) => v.text), ['192.0.2.100/24']);
  assert.deepEqual((i.unicastPeers as { address: string }[]).map((p) => p.address), ['192.0.2.11', '192.0.2.12']);
  assert.ok(Array.isArray(m.syncGroups) && Array.isArray(m.scripts));
});

test('vipd check -i selects @id lines', () => {
  const f = join(process.cwd(), '..', 'shared', 'corpus', 'keepalived-samples', 'keepalived.conf.conditional_conf');
  const hi = check('-f', f, '-i', 'high', '--dump');
  if (hi.code === 3 && /no such file/.test(hi.err)) return; // corpus not available
  assert.equal(hi.code, 0, hi.err);
  assert.equal((JSON.parse(hi.out) as { instances: { priority: number }[] }).instances[0]!.priority, 170);
  const none = check('-f', f, '-i', 'other');
  assert.equal(none.code, 4);
});

test('vipd check: interfaces that do not exist are errors (as keepalived -t), --no-interfaces skips the check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-chk-'));
  try {
    const f = join(dir, 'k.conf');
    writeFileSync(f, 'vrrp_instance VI_1 {\n interface lo\n virtual_router_id 1\n track_interface {\n vipdnoif0\n }\n virtual_ipaddress {\n 192.0.2.1 dev vipdnoif1\n }\n}\n');
    const r = spawnSync(process.execPath, [VIPD, 'check', '-f', f], { encoding: 'utf8', timeout: 20_000 });
    if (/interfaces not checked/.test(r.stderr)) return; // native addon unavailable: nothing to assert
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /k\.conf:5: vrrp_instance VI_1 track_interface: interface vipdnoif0 does not exist/);
    assert.match(r.stderr, /k\.conf:8: vrrp_instance VI_1 192\.0\.2\.1: interface vipdnoif1 does not exist/);
    assert.doesNotMatch(r.stderr, /interface lo does not exist/);
    assert.equal(check('-f', f).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
