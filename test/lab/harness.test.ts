/**
 * The failover harness proven with keepalived 2.2.7 as the router daemon: the DENT-guide topology, the host
 * probing the VIP and the upstream host every 2 ms, faults injected on R1 (priority 150) with R2 (100) as
 * backup. Checks takeover and outage against Master_Down_Interval + margin, failback by preemption, a single
 * VIP holder and no duplicate replies after each convergence. Prints keepalived's reference numbers.
 *
 * Needs root, namespaces, nft and keepalived; skips with a message otherwise. About 20 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveCommand, netnsUnavailableReason } from '../helpers/netns.js';
import {
  attributeOutages,
  buildTopology,
  cleanOrphanLabs,
  formatReport,
  keepalivedConf,
  masterDownIntervalMs,
  Prober,
  processTag,
  startDaemon,
  type ProbeReport,
  type RouterDaemon,
  type RouterName,
  type Topology,
} from '../../src/linux/lab/index.js';

function skipReason(): string | false {
  const r = netnsUnavailableReason();
  if (r) return r;
  if (!haveCommand('keepalived')) return 'keepalived is not installed (apt-get install keepalived); skipped';
  if (!haveCommand('nft')) return 'nft is not installed (apt-get install nftables); skipped';
  return false;
}
const skip = skipReason();
// Labs left by an earlier run of this file that was killed.
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('hx');

/**
 * Slack on top of the protocol bound for outages: scheduling on a 2-core CI machine with two daemons and a
 * 4-target prober, and the host's own ARP/ND timing (up to ~120 ms over the takeover seen). Takeover times
 * from the logs must stay within the bound + 150 ms.
 */
const MARGIN_MS = 250;
const TAKEOVER_MARGIN_MS = 150;
/** The IPv6 VIP address itself (not the traffic routed through it): must answer again within 2 s. */
const VIP6_LIMIT_MS = 2_000;

interface Step {
  name: string;
  /** Event time (the topology mark). */
  t: number;
  /** When probes to every target flowed again (50 replies in a row). */
  convergedAt: number;
  /** Time from the event to the new master's "Entering MASTER STATE" log line, if one took over. */
  takeoverMs?: number;
  holders4: RouterName[];
  holders6?: RouterName[];
}

async function holdersAfter(topo: Topology, expected: RouterName[], v6: boolean): Promise<[RouterName[], RouterName[] | undefined]> {
  await topo.waitForVipHolders(expected, topo.vip4, 5_000);
  if (v6) await topo.waitForVipHolders(expected, topo.vip6, 5_000);
  return [await topo.vipHolders(topo.vip4), v6 ? await topo.vipHolders(topo.vip6) : undefined];
}

async function converge(p: Prober, since: number, what: string, logs: () => string): Promise<number> {
  const ok = await p.waitForReplies({ since, consecutive: 50, timeoutMs: 8_000 });
  assert.ok(ok, `probes did not recover after ${what}\n${logs()}`);
  return Date.now();
}

function printTable(title: string, report: ProbeReport, steps: Step[], bound: number): string {
  const impacts = attributeOutages(report);
  const lines = [`${title} (Master_Down_Interval + margin = ${bound.toFixed(0)} ms)`];
  lines.push('event                                   takeover  ' + report.targets.map((t) => t.name.padStart(10)).join(' ') + '   holders');
  for (const s of steps) {
    const per = report.targets.map((tr) => {
      const i = impacts.find((x) => x.event.t === s.t && x.target === tr.name);
      return `${(i?.outageMs ?? 0).toFixed(1)}ms`.padStart(10);
    });
    const take = s.takeoverMs === undefined ? '-' : `${s.takeoverMs.toFixed(0)}ms`;
    lines.push(`${s.name.padEnd(40)}${take.padStart(8)}  ${per.join(' ')}   ${s.holders4.join('+')}${s.holders6 ? ` / ${s.holders6.join('+')}` : ''}`);
  }
  for (const i of impacts.filter((x) => x.lateProbes > 0 && steps.some((s) => s.t === x.event.t))) {
    lines.push(`  ${i.event.name}: ${i.target} ${i.lateProbes} late replies (held, not lost), max RTT ${i.maxLateRttMs.toFixed(1)} ms`);
  }
  lines.push(formatReport(report));
  return lines.join('\n');
}

