/**
 * Hostile configurations through a running daemon (issue 9): 10,000 mutated keepalived.conf files, each written over
 * the running daemon's file and reloaded through the control socket (as `vipd reload` does; SIGHUP takes the same
 * path, checked once at the end). A file with errors must give diagnostics only: the reload is refused, the daemon
 * keeps its configuration and makes no transition. A mutation that happens to be valid is applied (allowed to
 * transition); the original is then restored. The `vipd check` side of the fuzz is test/config/fuzz.test.ts.
 *
 * Needs root and the lab. RELOAD_FUZZ_N overrides the count. About 30 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/parser.js';
import { buildTopology, cleanOrphanLabs, processTag, rng, startDaemon, type Topology } from '../../src/linux/lab/index.js';
import type { DaemonStatus, ReloadResult } from '../../src/daemon/api.js';
import { ControlConn, labSkip, pairConfig, socketOf, sleep, transitions } from './common.js';

const skip = labSkip();
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('rc');
const N = Number(process.env.RELOAD_FUZZ_N ?? 10_000);
const SEED = Number(process.env.RELOAD_FUZZ_SEED ?? 4242);

const WORDS = [
  '{', '}', '{ }', '"', '#', '!', '\\', '$', '${', '$X=', '@', '~SEQ(i,1,3)', 'vrrp_instance', 'virtual_ipaddress',
  'virtual_router_id', 'priority', 'state', 'MASTER', 'BACKUP', 'advert_int', 'version', 'authentication', 'auth_type',
  'auth_pass', 'track_script', 'unicast_peer', 'use_vmac', 'nopreempt', 'global_defs', 'vrrp_strict', 'dev', 'eth9',
  '0', '-1', '255', '256', '1.5', '0.001', '99999999999999999999', 'NaN', '2001:db8::1', '192.0.2.1/33', '::', '\u00e9', '\t',
  'include /nonexistent/*.conf', 'notify_master "/bin/sh -c reboot"', 'interface', 'VI_1', 'VI_2',
];

/** The part of the status that is the configuration and the roles (not counters or times). */
function shape(s: DaemonStatus): unknown {
  return [...s.instances].sort((a, b) => a.name.localeCompare(b.name)).map((i) => ({ n: i.name, st: i.state, p: i.basePriority, e: i.effectivePriority, v: i.vips, vr: i.vrid, a: i.advertIntervalMs, ver: i.version }));
}

function mutate(text: string, r: () => number): string {
  const pick = <T,>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (text.length + 1));
    const len = 1 + Math.floor(r() * 12);
    switch (Math.floor(r() * 6)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + len);
        break;
      case 1:
        text = text.slice(0, at) + ' ' + pick(WORDS) + ' ' + text.slice(at);
        break;
      case 2:
        text = text.slice(0, at) + pick(WORDS) + text.slice(at);
        break;
      case 3: {
        const lines = text.split('\n');
        const i = Math.floor(r() * lines.length);
        lines.splice(i, 0, ...lines.slice(i, i + 1 + Math.floor(r() * 4)));
        text = lines.join('\n');
        break;
      }
      case 4:
        text = text.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + text.slice(at);
        break;
      default: {
        // Replace a number with an out-of-range one.
        text = text.replace(/\b\d+\b/g, (m) => (r() < 0.15 ? pick(['0', '256', '-5', '4096', '1e9', 'x']) : m));
      }
    }
  }
  return text;
}

test(`${N} mutated configurations reloaded into a running vipd: refused with diagnostics, old configuration kept, no transition`, { skip, timeout: 300_000 }, async () => {
  await orphans;
  const topo: Topology = await buildTopology({ tag: processTag('rc'), routers: 2, ipv6: true });
  let conn: ControlConn | null = null;
  try {
    const original = pairConfig(topo, 'R1', 150, { advertInt: 0.1 });
    const d = await startDaemon(topo, 'R1', { kind: 'vipd', config: original });
    for (const i of ['VI_1', 'VI_2', 'VI_6', 'VI_U']) await d.waitForState('MASTER', { instance: i });
    const file = join(d.dir, 'keepalived.conf');
    conn = await ControlConn.open(socketOf(d));
    const st0 = (await conn.request<{ status: DaemonStatus }>({ cmd: 'status' })).status;
    const r = rng(SEED);
    let refused = 0;
    let applied = 0;
    let slowest = 0;
    const t0 = Date.now();
    let skippedValid = 0;
    for (let n = 0; n < N; n++) {
      let text = mutate(original, r);
      for (;;) {
        const pr = parseConfigText(text, file);
        if (!pr.usable || pr.diagnostics.some((x) => x.severity === 'error')) break;
        skippedValid++;
        if (skippedValid % 200 === 0) break; // send this valid one
        text = mutate(original, r);
      }
      writeFileSync(file, text);
      const mark = d.mark();
      const t = performance.now();
      const rep = await conn.request<{ ok: boolean; reload: ReloadResult; error?: string }>({ cmd: 'reload' });
      slowest = Math.max(slowest, performance.now() - t);
      if (!rep.ok) {
        refused++;
        assert.ok(rep.reload.diagnostics.length > 0, `refused reload ${n} says why`);
        for (const x of rep.reload.diagnostics) assert.match(x, /^\/.*keepalived\.conf:\d+: \S/, 'each diagnostic names file and line');
        assert.ok(rep.reload.diagnostics.every((x) => !/\n\s+at /.test(x)), 'no stack trace in diagnostics');
        assert.deepEqual(transitions(d, mark), [], `refused reload ${n} caused a transition:\n${text}`);
        if (n % 250 === 0) {
          const st: DaemonStatus = (await conn.request<{ status: DaemonStatus }>({ cmd: 'status' })).status;
          assert.deepEqual(shape(st), shape(st0), `after refused reload ${n} the running configuration is unchanged`);
        }
      } else {
        // A valid mutation: applied. Put the original back (a valid reload) and let the instances settle.
        applied++;
        writeFileSync(file, original);
        const back = await conn.request<{ ok: boolean }>({ cmd: 'reload' });
        assert.ok(back.ok, 'the original configuration reloads');
        for (let k = 0; k < 50; k++) {
          const st: DaemonStatus = (await conn.request<{ status: DaemonStatus }>({ cmd: 'status' })).status;
          if (JSON.stringify(shape(st)) === JSON.stringify(shape(st0))) break;
          await sleep(100);
        }
      }
      assert.ok(d.proc.running, `vipd still runs after reload ${n}`);
    }
    const st: DaemonStatus = (await conn.request<{ status: DaemonStatus }>({ cmd: 'status' })).status;
    assert.deepEqual(shape(st), shape(st0));
    assert.equal(st.pid, st0.pid);
    // SIGHUP takes the same path: a broken file is refused, the daemon keeps running.
    writeFileSync(file, original.replace('virtual_router_id 51', 'virtual_router_id 300'));
    const m = d.mark();
    d.proc.kill('SIGHUP', false);
    await d.waitForLine(/Reload refused/, { from: m, timeoutMs: 5000 });
    assert.deepEqual(transitions(d, m), []);
    writeFileSync(file, original);
    console.log('reload fuzz:', JSON.stringify({ n: N, refused, skippedValid, applied, elapsedMs: Date.now() - t0, slowestReloadMs: Math.round(slowest) }));
    assert.ok(refused > N * 0.95, `most mutations are broken (${refused} refused of ${N})`);
  } finally {
    conn?.close();
    await topo.destroy();
  }
});
