/**
 * keepalived as the oracle for the *model*: for every fixture both accept, keepalived is started (`-d` dumps its
 * configuration at startup) inside a vipd-* network namespace, stopped by PID as soon as the dump is complete, and
 * the instances it built are compared with vipd's model field by field: version, initial state, interface, VRID,
 * priority, advert interval, accept, preempt, VIPs (with dev/scope/label), unicast peers, GARP settings, down timer,
 * lower/higher-priority advert behaviour. Needs root and keepalived; skips with a message otherwise.
 */
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, haveCommand, netnsUnavailableReason, run, uniqueNsName } from '../helpers/netns.js';
import { loadFixtures, type Fixture } from './fixtures.js';
import { parseConfig } from '../../src/config/parser.js';
import type { KeepalivedConfig, VrrpInstance } from '../../src/config/model.js';

/** keepalived's version ("2.2.7"), or null. The fixtures' expectations are those of Debian 12's 2.2.7. */
function keepalivedVersion(): string | null {
  const r = spawnSync('keepalived', ['-v'], { encoding: 'utf8', timeout: 5000 });
  return /Keepalived v(\d+\.\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? null;
}

function skipReason(): string | false {
  const ns = netnsUnavailableReason();
  if (ns) return ns;
  if (!haveCommand('keepalived')) return 'keepalived is not installed (apt-get install keepalived); model comparison skipped';
  return false;
}
const skip = skipReason();

/** One object of keepalived's -d dump: its name, `Key = value` fields and indented lists (by their heading). */
interface KaObject {
  name: string;
  fields: Map<string, string>;
  lists: Map<string, string[]>;
}

interface KaDump {
  global: Map<string, string>;
  instances: KaObject[];
  groups: KaObject[];
  scripts: KaObject[];
  files: KaObject[];
  processes: KaObject[];
}

/** The VRRP Topology, Sync groups, Scripts and Track files sections of keepalived's -d dump. */
export function parseDump(log: string): KaDump {
  const lines = log.split('\n').map((l) => l.replace(/^\w{3} \w{3} +\d+ [\d:]+ \d{4}: /, ''));
  const section = (title: string, head: RegExp): KaObject[] => {
    const start = lines.findIndex((l) => l.includes(`------< ${title} >------`));
    if (start < 0) return [];
    const out: KaObject[] = [];
    let cur: KaObject | null = null;
    let list: string[] | null = null;
    for (let i = start + 1; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.startsWith('------<')) break;
      // Other log lines (state changes of the running instance) can interleave with the dump: skip them.
      if (!l.startsWith(' ')) continue;
      const h = head.exec(l);
      if (h) {
        cur = { name: h[1]!, fields: new Map(), lists: new Map() };
        out.push(cur);
        list = null;
        continue;
      }
      if (!cur) continue;
      if (/^ {5}\S/.test(l) && list) {
        list.push(l.trim());
        continue;
      }
      list = null;
      const lh = /^ {3}(.*?) ?(\(\d+\))? ?:$/.exec(l);
      if (lh) {
        list = [];
        cur.lists.set(lh[1]!, list);
        continue;
      }
      const kv = /^ {3}([^=]+?) = (.*)$/.exec(l);
      if (kv) cur.fields.set(kv[1]!, kv[2]!);
    }
    return out;
  };
  const global = new Map<string, string>();
  const gs = lines.findIndex((l) => l.includes('------< Global definitions >------'));
  for (let i = gs + 1; gs >= 0 && i < lines.length && !lines[i]!.startsWith('------<'); i++) {
    const kv = /^ ([^=]+?) = (.*)$/.exec(lines[i]!);
    if (kv) global.set(kv[1]!, kv[2]!);
  }
  return {
    global,
    instances: section('VRRP Topology', /^ VRRP Instance = (.*)$/),
    groups: section('VRRP Sync groups', /^ VRRP Sync Group = ([^,]*)/),
    scripts: section('VRRP Scripts', /^ VRRP Script = (.*)$/),
    files: section('VRRP Track files', /^ Track file = (.*)$/),
    processes: section('VRRP Track processes', /^ VRRP Track process = (.*)$/),
  };
}

/** Kill (by PID, SIGKILL) every process in namespace `ns`: the keepalived parent and its VRRP child. */
function killAllIn(ns: string): void {
  let pids: string[] = [];
  try {
    pids = run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean);
  } catch {
    return;
  }
  for (const p of pids) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** A fresh namespace with eth0-eth3 (veth pairs) and the fixtures' addresses. */
