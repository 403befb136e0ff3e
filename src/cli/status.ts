/**
 * `vipd status [--json] [INSTANCE]`: what the running daemon is doing, per instance and family: a summary table,
 * then one block per instance (state, priorities, master, VIPs, intervals, last transition, tracking, counters).
 */
import type { Command } from 'commander';
import { COUNTER_NAMES, type DaemonStatus, type InstanceStatus } from '../daemon/api.js';
import type { StatusReply } from '../control/protocol.js';
import { fail, tryRequest, withSocketOption } from './control-client.js';

export function registerStatus(program: Command): void {
  withSocketOption(
    program
      .command('status')
      .description('show the running daemon\'s instances: state, priorities, master, VIPs, timers, counters')
      .argument('[instance]', 'only this vrrp_instance'),
  )
    .option('--json', 'print the status as JSON')
    .action(async (instance: string | undefined, opts: { controlSocket: string; json?: boolean }) => {
      const reply = await tryRequest(
        opts.controlSocket,
        instance === undefined ? { cmd: 'status' } : { cmd: 'status', instance },
      );
      if (!reply) return;
      if (!reply.ok) {
        fail('error' in reply && reply.error ? reply.error : 'status failed');
        return;
      }
      const s = (reply as StatusReply).status;
      process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s));
    });
}

const fam = (f: 4 | 6) => (f === 4 ? 'IPv4' : 'IPv6');

function ms(n: number): string {
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ms`;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(w[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  let s = Math.max(0, Math.round((now - t) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return d ? `${d}d${h}h ago` : h ? `${h}h${m}m ago` : m ? `${m}m${s}s ago` : `${s}s ago`;
}

/** The human-readable status (stable layout; tested). */
export function formatStatus(s: DaemonStatus, now = Date.now()): string {
  let out = `vipd ${s.version}, pid ${s.pid}, up since ${s.startedAt} (${ago(s.startedAt, now)}), config ${s.configFile}\n`;
  if (s.instances.length === 0) return out + 'no VRRP instances\n';
  out += '\n';
  const rows = [['INSTANCE', 'FAMILY', 'VRID', 'STATE', 'PRIORITY', 'MASTER', 'VIPS']];
  for (const i of s.instances) {
    rows.push([
      i.name,
      fam(i.family),
      String(i.vrid),
      i.state,
      i.basePriority === i.effectivePriority ? String(i.basePriority) : `${i.basePriority}->${i.effectivePriority}`,
      i.masterAddress ?? '-',
      String(i.vips.length),
    ]);
  }
  out += table(rows);
  for (const i of s.instances) out += '\n' + formatInstance(i, now);
  return out;
}

function formatInstance(i: InstanceStatus, now: number): string {
  const where = [i.interface ? `on ${i.interface}` : 'no interface', i.vmac ? `vmac ${i.vmac}` : '', i.syncGroup ? `sync group ${i.syncGroup}` : '']
    .filter(Boolean)
    .join(', ');
  const kv: [string, string][] = [];
  kv.push(['state', i.state]);
  kv.push(['priority', `${i.basePriority} base, ${i.effectivePriority} effective`]);
  const master =
    i.state === 'MASTER' ? `${i.masterAddress ?? i.sourceAddress ?? '?'} (this router)` : (i.masterAddress ?? 'unknown');
  kv.push(['master', master]);
  kv.push(['source address', i.sourceAddress ?? '-']);
  kv.push(['VIPs', i.vips.length ? i.vips.join(', ') : '(none)']);
  kv.push(['advert interval', `${ms(i.advertIntervalMs)} configured, ${ms(i.masterAdverIntervalMs)} learned`]);
  kv.push(['master down', ms(i.masterDownIntervalMs)]);
  const t = i.lastTransition;
  kv.push(['last transition', t ? `${t.at} (${ago(t.at, now)}) ${t.from} -> ${t.to}, ${t.reason}` : 'none']);
  if (i.tracking.length === 0) kv.push(['tracking', 'none']);
  i.tracking.forEach((tr, n) =>
    kv.push([n === 0 ? 'tracking' : '', `${tr.kind} ${tr.name}: ${tr.status} (weight ${tr.weight})`]),
  );
  const kc = COUNTER_NAMES.map((c) => `${c} ${i.counters[c] ?? 0}`);
  // Counters, four per line.
  for (let n = 0; n < kc.length; n += 4) kv.push([n === 0 ? 'counters' : '', kc.slice(n, n + 4).join(', ')]);
  kv.push(['checksum forms', `v2 ${i.checksumForms.v2}, v3 pseudo-header ${i.checksumForms.pseudo}, v3 plain ${i.checksumForms.plain}`]);
  const w = Math.max(...kv.map(([k]) => k.length));
  return (
    `${i.name} (${fam(i.family)}, VRID ${i.vrid}, VRRPv${i.version}) ${where}\n` +
    kv.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n') +
    '\n'
  );
}
