/**
 * The keyword inventory against keepalived 2.2.7: every keyword keepalived accepts (recorded in
 * test/fixtures/config/keepalived-2.2.7-keywords.txt) is known to vipd in the same place, and (with root and
 * keepalived) every keyword vipd accepts is one keepalived knows, except the newer ones listed here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { execFile, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/parser.js';
import { GLOBAL_IGNORED, INSTANCE_IGNORED } from '../../src/config/keywords.js';
import { Lab, haveCommand, netnsUnavailableReason, uniqueNsName } from '../helpers/netns.js';

type Ctx = 'top' | 'global' | 'instance' | 'script' | 'group';

function wrap(ctx: Ctx, lines: string[]): string {
  const body = lines.map((l) => `    ${l}\n`).join('');
  const vi = 'vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n';
  switch (ctx) {
    case 'top':
      return lines.join('\n') + '\n';
    case 'global':
      return `global_defs {\n${body}}\n`;
    case 'instance':
      return `vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n${body}    virtual_ipaddress {\n        192.0.2.1\n    }\n}\n`;
    case 'script':
      return `vrrp_script s {\n    script /bin/true\n${body}}\n`;
    case 'group':
      return `${vi}vrrp_sync_group G {\n    group {\n        VI_1\n    }\n${body}}\n`;
  }
}

const RECORDED = readFileSync(join(process.cwd(), 'test', 'fixtures', 'config', 'keepalived-2.2.7-keywords.txt'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split(' ') as [Ctx, string]);

test('every keyword keepalived 2.2.7 accepts is known to vipd in the same block', () => {
  assert.ok(RECORDED.length > 200);
  const missing: string[] = [];
  for (const [ctx, kw] of RECORDED) {
    const r = parseConfigText(wrap(ctx, [kw]), 'k.conf');
    if (r.diagnostics.some((d) => d.message.includes(`unknown keyword '${kw}'`))) missing.push(`${ctx} ${kw}`);
  }
  assert.deepEqual(missing, []);
});

/** vipd's keywords per block (handled or accepted-and-ignored), read back from the parser's own source of truth. */
const VIPD: Record<Exclude<Ctx, 'top'>, string[]> = {
  global: [
    'router_id', 'vrrp_version', 'vrrp_mcast_group4', 'vrrp_mcast_group6', 'vrrp_strict', 'vrrp_check_unicast_src',
    'vrrp_skip_check_adv_addr', 'vrrp_startup_delay', 'vrrp_garp_master_delay', 'vrrp_garp_master_repeat',
    'vrrp_garp_master_refresh', 'vrrp_garp_master_refresh_repeat', 'vrrp_garp_lower_prio_delay',
    'vrrp_garp_lower_prio_repeat', 'vrrp_garp_interval', 'vrrp_gna_interval', 'vrrp_garp_extra_if', 'vrrp_min_garp',
    'vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert', 'vrrp_owner_ignore_adverts', 'vrrp_down_timer_adverts',
    'v3_checksum_as_v2', 'vrrp_notify_priority_changes', 'script_user', 'enable_script_security', 'notify_fifo',
    'notify_fifo_script', 'vrrp_notify_fifo', 'vrrp_notify_fifo_script', 'max_auto_priority', 'dynamic_interfaces',
    'vmac_prefix', 'notification_email', 'notification_email_from', 'smtp_server', 'smtp_alert', 'smtp_alert_vrrp',
    ...GLOBAL_IGNORED,
  ],
  instance: [
    'state', 'interface', 'virtual_router_id', 'priority', 'advert_int', 'version', 'virtual_ipaddress',
    'virtual_ipaddress_excluded', 'virtual_routes', 'virtual_rules', 'use_vmac', 'vmac_xmit_base', 'mcast_src_ip',
    'unicast_src_ip', 'mcast_dst_ip', 'unicast_peer', 'unicast_ttl', 'unicast_fault_no_peer', 'check_unicast_src',
    'authentication', 'track_interface', 'track_script', 'track_file', 'track_process', 'dont_track_primary',
    'nopreempt', 'preempt', 'preempt_delay', 'accept', 'no_accept', 'strict_mode', 'skip_check_adv_addr',
    'garp_master_delay', 'garp_master_repeat', 'garp_master_refresh', 'garp_master_refresh_repeat',
    'garp_lower_prio_delay', 'garp_lower_prio_repeat', 'garp_extra_if', 'lower_prio_no_advert',
    'higher_prio_send_advert', 'owner_ignore_adverts', 'down_timer_adverts', 'timer_expired_backup', 'v3_checksum_as_v2',
    'promote_secondaries', 'notify_priority_changes', 'smtp_alert', 'track_bfd', 'auth_hmac', 'notify', 'notify_master',
    'notify_backup', 'notify_fault', 'notify_stop', 'notify_deleted', 'notify_master_rx_lower_pri', ...INSTANCE_IGNORED,
  ],
  script: ['interval', 'timeout', 'weight', 'rise', 'fall', 'user', 'init_fail'],
  group: ['group', 'track_interface', 'track_script', 'track_file', 'track_process', 'smtp_alert', 'sync_group_tracking_weight', 'global_tracking', 'track_bfd', 'notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop'],
};

