/**
 * Loader and types for the vipd_native addon (native/vipd_native.c, built by node-gyp during `npm ci`).
 * This module and the rest of src/linux/ are the only code that touches the OS.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque socket handle owning an fd (and a libuv poll handle while polling). */
export type SocketHandle = { readonly __vipdSocket: unique symbol };

export interface NativeAddon {
  socket(domain: number, type: number, protocol: number): SocketHandle;
  close(h: SocketHandle): void;
  fd(h: SocketHandle): number;
  bind(h: SocketHandle, sockaddr: Uint8Array): void;
  getsockname(h: SocketHandle, out: Uint8Array): number;
  setsockopt(h: SocketHandle, level: number, name: number, value: number | Uint8Array): void;
  getsockopt(h: SocketHandle, level: number, name: number, out?: Uint8Array): number;
  /** Bytes sent, or -errno. */
  sendmsg(h: SocketHandle, data: Uint8Array, addr: Uint8Array | null, control: Uint8Array | null, flags: number): number;
  /** Bytes received, or -errno; out = [address length, control length, msg_flags]. */
  recvmsg(
    h: SocketHandle,
    data: Uint8Array,
    addr: Uint8Array | null,
    control: Uint8Array | null,
    flags: number,
    out: Int32Array,
  ): number;
  poll(h: SocketHandle, events: number, cb: (status: number, events: number) => void): void;
  pollStop(h: SocketHandle): void;
  pollRef(h: SocketHandle, ref: boolean): void;
  /** 0 when there is no such interface (or the name is too long). */
  ifNameToIndex(name: string): number;
  ifIndexToName(index: number): string | null;
  setScheduler(policy: number, priority: number): void;
  mlockall(flags: number): void;
  munlockall(): void;
  errnoName(errno: number): string;
  strerror(errno: number): string;
  constants: Record<string, number>;
}

/** An OS error: `code` is the errno name (EPERM, EEXIST, ...), the message names what failed. */
export class SysError extends Error {
  readonly code: string;
  readonly errno: number;
  constructor(message: string, errno: number, code?: string) {
    super(message);
    this.name = 'SysError';
    this.errno = Math.abs(errno);
    this.code = code ?? (loaded ? loaded.errnoName(this.errno) : `E${this.errno}`);
  }
}

let loaded: NativeAddon | null = null;

function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  if (process.env.VIPD_NATIVE) out.push(process.env.VIPD_NATIVE);
  // dist/src/linux -> repo root is three levels up; src/linux -> two.
  for (const up of ['../../..', '../..']) {
    out.push(join(here, up, 'build', 'Release', 'vipd_native.node'));
    out.push(join(here, up, 'build', 'Debug', 'vipd_native.node'));
  }
  return out;
}

/** The addon, loaded on first use. Throws a clear error when it was not built. */
export function native(): NativeAddon {
  if (loaded) return loaded;
  const path = candidates().find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      'vipd native addon not found (build/Release/vipd_native.node): run `npm ci` or `npx node-gyp rebuild` ' +
        '(needs python3, make and a C compiler)',
    );
  }
  const req = createRequire(import.meta.url);
  loaded = req(path) as NativeAddon;
  return loaded;
}

/** ABI constants and sizes exported by the addon. */
export function K(name: string): number {
  const v = native().constants[name];
  if (v === undefined) throw new Error(`vipd native addon: unknown constant ${name}`);
  return v;
}

/** Convert a -errno return into a SysError with a message naming the operation and its subject. */
export function errnoError(what: string, negErrno: number): SysError {
  const n = native();
  const e = Math.abs(negErrno);
  return new SysError(`${what}: ${n.strerror(e)} (${n.errnoName(e)})`, e, n.errnoName(e));
}

/** Re-throw an addon exception (which carries `code`) with `what` prepended, as a SysError. */
export function wrapError(what: string, err: unknown): SysError {
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : 'EUNKNOWN';
  const errno = (osConstants.errno as Record<string, number>)[code] ?? 0;
  return new SysError(`${what}: ${e?.message ?? String(err)}`, errno, code);
}
