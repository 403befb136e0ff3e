/**
 * The lab's keepalived.conf builder and daemon command lines. The configurations it writes are checked by
 * keepalived itself (`keepalived -t`, when installed) and by `vipd check`. No root needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { haveCommand } from '../helpers/netns.js';
import { DAEMON_NODE_FLAGS } from '../../src/runtime.js';
import { daemonCommand, keepalivedConf, masterDownIntervalMs, type KeepalivedConfSpec } from '../../src/linux/lab/daemons.js';

const full: KeepalivedConfSpec = {
  routerId: 'lab_r1',
  globalDefs: ['vrrp_garp_master_delay 1'],
  instances: [
    { name: 'VI_1', vrid: 51, priority: 150, advertInt: 0.1, vips: ['192.0.2.1/24'], useVmac: true, preemptDelay: 2 },
    {
      name: 'VI_6',
      vrid: 52,
      priority: 100,
      advertInt: 0.05,
      vips: ['fe80::1:1/64', '2001:db8:1::1/64'],
      nopreempt: true,
      accept: true,
    },
    {
      name: 'VI_U',
      vrid: 53,
      priority: 120,
      version: 2,
      advertInt: 1,
      authPass: 'lab12',
      unicastSrcIp: '192.0.2.11',
      unicastPeers: ['192.0.2.12', '192.0.2.13'],
      vips: ['192.0.2.2/24'],
      extra: ['garp_master_repeat 2'],
    },
  ],
};

test('keepalivedConf writes the instances as keepalived spells them', () => {
  const c = keepalivedConf(full);
  assert.match(c, /^global_defs \{\n {4}router_id lab_r1\n {4}vrrp_garp_master_delay 1\n\}/);
  assert.match(c, /vrrp_instance VI_1 \{\n {4}state BACKUP\n {4}interface eth0\n {4}virtual_router_id 51\n {4}priority 150\n {4}advert_int 0\.1\n {4}version 3\n {4}preempt_delay 2\n {4}use_vmac\n/);
  assert.match(c, /vrrp_instance VI_6 \{[^}]*nopreempt\n {4}accept\n/);
  assert.match(c, /virtual_ipaddress \{\n {8}fe80::1:1\/64\n {8}2001:db8:1::1\/64\n {4}\}/);
  assert.match(c, /unicast_src_ip 192\.0\.2\.11\n {4}unicast_peer \{\n {8}192\.0\.2\.12\n {8}192\.0\.2\.13\n {4}\}/);
  assert.match(c, /authentication \{\n {8}auth_type PASS\n {8}auth_pass lab12\n {4}\}/);
  assert.match(c, /version 2\n/);
  assert.match(c, / {4}garp_master_repeat 2\n\}/);
  // Unnamed instances are numbered.
  assert.match(keepalivedConf({ instances: [{ priority: 100, vips: ['192.0.2.1/24'] }] }), /vrrp_instance VI_1 \{/);
});

test('the written configuration is accepted by keepalived -t and vipd check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-lab-conf-'));
  try {
    const f = join(dir, 'keepalived.conf');
    writeFileSync(f, keepalivedConf(full));
    const vipd = spawnSync(process.execPath, ['bin/vipd', 'check', '-f', f, '--no-interfaces', '-q'], { encoding: 'utf8' });
    assert.equal(vipd.status, 0, `vipd check: ${vipd.stdout}${vipd.stderr}`);
    if (haveCommand('keepalived')) {
      const k = spawnSync('keepalived', ['-t', '-f', f], { encoding: 'utf8' });
      // 0: usable. keepalived checks interfaces too; eth0 may not exist here, which it reports but still
      // counts as usable, so only "unusable" (3) fails.
      assert.notEqual(k.status, 3, `keepalived -t: ${k.stderr}`);
      assert.doesNotMatch(k.stderr, /unknown keyword/i);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('daemon command lines: keepalived flags for both daemons, private pid files', () => {
  const [k, ka] = daemonCommand('keepalived', '/tmp/x');
  assert.equal(k, 'keepalived');
  assert.deepEqual(ka, ['-n', '-l', '-D', '-P', '-f', '/tmp/x/keepalived.conf', '-p', '/tmp/x/daemon.pid', '-r', '/tmp/x/vrrp.pid']);
  const [v, va] = daemonCommand('vipd', '/tmp/x', ['--log-format', 'json']);
  assert.equal(v, process.execPath);
  // Node's options for the daemon (src/runtime.ts, as bin/vipd's first line), then the launcher.
  const n = DAEMON_NODE_FLAGS.length;
  assert.deepEqual(va.slice(0, n), [...DAEMON_NODE_FLAGS]);
  assert.match(va[n]!, /bin\/vipd$/);
  assert.deepEqual(va.slice(n + 1), [
    'run',
    ...ka,
    '--control-socket',
    '/tmp/x/vipd.sock',
    '--state-dir',
    '/tmp/x',
    '--log-format',
    'json',
  ]);
});

test('Master_Down_Interval per RFC 5798 (v3) and RFC 3768 (v2)', () => {
  const near = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);
  near(masterDownIntervalMs(0.1, 100, 3), 300 + (156 * 100) / 256);
  near(masterDownIntervalMs(1, 200, 3), 3000 + 218.75);
  near(masterDownIntervalMs(1, 100, 2), 3000 + (156 / 256) * 1000);
  near(masterDownIntervalMs(0.01, 254, 3), 30 + (2 * 10) / 256);
});
