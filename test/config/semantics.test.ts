/** keepalived's defaults and corrections, as the model must carry them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, interfaceDiagnostics } from '../../src/config/parser.js';
import { checkExitCode, formatDiagnostic } from '../../src/config/diagnostics.js';

function one(body: string, pre = '', vips = '192.0.2.1') {
  const text = `${pre}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n${body}\n virtual_ipaddress {\n ${vips}\n }\n}\n`;
  const r = parseConfigText(text, '/virtual/k.conf', { instanceId: 'h' });
  return { r, i: r.config.instances[0]!, errors: r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message) };
}

test('defaults of a minimal instance', () => {
  const { i, errors, r } = one('');
  assert.deepEqual(errors, []);
  assert.equal(checkExitCode(r), 0);
  assert.equal(i.priority, 100);
  assert.equal(i.state, 'BACKUP');
  assert.equal(i.version, 2);
  assert.equal(i.family, 4);
  assert.equal(i.advertInterval, 1);
  assert.equal(i.advertIntervalCs, 100);
  assert.equal(i.preempt, true);
  assert.equal(i.preemptDelay, 0);
  assert.equal(i.useVmac, false);
  assert.equal(i.accept, true);
  assert.equal(i.auth, null);
  assert.equal(i.downTimerAdverts, 3);
  assert.deepEqual(i.vips.map((v) => v.text), ['192.0.2.1/32']);
  assert.deepEqual(i.garp, { masterDelay: 5, masterRepeat: 5, masterRefresh: 0, masterRefreshRepeat: 1, lowerPrioDelay: 5, lowerPrioRepeat: 5, garpInterval: 0, gnaInterval: 0, extraIf: null });
  assert.deepEqual(i.src, { file: '/virtual/k.conf', line: 2 });
});

test('state MASTER without priority means 255; with a priority keeps it', () => {
  assert.equal(one(' state MASTER').i.priority, 255);
  assert.equal(one(' state MASTER\n priority 150').i.priority, 150);
  assert.equal(one(' priority 150\n state MASTER').i.priority, 150);
});

test('v2 rounds advert_int to whole seconds with an error; v3 keeps centiseconds', () => {
  const v2 = one(' advert_int 1.5');
  assert.equal(v2.i.advertInterval, 2);
  assert.match(v2.errors[0]!, /whole number.*rounded to 2/);
  const v3 = one(' version 3\n advert_int 0.35');
  assert.deepEqual(v3.errors, []);
  assert.equal(v3.i.advertInterval, 0.35);
  assert.equal(v3.i.advertIntervalCs, 35);
  const big = one(' version 3\n advert_int 41');
  assert.equal(big.i.advertIntervalCs, 4095);
  assert.equal(big.errors.length, 1);
  assert.equal(one(' advert_int 0.3').i.advertInterval, 1);
});

test('version comes from vrrp_version, IPv6 forces 3 and /128', () => {
  assert.equal(one('', 'global_defs {\n vrrp_version 3\n}').i.version, 3);
  const six = one('', '', '2001:DB8::1');
  assert.equal(six.i.version, 3);
  assert.equal(six.i.family, 6);
  assert.deepEqual(six.i.vips.map((v) => [v.text, v.nodad, v.preferredLft]), [['2001:db8::1/128', true, 0]]);
  assert.equal(one(' version 2', '', '2001:db8::1').i.version, 3);
});

test('nopreempt with state MASTER or priority 255 is dropped with a diagnostic', () => {
  const a = one(' state MASTER\n nopreempt');
  assert.equal(a.i.preempt, true);
  assert.match(a.errors[0]!, /nopreempt is incompatible/);
  const b = one(' priority 255\n nopreempt');
  assert.equal(b.i.preempt, true);
  const c = one(' priority 90\n nopreempt');
  assert.equal(c.i.preempt, false);
  assert.deepEqual(c.errors, []);
});

test('authentication: PASS kept for v2, truncated to 8, ignored for v3', () => {
  assert.deepEqual(one(' authentication {\n auth_type PASS\n auth_pass abc\n }').i.auth?.pass, 'abc');
  const long = one(' authentication {\n auth_type PASS\n auth_pass 0123456789\n }');
  assert.equal(long.i.auth?.pass, '01234567');
  assert.equal(long.errors.length, 1);
  const v3 = one(' version 3\n authentication {\n auth_type PASS\n auth_pass abc\n }');
  assert.equal(v3.i.auth, null);
  assert.match(v3.errors[0]!, /VRRPv3 does not support authentication/);
});

test('vrrp_strict corrections', () => {
  const s = one(' state MASTER\n priority 100\n preempt_delay 5\n accept\n authentication {\n auth_type PASS\n auth_pass x\n }', 'global_defs {\n vrrp_strict\n}');
  assert.equal(s.i.strict, true);
  assert.equal(s.i.state, 'BACKUP');
  assert.equal(s.i.auth, null);
  assert.equal(s.i.preemptDelay, 0);
  assert.equal(s.i.accept, false);
  assert.equal(s.i.lowerPrioNoAdvert, true);
  assert.equal(s.errors.length, 4, s.errors.join('\n'));
  const owner = one(' state MASTER', 'global_defs {\n vrrp_strict\n}');
  assert.equal(owner.i.accept, true);
  assert.deepEqual(owner.errors, []);
});

test('VIP options and prefix defaults', () => {
  const { i, errors } = one('', '', '192.0.2.5/24 brd + dev eth1 scope link label eth1:v\n 192.0.2.6 no_track');
  assert.deepEqual(errors, []);
  assert.deepEqual(
    i.vips.map((v) => [v.text, v.brd, v.dev, v.scope, v.label, v.noTrack]),
    [['192.0.2.5/24', '+', 'eth1', 'link', 'eth1:v', false], ['192.0.2.6/32', null, null, null, null, true]],
  );
});

test('scripts: defaults, weights inherited by track_script unless overridden', () => {
  const pre = 'vrrp_script a {\n script "/bin/check x"\n weight -20\n}\nvrrp_script b {\n script /bin/true\n interval 3\n}';
  const { r, i, errors } = one(' track_script {\n a\n b weight 5 reverse\n }', pre);
  assert.deepEqual(errors, []);
  const [a, b] = r.config.scripts;
  assert.deepEqual([a!.interval, a!.timeout, a!.rise, a!.fall, a!.weight, a!.argv], [1, 1, 1, 1, -20, ['/bin/check', 'x']]);
  assert.deepEqual([b!.interval, b!.timeout, b!.weight], [3, 3, 0]);
  assert.deepEqual(i.trackScripts.map((t) => [t.name, t.weight, t.reverse]), [['a', -20, false], ['b', 5, true]]);
});

test('use_vmac: default name vrrp.VRID, unicast forces vmac_xmit_base', () => {
  assert.equal(one(' use_vmac').i.useVmac, 'vrrp.7');
  assert.equal(one(' use_vmac').i.vmacXmitBase, false);
  assert.equal(one(' use_vmac myvmac').i.useVmac, 'myvmac');
  const u = one(' use_vmac\n unicast_peer {\n 192.0.2.9\n }');
  assert.equal(u.i.vmacXmitBase, true);
  assert.deepEqual(u.i.unicastPeers.map((p) => p.address), ['192.0.2.9']);
});

test('global garp defaults apply to instances; instance values override', () => {
  const { i } = one(' garp_master_repeat 2', 'global_defs {\n vrrp_garp_master_delay 9\n vrrp_garp_master_refresh 30\n}');
  assert.equal(i.garp.masterDelay, 9);
  assert.equal(i.garp.masterRefresh, 30);
  assert.equal(i.garp.masterRepeat, 2);
  assert.equal(i.garp.lowerPrioDelay, 9);
});

test('every error names file:line and the keyword', () => {
  const { r } = one(' priority 999\n bogus_word 1');
  const lines = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  assert.deepEqual(lines, [
    "/virtual/k.conf:5: 'priority': 999 is outside the range 1-255; ignored",
    "/virtual/k.conf:6: unknown keyword 'bogus_word' in vrrp_instance VI_1; ignored",
  ]);
});

test('duplicate VRID: same interface and family is an error, different mcast_dst_ip is not', () => {
  const two = (extra: string) =>
    parseConfigText(
      `vrrp_instance A {\n interface eth0\n virtual_router_id 5\n virtual_ipaddress {\n 192.0.2.1\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 5\n${extra}\n virtual_ipaddress {\n 192.0.2.2\n }\n}\n`,
      'k.conf',
    );
  const dup = two('');
  assert.deepEqual(dup.config.instances.map((i) => i.name), ['A']);
  assert.match(dup.diagnostics[0]!.message, /both use VRID 5/);
  assert.equal(dup.diagnostics[0]!.line, 8);
  assert.equal(two(' mcast_dst_ip 224.0.0.100').config.instances.length, 2);
});

test('LVS blocks are skipped with one notice', () => {
  const r = parseConfigText('virtual_server 192.0.2.1 80 {\n real_server 192.0.2.2 80 {\n weight 1\n }\n}\nvirtual_server_group G {\n 192.0.2.1 80\n}\n', 'k.conf');
  assert.equal(r.config.hasLvs, true);
  assert.deepEqual(r.diagnostics.map((d) => [d.severity, d.line]), [['notice', 1]]);
  assert.match(r.diagnostics[0]!.message, /VRRP only/);
});

test('interfaceDiagnostics: every interface named is checked, VMACs the instances create are not', () => {
  const r = parseConfigText(
    'vrrp_instance A {\n interface eth0\n virtual_router_id 1\n use_vmac vm1\n track_interface {\n eth7\n vm1\n }\n virtual_ipaddress {\n 192.0.2.1 dev eth8\n }\n virtual_routes {\n 203.0.113.0/24 dev eth9\n }\n}\n',
    'k.conf',
  );
  const asked: string[] = [];
  const d = interfaceDiagnostics(r.config, (n) => {
    asked.push(n);
    return n === 'eth0';
  });
  assert.deepEqual(asked.sort(), ['eth0', 'eth7', 'eth8', 'eth9']);
  assert.deepEqual(d.map((x) => [x.line, x.message]), [
    [6, 'vrrp_instance A track_interface: interface eth7 does not exist'],
    [10, 'vrrp_instance A 192.0.2.1: interface eth8 does not exist'],
    [13, 'vrrp_instance A 203.0.113.0/24 dev eth9: interface eth9 does not exist'],
  ]);
});
