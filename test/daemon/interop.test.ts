/**
 * vipd and keepalived 2.2.7 in one VRRP group (issue 5): each as master and as backup, v2 and v3, IPv4 and IPv6,
 * VMAC on and off, unicast. For each case: the higher priority wins the first election, the other takes over
 * within Master_Down_Interval when it is SIGKILLed, the first one preempts back when it returns, and keepalived
 * never logs a bogus / invalid packet from vipd.
 *
 * Needs root, nft and keepalived; skips with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labSkipReason } from '../helpers/netns.js';
import {
  buildTopology,
  cleanOrphanLabs,
  keepalivedConf,
  masterDownIntervalMs,
  processTag,
  startDaemon,
  type DaemonKind,
  type RouterDaemon,
  type Topology,
  type VrrpInstanceSpec,
} from '../../src/linux/lab/index.js';

const skip = labSkipReason({ keepalived: true });
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('dio');
const MARGIN_MS = 250;

/** keepalived's complaints about a peer's packets. */
const BOGUS = /bogus|invalid|wrong version|mismatch|expected \d+ VIPs|received an? .*auth|checksum|not present in MASTER/i;

interface Case {
  name: string;
  /** Which daemon is R1 (priority 150); R2 (100) runs the other. */
  r1: DaemonKind;
  advert: number;
  version: 2 | 3;
  ipv6?: boolean;
  vmac?: boolean;
  unicast?: boolean;
  authPass?: string;
}

function instances(topo: Topology, c: Case, priority: number, self: 'R1' | 'R2'): VrrpInstanceSpec[] {
  const other = self === 'R1' ? 'R2' : 'R1';
  const base: Partial<VrrpInstanceSpec> = {
    advertInt: c.advert,
    version: c.version,
    ...(c.vmac ? { useVmac: true } : {}),
    ...(c.authPass ? { authPass: c.authPass } : {}),
  };
  if (c.unicast) {
    base.unicastSrcIp = topo.router(self).lan4;
    base.unicastPeers = [topo.router(other).lan4];
  }
  const out: VrrpInstanceSpec[] = [{ name: 'VI_1', vrid: 61, priority, vips: [`${topo.vip4}/24`], ...base }];
  if (c.ipv6) {
    const { unicastSrcIp: _s, unicastPeers: _p, ...b6 } = base;
    out.push({ name: 'VI_6', vrid: 62, priority, vips: ['fe80::1:1/64', `${topo.vip6}/64`], ...b6, version: 3 });
  }
  return out;
}

async function states(d: RouterDaemon, state: 'MASTER' | 'BACKUP', names: string[], from: number): Promise<number> {
  let t = 0;
  for (const n of names) t = Math.max(t, (await d.waitForState(state, { instance: n, from, timeoutMs: 10_000 })).t);
  return t;
}

async function runCase(c: Case): Promise<void> {
  await orphans;
  const topo = await buildTopology({ tag: processTag('dio'), ipv6: Boolean(c.ipv6) });
  const daemons: RouterDaemon[] = [];
  const logs = () => daemons.map((d) => `--- ${d.router} (${d.kind})\n${d.proc.output(30)}`).join('\n');
  const names = c.ipv6 ? ['VI_1', 'VI_6'] : ['VI_1'];
  try {
    const other: DaemonKind = c.r1 === 'vipd' ? 'keepalived' : 'vipd';
    let r1 = await startDaemon(topo, 'R1', { kind: c.r1, config: keepalivedConf({ instances: instances(topo, c, 150, 'R1') }) });
    const r2 = await startDaemon(topo, 'R2', { kind: other, config: keepalivedConf({ instances: instances(topo, c, 100, 'R2') }) });
    daemons.push(r1, r2);
    await states(r1, 'MASTER', names, 0);
    // Started a few hundred ms apart, R2 may win the very first election before R1 is up; R1 then preempts.
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 8_000), `R1 ends up the only VIP holder\n${logs()}`);
    const settled = r2.mark();
    // Let several adverts cross; the backup must stay backup (it accepts the master's packets).
    await new Promise((r) => setTimeout(r, Math.max(600, 3 * c.advert * 1000)));
    const since = r2.proc.lines.slice(settled).map((l) => l.text).join('\n');
    assert.doesNotMatch(since, /Entering MASTER STATE/, `${other} on R2 must stay BACKUP under ${c.r1}\n${logs()}`);
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), `only R1 holds the VIP\n${logs()}`);

    // R1 dies: R2 takes over within Master_Down_Interval.
    const bound = masterDownIntervalMs(c.advert, 100, c.version) + MARGIN_MS;
    const m2 = r2.mark();
    const t = await r1.crash();
    const took = (await states(r2, 'MASTER', names, m2)) - t;
    assert.ok(took <= bound, `${other} took over ${took} ms after SIGKILL of ${c.r1} (bound ${bound.toFixed(0)} ms)\n${logs()}`);

    // R1 returns and preempts; R2 goes back to BACKUP.
    const m2b = r2.mark();
    r1 = await r1.restart();
    daemons.push(r1);
    await states(r1, 'MASTER', names, 0);
    await states(r2, 'BACKUP', names, m2b);
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), `only R1 holds the VIP after failback\n${logs()}`);
    await new Promise((r) => setTimeout(r, 300));
    for (const d of daemons) {
      if (d.kind !== 'keepalived') continue;
      const bad = d.proc.output(500).split('\n').filter((l) => BOGUS.test(l));
      assert.deepEqual(bad, [], `keepalived on ${d.router} complained about vipd's packets`);
    }
  } finally {
    for (const d of daemons) if (d.proc.running) d.proc.kill('SIGKILL', true);
    await topo.destroy();
  }
}

const cases: Case[] = [
  { name: 'v2 PASS IPv4, vipd master', r1: 'vipd', advert: 1, version: 2, authPass: 'secret12' },
  { name: 'v2 PASS IPv4, keepalived master', r1: 'keepalived', advert: 1, version: 2, authPass: 'secret12' },
  { name: 'v3 IPv4+IPv6, vipd master', r1: 'vipd', advert: 0.1, version: 3, ipv6: true },
  { name: 'v3 IPv4+IPv6, keepalived master', r1: 'keepalived', advert: 0.1, version: 3, ipv6: true },
  { name: 'v3 IPv4+IPv6 with VMAC, vipd master', r1: 'vipd', advert: 0.1, version: 3, ipv6: true, vmac: true },
  { name: 'v3 IPv4+IPv6 with VMAC, keepalived master', r1: 'keepalived', advert: 0.1, version: 3, ipv6: true, vmac: true },
  { name: 'v3 unicast IPv4, vipd master', r1: 'vipd', advert: 0.1, version: 3, unicast: true },
  { name: 'v3 unicast IPv4, keepalived master', r1: 'keepalived', advert: 0.1, version: 3, unicast: true },
];

for (const c of cases) {
  test(`interop with keepalived 2.2.7: ${c.name}`, { skip, timeout: 60_000 }, () => runCase(c));
}
