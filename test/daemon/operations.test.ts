/**
 * Tracking, sync groups, notify, hitless reload and make-before-break handover (issue 6), end to end in the lab
 * topology with vipd on both routers and the host probing every 2 ms.
 *
 * Needs root and nft; skips with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { labSkipReason } from '../helpers/netns.js';
import {
  attributeOutages,
  buildTopology,
  cleanOrphanLabs,
  keepalivedConf,
  Prober,
  processTag,
  startDaemon,
  type RouterDaemon,
  type Topology,
} from '../../src/linux/lab/index.js';

const skip = labSkipReason({});
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('dop');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GLOBAL = ['enable_script_security', 'script_user root'];

async function withLab(body: (topo: Topology, daemons: RouterDaemon[], logs: () => string, dir: string) => Promise<void>): Promise<void> {
  await orphans;
  const topo = await buildTopology({ tag: processTag('dop'), ipv6: false });
  const daemons: RouterDaemon[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vipd-ops-'));
  chmodSync(dir, 0o755);
  const logs = () => daemons.map((d) => `--- ${d.router}\n${d.proc.output(40)}`).join('\n');
  try {
    await body(topo, daemons, logs, dir);
  } finally {
    for (const d of daemons) if (d.proc.running) d.proc.kill('SIGKILL', true);
    await topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function ctl(d: RouterDaemon, ...args: string[]): string {
  return execFileSync(process.execPath, ['bin/vipd', ...args, '--control-socket', join(d.dir, 'vipd.sock')], { encoding: 'utf8', timeout: 20_000 });
}

function transitions(d: RouterDaemon, from: number): string[] {
  return d.proc.lines.slice(from).map((l) => l.text).filter((t) => /Entering (MASTER|BACKUP|FAULT) STATE/.test(t));
}

test('track_script weight moves mastership to the backup and back; notify gets keepalived argv, the FIFO its lines, in order', { skip, timeout: 60_000 }, async () => {
  await withLab(async (topo, daemons, logs, dir) => {
    const flag = join(dir, 'healthy');
    writeFileSync(flag, '');
    const notifyLog = join(dir, 'notify.log');
    const notify = join(dir, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$*" >> ${notifyLog}\n`, { mode: 0o755 });
    const fifo = join(dir, 'vrrp.fifo');
    execFileSync('mkfifo', [fifo]);
    const fifoLines: string[] = [];
    const reader = topo.spawn('H', 'sh', ['-c', `exec cat ${fifo}`]);
    reader.onLine((l) => {
      if (l.stream === 'stdout') fifoLines.push(l.text);
    });
    const conf = (p: number, script: string, withFifo: boolean) =>
      [
        `vrrp_script chk { \n script "/usr/bin/test -e ${script}"\n interval 1\n weight -60\n fall 1\n rise 1\n}`,
        keepalivedConf({
          globalDefs: [...GLOBAL, ...(withFifo ? [`vrrp_notify_fifo ${fifo}`] : [])],
          instances: [{ name: 'VI_1', vrid: 71, priority: p, advertInt: 0.1, vips: [`${topo.vip4}/24`], extra: ['track_script {\n chk\n }', `notify ${notify}`] }],
        }),
      ].join('\n');
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150, flag, true) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100, '/', false) });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER');
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), logs());
    const m1 = r1.mark();
    const m2 = r2.mark();
    rmSync(flag); // R1's check fails: 150 - 60 = 90 < 100, R2 preempts
    await r2.waitForState('MASTER', { from: m2, timeoutMs: 8_000 });
    await r1.waitForState('BACKUP', { from: m1, timeoutMs: 8_000 });
    await r1.waitForLine(/Changing effective priority from 150 to 90/, { from: m1, timeoutMs: 1_000 });
    assert.ok(await topo.waitForVipHolders(['R2'], topo.vip4, 5_000), logs());
    const m1b = r1.mark();
    writeFileSync(flag, ''); // healthy again: 150 > 100, R1 preempts back
    await r1.waitForState('MASTER', { from: m1b, timeoutMs: 8_000 });
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), logs());
    await sleep(1_000);
    const r1Notify = readFileSync(notifyLog, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.endsWith(' 150') || l.endsWith(' 90'));
    // keepalived's argv: INSTANCE name STATE priority, one run per transition, in order.
    assert.deepEqual(r1Notify.slice(-3), ['INSTANCE VI_1 MASTER 150', 'INSTANCE VI_1 BACKUP 90', 'INSTANCE VI_1 MASTER 150'], `notify runs on R1:\n${readFileSync(notifyLog, 'utf8')}`);
    const fl = fifoLines.filter((l) => l.startsWith('INSTANCE'));
    assert.deepEqual(fl.slice(-3), ['INSTANCE "VI_1" MASTER 150', 'INSTANCE "VI_1" BACKUP 90', 'INSTANCE "VI_1" MASTER 150'], `FIFO lines: ${fifoLines.join(' | ')}`);
  });
});

test('track_interface without weight: the instance goes FAULT while the tracked interface is down, and back', { skip, timeout: 40_000 }, async () => {
  await withLab(async (topo, daemons, logs) => {
    const conf = (p: number) =>
      keepalivedConf({ instances: [{ name: 'VI_1', vrid: 72, priority: p, advertInt: 0.1, vips: [`${topo.vip4}/24`], extra: ['track_interface {\n eth1\n }'] }] });
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100) });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER');
    const m1 = r1.mark();
    const m2 = r2.mark();
    await topo.exec('R1', 'ip', ['link', 'set', 'eth1', 'down']); // R1's upstream port
    await r1.waitForState('FAULT', { from: m1, timeoutMs: 5_000 });
    await r2.waitForState('MASTER', { from: m2, timeoutMs: 5_000 });
    assert.ok(await topo.waitForVipHolders(['R2'], topo.vip4, 5_000), logs());
    const m1b = r1.mark();
    await topo.exec('R1', 'ip', ['link', 'set', 'eth1', 'up']);
    await r1.waitForState('MASTER', { from: m1b, timeoutMs: 8_000 });
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), logs());
  });
});

test('vrrp_sync_group: when one member fails over, the other follows', { skip, timeout: 40_000 }, async () => {
  await withLab(async (topo, daemons, logs) => {
    const conf = (p: number) =>
      [
        'vrrp_sync_group G1 {\n group {\n VI_LAN\n VI_WAN\n }\n}',
        keepalivedConf({
          instances: [
            { name: 'VI_LAN', interface: 'eth0', vrid: 73, priority: p, advertInt: 0.1, vips: [`${topo.vip4}/24`] },
            { name: 'VI_WAN', interface: 'eth1', vrid: 74, priority: p, advertInt: 0.1, vips: ['198.51.100.1/24'] },
          ],
        }),
      ].join('\n');
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100) });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER', { instance: 'VI_LAN' });
    await r1.waitForState('MASTER', { instance: 'VI_WAN' });
    const m1 = r1.mark();
    const m2 = r2.mark();
    // Only the LAN link fails; the WAN instance on R1 still hears nothing wrong, yet the group moves together.
    await topo.linkDown('R1', 'switch');
    await r2.waitForState('MASTER', { instance: 'VI_LAN', from: m2, timeoutMs: 5_000 });
    await r2.waitForState('MASTER', { instance: 'VI_WAN', from: m2, timeoutMs: 5_000 });
    await r1.waitForLine(/VRRP_Group\(G1\) Syncing instances to FAULT state|Entering FAULT STATE/, { from: m1, timeoutMs: 5_000 });
    const r1wan = await topo.exec('R1', 'ip', ['-br', 'addr', 'show', 'eth1']);
    assert.doesNotMatch(r1wan, /198\.51\.100\.1\//, `R1 released the WAN VIP with its group\n${r1wan}\n${logs()}`);
    assert.match(await topo.exec('R2', 'ip', ['-br', 'addr', 'show', 'eth1']), /198\.51\.100\.1\//);
  });
});

test('reload: an unchanged file causes no transition and no lost probe; a broken file is refused; a changed instance is rebuilt', { skip, timeout: 60_000 }, async () => {
  await withLab(async (topo, daemons, logs) => {
    const conf = (p: number, vrid2 = 76) =>
      keepalivedConf({
        instances: [
          { name: 'VI_1', vrid: 75, priority: p, advertInt: 0.1, vips: [`${topo.vip4}/24`] },
          { name: 'VI_2', vrid: vrid2, priority: p, advertInt: 0.1, vips: ['192.0.2.2/24'] },
        ],
      });
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100) });
    daemons.push(r1, r2);
    await r1.waitForState('MASTER', { instance: 'VI_1' });
    await r1.waitForState('MASTER', { instance: 'VI_2' });
    const prober = await Prober.start(topo, [{ name: 'vip4', address: topo.vip4 }], { intervalMs: 2, maxDurationMs: 50_000 });
    assert.ok(await prober.waitForReplies({ consecutive: 50, timeoutMs: 5_000 }));

    // 1. Unchanged file, via the control socket and via SIGHUP.
    let m1 = r1.mark();
    let m2 = r2.mark();
    const out = ctl(r1, 'reload');
    assert.match(out, /unchanged: VI_1, VI_2/, out);
    r1.proc.kill('SIGHUP');
    await r1.waitForLine(/Reload complete: 2 unchanged/, { from: m1, timeoutMs: 5_000 });
    await sleep(500);
    assert.deepEqual(transitions(r1, m1), [], 'no transition on R1');
    assert.deepEqual(transitions(r2, m2), [], 'no transition on R2');
    assert.doesNotMatch(r1.proc.lines.slice(m1).map((l) => l.text).join('\n'), /gratuitous|sent 0 priority/i, 'no GARP, no priority 0');

    // 2. A broken file is refused with file:line and the running configuration stays.
    const confPath = join(r1.dir, 'keepalived.conf');
    const good = readFileSync(confPath, 'utf8');
    writeFileSync(confPath, good.replace('priority 150', 'priority banana'));
    m1 = r1.mark();
    let failed = '';
    try {
      ctl(r1, 'reload');
    } catch (e) {
      failed = String((e as { stdout?: string; stderr?: string }).stderr ?? '') + String((e as { stdout?: string }).stdout ?? '');
    }
    await r1.waitForLine(/Reload refused/, { from: m1, timeoutMs: 5_000 });
    assert.match(r1.proc.output(20) + failed, /keepalived\.conf:\d+/, 'the refusal names file:line');
    await sleep(400);
    assert.deepEqual(transitions(r1, m1), [], 'a broken file changes nothing');
    assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 1_000));

    // 3. One instance changed (VI_2 moves to VRID 77 on both routers): VI_2 is rebuilt, VI_1 untouched.
    writeFileSync(confPath, conf(150, 77));
    writeFileSync(join(r2.dir, 'keepalived.conf'), conf(100, 77));
    m1 = r1.mark();
    m2 = r2.mark();
    const changed = ctl(r1, 'reload');
    assert.match(changed, /changed: VI_2/, changed);
    assert.match(changed, /unchanged: VI_1/, changed);
    ctl(r2, 'reload');
    await r1.waitForState('MASTER', { instance: 'VI_2', from: m1, timeoutMs: 5_000 });
    await sleep(500);
    assert.deepEqual(
      transitions(r1, m1).filter((l) => l.includes('(VI_1)')),
      [],
      'the unchanged instance did not transition',
    );
    // 4. Only a priority changed (150 -> 160): applied in place, as keepalived does: no transition anywhere.
    writeFileSync(confPath, conf(160, 77));
    m1 = r1.mark();
    m2 = r2.mark();
    const prio = ctl(r1, 'reload');
    assert.match(prio, /changed: VI_1, VI_2|changed: VI_1/, prio);
    await sleep(500);
    assert.deepEqual(transitions(r1, m1), [], 'a priority change in place: no transition on R1');
    assert.deepEqual(transitions(r2, m2), [], 'no transition on R2');
    assert.match(ctl(r1, 'status', '--json'), /"effectivePriority":\s*160/);
    const report = await prober.stop();
    const vip = report.targets[0]!;
    console.log(`reload: ${vip.sent} probes, ${vip.lost} lost, longest outage ${vip.longestOutageMs.toFixed(1)} ms`);
    assert.equal(vip.lost, 0, `no probe to the VIP was lost across the reloads\n${logs()}`);
  });
});

test('vipd handover INSTANCE: make-before-break, 0 lost probes to the VIP and through the router (VMAC off and on)', { skip, timeout: 60_000 }, async () => {
  for (const vmac of [false, true]) {
    await withLab(async (topo, daemons, logs) => {
      const conf = (p: number) => keepalivedConf({ instances: [{ name: 'VI_1', vrid: 78, priority: p, advertInt: 0.1, vips: [`${topo.vip4}/24`], useVmac: vmac }] });
      const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: conf(150) });
      const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: conf(100) });
      daemons.push(r1, r2);
      await r1.waitForState('MASTER');
      assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000));
      const prober = await Prober.start(
        topo,
        [
          { name: 'vip4', address: topo.vip4 },
          { name: 'upstream4', address: topo.upstream4 },
        ],
        { intervalMs: 2, maxDurationMs: 30_000 },
      );
      assert.ok(await prober.waitForReplies({ consecutive: 50, timeoutMs: 5_000 }), logs());
      const m2 = r2.mark();
      const t = topo.mark('handover VI_1');
      const out = ctl(r1, 'handover', 'VI_1');
      assert.match(out, /handed over/, out);
      await r2.waitForState('MASTER', { from: m2, timeoutMs: 5_000 });
      assert.ok(await topo.waitForVipHolders(['R2'], topo.vip4, 5_000), logs());
      await sleep(1_000); // R1 stays BACKUP: no preemption after a handover
      assert.deepEqual(await topo.vipHolders(topo.vip4), ['R2']);
      const report = await prober.stop();
      const imp = attributeOutages(report).filter((x) => x.event.t === t);
      console.log(`handover (vmac ${vmac}): ${imp.map((x) => `${x.target} lost ${x.lostProbes}`).join(', ')} (whole probe run: ${report.targets.map((x) => `${x.name} ${x.lost}`).join(', ')})`);
      // Every probe from the handover request to the end of probing (a second later) counts.
      assert.equal(imp.length, report.targets.length, 'the handover event is in the probe window');
      for (const i of imp) {
        assert.equal(i.lostProbes, 0, `${i.target}: ${i.lostProbes} probes lost in the handover (vmac ${vmac})\n${JSON.stringify(imp)}\n${logs()}`);
        assert.ok(i.maxLateRttMs <= 50, `${i.target}: probes held up to ${i.maxLateRttMs} ms in the handover (vmac ${vmac})`);
      }
      assert.ok(existsSync(join(r1.dir, 'vipd.sock')));
      // A reload ends the hold: R1 (150) preempts again.
      const m1 = r1.mark();
      ctl(r1, 'reload');
      await r1.waitForState('MASTER', { from: m1, timeoutMs: 5_000 });
      assert.ok(await topo.waitForVipHolders(['R1'], topo.vip4, 5_000), logs());
    });
  }
});
