/**
 * The keepalived dumps against files written by the real keepalived 2.2.7 (test/fixtures/keepalived-dumps/,
 * captured by capture.sh there from keepalived-a.conf). The status below describes the same two instances as
 * keepalived saw them, so the files must match line for line (apart from the clock and build-specific lines).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatData, formatJson, formatStats, writeDumps, type DumpDetails } from '../../src/control/dumps.js';
import type { DaemonStatus } from '../../src/daemon/api.js';
import { CANNED_DUMP_DETAILS, cannedStatus } from './fake-daemon.js';

const FIX = join(process.cwd(), 'test', 'fixtures', 'keepalived-dumps');
const fixture = (name: string) => readFileSync(join(FIX, name), 'utf8');

/** The fixture's instances as vipd's status. */
function fixtureStatus(): DaemonStatus {
  const s = cannedStatus();
  const [vi1, vi6] = s.instances as [DaemonStatus['instances'][0], DaemonStatus['instances'][0]];
  vi1.effectivePriority = 150;
  vi1.vips = ['192.0.2.100/24', '192.0.2.101/24 label eth0:1'];
  vi1.tracking = [{ kind: 'file', name: 'tf_maint', status: '0', weight: -10 }];
  vi1.lastTransition = { at: new Date(1795242811113.869).toISOString(), from: 'BACKUP', to: 'MASTER', reason: 'master_down_timer' };
  vi1.counters = { ...vi1.counters, advert_rcvd: 0, advert_sent: 3, become_master: 1, release_master: 0, auth_failure: 0 };
  vi6.lastTransition = { at: new Date(1795242811714.986).toISOString(), from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_advert' };
  vi6.counters = { ...vi6.counters, advert_rcvd: 6, advert_sent: 5, become_master: 1, release_master: 1 };
  return s;
}

const details: DumpDetails = CANNED_DUMP_DETAILS;

test('stats dump (SIGUSR2) is keepalived\'s, byte for byte', () => {
  assert.equal(formatStats(fixtureStatus()), fixture('keepalived.stats'));
});

test('JSON dump (SIGRTMIN+2): same keys in the same order, same values, keepalived\'s escaping', () => {
  const ours = formatJson(fixtureStatus(), details);
  const theirs = fixture('keepalived.json');
  assert.ok(!ours.endsWith('\n'), 'keepalived writes no trailing newline');
  assert.ok(ours.includes('"192.0.2.100\\/24 dev eth0 scope global set"'), "'/' is escaped as '\\/'");
  const a = JSON.parse(ours) as { data: Record<string, unknown>; stats: Record<string, unknown> }[];
  const b = JSON.parse(theirs) as typeof a;
  assert.equal(a.length, b.length);
  for (let n = 0; n < b.length; n++) {
    assert.deepEqual(Object.keys(a[n]!), Object.keys(b[n]!));
    assert.deepEqual(Object.keys(a[n]!.data), Object.keys(b[n]!.data), `data keys of ${b[n]!.data.iname}`);
    assert.deepEqual(Object.keys(a[n]!.stats), Object.keys(b[n]!.stats));
    // vipd's clock has millisecond resolution, keepalived's microseconds.
    assert.ok(Math.abs(Number(a[n]!.data.last_transition) - Number(b[n]!.data.last_transition)) < 0.001);
    assert.match(/"last_transition":([0-9.]+)/.exec(theirs)![1]!, /^\d+\.\d{6}$/);
    assert.match(/"last_transition":([0-9.]+)/.exec(ours)![1]!, /^\d+\.\d{6}$/);
    assert.deepEqual({ ...a[n]!.data, last_transition: 0 }, { ...b[n]!.data, last_transition: 0 });
  }
  // Counters: keepalived's stats were read a moment later than the text stats; compare names, not values.
  assert.equal(typeof a[1]!.stats.advert_rcvd, 'number');
});

/** Split a data dump into sections by its "------< X >------" headers. */
function sections(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  let cur = '';
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const h = /^------< (.*) >------$/.exec(line);
    if (h) m.set((cur = h[1]!), []);
    else m.get(cur)!.push(line);
  }
  return m;
}

/** Mask the clock: "Last transition = 1795242811.113869 (Sat ...)" and "Read timeout = ...". */
const maskClock = (l: string) => l.replace(/^(\s+(Last transition|Read timeout) = ).*$/, '$1<time>');
const label = (l: string) => l.replace(/ = .*$/, ' =');

test('data dump (SIGUSR1): keepalived\'s sections in order; topology, sockpool and track files line for line', () => {
  const ours = sections(formatData(fixtureStatus(), details));
  const theirs = sections(fixture('keepalived.data'));
  assert.deepEqual([...ours.keys()], [...theirs.keys()]);
  for (const name of ['VRRP Topology', 'VRRP Sockpool', 'VRRP Track files']) {
    assert.deepEqual(ours.get(name)!.map(maskClock), theirs.get(name)!.map(maskClock), name);
  }
  // The clock lines have keepalived's format.
  const lt = ours.get('VRRP Topology')!.find((l) => l.includes('Last transition'))!;
  assert.match(lt, /^ {3}Last transition = \d+\.\d{6} \(\w{3} \w{3} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4}\)$/);
  // Global definitions: keepalived's lines, minus its nftables build lines.
  const theirGlobal = theirs.get('Global definitions')!.filter((l) => !/^ (nftables|libnftnl)/.test(l));
  assert.deepEqual(ours.get('Global definitions'), theirGlobal);
  // Interfaces: what vipd knows is a subsequence of keepalived's lines (labels, indentation, order).
  const theirIf = theirs.get('Interfaces')!.map(label);
  let k = 0;
  for (const l of ours.get('Interfaces')!.map(label)) {
    while (k < theirIf.length && theirIf[k] !== l) k++;
    assert.ok(k < theirIf.length, `interface line "${l}" not in keepalived's order`);
    k++;
  }
});

