/**
 * Shared pieces of the reliability tests: the pair's configuration, status through `vipd status --json`, kernel
 * drop counters of the daemons' raw sockets, transition lines.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { haveCommand, netnsUnavailableReason } from '../helpers/netns.js';
import { labUnavailableReason, keepalivedConf, type RouterDaemon, type Topology, type RouterName } from '../../src/linux/lab/index.js';
import type { DaemonStatus, InstanceStatus } from '../../src/daemon/api.js';

export const ROOT = join(new URL('.', import.meta.url).pathname, '..', '..', '..');
export const VIPD = join(ROOT, 'bin', 'vipd');

export function labSkip(): string | false {
  return netnsUnavailableReason() ?? labUnavailableReason() ?? false;
}

export { haveCommand };

/** Run `vipd ARGS` (from the root namespace: the control socket is a file). */
export function vipd(args: string[], timeoutMs = 10_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIPD, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function socketOf(d: RouterDaemon): string {
  return join(d.dir, 'vipd.sock');
}

/** The daemon's status through `vipd status --json --control-socket`. */
export async function status(d: RouterDaemon): Promise<DaemonStatus> {
  const r = await vipd(['status', '--json', '--control-socket', socketOf(d)]);
  if (r.code !== 0) throw new Error(`vipd status (${d.router}) exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DaemonStatus;
}

export function inst(s: DaemonStatus, name: string): InstanceStatus {
  const i = s.instances.find((x) => x.name === name);
  if (!i) throw new Error(`no instance ${name} in status`);
  return i;
}

/** Kernel drops of every raw socket for protocol 112 in a node's namespace (/proc/net/raw and raw6, last column). */
export async function rawDrops(topo: Topology, node: RouterName): Promise<{ 4: number; 6: number }> {
  const out = { 4: 0, 6: 0 };
  for (const [fam, file] of [[4, '/proc/net/raw'], [6, '/proc/net/raw6']] as const) {
    const text = await topo.exec(node, 'cat', [file]);
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5) continue;
      const local = f[1]!;
      if (!local.endsWith(':0070')) continue; // protocol 112 is the "port" of a raw socket
      out[fam] += Number(f[f.length - 1]);
    }
  }
  return out;
}

/** Transition lines ("(X) Entering S STATE") of a daemon since a mark. */
export function transitions(d: RouterDaemon, from: number): string[] {
  return d.proc.grep(/Entering \w+ STATE/, from).map((l) => l.text.replace(/^.*?: \(/, '('));
}

/** The pair configuration: v3 IPv4, v2 PASS IPv4, v3 IPv6 and a unicast v3 IPv4 instance. */
export function pairConfig(topo: Topology, r: RouterName, priority: number, opts: { advertInt?: number; v6?: boolean; unicast?: boolean } = {}): string {
  const me = topo.router(r);
  const other = topo.routers.find((x) => x.name !== r)!;
  const a = opts.advertInt ?? 1;
  const instances = [
    { name: 'VI_1', vrid: 51, priority, advertInt: a, vips: ['192.0.2.1/24'] },
    { name: 'VI_2', vrid: 52, priority, advertInt: 1, version: 2 as const, authPass: 'secret12', vips: ['192.0.2.2/24'] },
  ];
  if (opts.v6 !== false) instances.push({ name: 'VI_6', vrid: 53, priority, advertInt: a, vips: ['fe80::1:1/64', '2001:db8:1::1/64'] });
  if (opts.unicast !== false) {
    instances.push({ name: 'VI_U', vrid: 54, priority, advertInt: a, vips: ['192.0.2.3/24'], unicastSrcIp: me.lan4, unicastPeers: [other.lan4] } as never);
  }
  return keepalivedConf({ instances });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A control-socket client for many requests (newline-delimited JSON, replies in order): faster than one
 * `vipd` process per request when a test makes thousands.
 */
export class ControlConn {
  private buf = '';
  private waiting: Array<(line: string) => void> = [];
  private constructor(private readonly sock: import('node:net').Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.waiting.shift()?.(line);
      }
    });
  }

  static async open(path: string): Promise<ControlConn> {
    const net = await import('node:net');
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path, () => resolve(new ControlConn(s)));
      s.once('error', reject);
    });
  }

  request<T = Record<string, unknown>>(req: object, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`control request ${JSON.stringify(req)} timed out`)), timeoutMs);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as T);
      });
      this.sock.write(`${JSON.stringify(req)}\n`);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

export interface StateAt {
  t: number;
  state: string;
}

/** One instance's state over time from a daemon's transition lines (read times), from line index `from`. */
export function timeline(d: RouterDaemon, instance = 'VI_1', from = 0): StateAt[] {
  const re = new RegExp(`\\(${instance}\\) Entering (\\w+) STATE`);
  const out: StateAt[] = [];
  for (const l of d.proc.lines.slice(from)) {
    const m = re.exec(l.text);
    if (m) out.push({ t: l.t, state: m[1]! });
  }
  return out;
}

export interface MasterStats {
  twoMastersMs: number;
  noMasterMs: number;
  twoMasters: Array<[number, number]>;
  noMaster: Array<[number, number]>;
}

/** Time in [t0, t1] with two or more routers MASTER and with none, from per-router timelines (sorted by t). */
export function masterStats(lines: StateAt[][], t0: number, t1: number): MasterStats {
  const events: Array<{ t: number; r: number; state: string }> = [];
  const cur = lines.map(() => 'INIT');
  lines.forEach((tl, r) => {
    for (const e of tl) {
      if (e.t <= t0) cur[r] = e.state;
      else if (e.t < t1) events.push({ t: e.t, r, state: e.state });
    }
  });
  events.sort((a, b) => a.t - b.t);
  const res: MasterStats = { twoMastersMs: 0, noMasterMs: 0, twoMasters: [], noMaster: [] };
  let t = t0;
  const account = (until: number): void => {
    const n = cur.filter((s) => s === 'MASTER').length;
    if (until <= t) return;
    if (n >= 2) {
      res.twoMastersMs += until - t;
      const last = res.twoMasters[res.twoMasters.length - 1];
      if (last && last[1] === t) last[1] = until;
      else res.twoMasters.push([t, until]);
    } else if (n === 0) {
      res.noMasterMs += until - t;
      const last = res.noMaster[res.noMaster.length - 1];
      if (last && last[1] === t) last[1] = until;
      else res.noMaster.push([t, until]);
    }
  };
  for (const e of events) {
    account(e.t);
    t = Math.max(t, e.t);
    cur[e.r] = e.state;
  }
  account(t1);
  return res;
}