/** Outages attributed to the step, per target, and duplicates after its convergence. */
function checkStep(report: ProbeReport, steps: Step[], i: number, limitMs: number): void {
  const s = steps[i]!;
  const next = i + 1 < steps.length ? steps[i + 1]!.t : report.stoppedAt;
  for (const imp of attributeOutages(report).filter((x) => x.event.t === s.t)) {
    // keepalived sometimes answers on its new IPv6 VIP address late while traffic through the same gateway
    // already flows (seen: 554 and 874 ms for a 361 ms bound; docs/lab-harness.md, known issues). That
    // target gets a looser limit, and a printed note when it is over the bound.
    const limit = imp.target === 'vip6' ? VIP6_LIMIT_MS : limitMs;
    if (imp.target === 'vip6' && imp.outageMs > limitMs) {
      console.log(`note: ${s.name}: keepalived's IPv6 VIP answered after ${imp.outageMs.toFixed(1)} ms (bound ${limitMs.toFixed(0)} ms)`);
    }
    assert.ok(imp.outageMs <= limit, `${s.name}: ${imp.target} outage ${imp.outageMs.toFixed(1)} ms exceeds ${limit.toFixed(0)} ms`);
  }
  for (const tr of report.targets) {
    const dups = tr.duplicateTimes.filter((x) => x >= s.convergedAt && x < next);
    assert.equal(dups.length, 0, `${s.name}: ${tr.name} got ${dups.length} duplicate replies after convergence`);
  }
}

