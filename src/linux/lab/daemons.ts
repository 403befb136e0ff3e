/**
 * Router daemons in the lab: a keepalived.conf builder and a launcher that runs keepalived or vipd on a lab
 * router with the same command line (vipd accepts keepalived's flags), files in a private temp dir (namespaces
 * share /run: never the default pid paths), output captured line by line, killed by PID.
 *
 *   const d = await startDaemon(topo, 'R1', { kind: 'keepalived', config: keepalivedConf({ instances: [...] }) });
 *   await d.waitForState('MASTER');
 *   await d.crash();          // SIGKILL of its whole process group: an unplanned failure of the daemon
 *   const d2 = await d.restart();
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execCapture, LabError, type LabProcess, type LogLine } from './exec.js';
import type { RouterName, Topology } from './topology.js';
import { DAEMON_NODE_FLAGS } from '../../runtime.js';

export type DaemonKind = 'keepalived' | 'vipd';

/** One vrrp_instance. Defaults: VI_1, eth0, vrid 51, BACKUP, v3, advert 1 s. */
export interface VrrpInstanceSpec {
  name?: string;
  interface?: string;
  vrid?: number;
  priority: number;
  /** Seconds (v3 allows 0.01 steps). */
  advertInt?: number;
  version?: 2 | 3;
  state?: 'MASTER' | 'BACKUP';
  /** Addresses with prefix, e.g. '192.0.2.1/24'; IPv6 instances list the link-local first. */
  vips: string[];
  nopreempt?: boolean;
  preemptDelay?: number;
  /** true for the default VMAC name, or a name. */
  useVmac?: boolean | string;
  vmacXmitBase?: boolean;
  unicastSrcIp?: string;
  unicastPeers?: string[];
  /** v2 auth_type PASS. */
  authPass?: string;
  accept?: boolean;
  /** Raw lines added inside the instance block. */
  extra?: string[];
}

export interface KeepalivedConfSpec {
  routerId?: string;
  /** Raw lines inside global_defs. */
  globalDefs?: string[];
  instances: VrrpInstanceSpec[];
}

/** A keepalived.conf (which vipd reads as well). */
export function keepalivedConf(spec: KeepalivedConfSpec): string {
  const out: string[] = ['global_defs {'];
  if (spec.routerId) out.push(`    router_id ${spec.routerId}`);
  for (const l of spec.globalDefs ?? []) out.push(`    ${l}`);
  out.push('}', '');
  for (const [i, inst] of spec.instances.entries()) {
    out.push(`vrrp_instance ${inst.name ?? `VI_${i + 1}`} {`);
    out.push(`    state ${inst.state ?? 'BACKUP'}`);
    out.push(`    interface ${inst.interface ?? 'eth0'}`);
    out.push(`    virtual_router_id ${inst.vrid ?? 51}`);
    out.push(`    priority ${inst.priority}`);
    out.push(`    advert_int ${inst.advertInt ?? 1}`);
    out.push(`    version ${inst.version ?? 3}`);
    if (inst.nopreempt) out.push('    nopreempt');
    if (inst.preemptDelay !== undefined) out.push(`    preempt_delay ${inst.preemptDelay}`);
    if (inst.useVmac) out.push(inst.useVmac === true ? '    use_vmac' : `    use_vmac ${inst.useVmac}`);
    if (inst.vmacXmitBase) out.push('    vmac_xmit_base');
    if (inst.accept === true) out.push('    accept');
    if (inst.accept === false) out.push('    no_accept');
    if (inst.unicastSrcIp) out.push(`    unicast_src_ip ${inst.unicastSrcIp}`);
    if (inst.unicastPeers?.length) {
      out.push('    unicast_peer {');
      for (const p of inst.unicastPeers) out.push(`        ${p}`);
      out.push('    }');
    }
    if (inst.authPass !== undefined) {
      out.push('    authentication {', '        auth_type PASS', `        auth_pass ${inst.authPass}`, '    }');
    }
    out.push('    virtual_ipaddress {');
    for (const v of inst.vips) out.push(`        ${v}`);
    out.push('    }');
    for (const l of inst.extra ?? []) out.push(`    ${l}`);
    out.push('}', '');
  }
  return out.join('\n');
}

/**
 * RFC 5798 Master_Down_Interval in ms for a backup of `priority` at `advertSec` (v3 skew scales with the
 * interval; v2: (256 - p) / 256 s).
 */
export function masterDownIntervalMs(advertSec: number, priority: number, version: 2 | 3 = 3): number {
  const skew = version === 3 ? ((256 - priority) * advertSec) / 256 : (256 - priority) / 256;
  return (3 * advertSec + skew) * 1000;
}

export interface DaemonOptions {
  kind?: DaemonKind;
  /** keepalived.conf text. */
  config: string;
  /** More command-line arguments. */
  extraArgs?: string[];
  /** Path of the vipd launcher (default: this checkout's bin/vipd). */
  vipdBin?: string;
  /**
   * Log to `<dir>/daemon.log` instead of pipes, and do not hold this process open: the daemon survives the
   * exit of this process (a lab left running). Lines are still read, from the file.
   */
  detached?: boolean;
}

