/**
 * Hostile packets (issue 9): a LAN namespace (the lab's host H) sends a million malformed and adversarial VRRP
 * adverts at a running vipd pair: random bytes, every field out of range, truncated, wrong checksum, TTL / hop
 * limit below 255 with a higher priority (an off-link attacker), wrong VRID, v2 auth mismatches, unicast from a
 * non-peer. Checks: neither daemon crashes, every packet is counted under its rejection reason on every receiver
 * (plus what the kernel dropped before vipd could read it, from /proc/net/raw), log lines stay rate limited, and
 * there is no transition at all. Then a valid priority-255 advert from a non-owner: the transition VRRP demands
 * (the master yields) and nothing more; it takes mastership back once the impostor goes quiet.
 *
 * Needs root and the lab (iproute2, nftables). HOSTILE_TOTAL overrides the packet count. About 40 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blast,
  buildTopology,
  cleanOrphanLabs,
  masterDownIntervalMs,
  processTag,
  startDaemon,
  type HostileTarget,
  type RouterDaemon,
  type RouterName,
  type Topology,
} from '../../src/linux/lab/index.js';
import type { DaemonStatus } from '../../src/daemon/api.js';
import { inst, labSkip, pairConfig, rawDrops, sleep, status, transitions } from './common.js';

const skip = labSkip();
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('rh');
const TOTAL = Number(process.env.HOSTILE_TOTAL ?? 1_000_000);
const RATE = Number(process.env.HOSTILE_RATE ?? 25_000);
const INSTANCES = ['VI_1', 'VI_2', 'VI_6', 'VI_U'];
const VRID_OF: Record<string, string> = { '51': 'VI_1', '52': 'VI_2', '53': 'VI_6', '54': 'VI_U' };

function counters(s: DaemonStatus): Record<string, Record<string, number>> {
  return Object.fromEntries(s.instances.map((i) => [i.name, { ...i.counters }]));
}

function delta(a: Record<string, Record<string, number>>, b: Record<string, Record<string, number>>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [n, c] of Object.entries(b)) {
    out[n] = {};
    for (const [k, v] of Object.entries(c)) if (v !== a[n]![k]) out[n]![k] = v - a[n]![k]!;
  }
  return out;
}

test('a million hostile adverts: no crash, every packet counted under its reason, rate-limited logs, no transition', { skip, timeout: 240_000 }, async () => {
  await orphans;
  const topo: Topology = await buildTopology({ tag: processTag('rh'), routers: 2, ipv6: true });
  try {
    const d: Record<RouterName, RouterDaemon> = {} as never;
    d.R1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: pairConfig(topo, 'R1', 150) });
    d.R2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: pairConfig(topo, 'R2', 100) });
    for (const i of INSTANCES) {
      await d.R1.waitForState('MASTER', { instance: i });
      await d.R2.waitForState('BACKUP', { instance: i });
    }
    await sleep(1500); // R2 has heard R1 (it stays BACKUP); the first adverts are in
    const target: HostileTarget = {
      src4: topo.host4,
      src6: '2001:db8:1::100',
      v3: { vrid: 51, vips: ['192.0.2.1'] },
      v2: { vrid: 52, vips: ['192.0.2.2'], pass: 'secret12', intervalSec: 1 },
      v6: { vrid: 53, vips: ['fe80::1:1', '2001:db8:1::1'] },
      unicast: { vrid: 54, vips: ['192.0.2.3'], dst: topo.router('R1').lan4 },
      configuredVrids: [51, 52, 53, 54],
    };
    const before = { R1: counters(await status(d.R1)), R2: counters(await status(d.R2)) };
    const drops0 = { R1: await rawDrops(topo, 'R1'), R2: await rawDrops(topo, 'R2') };
    const m = { R1: d.R1.mark(), R2: d.R2.mark() };
    const r = await blast(topo, 'H', { target, seed: 9, total: TOTAL, ratePps: RATE }, 180_000);
    assert.deepEqual(r.errors, {}, 'the blaster could send every packet');
    assert.equal(r.sent, TOTAL);
    // Let the daemons read what is queued; a peer advert or two arrives meanwhile (advert_rcvd, not checked).
    await sleep(1000);
    for (const n of ['R1', 'R2'] as const) assert.ok(d[n].proc.running, `${n}'s vipd is still running`);
    const after = { R1: counters(await status(d.R1)), R2: counters(await status(d.R2)) };
    const drops1 = { R1: await rawDrops(topo, 'R1'), R2: await rawDrops(topo, 'R2') };

    const report: Record<string, unknown> = { sent: r.sent, elapsedMs: r.elapsedMs, pps: Math.round(r.sent / (r.elapsedMs / 1000)) };
    for (const n of ['R1', 'R2'] as const) {
      const got = delta(before[n], after[n]);
      const kernelDrops = drops1[n][4] - drops0[n][4] + drops1[n][6] - drops0[n][6];
      // Expected per instance and counter: every multicast packet, plus the unicast ones addressed to this router.
      const want: Record<string, Record<string, number>> = {};
      const add = (key: string, count: number) => {
        if (key === 'unmatched') return;
        const [vrid, counter] = key.split(':') as [string, string];
        const name = VRID_OF[vrid]!;
        (want[name] ??= {})[counter] = (want[name]![counter] ?? 0) + count;
      };
      for (const [k, c] of Object.entries(r.multicast)) add(k, c);
      for (const [k, c] of Object.entries(r.unicast)) {
        const [dst, key] = k.split('|') as [string, string];
        if (dst === topo.router(n).lan4) add(key, c);
      }
      let expectedTotal = 0;
      let countedTotal = 0;
      for (const [name, cs] of Object.entries(want)) {
        for (const [counter, c] of Object.entries(cs)) {
          expectedTotal += c;
          countedTotal += got[name]?.[counter] ?? 0;
        }
      }
      report[n] = { counted: countedTotal, expected: expectedTotal, kernelDrops, unmatchedSent: r.multicast.unmatched ?? 0 };
      console.log(`hostile packets at ${n}:`, JSON.stringify(report[n]), JSON.stringify(got));
      // Nothing counted that was not sent, no counter moved that no packet aimed at (besides the peer's adverts).
      for (const [name, cs] of Object.entries(got)) {
        for (const [counter, c] of Object.entries(cs)) {
          if (counter === 'advert_rcvd' || counter === 'advert_sent') continue;
          assert.ok(want[name]?.[counter] !== undefined, `${n} ${name}.${counter} moved by ${c} though no packet aimed at it`);
          assert.ok(c <= want[name]![counter]!, `${n} ${name}.${counter}: ${c} counted > ${want[name]![counter]} sent`);
        }
      }
      // Every packet that reached the daemon's socket is counted: what is missing the kernel dropped (its queue
      // was full), and /proc/net/raw counts those. Packets of unconfigured VRIDs are counted by no instance.
      const missing = expectedTotal - countedTotal;
      assert.ok(missing >= 0 && missing <= kernelDrops, `${n}: ${missing} packets neither counted nor dropped by the kernel (drops ${kernelDrops})`);
      if (kernelDrops === 0) {
        for (const [name, cs] of Object.entries(want)) for (const [counter, c] of Object.entries(cs)) assert.equal(got[name]?.[counter] ?? 0, c, `${n} ${name}.${counter}`);
      }
      // How many the kernel dropped depends on the machine's load (other tests, other daemons); here 0.6-0.8% at
      // 25,000/s on an idle 2-core machine, up to ~7% with other namespace tests running beside. A daemon that
      // stalls or crawls would lose most of them.
      assert.ok(kernelDrops <= expectedTotal * 0.25, `${n}: kernel dropped ${kernelDrops} of ${expectedTotal} (the daemon fell far behind)`);
      // No transition at all: every packet was invalid.
      assert.deepEqual(transitions(d[n], m[n]), [], `${n} made no transition`);
      // Rate-limited logging: at most 5 lines per (instance, reason) per 10 s window, plus the line announcing the
      // suppressed count; with ~20 keys over the run this is a few hundred lines for a million packets.
      const lines = d[n].proc.lines.length - m[n];
      const windows = Math.ceil((r.elapsedMs + 2000) / 10_000) + 1;
      report[`${n}logLines`] = lines;
      assert.ok(lines <= 25 * 6 * windows, `${n}: ${lines} log lines for ${r.sent} bad packets`);
    }
    console.log('hostile packets:', JSON.stringify(report));
    console.log('per class:', JSON.stringify(r.perClass));
    // Still the same roles.
    const s1 = await status(d.R1);
    const s2 = await status(d.R2);
    for (const i of INSTANCES) {
      assert.equal(inst(s1, i).state, 'MASTER', `R1 ${i}`);
      assert.equal(inst(s2, i).state, 'BACKUP', `R2 ${i}`);
    }

    // A valid advert with priority 255 from a host that owns nothing: on-link and well-formed, VRRP has no way to
    // tell it from an owner (docs/security.md). The protocol demands that the master yields, and nothing else.
    const m1 = d.R1.mark();
    const m2 = d.R2.mark();
    const imp = await blast(topo, 'H', { target, seed: 1, total: 20, ratePps: 20, classes: ['prio255'] }, 10_000);
    assert.equal(imp.sent, 20);
    await d.R1.waitForState('BACKUP', { from: m1, timeoutMs: 2000 });
    assert.ok(d.R1.proc.grep(/\(VI_1\) Master received advert from 192\.0\.2\.100 with higher priority 255, ours 150/, m1).length >= 1);
    // After the impostor stops, Master_Down_Interval later R1 (higher priority) takes over again.
    await d.R1.waitForState('MASTER', { from: m1, timeoutMs: 2000 + masterDownIntervalMs(1, 150) });
    await sleep(300);
    assert.deepEqual(transitions(d.R1, m1), ['(VI_1) Entering BACKUP STATE', '(VI_1) Entering MASTER STATE']);
    assert.deepEqual(transitions(d.R2, m2), [], 'R2 (backup) just follows the new master');
  } finally {
    await topo.destroy();
  }
});