test('keepalived v3, advert 0.1 s, IPv4 + IPv6: SIGKILL, preempt, cable pull, blackhole, planned stop', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('hx'), ipv6: true });
  const daemons: RouterDaemon[] = [];
  const logs = (): string => daemons.map((d) => `--- ${d.router}\n${d.proc.output(12)}`).join('\n');
  try {
    const advert = 0.1;
    const conf = (priority: number): string =>
      keepalivedConf({
        instances: [
          { name: 'VI_1', vrid: 51, priority, advertInt: advert, vips: [`${topo.vip4}/24`] },
          { name: 'VI_6', vrid: 52, priority, advertInt: advert, vips: ['fe80::1:1/64', `${topo.vip6}/64`] },
        ],
      });
    let r1 = await startDaemon(topo, 'R1', { config: conf(150) });
    const r2 = await startDaemon(topo, 'R2', { config: conf(100) });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER', { instance: 'VI_1' });
    await r1.waitForState('MASTER', { instance: 'VI_6' });
    await holdersAfter(topo, ['R1'], true);

    const prober = await Prober.start(topo, Prober.defaultTargets(topo), { intervalMs: 2, maxDurationMs: 55_000 });
    assert.ok(await prober.waitForReplies({ consecutive: 50, timeoutMs: 5_000 }), `no probe replies through R1\n${logs()}`);

    const bound = masterDownIntervalMs(advert, 100, 3) + MARGIN_MS;
    const takeoverBound = masterDownIntervalMs(advert, 100, 3) + TAKEOVER_MARGIN_MS;
    const steps: Step[] = [];
    const both = async (d: RouterDaemon, state: 'MASTER' | 'BACKUP', from: number): Promise<number> => {
      const a = await d.waitForState(state, { instance: 'VI_1', from, timeoutMs: 8_000 });
      const b = await d.waitForState(state, { instance: 'VI_6', from, timeoutMs: 8_000 });
      return Math.max(a.t, b.t);
    };

    // 1. SIGKILL keepalived on R1: R2 must take over within Master_Down_Interval. R1 keeps forwarding with
    //    the VIP it had (keepalived left it behind), so the host sees next to no outage.
    let m2 = r2.mark();
    let t = await r1.crash();
    let took = (await both(r2, 'MASTER', m2)) - t;
    assert.ok(took <= takeoverBound, `R2 took over ${took} ms after SIGKILL of R1 (bound ${takeoverBound} ms)\n${logs()}`);
    let conv = await converge(prober, t, 'SIGKILL', logs);
    let [h4, h6] = await holdersAfter(topo, ['R1', 'R2'], true);
    assert.ok(h4.includes('R2') && h6?.includes('R2'), `R2 must hold both VIPs after SIGKILL of R1: ${h4} / ${h6}`);
    steps.push({ name: 'R1 keepalived SIGKILL', t, convergedAt: conv, takeoverMs: took, holders4: h4, holders6: h6 });

    // 2. Restart keepalived on R1: it removes its stale VIPs and preempts (priority 150 > 100).
    m2 = r2.mark();
    r1 = await r1.restart();
    daemons.push(r1);
    t = topo.events[topo.events.length - 1]!.t;
    took = (await both(r1, 'MASTER', 0)) - t;
    await both(r2, 'BACKUP', m2);
    conv = await converge(prober, t, 'restart of R1', logs);
    [h4, h6] = await holdersAfter(topo, ['R1'], true);
    assert.deepEqual([h4, h6], [['R1'], ['R1']], 'after failback only R1 holds the VIPs');
    steps.push({ name: 'R1 keepalived restart (preempt)', t, convergedAt: conv, takeoverMs: took, holders4: h4, holders6: h6 });

    // 3. Pull R1's cable (switch side): R1 goes FAULT, R2 takes over; the outage is the protocol's.
    m2 = r2.mark();
    let m1 = r1.mark();
    t = await topo.linkDown('R1', 'switch');
    took = (await both(r2, 'MASTER', m2)) - t;
    assert.ok(took <= takeoverBound, `R2 took over ${took} ms after R1's link went down (bound ${takeoverBound} ms)\n${logs()}`);
    await r1.waitForState('FAULT', { from: m1, timeoutMs: 5_000 });
    conv = await converge(prober, t, 'link down', logs);
    [h4, h6] = await holdersAfter(topo, ['R2'], true);
    assert.deepEqual([h4, h6], [['R2'], ['R2']], 'with R1 cut off only R2 holds the VIPs');
    steps.push({ name: 'R1 LAN link down (switch side)', t, convergedAt: conv, takeoverMs: took, holders4: h4, holders6: h6 });

    // 4. Plug it back: R1 preempts.
    m1 = r1.mark();
    m2 = r2.mark();
    t = await topo.linkUp('R1', 'switch');
    took = (await both(r1, 'MASTER', m1)) - t;
    await both(r2, 'BACKUP', m2);
    conv = await converge(prober, t, 'link up', logs);
    [h4, h6] = await holdersAfter(topo, ['R1'], true);
    assert.deepEqual([h4, h6], [['R1'], ['R1']], 'after the link returns only R1 holds the VIPs');
    steps.push({ name: 'R1 LAN link up', t, convergedAt: conv, takeoverMs: took, holders4: h4, holders6: h6 });

    // 5. Blackhole R1's frames with the link up: R2 takes over, R1 stays MASTER in its own eyes (two masters,
    //    but the LAN only hears R2).
    m2 = r2.mark();
    t = await topo.blackhole('R1', 'both');
    took = (await both(r2, 'MASTER', m2)) - t;
    assert.ok(took <= takeoverBound, `R2 took over ${took} ms after R1 was blackholed (bound ${takeoverBound} ms)\n${logs()}`);
    conv = await converge(prober, t, 'blackhole', logs);
    [h4, h6] = await holdersAfter(topo, ['R1', 'R2'], true);
    steps.push({ name: 'R1 LAN blackholed (link up)', t, convergedAt: conv, takeoverMs: took, holders4: h4, holders6: h6 });

    // 6. Lift it: R2 hears priority 150 and yields; one master again.
    m2 = r2.mark();
    t = await topo.unblackhole('R1');
    await both(r2, 'BACKUP', m2);
    conv = await converge(prober, t, 'blackhole removed', logs);
    [h4, h6] = await holdersAfter(topo, ['R1'], true);
    assert.deepEqual([h4, h6], [['R1'], ['R1']], 'after the partition heals only R1 holds the VIPs');
    steps.push({ name: 'R1 blackhole removed', t, convergedAt: conv, holders4: h4, holders6: h6 });

    // 7. Planned stop: SIGTERM makes keepalived send priority 0, so R2 takes over after Skew_Time only.
    m2 = r2.mark();
    t = await r1.stop();
    took = (await both(r2, 'MASTER', m2)) - t;
    assert.ok(took <= takeoverBound, `R2 took over ${took} ms after R1's planned stop\n${logs()}`);
    conv = await converge(prober, t, 'planned stop', logs);
    [h4, h6] = await holdersAfter(topo, ['R2'], true);
    assert.deepEqual([h4, h6], [['R2'], ['R2']], 'after a planned stop only R2 holds the VIPs (R1 removed them)');
    steps.push({ name: 'R1 keepalived SIGTERM (planned stop)', t, convergedAt: conv, takeoverMs: took, holders4: h4, holders6: h6 });

    await new Promise((r) => setTimeout(r, 300));
    const report = await prober.stop();
    console.log(printTable('keepalived 2.2.7, VRRPv3, advert 0.1 s, R1 prio 150, R2 prio 100', report, steps, bound));
    for (let i = 0; i < steps.length; i++) checkStep(report, steps, i, bound);
    for (const tr of report.targets) assert.ok(tr.sent > 1000 && tr.received > 0, `${tr.name}: prober ran`);
    // The cable pull and the blackhole cost a real outage (the host's traffic went to a dead router).
    const impacts = attributeOutages(report);
    const pull = impacts.filter((x) => x.event.t === steps[2]!.t);
    assert.ok(pull.every((x) => x.outageMs > 50), `a cable pull must show an outage: ${pull.map((x) => x.outageMs)}`);
  } finally {
    await topo.destroy();
  }
});

