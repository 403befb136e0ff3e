/**
 * Fuzz: 10,000+ mutated configurations (from the corpus and the fixtures) per run. Each must give diagnostics
 * only: no exception, every diagnostic positioned, and no single parse slower than a second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/parser.js';
import { FIXTURE_DIR } from './fixtures.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus', 'keepalived-samples');
const N = Number(process.env.VIPD_FUZZ_N ?? 10_000);
const SEED = Number(process.env.VIPD_FUZZ_SEED ?? Date.now() % 1_000_000);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

const WORDS = [
  '{', '}', '{ }', '"', "'", '#', '!', '\\', '$', '${', '$X=', '$X=${X}', '${X}', '@', '@^', '~SEQ(i,1,3)', '~LST(', '~SEQ(i,1,99999999)',
  'vrrp_instance', 'virtual_ipaddress', 'virtual_router_id', 'priority', 'state', 'MASTER', 'BACKUP', 'advert_int', 'version',
  'authentication', 'auth_type', 'AH', 'auth_pass', 'track_script', 'vrrp_script', 'vrrp_sync_group', 'group', 'unicast_peer',
  'use_vmac', 'nopreempt', 'preempt_delay', 'global_defs', 'vrrp_strict', 'weight', 'dev', 'brd', 'scope', 'label', 'peer',
  '0', '-1', '255', '256', '1.5', '0.001', '99999999999999999999', 'NaN', '2001:db8::1', '192.0.2.1/33', 'fe80::1%eth0', '::',
  'virtual_server', 'real_server', 'notify_master', 'track_file', 'vrrp_track_process', '\u00e9', '\uffff', '\t',
];

test(`fuzz: ${N} mutated configurations never throw or hang (seed ${SEED})`, { timeout: 300_000 }, () => {
  const seeds: string[] = [];
  for (const dir of [CORPUS, FIXTURE_DIR]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      if (f.includes('binary') || f.includes('include') || !/keepalived\.conf|\.conf$/.test(f)) continue;
      // include lines are removed: a mutated glob must not wander the file system.
      seeds.push(readFileSync(join(dir, f), 'utf8').replace(/^\s*include.*$/gm, ''));
    }
  }
  assert.ok(seeds.length >= 20);
  const r = rng(SEED);
  const pick = <T,>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  let slowest = 0;
  for (let n = 0; n < N; n++) {
    let text = pick(seeds);
    const edits = 1 + Math.floor(r() * 8);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (text.length + 1));
      const len = Math.floor(r() * 20);
      switch (Math.floor(r() * 7)) {
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
          lines.splice(i, 0, ...lines.slice(i, i + 1 + Math.floor(r() * 5)));
          text = lines.join('\n');
          break;
        }
        case 4:
          text = text.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + text.slice(at);
          break;
        case 5: {
          const other = pick(seeds);
          const o = Math.floor(r() * other.length);
          text = text.slice(0, at) + other.slice(o, o + Math.floor(r() * 400)) + text.slice(at);
          break;
        }
        default:
          text = text.slice(0, at) + '\n' + text.slice(at);
      }
    }
    const t0 = process.hrtime.bigint();
    let res;
    try {
      res = parseConfigText(text, '/vipd-fuzz/keepalived.conf', { instanceId: 'fuzz', env: {} });
    } catch (e) {
      assert.fail(`seed ${SEED} case ${n}: threw ${(e as Error).stack}\n--- input ---\n${text}`);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < 1000, `seed ${SEED} case ${n}: took ${ms} ms`);
    for (const d of res.diagnostics) {
      assert.ok(d.severity === 'error' || d.severity === 'warning' || d.severity === 'notice');
      assert.equal(typeof d.message, 'string');
      assert.ok(!d.message.startsWith('internal error'), `seed ${SEED} case ${n}: ${d.message}\n--- input ---\n${text}`);
    }
    // The model is JSON (what `vipd check --dump` prints).
    JSON.stringify(res.config);
  }
  assert.ok(slowest < 1000);
});