function freshNs(lab: Lab): string {
  const ns = lab.addNs(uniqueNsName('kad'));
  const cmds: string[] = [];
  for (let i = 0; i < 4; i++) cmds.push(`link add eth${i} type veth peer name peer${i}`, `link set eth${i} up`, `link set peer${i} up`);
  cmds.push('addr add 192.0.2.10/24 dev eth0', 'addr add 2001:db8::10/64 dev eth0 nodad', 'addr add 198.51.100.10/24 dev eth1');
  run('ip', ['-n', ns, '-batch', '-'], { input: cmds.join('\n') + '\n' });
  return ns;
}

/** Remove a namespace of the lab now (its processes killed first). */
function dropNs(lab: Lab, ns: string): void {
  killAllIn(ns);
  try {
    run('ip', ['netns', 'del', ns]);
  } catch {
    /* destroy() retries */
  }
  const k = lab.namespaces.indexOf(ns);
  if (k >= 0) lab.namespaces.splice(k, 1);
}

/**
 * Start keepalived with -d in a namespace of its own, return its log once the dump is complete (or after 8 s);
 * then every process of that namespace is killed by PID and the namespace deleted.
 */
function dump(lab: Lab, f: Fixture, dir: string): Promise<string> {
  const t0 = Date.now();
  const ns = freshNs(lab);
  return new Promise((resolve) => {
    const child = lab.spawnIn(ns, 'keepalived', ['-n', '-l', '-D', '-d', '-P', '-i', 'vipd-test-host', '-p', join(dir, `${f.name}.pid`), '-r', join(dir, `${f.name}.vrrp.pid`), '-f', f.path]);
    let log = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const t1 = Date.now();
      dropNs(lab, ns);
      if (process.env.VIPD_KAD_DEBUG) process.stderr.write(`${f.name}: dump ${t1 - t0} ms, drop ${Date.now() - t1} ms\n`);
      resolve(log);
    };
    const timer = setTimeout(finish, 8000);
    const onData = (b: Buffer): void => {
      log += b.toString();
      const t = log.indexOf('------< VRRP Topology >------');
      if (t >= 0 && log.includes('------< Interfaces >------', t)) finish();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => setTimeout(finish, 50));
  });
}

function vipText(v: VrrpInstance['vips'][number], inst: VrrpInstance): string {
  const full = v.family === 4 ? 32 : 128;
  let s = v.prefix === full ? v.address : `${v.address}/${v.prefix}`;
  if (v.brd && v.brd !== '-') s += ` brd`;
  // Without `dev`, an address goes on the instance's interface, or on its VMAC.
  const dev = v.dev ?? (inst.useVmac !== false ? `${inst.useVmac}@${inst.interface}` : inst.interface);
  s += ` dev ${dev}`;
  s += ` scope ${v.scope ?? 'global'}`;
  if (v.label) s += ` label ${v.label}`;
  if (v.family === 6 && v.preferredLft === 0) s += ' deprecated';
  return s;
}

/** Normalise a keepalived VIP line to the same shape (drop what vipd does not model yet). */
function kaVipText(line: string): string {
  return line
    .replace(/ brd \S+/, ' brd')
    .replace(/ preferred_lft \S+/, '')
    .replace(/ (-nodad|nodad|no_track|track|home|mngtmpaddr|noprefixroute|autojoin|peer \S+)(?=\s|$)/g, '')
    .trim();
}

