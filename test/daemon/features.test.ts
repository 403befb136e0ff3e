/**
 * Daemon features that need the kernel end to end (issue 5): no_accept through vipd's nftables table, and
 * virtual_routes / virtual_rules installed with the VIPs on the master only.
 *
 * Needs root and nft; skips with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labSkipReason } from '../helpers/netns.js';
import { buildTopology, cleanOrphanLabs, execCapture, keepalivedConf, processTag, startDaemon, type RouterDaemon } from '../../src/linux/lab/index.js';

const skip = labSkipReason({ ping: true });
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('dft');

test('no_accept: the master holds and announces the VIP but does not accept traffic to it; forwarding still works', { skip, timeout: 40_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('dft'), ipv6: false });
  const daemons: RouterDaemon[] = [];
  try {
    const conf = (accept: boolean) =>
      keepalivedConf({ instances: [{ name: 'VI_1', vrid: 81, priority: 150, advertInt: 0.1, vips: [`${topo.vip4}/24`], accept }] });
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(false) });
    daemons.push(r1);
    await r1.waitForState('MASTER');
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000));
    const ruleset = await topo.exec('R1', 'nft', ['list', 'table', 'inet', 'vipd']);
    assert.match(ruleset, new RegExp(topo.vip4.replace(/\./g, '\\.')), ruleset);
    const ns = topo.nsOf('H');
    const pingVip = await execCapture('ip', ['netns', 'exec', ns, 'ping', '-c', '2', '-W', '1', '-i', '0.2', topo.vip4], { timeoutMs: 5_000 });
    assert.notEqual(pingVip.code, 0, 'the VIP must not answer pings with no_accept');
    const pingUp = await execCapture('ip', ['netns', 'exec', ns, 'ping', '-c', '2', '-W', '1', '-i', '0.2', topo.upstream4], { timeoutMs: 5_000 });
    assert.equal(pingUp.code, 0, `traffic through the virtual router still flows:\n${pingUp.stdout}${pingUp.stderr}`);
    // On stop the table goes away.
    await r1.stop();
    const after = await execCapture('ip', ['netns', 'exec', topo.nsOf('R1'), 'nft', 'list', 'table', 'inet', 'vipd'], { timeoutMs: 5_000 });
    assert.notEqual(after.code, 0, 'the vipd table was removed on stop');
  } finally {
    for (const d of daemons) if (d.proc.running) d.proc.kill('SIGKILL', true);
    await topo.destroy();
  }
});

test('virtual_routes and virtual_rules follow mastership', { skip, timeout: 40_000 }, async () => {
  await orphans;
  const topo = await buildTopology({ tag: processTag('dft'), ipv6: false });
  const daemons: RouterDaemon[] = [];
  try {
    const conf = (p: number) =>
      keepalivedConf({
        instances: [
          {
            name: 'VI_1',
            vrid: 82,
            priority: p,
            advertInt: 0.1,
            vips: [`${topo.vip4}/24`],
            extra: [`virtual_routes {\n 203.0.113.0/24 via ${topo.upstream4} dev eth1\n }`, 'virtual_rules {\n from 203.0.113.7 table 100 priority 1000\n }'],
          },
        ],
      });
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100) });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER');
    await r2.waitForState('BACKUP');
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await topo.exec('R1', 'ip', ['route', 'show', '203.0.113.0/24']), /via 198\.51\.100\.100/);
    assert.match(await topo.exec('R1', 'ip', ['rule', 'show']), /1000:\s+from 203\.0\.113\.7 lookup 100/);
    assert.equal((await topo.exec('R2', 'ip', ['route', 'show', '203.0.113.0/24'])).trim(), '', 'no route on the backup');
    const m2 = r2.mark();
    await r1.stop();
    await r2.waitForState('MASTER', { from: m2 });
    await new Promise((r) => setTimeout(r, 300));
    assert.match(await topo.exec('R2', 'ip', ['route', 'show', '203.0.113.0/24']), /via 198\.51\.100\.100/, 'the new master installed the route');
    assert.doesNotMatch(await topo.exec('R1', 'ip', ['rule', 'show']), /203\.0\.113\.7/, 'the old master removed its rule');
  } finally {
    for (const d of daemons) if (d.proc.running) d.proc.kill('SIGKILL', true);
    await topo.destroy();
  }
});