test('keepalived v2, advert 1 s, IPv4: router crash (SIGKILL + cable pull) and return', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('hx'), ipv6: false });
  const daemons: RouterDaemon[] = [];
  const logs = (): string => daemons.map((d) => `--- ${d.router}\n${d.proc.output(12)}`).join('\n');
  try {
    const conf = (priority: number, state: 'MASTER' | 'BACKUP'): string =>
      keepalivedConf({
        instances: [
          { name: 'VI_1', vrid: 51, priority, state, version: 2, advertInt: 1, authPass: 'lab12', vips: [`${topo.vip4}/24`] },
        ],
      });
    let r1 = await startDaemon(topo, 'R1', { config: conf(150, 'MASTER') });
    const r2 = await startDaemon(topo, 'R2', { config: conf(100, 'BACKUP') });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER', { timeoutMs: 8_000 });
    await topo.waitForVipHolders(['R1'], topo.vip4, 5_000);
    const prober = await Prober.start(
      topo,
      [
        { name: 'vip4', address: topo.vip4 },
        { name: 'upstream4', address: topo.upstream4 },
      ],
      { intervalMs: 2, maxDurationMs: 40_000 },
    );
    assert.ok(await prober.waitForReplies({ consecutive: 50, timeoutMs: 5_000 }), `no probe replies\n${logs()}`);
    const bound = masterDownIntervalMs(1, 100, 2) + MARGIN_MS;
    const takeoverBound = masterDownIntervalMs(1, 100, 2) + TAKEOVER_MARGIN_MS;
    const steps: Step[] = [];

    // Crash: the daemon dies and the router drops off the LAN at the same moment.
    const m2 = r2.mark();
    const t = topo.mark('R1 crash (SIGKILL + cable pull)');
    await Promise.all([r1.crash(), topo.linkDown('R1', 'switch')]);
    const took = (await r2.waitForState('MASTER', { from: m2, timeoutMs: 8_000 })).t - t;
    assert.ok(took <= takeoverBound, `R2 took over ${took} ms after the crash (bound ${takeoverBound} ms)\n${logs()}`);
    let conv = await converge(prober, t, 'crash', logs);
    steps.push({ name: 'R1 crash (SIGKILL + cable pull)', t, convergedAt: conv, takeoverMs: took, holders4: await topo.vipHolders() });

    // Return: cable back, keepalived restarted (it clears the stale VIP), R1 preempts.
    const m2b = r2.mark();
    const t2 = topo.mark('R1 returns (cable + keepalived restart)');
    await topo.linkUp('R1', 'switch');
    r1 = await r1.restart();
    daemons.push(r1);
    const took2 = (await r1.waitForState('MASTER', { timeoutMs: 10_000 })).t - t2;
    await r2.waitForState('BACKUP', { from: m2b, timeoutMs: 5_000 });
    conv = await converge(prober, t2, 'return', logs);
    const h = await topo.vipHolders();
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), `only R1 holds the VIP after failback: ${h}`);
    steps.push({ name: 'R1 returns (preempt)', t: t2, convergedAt: conv, takeoverMs: took2, holders4: await topo.vipHolders() });

    await new Promise((r) => setTimeout(r, 300));
    const report = await prober.stop();
    // Only the two composite events count for attribution (the fault helpers' own marks fall inside them).
    report.events = steps.map((s) => ({ t: s.t, name: s.name }));
    console.log(printTable('keepalived 2.2.7, VRRPv2, advert 1 s, R1 prio 150, R2 prio 100', report, steps, bound));
    for (let i = 0; i < steps.length; i++) checkStep(report, steps, i, bound);
    const crash = attributeOutages(report).filter((x) => x.event.t === t);
    // With 1 s adverts the host is dark for most of Master_Down_Interval (3.6 s): at least 3 advert intervals minus one.
    assert.ok(crash.every((x) => x.outageMs > 2_000), `the crash must cost ~Master_Down_Interval: ${crash.map((x) => x.outageMs)}`);
  } finally {
    await topo.destroy();
  }
});

