/**
 * Dump details from the configuration: the configuration-only lines of keepalived's dumps, derived from the same
 * keepalived.conf the fixtures were captured with, give the same dumps as the hand-written details of dumps.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, parseConfigText } from '../../src/config/index.js';
import { dumpDetailsFromConfig } from '../../src/control/dump-details.js';
import { formatData, formatJson, type DumpDetails } from '../../src/control/dumps.js';
import { CANNED_DUMP_DETAILS, cannedStatus } from './fake-daemon.js';

const FIX = join(process.cwd(), 'test', 'fixtures', 'keepalived-dumps');

test('dump details from keepalived-a.conf equal the hand-written ones and give the same dumps', () => {
  const r = parseConfig(join(FIX, 'keepalived-a.conf'));
  assert.ok(r.usable);
  const derived = dumpDetailsFromConfig(r.config);
  assert.equal(derived.routerId, 'vipd_dump_a');
  assert.deepEqual(derived.trackFiles, { tf_maint: { path: '/tmp/vipd-dump-track-file', weight: -10 } });
  assert.equal(derived.instances!.VI_1!.authType, 'PASS');
  assert.equal(derived.instances!.VI_1!.authPass, 's3cret');
  assert.deepEqual(derived.instances!.VI_1!.excludedVips, ['198.51.100.7/32']);
  assert.equal(derived.instances!.VI_6!.authType, undefined);
  const hand: DumpDetails = CANNED_DUMP_DETAILS;
  const merged: DumpDetails = {
    ...derived,
    instances: {
      VI_1: { ...derived.instances!.VI_1, fdIn: 15, fdOut: 16 },
      VI_6: { ...derived.instances!.VI_6, masterPriority: 120, fdIn: 17, fdOut: 18, ifindex: 2 },
    },
  };
  const s = cannedStatus();
  const now = Date.now();
  assert.equal(formatData(s, { ...merged, now }), formatData(s, { ...hand, now }));
  assert.equal(formatJson(s, merged), formatJson(s, hand));
});

test('dump details: non-default settings show up in the data dump', () => {
  const r = parseConfigText(
    'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n advert_int 1\n nopreempt\n garp_master_delay 2\n garp_master_repeat 3\n' +
      ' unicast_src_ip 192.0.2.11\n unicast_peer {\n 192.0.2.12\n }\n virtual_ipaddress {\n 192.0.2.100/24\n }\n}\n',
  );
  assert.ok(r.usable, JSON.stringify(r.diagnostics));
  const s = cannedStatus();
  s.instances = [{ ...s.instances[0]!, name: 'VI_1' }];
  const text = formatData(s, dumpDetailsFromConfig(r.config));
  assert.match(text, /^ {3}Preempt = disabled$/m);
  assert.match(text, /^ {3}Gratuitous ARP delay = 2$/m);
  assert.match(text, /^ {3}Gratuitous ARP repeat = 3$/m);
  assert.match(text, /^ {5}Using unicast$/m);
  assert.match(text, /\(from configuration\)/);
});

test('vipd run\'s dump details: the running file when it parses cleanly, the master priority when the status has it', async () => {
  const { dumpDetailsFor } = await import('../../src/cli/run-control.js');
  const { FakeDaemon } = await import('./fake-daemon.js');
  const d = new FakeDaemon();
  const base = d.status();
  // The file the daemon runs is read at each signal.
  const conf = join(FIX, 'keepalived-a.conf');
  const withFile = { ...base, configFile: conf, instances: base.instances.map((i) => ({ ...i, masterPriority: i.name === 'VI_6' ? 120 : null })) };
  d.status = () => withFile;
  const det = dumpDetailsFor(d);
  assert.equal(det.routerId, 'vipd_dump_a');
  assert.equal(det.instances!.VI_1!.authPass, 's3cret');
  assert.equal(det.instances!.VI_1!.masterPriority, undefined);
  assert.equal(det.instances!.VI_6!.masterPriority, 120);
  // A configuration given by the daemon wins over the file; a broken file gives no configuration details.
  const other = parseConfigText('global_defs {\n router_id from_daemon\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n 192.0.2.1/24\n }\n}\n').config;
  assert.equal(dumpDetailsFor(d, { currentConfig: () => other }).routerId, 'from_daemon');
  const dir = mkdtempSync(join(tmpdir(), 'vipd-dd-'));
  try {
    writeFileSync(join(dir, 'k.conf'), 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 300\n}\n');
    d.status = () => ({ ...base, configFile: join(dir, 'k.conf') });
    const broken = dumpDetailsFor(d);
    assert.equal(broken.routerId, undefined, 'no configuration details from a broken file');
    assert.deepEqual(broken.instances ?? {}, { VI_6: { masterPriority: 200 } }, 'only what the status itself says');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
