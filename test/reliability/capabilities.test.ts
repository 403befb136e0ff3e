/**
 * vipd runs with only CAP_NET_ADMIN and CAP_NET_RAW (issue 9), as systemd runs it with
 * `User=... AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW`:
 * here `setpriv` (util-linux) runs it as `nobody` with exactly those two capabilities ambient, inheritable and in
 * the bounding set, inside a lab router's namespace. It becomes master, installs its VIP and VMAC, and a stop
 * removes them. With one capability missing it must say which one.
 *
 * Needs root (to hand out the capabilities), setpriv and the lab. About 15 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTopology, cleanOrphanLabs, daemonCommand, keepalivedConf, processTag, type Topology } from '../../src/linux/lab/index.js';
import { haveCommand, labSkip, sleep } from './common.js';

const skip = labSkip() || (haveCommand('setpriv') ? false : 'setpriv (util-linux) is not installed; skipped');
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('rk');
const NOBODY = 65534;

function conf(vmac: boolean): string {
  return keepalivedConf({
    instances: [{ name: 'VI_1', vrid: 51, priority: 150, advertInt: 0.1, vips: ['192.0.2.1/24'], ...(vmac ? { useVmac: 'vrrp.51' } : {}) }],
  });
}

/** Start vipd on R1 as nobody with exactly `caps` (e.g. ['net_admin', 'net_raw']). */
function runWithCaps(topo: Topology, caps: string[], vmac: boolean) {
  const dir = topo.tempDir('caps');
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'keepalived.conf'), conf(vmac));
  chownSync(dir, NOBODY, NOBODY);
  chownSync(join(dir, 'keepalived.conf'), NOBODY, NOBODY);
  const set = ['-all', ...caps.map((c) => `+${c}`)].join(',');
  const [node, args] = daemonCommand('vipd', dir);
  const p = topo.spawn('R1', 'setpriv', [
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    '--clear-groups',
    `--inh-caps=${set}`,
    `--ambient-caps=${set}`,
    `--bounding-set=${set}`,
    node,
    ...args,
  ]);
  return { p, dir };
}

async function addrs(topo: Topology): Promise<string> {
  return topo.exec('R1', 'ip', ['-br', 'addr', 'show']);
}

test('vipd as nobody with only CAP_NET_ADMIN + CAP_NET_RAW: master, VIP and VMAC installed, removed on stop', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('rk'), routers: 2, ipv6: false });
  try {
    const { p } = runWithCaps(topo, ['net_admin', 'net_raw'], true);
    await p.waitForLine(/\(VI_1\) Entering MASTER STATE/, { timeoutMs: 5000 });
    // Its capabilities really are just those two, as a non-root user (`ip netns exec` and setpriv exec the
    // daemon: same PID).
    const status = await topo.exec('R1', 'cat', [`/proc/${p.pid}/status`]);
    assert.match(status, /^Uid:\s+65534\b/m);
    assert.match(status, /^CapEff:\s+0000000000003000$/m, 'CapEff = CAP_NET_ADMIN (12) | CAP_NET_RAW (13)');
    await sleep(300);
    assert.match(await addrs(topo), /^vrrp\.51@eth0\s+UP\s+192\.0\.2\.1\/24/m, 'VIP on the VMAC');
    const exit = await p.stop('SIGTERM', 5000);
    assert.equal(exit.code, 0, p.output(10));
    const after = await addrs(topo);
    assert.doesNotMatch(after, /192\.0\.2\.1\/|vrrp\.51/, 'VIP and VMAC removed on stop');
  } finally {
    await topo.destroy();
  }
});

test('without CAP_NET_ADMIN: the failure names CAP_NET_ADMIN', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('rk'), routers: 2, ipv6: false });
  try {
    const { p } = runWithCaps(topo, ['net_raw'], true);
    const l = await p.waitForLine(/EPERM|not permitted/i, { timeoutMs: 5000 });
    assert.match(l.text, /CAP_NET_ADMIN/, l.text);
    assert.doesNotMatch(p.output(), /\n\s+at /, 'no stack trace');
    await p.stop('SIGTERM', 5000);
  } finally {
    await topo.destroy();
  }
});

test('without CAP_NET_RAW: vipd exits, naming CAP_NET_RAW', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('rk'), routers: 2, ipv6: false });
  try {
    const { p } = runWithCaps(topo, ['net_admin'], false);
    const exit = await p.waitExit(5000);
    assert.ok(exit && exit.code !== 0, 'exits with an error');
    assert.match(p.output(), /CAP_NET_RAW/, p.output(5));
    assert.doesNotMatch(p.output(), /\n\s+at /, 'no stack trace');
  } finally {
    await topo.destroy();
  }
});

test('without CAP_NET_RAW: vipd exits with a clear error (no stack trace)', { skip, timeout: 60_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('rk'), routers: 2, ipv6: false });
  try {
    const { p } = runWithCaps(topo, ['net_admin'], false);
    const exit = await p.waitExit(5000);
    assert.ok(exit && exit.code !== 0, `exits with an error (${JSON.stringify(exit)})`);
    assert.match(p.output(), /Operation not permitted \(EPERM\)/);
    assert.doesNotMatch(p.output(), /\n\s+at /, 'no stack trace');
  } finally {
    await topo.destroy();
  }
});
