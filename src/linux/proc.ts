/**
 * OS-facing helpers for tracking and notify (src/daemon/track.ts, src/daemon/notify.ts): running a script in its own
 * process group with a timeout, user/group lookup, keepalived's script-security check, process listing from /proc,
 * reading and watching a track file, and a non-blocking FIFO writer. Everything that touches the OS for those modules
 * lives here, so the daemon-side logic can be tested with fakes.
 */
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { endianness } from 'node:os';
import { K, native, type NativeAddon, type SocketHandle } from './native.js';
import { sockaddrNl } from './sockaddr.js';

// ---------------------------------------------------------------- users and groups

export interface UserInfo {
  name: string;
  uid: number;
  gid: number;
}

function readColonFile(file: string): string[][] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** A user by name or numeric id, from /etc/passwd; null when unknown. */
export function lookupUser(nameOrId: string, passwdFile = '/etc/passwd'): UserInfo | null {
  for (const f of readColonFile(passwdFile)) {
    if (f.length < 4) continue;
    if (f[0] === nameOrId || (/^\d+$/.test(nameOrId) && f[2] === nameOrId)) {
      return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) };
    }
  }
  if (/^\d+$/.test(nameOrId)) return { name: nameOrId, uid: Number(nameOrId), gid: Number(nameOrId) };
  return null;
}

/** A group id by name or number, from /etc/group; null when unknown. */
export function lookupGroup(nameOrId: string, groupFile = '/etc/group'): number | null {
  for (const f of readColonFile(groupFile)) {
    if (f.length < 3) continue;
    if (f[0] === nameOrId) return Number(f[2]);
  }
  if (/^\d+$/.test(nameOrId)) return Number(nameOrId);
  return null;
}

export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// ---------------------------------------------------------------- script resolution and security