function compare(f: Fixture, ka: KaDump, cfg: KeepalivedConfig): string[] {
  const vipd = cfg.instances;
  const diffs: string[] = [];
  const d = (what: string, a: unknown, b: unknown): void => {
    if (f.modelSkip.some((k) => what.endsWith(` ${k}`))) return;
    if (String(a) !== String(b)) diffs.push(`${f.name} ${what}: keepalived ${String(a)}, vipd ${String(b)}`);
  };
  d('instances', ka.instances.map((i) => i.name).join(','), vipd.map((i) => i.name).join(','));
  for (const k of ka.instances) {
    const v = vipd.find((i) => i.name === k.name);
    if (!v) continue;
    const F = (n: string): string => k.fields.get(n) ?? '?';
    const L = (n: string): string[] => k.lists.get(n) ?? [];
    const w = `${k.name}`;
    d(`${w} version`, F('VRRP Version'), v.version);
    d(`${w} state`, F('Wantstate'), v.state);
    const iface = v.useVmac !== false ? `${v.useVmac}, vmac on ${v.interface}${v.vmacXmitBase ? ', xmit base i/f' : ''}` : v.interface;
    d(`${w} interface`, F('Interface'), iface);
    d(`${w} vrid`, F('Virtual Router ID'), v.virtualRouterId);
    d(`${w} priority`, F('Priority'), v.priority);
    const adv = F('Advert interval');
    const ms = /^(\d+) milli-sec$/.exec(adv) ? Number(/^(\d+)/.exec(adv)![1]) : /^(\d+) sec$/.exec(adv) ? Number(/^(\d+)/.exec(adv)![1]) * 1000 : NaN;
    d(`${w} advert_int (ms)`, ms, v.advertIntervalCs * 10);
    d(`${w} accept`, F('Accept'), v.accept ? 'enabled' : 'disabled');
    d(`${w} preempt`, F('Preempt'), v.preempt ? 'enabled' : 'disabled');
    if (k.fields.has('Preempt delay')) d(`${w} preempt delay`, F('Preempt delay'), `${v.preemptDelay} secs`);
    d(`${w} sync group`, k.fields.get('Sync group') ?? 'none', v.syncGroup ?? 'none');
    if (k.fields.has('Authentication type')) d(`${w} auth`, F('Authentication type'), v.auth === null ? 'none' : v.auth.type === 'PASS' ? 'SIMPLE_PASSWORD' : 'IPSEC_AH');
    d(`${w} garp delay`, F('Gratuitous ARP delay'), v.garp.masterDelay);
    d(`${w} garp repeat`, F('Gratuitous ARP repeat'), v.garp.masterRepeat);
    d(`${w} garp refresh`, F('Gratuitous ARP refresh'), v.garp.masterRefresh);
    d(`${w} garp refresh repeat`, F('Gratuitous ARP refresh repeat'), v.garp.masterRefreshRepeat);
    d(`${w} garp lower prio delay`, F('Gratuitous ARP lower priority delay'), v.garp.lowerPrioDelay);
    d(`${w} garp lower prio repeat`, F('Gratuitous ARP lower priority repeat'), v.garp.lowerPrioRepeat);
    d(`${w} down timer adverts`, F('Down timer adverts'), v.downTimerAdverts);
    d(`${w} advert on lower prio`, F('Send advert after receive lower priority advert'), !v.lowerPrioNoAdvert);
    d(`${w} advert on higher prio`, F('Send advert after receive higher priority advert'), v.higherPrioSendAdvert);
    if (k.fields.has('Unicast TTL')) d(`${w} unicast ttl`, F('Unicast TTL'), v.unicastTtl);
    d(`${w} vips`, L('Virtual IP').map(kaVipText).join(' | '), v.vips.map((x) => vipText(x, v)).join(' | '));
    d(`${w} unicast peers`, L('Unicast Peer').map((p) => p.split(' ')[0]).join(','), v.unicastPeers.map((p) => p.address).join(','));
    const ifaces = v.trackInterfaces.map((t) => `${t.name} weight ${t.weight}${t.reverse ? ' reverse' : ''}`);
    d(`${w} tracked interfaces`, L('Tracked interfaces').join(', '), ifaces.join(', '));
    d(`${w} tracked scripts`, L('Tracked scripts').join(', '), v.trackScripts.map((t) => `${t.name} weight ${t.weight}${t.reverse ? ' reverse' : ''}`).join(', '));
    d(`${w} tracked processes`, L('Tracked processes').join(', '), v.trackProcesses.map((t) => `${t.name}, weight ${t.weight}${t.reverse ? ' reverse' : ''}`).join(', '));
    d(`${w} tracked files`, L('Tracked files').join(', '), v.trackFiles.map((t) => `${t.name}, weight ${t.weight}${t.reverse ? ' reverse' : ''}`).join(', '));
  }
  const G = (n: string): string => ka.global.get(n) ?? '?';
  const g = cfg.global;
  if (g.routerId !== null) d('global router_id', G('Router ID'), g.routerId);
  d('global vrrp_version', G('VRRP default protocol version'), g.vrrpVersion);
  d('global mcast group4', G('VRRP IPv4 mcast group'), g.mcastGroup4);
  d('global mcast group6', G('VRRP IPv6 mcast group'), g.mcastGroup6);
  d('global strict', G('VRRP strict mode'), g.strict);
  d('global check unicast src', G('VRRP check unicast_src'), g.checkUnicastSrc);
  d('global skip check adv addr', G('VRRP skip check advert addresses'), g.skipCheckAdvAddr);
  d('global garp interval', Number(G('Gratuitous ARP interval')), g.garp.garpInterval);
  d('global gna interval', Number(G('Gratuitous NA interval')), g.garp.gnaInterval);
  d('global garp delay', G('Gratuitous ARP delay'), g.garp.masterDelay);
  d('global garp repeat', G('Gratuitous ARP repeat'), g.garp.masterRepeat);
  d('global garp refresh', G('Gratuitous ARP refresh timer'), g.garp.masterRefresh);
  d('global garp refresh repeat', G('Gratuitous ARP refresh repeat'), g.garp.masterRefreshRepeat);
  d('global dynamic interfaces', G('Dynamic interfaces'), g.dynamicInterfaces);
  d('global notify priority changes', G('VRRP notify priority changes'), g.notifyPriorityChanges);
  d('sync groups', ka.groups.map((g) => g.name).join(','), cfg.syncGroups.map((g) => g.name).join(','));
  for (const k of ka.groups) {
    const g = cfg.syncGroups.find((x) => x.name === k.name);
    if (!g) continue;
    d(`group ${g.name} members`, (k.lists.get('VRRP member instances') ?? []).join(','), g.instances.join(','));
  }
  d('scripts', ka.scripts.map((x) => x.name).join(','), cfg.scripts.map((x) => x.name).join(','));
  for (const k of ka.scripts) {
    const sc = cfg.scripts.find((x) => x.name === k.name);
    if (!sc) continue;
    d(`script ${sc.name} interval`, k.fields.get('Interval'), `${sc.interval} sec`);
    d(`script ${sc.name} weight`, k.fields.get('Weight'), `${sc.weight}${sc.weightReverse ? ' reverse' : ''}`);
    d(`script ${sc.name} rise`, k.fields.get('Rise'), sc.rise);
    d(`script ${sc.name} fall`, k.fields.get('Fall'), sc.fall);
  }
  d('track files', ka.files.map((x) => x.name).join(','), cfg.trackFiles.map((x) => x.name).join(','));
  for (const k of ka.files) {
    const tf = cfg.trackFiles.find((x) => x.name === k.name);
    if (!tf) continue;
    d(`track file ${tf.name} file`, k.fields.get('File'), tf.file);
    d(`track file ${tf.name} weight`, k.fields.get('Weight'), `${tf.weight}${tf.weightReverse ? ' reverse' : ''}`);
  }
  d('track processes', ka.processes.map((x) => x.name).join(','), cfg.trackProcesses.map((x) => x.name).join(','));
  for (const k of ka.processes) {
    const tp = cfg.trackProcesses.find((x) => x.name === k.name);
    if (!tp) continue;
    const F = (n: string): string => k.fields.get(n) ?? '?';
    d(`track process ${tp.name} process`, F('Process'), tp.process);
    if (k.fields.has('Parameters')) d(`track process ${tp.name} args`, F('Parameters'), (tp.args ?? []).join(' '));
    if (k.fields.has('Param match')) d(`track process ${tp.name} param match`, F('Param match'), tp.paramMatch);
    d(`track process ${tp.name} quorum`, F('Min processes'), tp.quorum);
    if (tp.quorumMax !== null) d(`track process ${tp.name} quorum max`, F('Max processes'), tp.quorumMax);
    d(`track process ${tp.name} weight`, F('Weight'), `${tp.weight}${tp.weightReverse ? ' reverse' : ''}`);
    d(`track process ${tp.name} terminate delay`, parseFloat(F('Terminate delay')), tp.terminateDelay);
    d(`track process ${tp.name} fork delay`, parseFloat(F('Fork delay')), tp.forkDelay);
    d(`track process ${tp.name} full command`, F('Full command'), tp.fullCommand);
  }
  return diffs;
}