/** Keywords of keepalived releases after 2.2.7 that vipd understands (docs/config.md). */
const NEWER = new Set([
  'global vrrp_owner_ignore_adverts', 'global v3_checksum_as_v2', 'global vrrp_delay_after_boot', 'global json_version',
  'global vrrp_ipsets', 'instance owner_ignore_adverts', 'instance v3_checksum_as_v2', 'instance timer_expired_backup',
  'instance auth_hmac', 'instance no_virtual_ipaddress',
]);

test('vipd accepts each of its keywords, and none is unknown to vipd', () => {
  for (const [ctx, list] of Object.entries(VIPD) as [Ctx, string[]][]) {
    for (const kw of list) {
      const r = parseConfigText(wrap(ctx, [kw]), 'k.conf');
      assert.ok(!r.diagnostics.some((d) => d.message.includes(`unknown keyword '${kw}'`)), `${ctx} ${kw}`);
    }
  }
});

const skip = netnsUnavailableReason() ?? (haveCommand('keepalived') ? false : 'keepalived is not installed; keyword comparison skipped');

test('keepalived -t knows every keyword vipd accepts, except the newer ones', { skip, timeout: 60_000 }, async (t) => {
  const v = spawnSync('keepalived', ['-v'], { encoding: 'utf8' });
  if (!/Keepalived v2\.2\./.test(`${v.stdout}${v.stderr}`)) {
    t.skip('not keepalived 2.2.x: the list of newer keywords is for 2.2.7');
    return;
  }
  const lab = new Lab();
  const dir = mkdtempSync(join(tmpdir(), 'vipd-kw-'));
  try {
    const ns = lab.addNs(uniqueNsName('kw'));
    lab.ip(ns, 'link add eth0 type veth peer name peer0');
    // One keyword per file (in one file, a keyword that expects a block would swallow the lines after it).
    const jobs: [string, string][] = [];
    for (const [ctx, list] of Object.entries(VIPD) as [Ctx, string[]][]) {
      for (const kw of new Set(list)) {
        const f = join(dir, `${ctx}-${kw}.conf`);
        writeFileSync(f, wrap(ctx, [kw]));
        jobs.push([`${ctx} ${kw}`, f]);
      }
    }
    const unknown: string[] = [];
    const runOne = ([name, f]: [string, string]): Promise<void> =>
      new Promise((resolve) => {
        execFile('ip', ['netns', 'exec', ns, 'keepalived', '-t', '-l', '-n', '-P', '-f', f], { timeout: 20_000 }, (_e, out, err) => {
          if (`${out}${err}`.includes(`Unknown keyword '${name.split(' ')[1]}'`)) unknown.push(name);
          resolve();
        });
      });
    for (let i = 0; i < jobs.length; i += 6) await Promise.all(jobs.slice(i, i + 6).map(runOne));
    const unexpected = [...new Set(unknown)].filter((u) => !NEWER.has(u));
    // The newer keywords must show up as unknown: proof that every line was read as a keyword.
    assert.deepEqual([...NEWER].filter((n) => !unknown.includes(n)), []);
    assert.deepEqual(unexpected, []);
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