/** Resolve argv[0] the way keepalived does: absolute or relative paths as given, bare names through PATH. */
export function resolveExecutable(cmd: string, envPath = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | null {
  if (cmd.includes('/')) return fs.existsSync(cmd) ? path.resolve(cmd) : null;
  for (const dir of envPath.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      const st = fs.statSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** True when the file starts with neither "#!" nor an ELF header: execve() would fail with ENOEXEC, and keepalived
 * (like execvp) then runs it with /bin/sh. */
export function needsShell(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(4);
      const n = fs.readSync(fd, b, 0, 4, 0);
      if (n >= 2 && b[0] === 0x23 && b[1] === 0x21) return false; // #!
      if (n >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return false; // ELF
      return true;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

export interface SecurityVerdict {
  secure: boolean;
  /** Why not, naming the path: "/tmp is writable by non-root users". */
  reason: string | null;
}

/**
 * keepalived's script-security rule (check_script_secure): protection is needed only when the script runs as root
 * (uid 0 or gid 0) or is set-uid/set-gid root. Then the script (symlinks resolved) and every directory above it must
 * be owned by root, and — unless it is a directory with the sticky bit (like /tmp) — must not be writable by a
 * non-root group or by everyone. `executable` says whether the runner may execute it at all.
 */
export function checkScriptSecurity(file: string, runUid = 0, runGid = 0): SecurityVerdict & { executable: boolean } {
  let real: string;
  let fst: fs.Stats;
  try {
    real = fs.realpathSync(file);
    fst = fs.statSync(real);
  } catch (e) {
    return { secure: false, executable: false, reason: `${file} cannot be accessed (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const m = fst.mode;
  const executable =
    fst.isFile() &&
    (runUid === 0 ? (m & 0o111) !== 0 : fst.uid === runUid ? (m & 0o100) !== 0 : fst.gid === runGid ? (m & 0o010) !== 0 : (m & 0o001) !== 0);
  const needProtection =
    runUid === 0 || runGid === 0 || (fst.uid === 0 && (m & 0o4100) === 0o4100) || (fst.gid === 0 && (m & 0o2010) === 0o2010);
  if (!needProtection) return { secure: true, executable, reason: null };
  const parts: string[] = [];
  let p = real;
  for (;;) {
    parts.unshift(p);
    const up = path.dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const comp of parts) {
    let st: fs.Stats;
    try {
      st = fs.statSync(comp);
    } catch (e) {
      return { secure: false, executable, reason: `${comp}: ${(e as NodeJS.ErrnoException).code ?? 'stat failed'}` };
    }
    if (st.uid !== 0) return { secure: false, executable, reason: `${comp} is not owned by root` };
    const stickyDir = st.isDirectory() && (st.mode & 0o1000) !== 0;
    if (stickyDir) continue;
    if ((st.mode & 0o020) !== 0 && st.gid !== 0) return { secure: false, executable, reason: `${comp} is writable by group ${st.gid}` };
    if ((st.mode & 0o002) !== 0) return { secure: false, executable, reason: `${comp} is writable by all users` };
  }
  return { secure: true, executable, reason: null };
}

// ---------------------------------------------------------------- running a script

export interface RunSpec {
  argv: string[];
  uid?: number;
  gid?: number;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** After the timeout's SIGTERM to the group, SIGKILL the group this much later if the script is still there
   * (keepalived: 2 s). Default 2000. */
  termGraceMs?: number;
  /** Called with the child's pid (= its process group id) once started. */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the process could not be started (ENOENT, EACCES...). */
  error: string | null;
  pid: number | null;
}

/**
 * Run argv without a shell (execve of the words, as keepalived does; a file without "#!" or ELF header goes through
 * /bin/sh, like keepalived's ENOEXEC fallback), in a new process group. At the timeout the whole group gets SIGTERM,
 * then SIGKILL as soon as the script has exited or `termGraceMs` later.
 * The promise resolves when the direct child has exited; it never rejects. stdin/stdout/stderr go to /dev/null.
 */
export function runScript(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve) => {
    const argv = [...spec.argv];
    const exe = argv[0] ? resolveExecutable(argv[0]) : null;
    if (!exe) {
      resolve({ code: null, signal: null, timedOut: false, error: `${argv[0] ?? '(empty)'}: not found`, pid: null });
      return;
    }
    let file = exe;
    let args = argv.slice(1);
    if (needsShell(exe)) {
      file = '/bin/sh';
      args = [exe, ...args];
    }
    let child;
    try {
      child = spawn(file, args, {
        argv0: file === '/bin/sh' ? '/bin/sh' : argv[0]!,
        detached: true,
        stdio: 'ignore',
        env: spec.env ?? process.env,
        ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
        ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      });
    } catch (e) {
      resolve({ code: null, signal: null, timedOut: false, error: (e as Error).message, pid: null });
      return;
    }
    const pid = child.pid ?? null;
    if (pid) spec.onSpawn?.(pid);
    let timedOut = false;
    let done = false;
    let grace: NodeJS.Timeout | null = null;
    // keepalived's way: at the timeout SIGTERM the whole group; SIGKILL the group when the script has gone (its
    // children may not have) or after the grace period, whichever comes first.
    const timer = setTimeout(() => {
      timedOut = true;
      if (!pid) return;
      killGroup(pid, 'SIGTERM');
      grace = setTimeout(() => killGroup(pid), Math.max(0, spec.termGraceMs ?? 2000));
    }, Math.max(1, spec.timeoutMs));
    const finish = () => {
      clearTimeout(timer);
      if (grace) clearTimeout(grace);
      if (timedOut && pid) killGroup(pid);
    };
    child.once('error', (e) => {
      if (done) return;
      done = true;
      finish();
      resolve({ code: null, signal: null, timedOut, error: e.message, pid });
    });
    child.once('exit', (code, signal) => {
      if (done) return;
      done = true;
      // A script that exits on its own may leave daemons behind on purpose (keepalived does not kill them); after a
      // timeout the rest of the group is killed.
      finish();
      resolve({ code, signal: signal ?? null, timedOut, error: null, pid });
    });
  });
}

/** Signal a whole process group (by its leader's pid); SIGKILL by default. */
export function killGroup(pgid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* already gone */
  }
}

// ---------------------------------------------------------------- processes (/proc)

export interface ProcInfo {
  pid: number;
  /** /proc/PID/comm: the kernel's 15-character name. */
  comm: string;
  /** /proc/PID/cmdline split on NUL (empty for kernel threads). */
  cmdline: string[];
}

/** Every live process visible in /proc (kernel threads included with empty cmdline; zombies left out). Races with
 * exiting processes are ignored. */
export function listProcesses(procRoot = '/proc'): ProcInfo[] {
  const out: ProcInfo[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      // comm and state from /proc/PID/stat: "pid (comm) S ..."; zombies (exited, not yet reaped) do not count.
      const stat = fs.readFileSync(`${procRoot}/${n}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (stat[close + 2] === 'Z' || stat[close + 2] === 'X') continue;
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const raw = fs.readFileSync(`${procRoot}/${n}/cmdline`, 'utf8');
      const cmdline = raw.length ? raw.replace(/\0$/, '').split('\0') : [];
      out.push({ pid: Number(n), comm, cmdline });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

// ---------------------------------------------------------------- track files

/** keepalived's reading of a track file: strtol(buf, NULL, 0) of the first 127 bytes; missing/garbage = 0; clamped
 * to -254..254. */
export function parseTrackFileValue(text: string): number {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text.slice(0, 127));
  if (!m) return 0;
  const digits = m[2]!;
  let v: number;
  if (/^0[xX]/.test(digits)) v = parseInt(digits.slice(2), 16);
  else if (digits.length > 1 && digits.startsWith('0')) v = parseInt(digits, 8);
  else v = parseInt(digits, 10);
  if (!Number.isFinite(v)) v = 0;
  if (m[1] === '-') v = -v;
  return Math.max(-254, Math.min(254, v));
}

export function readTrackFile(file: string): number {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const b = Buffer.alloc(127);
      const n = fs.readSync(fd, b, 0, 127, null);
      return parseTrackFileValue(b.subarray(0, n).toString('latin1'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return 0;
  }
}

/** `init_file [VALUE] [overwrite]`: create the file with VALUE when missing (or always with overwrite). Returns an
 * error text or null. */
export function initTrackFile(file: string, value: number, overwrite: boolean): string | null {
  try {
    if (!overwrite && fs.existsSync(file)) return null;
    fs.writeFileSync(file, `${value}\n`, { mode: 0o644 });
    return null;
  } catch (e) {
    return `cannot initialise track file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** Watch a file's directory (so creation, rename-in and deletion are seen) and call `onChange` (debounced by the
 * caller's re-read); returns a closer. Falls back to nothing when the directory cannot be watched (the caller polls). */
export function watchFile(file: string, onChange: () => void): () => void {
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  let w: fs.FSWatcher | null = null;
  try {
    w = fs.watch(dir, { persistent: false }, (_ev, name) => {
      if (name === null || name === base) onChange();
    });
    w.on('error', () => {
      /* the poll keeps working */
    });
  } catch {
    w = null;
  }
  return () => w?.close();
}

// ---------------------------------------------------------------- FIFOs

/** Create a FIFO (mode 0600) when `file` does not exist. Node has no mkfifo(); this uses coreutils' mkfifo until the
 * native addon grows one. Returns an error text or null. */
export function ensureFifo(file: string): string | null {
  try {
    const st = fs.statSync(file);
    return st.isFIFO() ? null : `${file} exists and is not a FIFO`;
  } catch {
    /* create it */
  }
  try {
    execFileSync('mkfifo', ['-m', '0600', file], { stdio: 'ignore', timeout: 5000 });
    return null;
  } catch (e) {
    return `cannot create FIFO ${file}: ${(e as Error).message}`;
  }
}

/**
 * An ordered, never-blocking line writer to a FIFO. The FIFO is opened O_RDWR|O_NONBLOCK (as keepalived does), so
 * opening never waits for a reader and a reader restarting never causes EPIPE. Lines that do not fit in the pipe
 * (EAGAIN) stay queued, in order, and are retried every `retryMs`; the queue is bounded (oldest lines are dropped
 * with a count reported through `onDrop`).
 */
export class FifoWriter {
  private fd: number | null = null;
  private queue: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  dropped = 0;
  constructor(
    readonly file: string,
    private readonly opts: { retryMs?: number; maxQueue?: number; onError?: (msg: string) => void } = {},
  ) {}

  /** Open the FIFO; returns an error text or null. Refuses anything that is not a FIFO. */
  open(): string | null {
    try {
      const fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      if (!fs.fstatSync(fd).isFIFO()) {
        fs.closeSync(fd);
        return `${this.file} is not a FIFO`;
      }
      this.fd = fd;
      return null;
    } catch (e) {
      return `cannot open FIFO ${this.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
  }

  write(line: string): void {
    if (this.fd === null) return;
    this.queue.push(line.endsWith('\n') ? line : `${line}\n`);
    const max = this.opts.maxQueue ?? 10000;
    while (this.queue.length > max) {
      this.queue.shift();
      this.dropped++;
    }
    this.flush();
  }

  private flush(): void {
    if (this.fd === null) return;
    while (this.queue.length) {
      const buf = Buffer.from(this.queue[0]!);
      try {
        // Lines are far below PIPE_BUF, so each write is atomic: all or EAGAIN.
        fs.writeSync(this.fd, buf);
        this.queue.shift();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN') {
          this.opts.onError?.(`write to FIFO ${this.file}: ${code ?? (e as Error).message}`);
          this.queue.shift();
          continue;
        }
        if (!this.timer) {
          this.timer = setTimeout(() => {
            this.timer = null;
            this.flush();
          }, this.opts.retryMs ?? 50);
          this.timer.unref?.();
        }
        return;
      }
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* ignore */
      }
    }
    this.fd = null;
  }
}


// ---------------------------------------------------------------- proc connector

const NETLINK_CONNECTOR = 11;
const CN_IDX_PROC = 1;
const CN_VAL_PROC = 1;
const PROC_CN_MCAST_LISTEN = 1;
const NLMSG_DONE = 3;
export const PROC_EVENT = { FORK: 0x1, EXEC: 0x2, COMM: 0x200, EXIT: 0x80000000 } as const;

/**
 * The kernel's process-events connector (NETLINK_CONNECTOR, CN_IDX_PROC), as keepalived's vrrp_track_process uses:
 * `onEvent(what)` is called for every fork/exec/comm/exit (what = PROC_EVENT value) and with 0 when events were lost
 * (ENOBUFS). It needs CAP_NET_ADMIN and only works in the initial network namespace; `open` returns an error text
 * when it cannot be used, and the caller polls /proc instead.
 */
export class ProcEvents {
  private closed = false;
  private readonly buf = new Uint8Array(8192);
  private readonly out = new Int32Array(3);
  private constructor(
    private readonly h: SocketHandle,
    private readonly onEvent: (what: number) => void,
  ) {}

  static open(onEvent: (what: number) => void): ProcEvents | string {
    let n: NativeAddon;
    try {
      n = native();
    } catch (e) {
      return `native addon unavailable: ${(e as Error).message}`;
    }
    let h: SocketHandle;
    try {
      h = n.socket(K('AF_NETLINK'), K('SOCK_DGRAM'), NETLINK_CONNECTOR);
    } catch (e) {
      return `proc connector socket: ${(e as Error).message}`;
    }
    try {
      n.bind(h, sockaddrNl(0, CN_IDX_PROC));
      const le = endianness() === 'LE';
      const msg = new Uint8Array(40);
      const dv = new DataView(msg.buffer);
      dv.setUint32(0, 40, le); // nlmsg_len
      dv.setUint16(4, NLMSG_DONE, le); // nlmsg_type
      dv.setUint32(8, 1, le); // nlmsg_seq
      dv.setUint32(12, 0, le); // nlmsg_pid: the kernel fills in
      dv.setUint32(16, CN_IDX_PROC, le); // cn_msg.id.idx
      dv.setUint32(20, CN_VAL_PROC, le); // cn_msg.id.val
      dv.setUint16(32, 4, le); // cn_msg.len
      dv.setUint32(36, PROC_CN_MCAST_LISTEN, le);
      const r = n.sendmsg(h, msg, null, null, 0);
      if (r < 0) throw new Error(`send PROC_CN_MCAST_LISTEN: ${n.errnoName(-r)}`);
    } catch (e) {
      n.close(h);
      return `proc connector: ${(e as Error).message}`;
    }
    const pe = new ProcEvents(h, onEvent);
    n.poll(h, K('UV_READABLE'), () => pe.drain());
    n.pollRef(h, false);
    return pe;
  }

  private drain(): void {
    const n = native();
    const le = endianness() === 'LE';
    for (;;) {
      if (this.closed) return;
      const r = n.recvmsg(this.h, this.buf, null, null, 0, this.out);
      if (r < 0) {
        const name = n.errnoName(-r);
        if (name === 'EAGAIN') return;
        if (name === 'EINTR') continue;
        if (name === 'ENOBUFS') {
          this.onEvent(0);
          continue;
        }
        return;
      }
      const dv = new DataView(this.buf.buffer, 0, Math.min(r, this.buf.length));
      let off = 0;
      while (off + 40 <= dv.byteLength) {
        const len = dv.getUint32(off, le);
        if (len < 40 || off + len > dv.byteLength) break;
        const idx = dv.getUint32(off + 16, le);
        if (idx === CN_IDX_PROC) {
          const what = dv.getUint32(off + 36, le);
          if (what !== 0) this.onEvent(what);
        }
        off += (len + 3) & ~3;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      native().close(this.h);
    } catch {
      /* ignore */
    }
  }
}