test('data dump follows the status: state, master, VIPs, tracking', () => {
  const s = fixtureStatus();
  const vi6 = s.instances[1]!;
  vi6.state = 'MASTER';
  vi6.masterAddress = vi6.sourceAddress;
  s.instances[0]!.tracking.push({ kind: 'script', name: 'chk_web', status: 'down', weight: -30 });
  const t = formatData(s, details);
  const topo = sections(t).get('VRRP Topology')!;
  const vi6Lines = topo.slice(topo.indexOf(' VRRP Instance = VI_6'));
  assert.ok(vi6Lines.includes('   State = MASTER'));
  assert.ok(!vi6Lines.some((l) => l.includes('Master router')), 'no master router line when we are master');
  assert.ok(vi6Lines.includes('     2001:db8::100/64 dev eth0 scope global preferred_lft forever set'));
  assert.ok(topo.includes('   Tracked scripts :'));
  assert.ok(topo.includes('     chk_web, weight -30'));
  assert.ok(topo.includes('   Number of interface and track script faults = 1'));
});

test('writeDumps writes 0600 files at keepalived\'s names, replacing (not following) a planted symlink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-dumps-'));
  try {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, join(dir, 'keepalived.data'));
    const s = fixtureStatus();
    assert.equal(writeDumps('data', s, dir, details), join(dir, 'keepalived.data'));
    assert.equal(writeDumps('stats', s, dir), join(dir, 'keepalived.stats'));
    assert.equal(writeDumps('json', s, dir + '/', details), join(dir, 'keepalived.json'));
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assert.ok(lstatSync(join(dir, 'keepalived.data')).isFile());
    for (const f of ['keepalived.data', 'keepalived.stats', 'keepalived.json']) {
      assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    }
    assert.equal(readFileSync(join(dir, 'keepalived.stats'), 'utf8'), fixture('keepalived.stats'));
    assert.throws(() => writeDumps('stats', s, join(dir, 'missing')), /directory .*missing does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** keepalived-tracking.conf as vipd's status: a sync group, a tracked interface, VMAC with unicast. */
function trackingStatus(): { status: DaemonStatus; details: DumpDetails } {
  const s = cannedStatus();
  const base = s.instances[0]!;
  const common = {
    ...base,
    family: 4 as const,
    version: 2 as const,
    interface: 'eth0',
    state: 'MASTER' as const,
    basePriority: 100,
    effectivePriority: 100,
    masterAddress: '192.0.2.1',
    sourceAddress: '192.0.2.1',
    advertIntervalMs: 1000,
    masterAdverIntervalMs: 1000,
    masterDownIntervalMs: 3609.375,
    syncGroup: 'G1',
  };
  s.instances = [
    {
      ...common,
      name: 'VI_T',
      vrid: 61,
      vmac: null,
      vips: ['192.0.2.110/24'],
      tracking: [{ kind: 'interface', name: 'dum0', status: 'up', weight: 0 }],
      lastTransition: { at: new Date(1795243300137.665).toISOString(), from: 'BACKUP', to: 'MASTER', reason: 'master_down_timer' },
    },
    {
      ...common,
      name: 'VI_U',
      vrid: 62,
      vmac: 'vrrp.62',
      vips: ['192.0.2.120/24'],
      tracking: [],
      lastTransition: { at: new Date(1795243300122.755).toISOString(), from: 'BACKUP', to: 'MASTER', reason: 'master_down_timer' },
    },
  ];
  return {
    status: s,
    details: {
      routerId: 'vipd_dump_t',
      instances: {
        VI_T: { fdIn: 14, fdOut: 15 },
        VI_U: { fdIn: 16, fdOut: 17, unicastPeers: ['192.0.2.2'], srcFromConfig: true },
      },
    },
  };
}

test('data and JSON dumps: sync group, tracked interface, VMAC with unicast, as keepalived writes them', () => {
  const { status, details: det } = trackingStatus();
  const ours = sections(formatData(status, det));
  const theirs = sections(fixture('tracking.keepalived.data'));
  assert.deepEqual([...ours.keys()], [...theirs.keys()]);
  for (const name of ['VRRP Topology', 'VRRP Sockpool', 'VRRP Sync groups']) {
    assert.deepEqual(ours.get(name)!.map(maskClock), theirs.get(name)!.map(maskClock), name);
  }
  const a = JSON.parse(formatJson(status, det)) as { data: Record<string, unknown> }[];
  const b = JSON.parse(fixture('tracking.keepalived.json')) as typeof a;
  for (let n = 0; n < b.length; n++) {
    assert.deepEqual(Object.keys(a[n]!.data), Object.keys(b[n]!.data));
    assert.deepEqual({ ...a[n]!.data, last_transition: 0 }, { ...b[n]!.data, last_transition: 0 });
  }
});
