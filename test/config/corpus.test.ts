/**
 * Every sample configuration shipped with keepalived (../shared/corpus/keepalived-samples) parses, and gives the
 * instances, VIPs, priorities and sync groups its text describes. Where a sample has real problems, the expected
 * error lines are listed with the reason; keepalived -t reports the same ones (see oracle.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/parser.js';
import { checkExitCode } from '../../src/config/diagnostics.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus', 'keepalived-samples');

type Inst = [name: string, iface: string | null, vrid: number, priority: number, state: string, version: number, advert: number, vips: string[]];
interface Expect {
  instances: Inst[];
  groups: [string, string[]][];
  errorLines: number[];
  why?: string;
}

// Written out from the samples' text (instance by instance); `-i none` so no @id line is selected.
const EXPECTED: Record<string, Expect> = {
'keepalived.conf.HTTP_GET.port': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.IPv6': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.PING_CHECK': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.SMTP_CHECK': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.SSL_GET': {"instances": [["VI_1", "eth0", 51, 100, "BACKUP", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]]], "groups": [], "errorLines": [19], "why": "state MASTER with AH authentication: keepalived -t reports the same (line 19 is the authentication block)"},
  'keepalived.conf.SYNOPSIS.txt': {"instances": [], "groups": [], "errorLines": [1, 2, 3, 5], "why": "a grammar summary, not a configuration: keepalived -t reports unknown keywords on the same lines 1, 2, 3, 5"},
  'keepalived.conf.UDP_CHECK': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.conditional_conf': {"instances": [["VI_0", "eth0", 1, 100, "BACKUP", 3, 12, ["10.1.0.254/32"]]], "groups": [], "errorLines": [6, 25], "why": "without -i high/low the vrrp_script has no script line; keepalived -t reports both problems too"},
  'keepalived.conf.docker': {"instances": [["VI_1", "eth0", 127, 100, "BACKUP", 2, 1, ["10.247.254.2/32"]]], "groups": [], "errorLines": []},
  'keepalived.conf.fwmark': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.inhibit': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.misc_check': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.misc_check_arg': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.quorum': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.sample': {"instances": [["VI_1", "eth0", 50, 100, "BACKUP", 2, 1, ["192.168.200.11/32", "192.168.200.12/32", "192.168.200.13/32"]]], "groups": [], "errorLines": []},
  'keepalived.conf.status_code': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.stock': {"instances": [["VI_1", "eth0", 51, 100, "BACKUP", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]]], "groups": [], "errorLines": [19, 25], "why": "vrrp_strict with state MASTER/priority 100 and authentication: keepalived -t reports both"},
  'keepalived.conf.track_interface': {"instances": [["VI_1", "eth0.1", 51, 100, "MASTER", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]]], "groups": [], "errorLines": [31], "why": "a virtual_route without dev: keepalived -t reports 'cannot track route' on line 31 too"},
  'keepalived.conf.virtual_server_group': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.virtualhost': {"instances": [], "groups": [], "errorLines": []},
  'keepalived.conf.vrrp': {"instances": [["VI_1", "eth0", 51, 100, "MASTER", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]], ["VI_2", "eth0", 50, 50, "BACKUP", 2, 1, ["192.168.200.13/32", "192.168.200.14/32", "192.168.200.15/32"]], ["VI_3", "eth1", 52, 100, "MASTER", 2, 1, ["192.168.201.13/32", "192.168.201.14/32", "192.168.201.15/32"]], ["VI_4", "eth1", 53, 50, "BACKUP", 2, 1, ["192.168.201.16/32", "192.168.201.17/32", "192.168.201.18/32"]]], "groups": [], "errorLines": []},
  'keepalived.conf.vrrp.localcheck': {"instances": [["VI_1", "eth0", 51, 100, "MASTER", 2, 1, ["192.168.200.18/25"]], ["VI_2", "eth1", 52, 100, "MASTER", 2, 1, ["192.168.201.18/26"]], ["VI_3", "eth0", 53, 100, "BACKUP", 2, 1, ["192.168.200.19/27"]], ["VI_4", "eth1", 54, 100, "BACKUP", 2, 1, ["192.168.201.19/28"]], ["VI_5", "eth0", 55, 100, "MASTER", 2, 1, ["192.168.200.20/27"]], ["VI_6", "eth0", 56, 100, "MASTER", 2, 1, ["192.168.200.21/27"]], ["VI_7", "eth0", 57, 100, "MASTER", 2, 1, ["192.168.200.22/27"]], ["VI_8", "eth0", 58, 100, "MASTER", 2, 1, ["192.168.200.23/27"]], ["VI_9", "eth0", 59, 100, "MASTER", 2, 1, ["192.168.200.24/27"]]], "groups": [], "errorLines": []},
  'keepalived.conf.vrrp.lvs_syncd': {"instances": [["VI_1", "eth0", 51, 150, "MASTER", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]], ["VI_2", "eth0", 52, 100, "BACKUP", 2, 1, ["192.168.200.19/32", "192.168.200.20/32", "192.168.200.21/32"]], ["VI_3", "eth1", 53, 100, "BACKUP", 2, 1, ["192.168.201.19/32", "192.168.201.20/32", "192.168.201.21/32"]]], "groups": [], "errorLines": [3, 4, 5], "why": "instances listed directly in vrrp_sync_group (no group { }): keepalived -t reports the same"},
  'keepalived.conf.vrrp.routes': {"instances": [["VI_1", "eth0", 51, 100, "MASTER", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]]], "groups": [], "errorLines": [29, 30, 31, 32], "why": "routes without dev (lines 29-32): keepalived -t reports 'cannot track route' for each"},
  'keepalived.conf.vrrp.rules': {"instances": [["VI_1", "eth0", 51, 100, "MASTER", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]]], "groups": [], "errorLines": [10, 11, 25, 26], "why": "rules without priority and '192.168.100./24' typos: keepalived -t reports the same lines"},
  'keepalived.conf.vrrp.scripts': {"instances": [["VI_1", "eth0", 51, 100, "MASTER", 2, 1, ["192.168.200.16/32", "192.168.200.17/32", "192.168.200.18/32"]], ["VI_2", "eth0", 52, 150, "MASTER", 2, 1, ["192.168.200.100/27"]], ["VI_3", "eth0", 53, 150, "MASTER", 2, 1, ["192.168.200.101/27"]]], "groups": [["G1", ["VI_2", "VI_3"]]], "errorLines": []},
  'keepalived.conf.vrrp.static_ipaddress': {"instances": [["VI_1", "eth0", 51, 100, "MASTER", 2, 1, ["192.168.200.20/32"]]], "groups": [], "errorLines": [25], "why": "a virtual_route without dev: keepalived -t reports it too"},
  'keepalived.conf.vrrp.sync': {"instances": [["VI_1", "eth0", 51, 100, "MASTER", 2, 1, ["192.168.200.18/25"]], ["VI_2", "eth1", 52, 100, "MASTER", 2, 1, ["192.168.201.18/26"]], ["VI_3", "eth0", 53, 100, "BACKUP", 2, 1, ["192.168.200.19/27"]], ["VI_4", "eth1", 54, 100, "BACKUP", 2, 1, ["192.168.201.19/28"]], ["VI_5", "eth0", 55, 100, "MASTER", 2, 1, ["192.168.200.20/27"]], ["VI_6", "eth0", 56, 100, "MASTER", 2, 1, ["192.168.200.21/27"]], ["VI_7", "eth0", 57, 100, "MASTER", 2, 1, ["192.168.200.22/27"]], ["VI_8", "eth0", 58, 100, "MASTER", 2, 1, ["192.168.200.23/27"]], ["VI_9", "eth0", 59, 100, "MASTER", 2, 1, ["192.168.200.24/27"]]], "groups": [["G1", ["VI_1", "VI_2", "VI_5", "VI_6", "VI_7", "VI_8", "VI_9"]], ["G2", ["VI_3", "VI_4"]]], "errorLines": []},
};

const skip = existsSync(CORPUS) ? false : `corpus not found at ${CORPUS}`;

test('every corpus file has an expectation', { skip }, () => {
  const files = readdirSync(CORPUS).filter((f) => f.startsWith('keepalived.conf'));
  assert.ok(files.length >= 20);
  for (const f of files) assert.ok(EXPECTED[f], `no expectation for ${f}`);
});

for (const [file, exp] of Object.entries(EXPECTED)) {
  test(`corpus ${file}`, { skip }, () => {
    const r = parseConfig(join(CORPUS, file), { instanceId: 'none' });
    const got: Inst[] = r.config.instances.map((i) => [i.name, i.interface, i.virtualRouterId, i.priority, i.state, i.version, i.advertInterval, i.vips.map((v) => v.text)]);
    assert.deepEqual(got, exp.instances);
    assert.deepEqual(r.config.syncGroups.map((g) => [g.name, g.instances]), exp.groups);
    const errLines = [...new Set(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.line))].sort((a, b) => a - b);
    assert.deepEqual(errLines, exp.errorLines, r.diagnostics.map((d) => `${d.line}: ${d.message}`).join('\n'));
    assert.equal(checkExitCode(r), exp.errorLines.length ? 4 : 0);
    for (const d of r.diagnostics) assert.ok(d.file.endsWith(file) && d.line > 0, `diagnostic without a position: ${JSON.stringify(d)}`);
  });
}

test('corpus conditional_conf with -i high and -i low selects the @id lines', { skip }, () => {
  const high = parseConfig(join(CORPUS, 'keepalived.conf.conditional_conf'), { instanceId: 'high' });
  const low = parseConfig(join(CORPUS, 'keepalived.conf.conditional_conf'), { instanceId: 'low' });
  assert.deepEqual(high.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(low.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.equal(high.config.instances[0]!.priority, 170);
  assert.equal(low.config.instances[0]!.priority, 85);
  assert.equal(high.config.scripts[0]!.script, '/etc/keepalived/scripts/check_high_VI_0.sh');
  assert.equal(low.config.scripts[0]!.script, '/etc/keepalived/scripts/check_low_VI_0.sh');
  assert.equal(high.config.global.netNamespace, 'high');
  const vi = high.config.instances[0]!;
  assert.equal(vi.useVmac, 'vrrp.1');
  assert.equal(vi.advertIntervalCs, 1200);
  assert.deepEqual(vi.trackScripts.map((t) => [t.name, t.weight]), [['check_VI_0', 0]]);
  assert.deepEqual(vi.trackInterfaces.map((t) => [t.name, t.weight]), [['eth3', 0], ['eth2', 20]]);
  assert.equal(high.config.scripts[0]!.rise, 3);
  assert.equal(high.config.scripts[0]!.timeout, 10);
});