test('keepalived -d builds the same instances as vipd for every fixture both accept', { skip, timeout: 300_000 }, async (t) => {
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'vipd-kad-'));
  try {
    // Fixtures without an instance have no topology to compare (keepalived would idle without a dump).
    const fixtures = loadFixtures().filter(
      (f) => f.vipd === 'ok' && f.keepalived === 'ok' && parseConfig(f.path, { instanceId: 'vipd-test-host' }).config.instances.length > 0,
    );
    assert.ok(fixtures.length >= 30, `${fixtures.length} fixtures`);
    const diffs: string[] = [];
    let compared = 0;
    // Six at a time, each in a namespace of its own (VMACs and VIPs of one run must not meet another's).
    for (let i = 0; i < fixtures.length; i += 6) {
      const batch = fixtures.slice(i, i + 6);
      const logs = await Promise.all(batch.map((f) => dump(lab, f, dir)));
      batch.forEach((f, k) => {
        const ka = parseDump(logs[k]!);
        const cfg = parseConfig(f.path, { instanceId: 'vipd-test-host' }).config;
        if (ka.instances.length === 0 && cfg.instances.length > 0) {
          diffs.push(`${f.name}: no topology in keepalived's dump:\n${logs[k]!.slice(0, 1500)}`);
          return;
        }
        compared += ka.instances.length;
        diffs.push(...compare(f, ka, cfg));
      });
    }
    const version = keepalivedVersion();
    if (version === null || !version.startsWith('2.2.')) {
      // Another keepalived release judges some fixtures differently (the headers record 2.2.7): report, don't fail.
      for (const m of diffs) t.diagnostic(`keepalived ${version ?? '?'}: ${m}`);
      return;
    }
    assert.deepEqual(diffs, [], diffs.join('\n'));
    assert.ok(compared >= 30, `only ${compared} instances compared`);
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
