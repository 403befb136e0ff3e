/**
 * `vipd doctor`: the pure analyses (capabilities, nftables rules, adverts heard), then the whole command run inside
 * network namespaces (`ip netns exec vipd-doc-… ./bin/vipd doctor -f CONF --json`) against a peer running vipd:
 * a clean setup reports no WARN/FAIL; bad rp_filter / arp_ignore, snooping on a bridge, a foreign router on our
 * VRID, and firewalls dropping protocol 112 are found.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  analyzeAdverts,
  analyzeDaemons,
  configFileOf,
  analyzeNftRules,
  checkCapabilities,
  parseCapEff,
  type Finding,
  type HeardAdvert,
  type NftChainInfo,
  type NftRuleSummary,
} from '../../src/linux/doctor.js';
import { parseConfigText } from '../../src/config/index.js';
import { Lab, haveCommand, netnsUnavailableReason, uniqueNsName, waitFor } from '../helpers/netns.js';

const BIN = join(process.cwd(), 'bin', 'vipd');

test('doctor: capabilities from CapEff', () => {
  assert.equal(parseCapEff('Name:\tx\nCapEff:\t000001ffffffffff\n'), 0x1ffffffffffn);
  assert.equal(parseCapEff('nothing'), null);
  assert.equal(checkCapabilities('CapEff:\t0000000000003000\n')[0]!.level, 'OK');
  const only = checkCapabilities('CapEff:\t0000000000001000\n')[0]!; // NET_ADMIN, no NET_RAW
  assert.equal(only.level, 'FAIL');
  assert.match(only.message, /CAP_NET_RAW/);
  assert.doesNotMatch(only.message, /CAP_NET_ADMIN/);
  assert.match(only.fix ?? '', /AmbientCapabilities/);
});

test('doctor: nftables analysis (policy drop, VRRP accept / drop, drop-all, conditional rules, vipd table skipped)', () => {
  const chain = (policy: number, table = 't', family = 1): NftChainInfo => ({ family, table, name: 'input', hook: 1, priority: 0, policy, type: 'filter' });
  const rule = (r: Partial<NftRuleSummary>, table = 't', family = 1): NftRuleSummary => ({
    family,
    table,
    chain: 'input',
    matchesVrrp: false,
    otherMatches: 0,
    verdict: 'continue',
    ...r,
  });
  const lv = (fs: Finding[]) => fs.map((x) => x.level);
  assert.deepEqual(lv(analyzeNftRules([chain(0)], [], [4])), ['FAIL']);
  assert.deepEqual(lv(analyzeNftRules([chain(0)], [rule({ matchesVrrp: true, verdict: 'accept' })], [4])), ['OK']);
  assert.deepEqual(lv(analyzeNftRules([chain(1)], [rule({ matchesVrrp: true, verdict: 'drop' })], [4])), ['FAIL']);
  assert.deepEqual(lv(analyzeNftRules([chain(1)], [rule({ verdict: 'drop' })], [4])), ['FAIL']);
  assert.deepEqual(lv(analyzeNftRules([chain(0)], [rule({ otherMatches: 2, verdict: 'accept' })], [4])), ['WARN']);
  assert.deepEqual(lv(analyzeNftRules([chain(1)], [rule({ otherMatches: 1, verdict: 'drop' })], [4])), ['OK']);
  // vipd's own table and families not in use are not looked at.
  assert.deepEqual(lv(analyzeNftRules([chain(0, 'vipd')], [], [4])), ['OK']);
  assert.deepEqual(lv(analyzeNftRules([chain(0, 't', 10)], [], [4])), ['OK']);
  assert.deepEqual(lv(analyzeNftRules([chain(0, 't', 10)], [], [6])), ['FAIL']);
});

test('doctor: adverts heard against the configuration', () => {
  const { config } = parseConfigText(
    'vrrp_instance A {\n interface eth0\n version 3\n virtual_router_id 51\n priority 150\n advert_int 1\n virtual_ipaddress {\n 192.0.2.100/24\n }\n}\n',
  );
  const adv = (src: string, vrid: number, addresses: string[], priority = 100): HeardAdvert => ({
    ifname: 'eth0',
    family: 4,
    src,
    ttl: 255,
    count: 3,
    advert: { version: 3, family: 4, vrid, priority, interval: 100, addresses, authType: 0, authData: new Uint8Array(0) },
  });
  const by = (fs: Finding[], re: RegExp) => fs.filter((x) => re.test(x.message));
  let r = analyzeAdverts(config, [], [], 3);
  assert.deepEqual(r.map((x) => x.level), ['OK']);
  r = analyzeAdverts(config, [adv('192.0.2.12', 51, ['192.0.2.100'])], [], 3);
  assert.deepEqual(r.map((x) => x.level), ['OK']);
  assert.match(r[0]!.message, /peer 192\.0\.2\.12 .*agrees/);
  r = analyzeAdverts(config, [adv('192.0.2.12', 51, ['192.0.2.100'], 150)], [], 3);
  assert.equal(r[0]!.level, 'WARN'); // same priority
  r = analyzeAdverts(config, [adv('192.0.2.12', 51, ['192.0.2.200'])], [], 3);
  assert.equal(r[0]!.level, 'FAIL');
  assert.match(r[0]!.message, /another router uses this VRID differently/);
  // Two masters with different addresses on one VRID: a duplicate VRID; same addresses: two masters.
  r = analyzeAdverts(null, [adv('192.0.2.12', 60, ['192.0.2.1']), adv('192.0.2.13', 60, ['192.0.2.2'])], [], 3);
  assert.equal(by(r, /duplicate VRID/)[0]?.level, 'FAIL');
  r = analyzeAdverts(null, [adv('192.0.2.12', 60, ['192.0.2.1']), adv('192.0.2.13', 60, ['192.0.2.1'])], [], 3);
  assert.equal(by(r, /advertise as master at once/)[0]?.level, 'WARN');
  r = analyzeAdverts(null, [], [{ ifname: 'eth0', family: 4, src: '192.0.2.9', reason: 'ttl', detail: 'TTL/hop limit 64, expected 255', count: 2 }], 3);
  assert.equal(r[0]!.level, 'WARN');
  assert.match(r[0]!.message, /2 VRRP packets from 192\.0\.2\.9 rejected \(ttl/);
});

test('doctor: other daemons: the configuration they run, shared VRIDs', () => {
  assert.equal(configFileOf(['-n', '-f', 'k.conf', '-D'], '/etc/x'), '/etc/x/k.conf');
  assert.equal(configFileOf(['--use-file=/a.conf'], '/'), '/a.conf');
  assert.equal(configFileOf(['-f/b.conf'], null), '/b.conf');
  assert.equal(configFileOf(['-n'], '/'), '/etc/keepalived/keepalived.conf');
  const conf = (vrid: number, name = 'X') =>
    parseConfigText(`vrrp_instance ${name} {\n interface eth0\n virtual_router_id ${vrid}\n priority 100\n virtual_ipaddress {\n 192.0.2.1/24\n }\n}\n`).config;
  const ours = { file: '/etc/vipd.conf', config: conf(51, 'VI_1') };
  const load = (f: string) => (f === '/other.conf' ? conf(51, 'OTHER') : f === '/else.conf' ? conf(60) : null);
  assert.deepEqual(analyzeDaemons(ours, [], load).map((x) => x.level), ['OK']);
  let r = analyzeDaemons(ours, [{ kind: 'vipd', pids: [10], configFile: '/etc/vipd.conf' }], load);
  assert.equal(r[0]!.level, 'OK');
  assert.match(r[0]!.message, /runs this configuration/);
  r = analyzeDaemons(ours, [{ kind: 'keepalived', pids: [11, 12], configFile: '/other.conf' }], load);
  assert.equal(r[0]!.level, 'FAIL');
  assert.match(r[0]!.message, /keepalived \(pid 11, 12, \/other\.conf\) also runs VRID 51 IPv4 on eth0 \(its OTHER, our VI_1\)/);
  assert.equal(analyzeDaemons(ours, [{ kind: 'keepalived', pids: [13], configFile: '/else.conf' }], load)[0]!.level, 'OK');
  assert.equal(analyzeDaemons(ours, [{ kind: 'keepalived', pids: [13], configFile: '/unreadable' }], load)[0]!.level, 'WARN');
  assert.equal(analyzeDaemons(null, [{ kind: 'keepalived', pids: [13], configFile: '/else.conf' }], load)[0]!.level, 'WARN');
});

// ------------------------------------------------------------------------------------------------ namespaces

const nsSkip = netnsUnavailableReason() ?? (haveCommand('nft') ? undefined : 'doctor namespace test needs nft (apt-get install nftables); skipped');

interface DoctorJson {
  findings: Finding[];
  summary: { ok: number; warn: number; fail: number };
}

function doctor(ns: string, conf: string, extra: string[] = []): { code: number | null; json: DoctorJson; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, BIN, 'doctor', '-f', conf, '--json', '--listen', '1', ...extra], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  let json: DoctorJson;
  try {
    json = JSON.parse(r.stdout) as DoctorJson;
  } catch {
    throw new Error(`doctor output is not JSON (code ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.status, json, stderr: r.stderr };
}

const V3 = 'global_defs {\n vrrp_version 3\n}\n';
const show = (j: DoctorJson) => j.findings.map((x) => `${x.level} ${x.check} ${x.message}`).join('\n');
const find = (j: DoctorJson, check: string, re: RegExp = /./) => j.findings.filter((x) => x.check === check && re.test(x.message));

test('doctor in namespaces: clean setup is all OK; rp_filter, arp_ignore, snooping, foreign VRID and firewall are found', { skip: nsSkip, timeout: 120_000 }, async () => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'vipd-doc-'));
  chmodSync(dir, 0o755); // readable by the unprivileged run
  let peer: ChildProcess | null = null;
  try {
    const a = lab.addNs(uniqueNsName('doc'));
    const b = lab.addNs(uniqueNsName('doc'));
    for (const ns of [a, b]) {
      lab.ns(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
      lab.ns(ns, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
    }
    lab.veth(a, 'eth0', b, 'eth0');
    lab.ip(a, 'addr add 192.0.2.11/24 dev eth0');
    lab.ip(b, 'addr add 192.0.2.12/24 dev eth0');
    // A bridge with multicast snooping in A (an IPv6 instance will live on it).
    lab.ip(a, 'link add br0 type bridge mcast_snooping 1');
    lab.ip(a, 'link add p0 type veth peer name p1');
    lab.ip(a, 'link set p0 master br0');
    lab.ip(a, 'link set p0 up');
    lab.ip(a, 'link set p1 up');
    lab.ip(a, 'link set br0 up');

    // The peer B runs vipd: VRID 51 (the same virtual router as A's) and VRID 52 (another one).
    const peerConf = join(dir, 'peer.conf');
    writeFileSync(
      peerConf,
      V3 +
        'vrrp_instance P1 {\n interface eth0\n virtual_router_id 51\n priority 100\n advert_int 0.2\n virtual_ipaddress {\n 192.0.2.100/24\n }\n}\n' +
        'vrrp_instance P2 {\n interface eth0\n virtual_router_id 52\n priority 100\n advert_int 0.2\n virtual_ipaddress {\n 192.0.2.200/24\n }\n}\n',
    );
    let log = '';
    peer = lab.spawnIn(b, process.execPath, [BIN, 'run', '-f', peerConf, '--control-socket', join(dir, 'peer.sock'), '--state-dir', dir]);
    peer.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    peer.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    assert.ok(
      await waitFor(() => /\(P1\) Entering MASTER STATE/.test(log) && /\(P2\) Entering MASTER STATE/.test(log), 10_000),
      `peer vipd became master:\n${log}`,
    );

    // 1. Clean: A's instance agrees with the peer on VRID 51; VRID 52 is noted as in use.
    const clean = join(dir, 'clean.conf');
    writeFileSync(clean, V3 + 'vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n advert_int 0.2\n virtual_ipaddress {\n 192.0.2.100/24\n }\n}\n');
    let r = doctor(a, clean);
    assert.equal(r.json.summary.fail + r.json.summary.warn, 0, show(r.json));
    assert.equal(r.code, 0);
    for (const c of ['config', 'capabilities', 'macvlan', 'rp_filter', 'arp', 'firewall', 'snooping', 'daemons', 'vrrp']) {
      assert.ok(find(r.json, c).length > 0, `check ${c} ran:\n${show(r.json)}`);
    }
    assert.equal(find(r.json, 'vrrp', /VRID 51 IPv4 on eth0 \(VI_1\): peer 192\.0\.2\.12 \(priority 100.*agrees/).length, 1, show(r.json));
    assert.equal(find(r.json, 'vrrp', /VRID 52 IPv4 on eth0: in use by 192\.0\.2\.12 .*192\.0\.2\.200/).length, 1, show(r.json));

    // 1b. Without root: the missing capabilities are a FAIL, what cannot be read is said, no stack trace.
    if (haveCommand('runuser')) {
      const u = spawnSync('ip', ['netns', 'exec', a, 'runuser', '-u', 'nobody', '--', process.execPath, BIN, 'doctor', '-f', clean, '--json', '--listen', '1'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(u.status, 1, u.stderr);
      assert.doesNotMatch(u.stderr, /\n\s+at /);
      const j = JSON.parse(u.stdout) as DoctorJson;
      assert.equal(find(j, 'capabilities')[0]?.level, 'FAIL', show(j));
      assert.equal(find(j, 'firewall', /cannot read the nftables ruleset: .*needs CAP_NET_ADMIN/)[0]?.level, 'WARN', show(j));
      assert.equal(find(j, 'vrrp', /cannot listen for adverts: .*CAP_NET_RAW/)[0]?.level, 'WARN', show(j));
      assert.ok(find(j, 'vrrp').every((x) => /cannot listen/.test(x.message)), `nothing claimed about adverts not listened for:\n${show(j)}`);
    }
    r = doctor(a, join(dir, 'missing.conf'), ['--listen', '0']);
    assert.equal(r.code, 1);
    assert.equal(find(r.json, 'config', /missing\.conf does not exist/)[0]?.level, 'FAIL', show(r.json));

    // 2. Problems: strict rp_filter with use_vmac, a VMAC whose rp_filter is on, arp_ignore 8, IPv6 on a snooping
    //    bridge, and VRID 52 configured with other addresses than the router already using it.
    lab.ns(a, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=1');
    lab.ns(a, 'sysctl', '-qw', 'net.ipv4.conf.eth0.arp_ignore=8');
    const bad = join(dir, 'bad.conf');
    writeFileSync(
      bad,
      V3 +
        'vrrp_instance VI_A {\n interface eth0\n virtual_router_id 52\n priority 150\n advert_int 0.2\n use_vmac vrrp.52\n virtual_ipaddress {\n 192.0.2.250/24\n }\n}\n' +
        'vrrp_instance VI_V {\n interface eth0\n virtual_router_id 54\n priority 150\n advert_int 0.2\n use_vmac vd54\n virtual_ipaddress {\n 192.0.2.54/24\n }\n}\n' +
        'vrrp_instance VI_6 {\n interface br0\n virtual_router_id 53\n priority 100\n advert_int 0.2\n virtual_ipaddress {\n 2001:db8:9::1/64\n }\n}\n',
    );
    // VI_V's VMAC exists (as while a daemon runs) and strict rp_filter applies to it.
    lab.ip(a, 'link add vd54 link eth0 type macvlan mode private');
    r = doctor(a, bad, ['--probe']);
    assert.equal(r.code, 1, show(r.json));
    const rp = find(r.json, 'rp_filter');
    assert.ok(rp.some((x) => x.level === 'FAIL' && /vd54 .*effective rp_filter 1/.test(x.message)), show(r.json));
    assert.ok(rp.every((x) => x.level !== 'OK'), show(r.json));
    assert.match(rp.find((x) => x.level === 'FAIL')!.fix ?? '', /rp_filter=0/);
    const arp = find(r.json, 'arp', /arp_ignore 8/);
    assert.equal(arp[0]?.level, 'FAIL', show(r.json));
    const snoop = find(r.json, 'snooping', /br0: multicast snooping on \(VI_6 IPv6\)/);
    assert.equal(snoop[0]?.level, 'WARN', show(r.json));
    assert.match(snoop[0]!.fix ?? '', /mcast_snooping 0/);
    const foreign = find(r.json, 'vrrp', /VRID 52 IPv4 on eth0 \(VI_A\): another router uses this VRID differently: 192\.0\.2\.12/);
    assert.equal(foreign[0]?.level, 'FAIL', show(r.json));
    assert.match(foreign[0]!.message, /advertises 192\.0\.2\.200, VI_A has 192\.0\.2\.250/);
    assert.ok(find(r.json, 'macvlan', /--probe: created and deleted the test macvlan vipdchk\d+ on eth0/).length === 1, show(r.json));
    assert.match(lab.ip(a, 'link show'), /vd54/);
    assert.doesNotMatch(lab.ip(a, 'link show'), /vipdchk/);
    lab.ip(a, 'link del vd54');
    lab.ns(a, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.eth0.arp_ignore=0');

    // 3. Firewalls: a drop policy without a VRRP rule is a FAIL (and nothing is heard); a VRRP accept rule fixes it;
    //    an explicit drop of protocol 112 is a FAIL.
    lab.ns(a, 'nft', 'add table inet doc');
    lab.ns(a, 'nft', 'add chain inet doc input { type filter hook input priority 0 ; policy drop ; }');
    r = doctor(a, clean);
    assert.equal(find(r.json, 'firewall', /inet doc input \(hook input\): policy drop and no rule accepting protocol 112/)[0]?.level, 'FAIL', show(r.json));
    assert.equal(find(r.json, 'vrrp', /peer 192\.0\.2\.12/).length, 0, show(r.json));
    lab.ns(a, 'nft', 'add rule inet doc input meta l4proto vrrp accept');
    r = doctor(a, clean);
    assert.equal(find(r.json, 'firewall', /inet doc input .*rule 1 accepts protocol 112/)[0]?.level, 'OK', show(r.json));
    assert.equal(find(r.json, 'vrrp', /peer 192\.0\.2\.12/).length, 1, show(r.json));
    lab.ns(a, 'nft', 'delete table inet doc');
    lab.ns(a, 'nft', 'add table ip doc');
    lab.ns(a, 'nft', 'add chain ip doc pre { type filter hook prerouting priority 0 ; }');
    lab.ns(a, 'nft', 'add rule ip doc pre ip protocol vrrp counter drop');
    r = doctor(a, clean);
    assert.equal(find(r.json, 'firewall', /ip doc pre \(hook prerouting\): rule 1 drops protocol 112/)[0]?.level, 'FAIL', show(r.json));
    assert.equal(r.code, 1);
    lab.ns(a, 'nft', 'delete table ip doc');

    // 4. Another daemon in A's namespace running VRID 51 on eth0 (as a second vipd); and vipd running our own file.
    const other = join(dir, 'other.conf');
    writeFileSync(other, V3 + 'vrrp_instance OTHER {\n interface eth0\n virtual_router_id 51\n priority 50\n advert_int 0.2\n virtual_ipaddress {\n 192.0.2.100/24\n }\n}\n');
    const local = lab.spawnIn(a, process.execPath, [BIN, 'run', '-f', other, '--control-socket', join(dir, 'a.sock'), '--state-dir', join(dir, 'a-state')]);
    let alog = '';
    local.stderr!.on('data', (c: Buffer) => (alog += c.toString()));
    assert.ok(await waitFor(() => /\(OTHER\) Entering BACKUP STATE/.test(alog), 10_000), alog);
    r = doctor(a, clean, ['--listen', '0']);
    const fight = find(r.json, 'daemons', /vipd \(pid \d+, .*other\.conf\) also runs VRID 51 IPv4 on eth0 \(its OTHER, our VI_1\)/);
    assert.equal(fight[0]?.level, 'FAIL', show(r.json));
    r = doctor(a, other, ['--listen', '0']);
    assert.equal(find(r.json, 'daemons', /runs this configuration/)[0]?.level, 'OK', show(r.json));
    process.kill(local.pid!, 'SIGTERM');
    await waitFor(() => local.exitCode !== null || local.signalCode !== null, 5_000);
  } finally {
    if (peer?.pid) {
      try {
        process.kill(peer.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      await waitFor(() => peer!.exitCode !== null || peer!.signalCode !== null, 3000);
    }
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
