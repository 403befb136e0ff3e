/**
 * OS helpers for the control plane (src/control/): preparing the control socket's path, learning a unix-socket
 * peer's credentials (SO_PEERCRED), and writing dump files atomically. Kept here because src/linux/ (with native/)
 * is the only code that touches the OS beyond Node's net/http modules.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { native } from './native.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * The credentials of the process at the other end of an accepted unix-domain socket, via getsockopt(SO_PEERCRED)
 * in the native addon. Node has no API for this: the fd comes from the socket's libuv handle (`socket._handle.fd`,
 * an undocumented but long-stable field of net.Socket on Unix; -1 or missing on other platforms). Returns null when
 * the fd is not reachable or the addon is missing, so callers can fall back on the socket file's 0600 mode.
 */
export function peerCredOf(socket: unknown): PeerCred | null {
  const handle = (socket as { _handle?: { fd?: unknown } } | null)?._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return null;
  let addon: { peerCred?: (fd: number) => number[] };
  try {
    addon = native() as unknown as { peerCred?: (fd: number) => number[] };
  } catch {
    return null;
  }
  if (typeof addon.peerCred !== 'function') return null;
  try {
    const [pid, uid, gid] = addon.peerCred(fd);
    return { pid: pid!, uid: uid!, gid: gid! };
  } catch {
    return null;
  }
}

/** Is SO_PEERCRED checking available in this build (the addon exports peerCred)? */
export function peerCredSupported(): boolean {
  try {
    return typeof (native() as unknown as { peerCred?: unknown }).peerCred === 'function';
  } catch {
    return false;
  }
}

/**
 * Make a unix socket path ready for listen(): create its directory (mode 0755, root-owned when we are root) if
 * needed, and remove a stale socket file left by a previous run. Refuses to remove anything that is not a socket.
 * Throws an Error naming the path on failure.
 */
export function prepareSocketPath(path: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new Error(`cannot create control socket directory ${dir}: ${(e as Error).message}`);
  }
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) throw new Error(`control socket path ${path} exists and is not a socket; not removing it`);
  try {
    unlinkSync(path);
  } catch (e) {
    throw new Error(`cannot remove stale control socket ${path}: ${(e as Error).message}`);
  }
}

/** Set a path's mode (the control socket after listen()). */
export function setMode(path: string, mode: number): void {
  chmodSync(path, mode);
}

/** Remove the control socket file if it is still a socket (at shutdown). Never throws. */
export function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * Write `data` to `path` atomically: a new file (O_EXCL, mode `mode`) in the same directory, then rename() over
 * the target. rename() replaces a symlink planted at `path` instead of following it, which matters in /tmp.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const dir = dirname(path);
  if (!existsSync(dir)) throw new Error(`cannot write ${path}: directory ${dir} does not exist`);
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.vipd-tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', mode);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw new Error(`cannot write ${path}: ${(e as Error).message}`);
  }
}

/** The kernel's SIGRTMIN as glibc reports it (34 on Linux/glibc), from the addon; null without the addon. */
export function sigRtMin(): number | null {
  try {
    return native().constants.SIGRTMIN ?? null;
  } catch {
    return null;
  }
}

/**
 * Watch a signal by number, including real-time signals that Node's process.on() cannot name (an unhandled
 * SIGRTMIN+2 would kill the process). Uses a libuv signal watcher in the native addon; it does not keep the event
 * loop alive. Returns a function that removes the watcher. Throws a clear Error when the addon lacks it.
 */
export function watchSignal(signum: number, cb: (signum: number) => void): () => void {
  const addon = native() as unknown as {
    signalWatch?: (n: number, cb: (n: number) => void) => unknown;
    signalStop?: (h: unknown) => void;
  };
  if (typeof addon.signalWatch !== 'function' || typeof addon.signalStop !== 'function') {
    throw new Error('vipd native addon too old for signal watchers (rebuild it: npm ci)');
  }
  let h: unknown;
  try {
    h = addon.signalWatch(signum, cb);
  } catch (e) {
    throw new Error(`cannot watch signal ${signum}: ${(e as Error).message}`);
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    addon.signalStop!(h);
  };
}