test('keepalived v3, advert 0.1 s, use_vmac: cable pull and return, the VIP on the VMAC interface', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('hx'), ipv6: false });
  const daemons: RouterDaemon[] = [];
  const logs = (): string => daemons.map((d) => `--- ${d.router}\n${d.proc.output(12)}`).join('\n');
  try {
    const conf = (priority: number): string =>
      keepalivedConf({
        instances: [{ name: 'VI_1', vrid: 51, priority, advertInt: 0.1, useVmac: true, vips: [`${topo.vip4}/24`] }],
      });
    const r1 = await startDaemon(topo, 'R1', { config: conf(150) });
    const r2 = await startDaemon(topo, 'R2', { config: conf(100) });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER');
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), `R1 holds the VIP\n${logs()}`);
    const onVmac = (await topo.addresses('R1')).find((a) => a.local === topo.vip4);
    assert.equal(onVmac?.ifname, 'vrrp.51', 'the VIP is on the VMAC interface');
    const prober = await Prober.start(topo, [{ name: 'vip4', address: topo.vip4 }, { name: 'upstream4', address: topo.upstream4 }], {
      intervalMs: 2,
      maxDurationMs: 30_000,
    });
    assert.ok(await prober.waitForReplies({ consecutive: 50, timeoutMs: 5_000 }), `no replies\n${logs()}`);
    // Which MAC the host uses for the VIP: keepalived's master answers ARP from the VMAC, but its own ARP
    // requests for the host leave eth0 with the parent's MAC and the VIP as sender (the LAN's connected route is
    // on eth0), which re-teaches the host the parent's MAC. Recorded, not asserted: it is keepalived's behaviour.
    const macName = async (): Promise<string> => {
      const m = await topo.hostNeighbor();
      if (m === '00:00:5e:00:01:33') return 'VMAC';
      for (const r of ['R1', 'R2'] as const) if (m === (await topo.mac(r))) return `${r} eth0`;
      return String(m);
    };
    const gw: string[] = [await macName()];
    assert.ok(['VMAC', 'R1 eth0'].includes(gw[0]!), `the host sends to R1: ${gw[0]}`);
    const bound = masterDownIntervalMs(0.1, 100, 3) + MARGIN_MS;
    const takeoverBound = masterDownIntervalMs(0.1, 100, 3) + TAKEOVER_MARGIN_MS;
    const steps: Step[] = [];

    let m2 = r2.mark();
    const m1 = r1.mark();
    let t = await topo.linkDown('R1', 'switch');
    const took = (await r2.waitForState('MASTER', { from: m2, timeoutMs: 5_000 })).t - t;
    assert.ok(took <= takeoverBound, `R2 took over ${took} ms after the cable pull (bound ${takeoverBound} ms)\n${logs()}`);
    let conv = await converge(prober, t, 'link down', logs);
    assert.ok(await topo.waitForVipHolders(['R2'], topo.vip4, 5_000));
    gw.push(await macName());
    steps.push({ name: 'R1 LAN link down (switch side)', t, convergedAt: conv, takeoverMs: took, holders4: await topo.vipHolders() });

    m2 = r2.mark();
    t = await topo.linkUp('R1', 'switch');
    const took2 = (await r1.waitForState('MASTER', { from: m1, timeoutMs: 5_000 })).t - t;
    await r2.waitForState('BACKUP', { from: m2, timeoutMs: 5_000 });
    conv = await converge(prober, t, 'link up', logs);
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000));
    steps.push({ name: 'R1 LAN link up (preempt)', t, convergedAt: conv, takeoverMs: took2, holders4: await topo.vipHolders() });

    await new Promise((r) => setTimeout(r, 300));
    const report = await prober.stop();
    gw.push(await macName());
    console.log(printTable('keepalived 2.2.7, VRRPv3, advert 0.1 s, use_vmac, R1 prio 150, R2 prio 100', report, steps, bound));
    console.log(`host's MAC for the VIP: before ${gw[0]}, after the cable pull ${gw[1]}, after the return ${gw[2]}`);
    for (let i = 0; i < steps.length; i++) checkStep(report, steps, i, bound);
  } finally {
    await topo.destroy();
  }
});
