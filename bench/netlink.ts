/**
 * Netlink / GARP benchmark (root; runs in its own network namespace `vipd-bench-*`):
 *   - address add + delete round trip (IPv4, IPv6),
 *   - "become master": VIPs installed through rtnetlink and one GARP (IPv4) / NA (IPv6) sent per VIP,
 *     for 1 and 100 VIPs. Targets: < 1 ms for 1 VIP, < 20 ms for 100.
 * Usage: npx tsc -p . && sudo node dist/bench/netlink.js [--json-only]
 * Prints a JSON object and a table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rtnl } from '../src/linux/rtnetlink.js';
import { GarpSender } from '../src/linux/garp.js';
import { VmacManager } from '../src/linux/vmac.js';
import type { AddrSpec } from '../src/wire/netlink.js';

interface Stats {
  n: number;
  avg: number;
  p50: number;
  p99: number;
  max: number;
}

function stats(samplesMs: number[]): Stats {
  const s = [...samplesMs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { n: s.length, avg: r(s.reduce((a, b) => a + b, 0) / s.length), p50: r(q(0.5)), p99: r(q(0.99)), max: r(s[s.length - 1]!) };
}

function v4(i: number): Uint8Array {
  return Uint8Array.of(203, 0, 113, i);
}
function v6(i: number): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0x20;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[4] = 0x0b;
  a[15] = i;
  return a;
}

async function inner(): Promise<void> {
  const rtnl = Rtnl.open();
  const eth0 = await rtnl.requireLink('eth0');
  const results: Record<string, Stats> = {};

  // 1. add + delete round trip
  for (const family of [4, 6] as const) {
    const spec: AddrSpec = { family, ifindex: eth0.ifindex, address: family === 4 ? v4(200) : v6(200), prefixlen: family === 4 ? 24 : 64 };
    const samples: number[] = [];
    for (let i = 0; i < 2200; i++) {
      const t0 = performance.now();
      await rtnl.addAddress(spec);
      await rtnl.delAddress(spec);
      if (i >= 200) samples.push(performance.now() - t0);
    }
    results[`addr_add_del_ipv${family}`] = stats(samples);
  }

  // 2. become master: VIPs on the VMAC + GARP/NA per VIP
  const vmacs = new VmacManager(rtnl);
  const vm4 = await vmacs.ensure({ parent: 'eth0', vrid: 7, family: 4 });
  const vm6 = await vmacs.ensure({ parent: 'eth0', vrid: 8, family: 6 });
  const garp = GarpSender.open();
  for (const family of [4, 6] as const) {
    const vm = family === 4 ? vm4 : vm6;
    for (const count of [1, 100]) {
      const specs: AddrSpec[] = [];
      for (let i = 1; i <= count; i++) {
        specs.push({ family, ifindex: vm.ifindex, address: family === 4 ? v4(i) : v6(i), prefixlen: family === 4 ? 24 : 64 });
      }
      const samples: number[] = [];
      const rounds = count === 1 ? 500 : 60;
      for (let r = 0; r < rounds + 10; r++) {
        const t0 = performance.now();
        await Promise.all(specs.map((s) => rtnl.addAddress(s)));
        for (const s of specs) {
          if (family === 4) garp.sendGarp(vm.ifindex, vm.mac, s.address);
          else garp.sendNa(vm.ifindex, vm.mac, vm.linkLocal!, s.address);
        }
        const t1 = performance.now();
        if (r >= 10) samples.push(t1 - t0);
        await Promise.all(specs.map((s) => rtnl.delAddress(s)));
      }
      results[`become_master_ipv${family}_${count}_vip${count > 1 ? 's' : ''}`] = stats(samples);
    }
  }
  garp.close();
  await vmacs.releaseAll();
  rtnl.close();
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

function outer(): void {
  if (process.getuid?.() !== 0) {
    console.error('bench/netlink: needs root (it creates a network namespace vipd-bench-*)');
    process.exit(2);
  }
  const ns = `vipd-bench-${process.pid.toString(36)}`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'eth1', 'up');
    ip('-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'eth0');
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), '--inner'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0) {
      console.error(`bench/netlink failed: ${r.stderr || r.error?.message}`);
      process.exitCode = 1;
      return;
    }
    const results = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, Stats>;
    const report = {
      bench: 'netlink',
      unit: 'ms',
      node: process.version,
      targets: { become_master_1_vip: 1, become_master_100_vips: 20 },
      results,
    };
    console.log(JSON.stringify(report));
    if (!process.argv.includes('--json-only')) {
      console.log('');
      console.log('case                              n      avg      p50      p99      max  (ms)');
      for (const [k, s] of Object.entries(results)) {
        console.log(`${k.padEnd(30)} ${String(s.n).padStart(5)} ${[s.avg, s.p50, s.p99, s.max].map((x) => x.toFixed(3).padStart(8)).join(' ')}`);
      }
    }
  } finally {
    try {
      ip('netns', 'del', ns);
    } catch {
      /* gone */
    }
  }
}

if (process.argv.includes('--inner')) {
  inner().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
} else {
  outer();
}
