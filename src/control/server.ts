/**
 * The control socket server: a unix stream socket (default /run/vipd/vipd.sock, mode 0600) speaking
 * newline-delimited JSON (src/control/protocol.ts) on top of a DaemonControl.
 *
 * Bad clients never hurt the daemon: malformed JSON and unknown commands get an error reply and the connection
 * stays usable; a line over MAX_REQUEST_BYTES gets an error and the connection is closed (the stream cannot be
 * resynchronised); idle clients are disconnected after `idleTimeoutMs`; callers whose uid is not allowed
 * (SO_PEERCRED, root only by default) get an error and are disconnected; at most `maxClients` connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { DaemonControl } from '../daemon/api.js';
import { peerCredOf, peerCredSupported, prepareSocketPath, removeSocketFile, setMode } from '../linux/control-io.js';
import { DEFAULT_CONTROL_SOCKET, MAX_REQUEST_BYTES, parseRequest, type ControlReply, type ControlRequest } from './protocol.js';

export interface ControlServerOptions {
  /** Socket path (default /run/vipd/vipd.sock). */
  path?: string;
  /** Socket file mode (default 0o600). */
  mode?: number;
  /** Uids allowed to talk to the daemon (SO_PEERCRED); default [0]. */
  allowedUids?: number[];
  /** Disconnect a client idle this long (default 10 s). */
  idleTimeoutMs?: number;
  /** Longest request line (default 64 KiB). */
  maxRequestBytes?: number;
  /** Concurrent connections (default 32). */
  maxClients?: number;
  /** Where to report bad clients (one line each); default: nowhere. */
  log?: (line: string) => void;
}

export interface ControlServer {
  readonly path: string;
  /** Whether callers are checked with SO_PEERCRED (false: only the socket file's mode protects it). */
  readonly peerCredChecked: boolean;
  close(): Promise<void>;
}

/** Requests of one connection queued before the server stops reading from it. */
const MAX_PENDING = 64;

/** Start listening; resolves once the socket accepts connections. Throws an Error naming the path on failure. */
export async function startControlServer(daemon: DaemonControl, opts: ControlServerOptions = {}): Promise<ControlServer> {
  const path = opts.path ?? DEFAULT_CONTROL_SOCKET;
  const mode = opts.mode ?? 0o600;
  const allowed = new Set(opts.allowedUids ?? [0]);
  const idleMs = opts.idleTimeoutMs ?? 10_000;
  const maxBytes = opts.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const maxClients = opts.maxClients ?? 32;
  const log = opts.log ?? (() => {});
  const sockets = new Set<Socket>();
  const credChecked = peerCredSupported();

  prepareSocketPath(path);
  const server: Server = createServer({ allowHalfOpen: false }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {
      /* peer went away; nothing to do */
    });
    if (sockets.size > maxClients) {
      endWith(sock, { ok: false, error: `too many control connections (max ${maxClients})` });
      return;
    }
    const cred = peerCredOf(sock);
    if (cred) {
      if (!allowed.has(cred.uid)) {
        log(`control: refused connection from uid ${cred.uid} (pid ${cred.pid})`);
        endWith(sock, { ok: false, error: `permission denied: uid ${cred.uid} may not control vipd (root only)` });
        return;
      }
    }
    serve(sock);
  });

  function endWith(sock: Socket, reply: ControlReply): void {
    sock.end(JSON.stringify(reply) + '\n');
    // A client that never reads must not keep the socket around.
    setTimeout(() => sock.destroy(), 1000).unref();
  }

  function serve(sock: Socket): void {
    let buf = '';
    let pending = 0;
    let queue: Promise<void> = Promise.resolve();
    let closed = false;
    sock.setEncoding('utf8');
    sock.setTimeout(idleMs, () => {
      log('control: idle client disconnected');
      closed = true;
      endWith(sock, { ok: false, error: `idle for ${idleMs} ms; disconnected` });
    });
    sock.on('close', () => {
      closed = true;
    });
    sock.on('data', (chunk: string) => {
      if (closed) return;
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (Buffer.byteLength(line) > maxBytes) {
          tooLong();
          return;
        }
        if (line.trim() === '') continue;
        // Back-pressure: a client that pipelines requests without reading the replies is not read further
        // until it catches up, so neither the request queue nor the reply buffer grows without bound.
        pending += 1;
        if (pending >= MAX_PENDING) sock.pause();
        queue = queue.then(() => handleLine(line)).then((reply) => {
          pending -= 1;
          if (closed || sock.destroyed) return;
          const flushed = sock.write(JSON.stringify(reply) + '\n');
          if (!flushed) {
            sock.pause();
            sock.once('drain', () => {
              if (pending < MAX_PENDING) sock.resume();
            });
          } else if (pending < MAX_PENDING && sock.isPaused()) sock.resume();
        });
      }
      if (Buffer.byteLength(buf) > maxBytes) tooLong();
    });
    function tooLong(): void {
      closed = true;
      buf = '';
      log('control: request too long; client disconnected');
      void queue.then(() => endWith(sock, { ok: false, error: `request longer than ${maxBytes} bytes; disconnected` }));
    }
  }

  async function handleLine(line: string): Promise<ControlReply> {
    const p = parseRequest(line);
    if (!p.ok) {
      log(`control: bad request: ${p.error}`);
      return { ok: false, error: p.error };
    }
    try {
      return await execute(daemon, p.req);
    } catch (e) {
      return { ok: false, error: `${p.req.cmd} failed: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onErr = (e: Error) => reject(new Error(`cannot listen on control socket ${path}: ${e.message}`));
    server.once('error', onErr);
    server.listen(path, () => {
      server.off('error', onErr);
      resolve();
    });
  });
  try {
    setMode(path, mode);
  } catch (e) {
    server.close();
    throw new Error(`cannot set mode of control socket ${path}: ${(e as Error).message}`);
  }
  server.on('error', (e) => log(`control: server error: ${e.message}`));

  return {
    path,
    peerCredChecked: credChecked,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          removeSocketFile(path);
          resolve();
        });
      }),
  };
}

/** Run one validated request against the daemon. */
export async function execute(daemon: DaemonControl, req: ControlRequest): Promise<ControlReply> {
  switch (req.cmd) {
    case 'ping': {
      const s = daemon.status();
      return { ok: true, pid: s.pid, version: s.version };
    }
    case 'status': {
      const s = daemon.status();
      if (req.instance === undefined) return { ok: true, status: s };
      const instances = s.instances.filter((i) => i.name === req.instance);
      if (instances.length === 0) return { ok: false, error: `no instance named "${req.instance}"` };
      return { ok: true, status: { ...s, instances } };
    }
    case 'reload': {
      const r = await daemon.reload();
      return r.ok ? { ok: true, reload: r } : { ok: false, reload: r, error: 'reload failed: the new configuration has errors' };
    }
    case 'handover':
    case 'garp': {
      if (!daemon.status().instances.some((i) => i.name === req.instance)) {
        return { ok: false, error: `no instance named "${req.instance}"` };
      }
      const r = req.cmd === 'handover' ? await daemon.handover(req.instance) : await daemon.garp(req.instance);
      return r.ok ? { ok: true, message: r.message } : { ok: false, message: r.message, error: r.message };
    }
  }
}
