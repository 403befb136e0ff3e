/**
 * The lab topology and prober on their own (no VRRP daemon): the VIP is placed by hand. Checks the names,
 * addresses, routes, forwarding and NAT, the fault helpers (blackhole, link down/up from both sides), the
 * prober's measurements against known faults, duplicate detection, process and namespace cleanup, and
 * option errors. Needs root for everything but the option errors; about 10 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { haveCommand, netnsUnavailableReason } from '../helpers/netns.js';
import {
  attributeOutages,
  buildTopology,
  cleanOrphanLabs,
  cleanStaleLab,
  processTag,
  labNamespaceNames,
  LabError,
  Prober,
  sleep,
  type Topology,
} from '../../src/linux/lab/index.js';

function skipReason(): string | false {
  const r = netnsUnavailableReason();
  if (r) return r;
  if (!haveCommand('nft')) return 'nft is not installed (apt-get install nftables); skipped';
  return false;
}
const skip = skipReason();
const tag = (): string => processTag('ht');
// Labs left by an earlier run of this file that was killed.
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('ht');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function hostPings(topo: Topology, addr: string): Promise<boolean> {
  const r = await topo.execCapture('H', 'ping', ['-c', '1', '-W', '1', addr], { timeoutMs: 3_000 });
  return r.code === 0;
}

test('bad options are refused with a clear error before anything is created', async () => {
  await orphans;
  assert.throws(() => processTag('h1'), /lab tag prefix "h1" must be 1-6 lower-case letters/);
  assert.match(processTag('ab'), new RegExp(`^ab${process.pid}x\\d+$`));
  await assert.rejects(buildTopology({ tag: 'Bad-Tag' }), (e: Error) => e instanceof LabError && /lab tag "Bad-Tag" must be 1-16 lower-case letters or digits/.test(e.message));
  await assert.rejects(buildTopology({ tag: 'x', vip4: '10.0.0.1' }), /vip4 10\.0\.0\.1 must be an address in 192\.0\.2\.0\/24/);
  await assert.rejects(buildTopology({ tag: 'x', vip4: '192.0.2.11' }), /vip4 192\.0\.2\.11 is a host or router address/);
  await assert.rejects(buildTopology({ tag: 'x', vip6: '2001:db8:2::1' }), /vip6 2001:db8:2::1 must be an address in 2001:db8:1::\/64/);
  await assert.rejects(buildTopology({ tag: 'x', routers: 4 as 3 }), /routers must be 2 or 3, not 4/);
  assert.deepEqual(labNamespaceNames('ab1'), ['vipd-ab1-h', 'vipd-ab1-sw', 'vipd-ab1-u', 'vipd-ab1-r1', 'vipd-ab1-r2', 'vipd-ab1-r3']);
});

test('builds the DENT topology: names, addresses, routes, forwarding and NAT inside the lab only', { skip }, async () => {
  const rootForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const rootLinks = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').length;
  const t0 = Date.now();
  const topo = await buildTopology({ tag: tag(), routers: 3, snooping: true });
  const buildMs = Date.now() - t0;
  try {
    assert.ok(buildMs < 10_000, `build took ${buildMs} ms`);
    for (const ns of labNamespaceNames(topo.tag)) assert.ok(existsSync(`/run/netns/${ns}`), `${ns} exists`);
    assert.deepEqual(topo.routers.map((r) => [r.name, r.ns, r.lan4, r.lan6, r.wan4, r.wan6]), [
      ['R1', `vipd-${topo.tag}-r1`, '192.0.2.11', '2001:db8:1::11', '198.51.100.11', '2001:db8:2::11'],
      ['R2', `vipd-${topo.tag}-r2`, '192.0.2.12', '2001:db8:1::12', '198.51.100.12', '2001:db8:2::12'],
      ['R3', `vipd-${topo.tag}-r3`, '192.0.2.13', '2001:db8:1::13', '198.51.100.13', '2001:db8:2::13'],
    ]);
    const a2 = (await topo.addresses('R2')).filter((a) => !a.local.startsWith('fe80'));
    assert.deepEqual(
      a2.map((a) => `${a.ifname} ${a.local}/${a.prefixlen}`).sort(),
      ['eth0 192.0.2.12/24', 'eth0 2001:db8:1::12/64', 'eth1 198.51.100.12/24', 'eth1 2001:db8:2::12/64'],
    );
    const r4 = JSON.parse(await topo.exec('H', 'ip', ['-j', 'route', 'show', 'default'])) as { gateway: string }[];
    const r6 = JSON.parse(await topo.exec('H', 'ip', ['-j', '-6', 'route', 'show', 'default'])) as { gateway: string }[];
    assert.deepEqual([r4[0]?.gateway, r6[0]?.gateway], ['192.0.2.1', '2001:db8:1::1']);
    assert.equal((await topo.exec('R1', 'cat', ['/proc/sys/net/ipv4/ip_forward'])).trim(), '1');
    assert.equal((await topo.exec('R1', 'cat', ['/proc/sys/net/ipv6/conf/all/forwarding'])).trim(), '1');
    // The root namespace is untouched.
    assert.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), rootForward);
    assert.equal(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').length, rootLinks);
    const br = JSON.parse(await topo.exec('SW', 'ip', ['-j', '-d', 'link', 'show', 'type', 'bridge'])) as {
      ifname: string;
      linkinfo: { info_data: { mcast_snooping: number; stp_state: number } };
    }[];
    const snoop = Object.fromEntries(br.map((b) => [b.ifname, b.linkinfo.info_data.mcast_snooping]));
    assert.deepEqual(snoop, { 'br-lan': 1, 'br-wan': 0 });
    assert.deepEqual(await topo.vipHolders(), []);

    // Give R3 the VIPs by hand: the host reaches U through it, v4 and v6. U has no route back to the LAN,
    // so the replies prove R3 masqueraded the host's traffic behind its WAN address.
    assert.match((await topo.execCapture('U', 'ip', ['route', 'get', topo.host4])).stderr, /unreachable/i);
    await topo.ip('R3', `addr add ${topo.vip4}/24 dev eth0`);
    await topo.ip('R3', `addr add ${topo.vip6}/64 dev eth0 nodad`);
    assert.deepEqual(await topo.vipHolders(topo.vip4), ['R3']);
    assert.deepEqual(await topo.vipHolders('2001:0db8:0001:0000::0001'), ['R3']);
    assert.ok(await topo.holdsVip('R3', topo.vip6));
    for (const a of [topo.vip4, topo.upstream4, topo.vip6, topo.upstream6]) assert.ok(await hostPings(topo, a), `host reaches ${a}`);
    const un = JSON.parse(await topo.exec('U', 'ip', ['-j', 'neigh', 'show'])) as { dst: string }[];
    assert.ok(un.some((e) => e.dst === '198.51.100.13'), `U talked to R3's WAN address: ${JSON.stringify(un)}`);
    assert.equal(await topo.hostNeighbor(topo.vip4), await topo.mac('R3'));
  } finally {
    await topo.destroy();
  }
  for (const ns of labNamespaceNames(topo.tag)) assert.ok(!existsSync(`/run/netns/${ns}`), `${ns} removed`);
});

test('without masquerade the upstream host cannot answer (the NAT is what carries the return path)', { skip }, async () => {
  const topo = await buildTopology({ tag: tag(), ipv6: false, masquerade: false });
  try {
    await topo.ip('R1', `addr add ${topo.vip4}/24 dev eth0`);
    assert.ok(await hostPings(topo, topo.vip4));
    assert.equal(await hostPings(topo, topo.upstream4), false);
    assert.equal(topo.ns.R3, undefined);
    assert.throws(() => topo.router('R3'), /this lab has no router R3 \(it has R1, R2\)/);
  } finally {
    await topo.destroy();
  }
});

test('the prober measures blackholes and cable pulls of the VIP holder; link helpers work from both sides', { skip }, async () => {
  const topo = await buildTopology({ tag: tag() });
  try {
    await topo.ip('R1', `addr add ${topo.vip4}/24 dev eth0`);
    await topo.ip('R1', `addr add ${topo.vip6}/64 dev eth0 nodad`);
    const p = await Prober.start(topo, Prober.defaultTargets(topo), { intervalMs: 2, maxDurationMs: 20_000 });
    assert.ok(await p.waitForReplies({ consecutive: 50, timeoutMs: 5_000 }), 'replies through R1');
    const bh = await topo.blackhole('R1', 'both');
    await sleep(300);
    await topo.unblackhole('R1');
    assert.ok(await p.waitForReplies({ consecutive: 30, timeoutMs: 5_000 }));
    const to = await topo.blackhole('R1', 'to-router');
    await sleep(200);
    await topo.unblackhole('R1');
    assert.ok(await p.waitForReplies({ consecutive: 30, timeoutMs: 5_000 }));
    const from = await topo.blackhole('R1', 'from-router');
    await sleep(200);
    await topo.unblackhole('R1');
    assert.ok(await p.waitForReplies({ consecutive: 30, timeoutMs: 5_000 }));
    const down = await topo.linkDown('R1', 'switch');
    await sleep(250);
    await topo.linkUp('R1', 'switch');
    assert.ok(await p.waitForReplies({ consecutive: 30, timeoutMs: 5_000 }));
    const live = p.report();
    assert.equal(live.targets.length, 4);
    for (const x of p.live()) {
      assert.equal(x.silentMs, 0, `${x.name} answers`);
      assert.ok(x.replies > 100 && x.sent >= x.replies && x.lastReply !== null);
    }
    await topo.blackhole('R1', 'both');
    await sleep(100);
    assert.ok(p.live().every((x) => x.silentMs >= 80), `silent while blackholed: ${JSON.stringify(p.live())}`);
    await topo.unblackhole('R1');
    assert.ok(await p.waitForReplies({ consecutive: 30, timeoutMs: 5_000 }));
    const rep = await p.stop();
    assert.equal((await p.stop()).targets[0]!.sent, rep.targets[0]!.sent, 'stop is idempotent');
    const imp = attributeOutages(rep);
    const at = (t: number) => imp.filter((x) => x.event.t === t);
    for (const [t, ms] of [
      [bh, 300],
      [to, 200],
      [from, 200],
      [down, 250],
    ] as const) {
      for (const x of at(t)) {
        // The outage covers the sleep plus the nft / ip command that ended it.
        assert.ok(x.outageMs >= ms - 5 && x.outageMs < ms + 400, `${x.event.name} ${x.target}: ${x.outageMs} ms for a ${ms} ms fault`);
        assert.ok(x.lostProbes >= (ms - 10) / 2 * 0.8, `${x.event.name} ${x.target}: ${x.lostProbes} probes lost`);
      }
    }
    for (const tr of rep.targets) {
      assert.equal(tr.outages.length, 5, `${tr.name}: five outages, one per fault: ${JSON.stringify(tr.outages.map((o) => o.durationMs))}`);
      assert.equal(tr.duplicates, 0);
      assert.equal(tr.sendErrors, 0);
      const span = rep.stoppedAt - rep.startedAt;
      assert.ok(tr.sent > (span / 2) * 0.7 && tr.sent <= span / 2 + 10, `${tr.name}: ${tr.sent} sent in ${span} ms at 2 ms`);
      assert.ok(tr.rttMs !== null && tr.rttMs.min > 0 && tr.rttMs.min < 5);
    }
    // The router-side link helpers: eth0 goes down and comes back with its static IPv6 address.
    await topo.linkDown('R2', 'router');
    const l = JSON.parse(await topo.exec('R2', 'ip', ['-j', 'link', 'show', 'eth0'])) as { flags: string[] }[];
    assert.ok(!l[0]!.flags.includes('UP'));
    await topo.linkUp('R2', 'router');
    assert.ok((await topo.addresses('R2')).some((a) => a.local === '2001:db8:1::12'));
    assert.ok(await hostPings(topo, '2001:db8:1::12'));
    assert.deepEqual(
      topo.events.map((e) => e.name).slice(-2),
      ['R2 LAN link down (router side)', 'R2 LAN link up (router side)'],
    );
  } finally {
    await topo.destroy();
  }
});

test('two routers answering for one MAC show as duplicate replies when the bridge floods', { skip }, async () => {
  const topo = await buildTopology({ tag: tag(), ipv6: false });
  try {
    // Both "masters" on a VMAC-like macvlan with the same MAC and the VIP. arp_ignore / arp_announce on the
    // parent so that only the VMAC answers ARP for the VIP and the parent's own ARP requests do not teach
    // the host the parent's MAC for the VIP.
    for (const r of ['R1', 'R2'] as const) {
      await topo.exec(r, 'sysctl', ['-q', '-w', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2']);
      await topo.ip(r, 'link add vm0 link eth0 address 00:00:5e:00:01:33 type macvlan mode private');
      await topo.ip(r, `addr add ${topo.vip4}/32 dev vm0`);
      await topo.ip(r, 'link set vm0 up');
    }
    assert.deepEqual(await topo.vipHolders(), ['R1', 'R2']);
    const p = await Prober.start(topo, [{ name: 'vip4', address: topo.vip4 }], { intervalMs: 2, maxDurationMs: 20_000 });
    assert.ok(await p.waitForReplies({ consecutive: 20, timeoutMs: 5_000 }));
    assert.equal(await topo.hostNeighbor(), '00:00:5e:00:01:33');
    await sleep(200);
    const tf = await topo.floodUnicast(true);
    await sleep(300);
    const tl = await topo.floodUnicast(false);
    const rep = await p.stop();
    const dups = rep.targets[0]!.duplicateTimes;
    // Learning bridge: the VMAC was learned from the ARP reply, each request reaches one port, no duplicates.
    assert.equal(dups.filter((t) => t < tf).length, 0, 'no duplicates while the bridge delivers to one port');
    const flooding = dups.filter((t) => t > tf && t < tl).length;
    assert.ok(flooding > 50, `two answering routers show as duplicates while flooding: ${flooding}`);
    assert.equal(rep.targets[0]!.lost, 0);
    // (After flooding stops the VMAC stays unknown to the bridge, so it keeps flooding: echo replies leave
    // through eth0 with the parent's MAC and never re-teach it. A VRRP master's adverts from the VMAC would.)
  } finally {
    await topo.destroy();
  }
});

test('processes die with destroy, which never throws; stale labs are removed by exact tag', { skip }, async () => {
  const t1 = tag();
  const topo = await buildTopology({ tag: t1, ipv6: false });
  let pid = 0;
  let filePid = 0;
  try {
    const sh = topo.spawn('H', 'sh', ['-c', 'echo hello; sleep 0.2; echo bye >&2; exit 3']);
    assert.equal((await sh.waitForLine('hello', { stream: 'stdout' })).text, 'hello');
    const bye = await sh.waitForLine(/^bye$/, { timeoutMs: 3_000 });
    assert.equal(bye.stream, 'stderr');
    await assert.rejects(sh.waitForLine('never printed', { timeoutMs: 3_000 }), /exited \(code 3, signal null\) before printing a line matching never printed/);
    // Output to a file instead of pipes (a daemon that outlives this process): lines are read from the file.
    const log = join(topo.tempDir('log'), 'out.log');
    const fl = topo.spawn('U', 'sh', ['-c', 'echo one; echo two >&2; sleep 300'], { logFile: log, unref: true });
    assert.equal((await fl.waitForLine('two', { timeoutMs: 3_000 })).text, 'two');
    assert.match(readFileSync(log, 'utf8'), /^one\ntwo\n$/);
    const before = process.listenerCount('SIGINT');
    const off = topo.destroyOnSignals();
    assert.equal(process.listenerCount('SIGINT'), before + 1);
    off();
    assert.equal(process.listenerCount('SIGINT'), before);
    const sl = topo.spawn('R1', 'sleep', ['300']);
    await assert.rejects(sl.waitForLine('x', { timeoutMs: 100 }), /no line matching x within 100 ms/);
    pid = sl.pid;
    assert.ok(alive(pid));
    filePid = fl.pid;
    await assert.rejects(topo.exec('R1', 'ip', ['link', 'show', 'nosuchdev']), /\[R1\] ip link show nosuchdev: Device "nosuchdev" does not exist\.$/);
  } finally {
    await topo.destroy();
  }
  assert.ok(!alive(pid), 'the spawned process was killed');
  assert.ok(!alive(filePid), 'the file-logging process was killed too');
  await topo.destroy(); // a second destroy is harmless
  assert.throws(() => topo.spawn('H', 'true'), /lab already destroyed/);

  // A "crashed run": namespaces of tag t2 with a process inside, and a look-alike tag that must survive.
  const t2 = tag();
  const other = `vipd-${t2}x-h`;
  const mine = [`vipd-${t2}-h`, `vipd-${t2}-r1`];
  for (const ns of [...mine, other]) execFileSync('ip', ['netns', 'add', ns]);
  const orphan = spawn('ip', ['netns', 'exec', mine[1]!, 'sleep', '300'], { stdio: 'ignore', detached: true });
  orphan.unref();
  try {
    await sleep(100);
    assert.ok(alive(orphan.pid!));
    const removed = await cleanStaleLab(t2);
    assert.deepEqual(removed.sort(), mine.sort());
    for (const ns of mine) assert.ok(!existsSync(`/run/netns/${ns}`));
    assert.ok(existsSync(`/run/netns/${other}`), 'another tag is left alone');
    await sleep(100);
    assert.ok(!alive(orphan.pid!), "the stale namespace's process was killed");
    // Orphans: labs of processTag() whose process is gone are removed, those of live processes stay.
    const dead = 'vipd-ht4194399x1-h'; // above the kernel's largest pid_max: no such process
    const live = `vipd-ht${process.pid}x999-u`;
    execFileSync('ip', ['netns', 'add', dead]);
    execFileSync('ip', ['netns', 'add', live]);
    try {
      assert.deepEqual(await cleanOrphanLabs('ht'), [dead]);
      assert.ok(existsSync(`/run/netns/${live}`));
    } finally {
      for (const ns of [dead, live]) execFileSync('sh', ['-c', `ip netns del ${ns} 2>/dev/null || true`]);
    }
    // buildTopology cleans leftovers of its own tag by default.
    execFileSync('ip', ['netns', 'add', `vipd-${t2}-sw`]);
    const again = await buildTopology({ tag: t2, ipv6: false });
    await again.destroy();
  } finally {
    for (const ns of [...mine, other, `vipd-${t2}-sw`]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    }
    try {
      process.kill(orphan.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});
