/**
 * Test helper for network-namespace tests. Tests may create only namespaces named `vipd-<something>`,
 * links inside them, and documentation addresses. Everything is cleaned up in `finally` by the caller via
 * `Lab.destroy()` (namespaces deleted, spawned processes killed by PID).
 *
 * This file lives under test/: tests may shell out to `ip`, the daemon never does.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Why namespace tests cannot run here, or null when they can. */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'network-namespace tests need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'network-namespace tests need root (CI runs as root); skipped';
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return "network-namespace tests need iproute2's `ip` (apt-get install iproute2); skipped";
  }
  return null;
}

/** True when `cmd` is on the PATH. */
export function haveCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let counter = 0;
/** A short unique namespace name `vipd-<tag>-<pid><n>` (namespace names have no 15-char limit, links do). */
export function uniqueNsName(tag: string): string {
  counter += 1;
  return `vipd-${tag}-${process.pid.toString(36)}${counter.toString(36)}`;
}

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 10_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** A set of namespaces and processes owned by one test; `destroy()` removes all of it. */
export class Lab {
  readonly namespaces: string[] = [];
  readonly children: ChildProcess[] = [];

  /** Create a namespace (must be named vipd-*), with loopback up. */
  addNs(name: string): string {
    if (!name.startsWith('vipd-')) throw new Error(`namespace ${name} must be named vipd-*`);
    if (existsSync(`/run/netns/${name}`)) run('ip', ['netns', 'del', name]);
    run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    this.ns(name, 'ip', 'link', 'set', 'lo', 'up');
    return name;
  }

  /** Run a command inside namespace `ns` and return its stdout (throws with stderr on failure). */
  ns(ns: string, cmd: string, ...args: string[]): string {
    try {
      return run('ip', ['netns', 'exec', ns, cmd, ...args]);
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`[${ns}] ${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
    }
  }

  /** `ip` inside a namespace: lab.ip(ns, 'addr add 192.0.2.1/24 dev eth0'). */
  ip(ns: string, line: string): string {
    return this.ns(ns, 'ip', ...line.split(/\s+/).filter(Boolean));
  }

  /** A veth pair with one end in each namespace, both up. */
  veth(nsA: string, ifA: string, nsB: string, ifB: string): void {
    const tmpA = `vt${process.pid.toString(36)}a${counter++}`.slice(0, 15);
    const tmpB = `vt${process.pid.toString(36)}b${counter++}`.slice(0, 15);
    this.ip(nsA, `link add ${tmpA} type veth peer name ${tmpB}`);
    this.ip(nsA, `link set ${tmpB} netns ${nsB}`);
    this.ip(nsA, `link set ${tmpA} name ${ifA}`);
    this.ip(nsB, `link set ${tmpB} name ${ifB}`);
    this.ip(nsA, `link set ${ifA} up`);
    this.ip(nsB, `link set ${ifB} up`);
  }

  /** Spawn a long-running process inside a namespace; it is killed (by PID) in destroy(). */
  spawnIn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.push(child);
    return child;
  }

  /** Kill every spawned process by PID, then delete every namespace. Never throws. */
  async destroy(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(resolve, 2000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
    for (const ns of this.namespaces.reverse()) {
      try {
        // Kill anything still running inside the namespace (by PID, as `ip netns pids` lists them).
        const pids = run('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean);
        for (const p of pids) {
          try {
            process.kill(Number(p), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      } catch {
        /* namespace may be gone */
      }
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  }
}

/** Wait until `pred()` is true, polling every `stepMs`, for at most `timeoutMs`. */
export async function waitFor(pred: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return await pred();
}

/**
 * Why a namespace test that needs the lab (root, ip, nft) and optionally more commands cannot run here, or false.
 * One place for the skip message every namespace suite prints.
 */
export function labSkipReason(needs: { keepalived?: boolean; ping?: boolean } = {}): string | false {
  const r = netnsUnavailableReason();
  if (r) return r;
  if (!haveCommand('nft')) return 'nft is not installed (apt-get install nftables); skipped';
  if (needs.keepalived && !haveCommand('keepalived')) return 'keepalived is not installed (apt-get install keepalived); skipped';
  if (needs.ping && !haveCommand('ping')) return 'ping is not installed (apt-get install iputils-ping); skipped';
  return false;
}