function repoRoot(): string {
  // dist/src/linux/lab -> four levels up; src/linux/lab (ts-node style) -> three.
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'src')}`) ? join(here, '..', '..', '..', '..') : join(here, '..', '..', '..');
}

/** The command line (program and arguments) that runs a daemon of `kind` with files in `dir`. */
export function daemonCommand(kind: DaemonKind, dir: string, extra: string[] = [], vipdBin?: string): [string, string[]] {
  const conf = join(dir, 'keepalived.conf');
  const common = ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(dir, 'daemon.pid'), '-r', join(dir, 'vrrp.pid')];
  if (kind === 'keepalived') return ['keepalived', [...common, ...extra]];
  const bin = vipdBin ?? join(repoRoot(), 'bin', 'vipd');
  // The options bin/vipd's first line gives the daemon (src/runtime.ts), then any for the lab's vipd processes only
  // (e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile a benchmark).
  const nodeArgs = [...DAEMON_NODE_FLAGS, ...(process.env.VIPD_LAB_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)];
  return [
    process.execPath,
    [...nodeArgs, bin, 'run', ...common, '--control-socket', join(dir, 'vipd.sock'), '--state-dir', dir, ...extra],
  ];
}

/** A daemon running on a lab router. */
export class RouterDaemon {
  private constructor(
    readonly topo: Topology,
    readonly router: RouterName,
    readonly kind: DaemonKind,
    readonly dir: string,
    readonly opts: DaemonOptions,
    readonly proc: LabProcess,
  ) {}

  /** Start a daemon on `router`; resolves once it runs (not once it elected: use waitForState). */
  static async start(topo: Topology, router: RouterName, opts: DaemonOptions, dir?: string): Promise<RouterDaemon> {
    topo.router(router);
    const kind = opts.kind ?? 'keepalived';
    const d = dir ?? topo.tempDir(`${router.toLowerCase()}-${kind}`);
    writeFileSync(join(d, 'keepalived.conf'), opts.config);
    // Pid files of a killed run: their PIDs may still exist as zombies for a moment (the killed parent's
    // children are reparented to init), which keepalived reads as "daemon is already running".
    for (const f of ['daemon.pid', 'vrrp.pid']) rmSync(join(d, f), { force: true });
    const [cmd, args] = daemonCommand(kind, d, opts.extraArgs, opts.vipdBin);
    topo.mark(`${router} ${kind} start`);
    const proc = topo.spawn(router, cmd, args, opts.detached ? { logFile: join(d, 'daemon.log'), unref: true } : {});
    const daemon = new RouterDaemon(topo, router, kind, d, opts, proc);
    // Fail fast on a daemon that exits at once (bad config, missing binary).
    const early = await proc.waitExit(150);
    if (early) {
      throw new LabError(
        `${kind} on ${router} exited at start (code ${early.code}, signal ${early.signal}):\n${proc.output(20)}`,
      );
    }
    return daemon;
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** The VRRP child's PID from its pid file (keepalived forks one), or null. */
  vrrpPid(): number | null {
    try {
      const n = Number(readFileSync(join(this.dir, 'vrrp.pid'), 'utf8').trim());
      return Number.isInteger(n) && n > 0 ? n : null;
    } catch {
      return null;
    }
  }

  /** Index to pass as `from` to waitForState / waitForLine, to ignore earlier lines. */
  mark(): number {
    return this.proc.mark();
  }

  /** Wait for `(INSTANCE) Entering STATE STATE` in the daemon's log. */
  waitForState(
    state: 'MASTER' | 'BACKUP' | 'FAULT',
    opts: { instance?: string; timeoutMs?: number; from?: number } = {},
  ): Promise<LogLine> {
    const inst = (opts.instance ?? 'VI_1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return this.proc.waitForLine(new RegExp(`\\(${inst}\\) Entering ${state} STATE`), {
      timeoutMs: opts.timeoutMs ?? 10_000,
      from: opts.from ?? 0,
    });
  }

  waitForLine(re: RegExp | string, opts: { timeoutMs?: number; from?: number } = {}): Promise<LogLine> {
    return this.proc.waitForLine(re, opts);
  }

  /**
   * Unplanned failure: SIGKILL the daemon's whole process group at once (keepalived's parent and VRRP child
   * die together, so nothing is sent on the way out and VIPs stay configured, as after a crash).
   */
  async crash(): Promise<number> {
    const t = this.topo.mark(`${this.router} ${this.kind} SIGKILL`);
    this.proc.kill('SIGKILL', true);
    const child = this.vrrpPid();
    if (child) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        /* already gone with the group */
      }
    }
    await this.proc.waitExit(3_000);
    return t;
  }

  /** Planned stop: SIGTERM (priority-0 advert, VIPs removed) and wait for the exit (SIGKILL after timeoutMs). */
  async stop(timeoutMs = 5_000): Promise<number> {
    const t = this.topo.mark(`${this.router} ${this.kind} SIGTERM`);
    await this.proc.stop('SIGTERM', timeoutMs);
    return t;
  }

  /** Start the same daemon again (same config and files) after crash() / stop(). */
  async restart(): Promise<RouterDaemon> {
    if (this.proc.running) await this.stop();
    return RouterDaemon.start(this.topo, this.router, this.opts, this.dir);
  }
}

/** Shorthand for RouterDaemon.start. */
export function startDaemon(topo: Topology, router: RouterName, opts: DaemonOptions): Promise<RouterDaemon> {
  return RouterDaemon.start(topo, router, opts);
}

/** keepalived's version ("Keepalived v2.2.7"), or null when it is not installed. */
export async function keepalivedVersion(): Promise<string | null> {
  const r = await execCapture('keepalived', ['--version'], { timeoutMs: 5_000 });
  const m = /Keepalived v\S+/.exec(r.stderr + r.stdout);
  return m ? m[0] : null;
}
