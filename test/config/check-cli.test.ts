/** `vipd check`: exit codes 0 / 3 / 4, file:line diagnostics, --dump JSON, no stack traces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURE_DIR } from './fixtures.js';

const VIPD = join(process.cwd(), 'bin', 'vipd');

function check(...args: string[]) {
  const r = spawnSync(process.execPath, [VIPD, 'check', ...args], { encoding: 'utf8', timeout: 20_000 });
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
