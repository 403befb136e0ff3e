/**
 * Client side of the control socket, shared by `vipd status|reload|handover|garp`: one request, one reply line.
 * Connection failures become errors that say the daemon is not running (or not reachable), never stack traces.
 */
import { createConnection } from 'node:net';
import type { Command } from 'commander';
import { DEFAULT_CONTROL_SOCKET, type ControlReply, type ControlRequest } from '../control/protocol.js';

export class ControlError extends Error {}

/** Send one request and wait for its reply (bounded by timeoutMs). Rejects with a ControlError. */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 30_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path });
    let buf = '';
    let done = false;
    const finish = (err: Error | null, reply?: ControlReply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(
      () => finish(new ControlError(`no reply from vipd on ${path} within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        finish(null, JSON.parse(buf.slice(0, nl)) as ControlReply);
      } catch {
        finish(new ControlError(`vipd sent an unreadable reply on ${path}`));
      }
    });
    sock.on('end', () => finish(new ControlError(`vipd closed the control connection on ${path} without a reply`)));
    sock.on('error', (e: NodeJS.ErrnoException) => finish(new ControlError(describeConnectError(path, e))));
  });
}

export function describeConnectError(path: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return `vipd is not running: no control socket at ${path} (start the daemon, or pass --control-socket PATH)`;
    case 'ECONNREFUSED':
      return `vipd is not running: the control socket ${path} refuses connections (a stale socket file?)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied on the control socket ${path}: run as root`;
    case 'ENOTSOCK':
      return `${path} is not a socket`;
    default:
      return `cannot reach vipd on ${path}: ${e.message}`;
  }
}

/** Add the common --control-socket option. */
export function withSocketOption(cmd: Command): Command {
  return cmd.option('--control-socket <path>', 'the daemon\'s control socket', DEFAULT_CONTROL_SOCKET);
}

/** Print an error reply or a connection error the CLI way and set the exit code. */
export function fail(msg: string, code = 1): void {
  process.stderr.write(`vipd: ${msg}\n`);
  process.exitCode = code;
}

/** Run a request; on connection failure print the error and return null (exit code 3: daemon not reachable). */
export async function tryRequest(path: string, req: ControlRequest): Promise<ControlReply | null> {
  try {
    return await controlRequest(path, req);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e), 3);
    return null;
  }
}
