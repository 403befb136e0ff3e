import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { chmodSync, lstatSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlServer, type ControlServerOptions } from '../../src/control/server.js';
import { FakeDaemon } from './fake-daemon.js';

/** A raw client: send text, read reply lines, see when the server closes. */
class Client {
  lines: string[] = [];
  closed = false;
  private buf = '';
  private waiters: (() => void)[] = [];
  constructor(readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }
  static connect(path: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ path });
      s.once('connect', () => resolve(new Client(s)));
      s.once('error', reject);
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  async until(pred: () => boolean, what: string, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(this.lines)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  async reply(n: number): Promise<Record<string, unknown>> {
    await this.until(() => this.lines.length > n, `reply #${n + 1}`);
    return JSON.parse(this.lines[n]!) as Record<string, unknown>;
  }
  async ask(obj: unknown): Promise<Record<string, unknown>> {
    const n = this.lines.length;
    this.sock.write((typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n');
    return this.reply(n);
  }
}

async function withServer(
  opts: ControlServerOptions,
  fn: (path: string, daemon: FakeDaemon, dir: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-ctl-'));
  const path = opts.path ?? join(dir, 'run', 'vipd.sock');
  const daemon = new FakeDaemon();
  const srv = await startControlServer(daemon, { ...opts, path });
  try {
    await fn(path, daemon, dir);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('control socket: created 0600 in a new directory; status, instance filter, ping', async () => {
  await withServer({}, async (path, daemon) => {
    assert.ok(lstatSync(path).isSocket());
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const c = await Client.connect(path);
    const r = await c.ask({ cmd: 'status' });
    assert.equal(r.ok, true);
    const st = r.status as { instances: { name: string }[]; pid: number };
    assert.deepEqual(st.instances.map((i) => i.name), ['VI_1', 'VI_6']);
    const one = await c.ask({ cmd: 'status', instance: 'VI_6' });
    assert.deepEqual((one.status as { instances: { name: string }[] }).instances.map((i) => i.name), ['VI_6']);
    const none = await c.ask({ cmd: 'status', instance: 'NOPE' });
    assert.deepEqual(none, { ok: false, error: 'no instance named "NOPE"' });
    const ping = await c.ask({ cmd: 'ping' });
    assert.deepEqual(ping, { ok: true, pid: daemon.current.pid, version: daemon.current.version });
    c.sock.destroy();
  });
});

test('control socket: replies come in request order for pipelined requests', async () => {
  await withServer({}, async (path) => {
    const c = await Client.connect(path);
    c.sock.write('{"cmd":"reload"}\n{"cmd":"ping"}\n{"cmd":"garp","instance":"VI_1"}\n{"cmd":"status","instance":"VI_1"}\n');
    await c.until(() => c.lines.length === 4, '4 replies');
    const r = c.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok('reload' in r[0]!);
    assert.ok('pid' in r[1]!);
    assert.equal(r[2]!.message, 'sent 2 gratuitous ARPs');
    assert.ok('status' in r[3]!);
    c.sock.destroy();
  });
});

test('control socket: a client pipelining 20000 requests without reading gets every reply, in order', async () => {
  await withServer({}, async (path) => {
    const c = await Client.connect(path);
    c.sock.pause(); // do not read for a while: the server must hold back, not buffer without bound
    const N = 20000;
    let payload = '';
    for (let n = 0; n < N; n++) payload += n % 2 ? '{"cmd":"ping"}\n' : '{"cmd":"nope"}\n';
    c.sock.write(payload);
    await new Promise((r) => setTimeout(r, 300));
    c.sock.resume();
    await c.until(() => c.lines.length >= N, `${N} replies`, 20_000);
    assert.equal(c.lines.length, N);
    assert.equal(JSON.parse(c.lines[0]!).error, 'unknown command "nope" (known: status, reload, handover, garp, ping)');
    assert.match(c.lines[1]!, /"pid":4242/);
    assert.match(c.lines[N - 1]!, /"pid":4242/);
    assert.match(c.lines[N - 2]!, /unknown command/);
    c.sock.destroy();
  });
});

test('control socket: malformed JSON, non-objects, missing/unknown commands get errors; the connection goes on', async () => {
  await withServer({}, async (path, daemon) => {
    const c = await Client.connect(path);
    const bad = await c.ask('{"cmd": "status"');
    assert.equal(bad.ok, false);
    assert.match(String(bad.error), /^malformed JSON request/);
    assert.match(String((await c.ask('[1,2]')).error), /must be a JSON object/);
    assert.match(String((await c.ask('"status"')).error), /must be a JSON object/);
    assert.match(String((await c.ask({ command: 'status' })).error), /no "cmd"/);
    assert.equal((await c.ask({ cmd: 'shutdown' })).error, 'unknown command "shutdown" (known: status, reload, handover, garp, ping)');
    assert.match(String((await c.ask({ cmd: 'handover' })).error), /"handover" needs an "instance"/);
    assert.match(String((await c.ask({ cmd: 'garp', instance: 42 })).error), /"instance" must be a non-empty string/);
    assert.equal((await c.ask({ cmd: 'handover', instance: 'NOPE' })).error, 'no instance named "NOPE"');
    // Still usable, and the daemon was never asked to do anything odd.
    assert.equal((await c.ask({ cmd: 'status' })).ok, true);
    assert.ok(!daemon.calls.some((x) => x.startsWith('handover') || x.startsWith('garp')));
    c.sock.destroy();
  });
});

test('control socket: a failing daemon call is an error reply, not a crash', async () => {
  await withServer({}, async (path, daemon) => {
    const c = await Client.connect(path);
    daemon.statusThrows = true;
    assert.deepEqual(await c.ask({ cmd: 'status' }), { ok: false, error: 'status failed: status exploded' });
    daemon.statusThrows = false;
    daemon.reloadResult = { ok: false, diagnostics: ['/etc/k.conf:3: unknown keyword'], added: [], removed: [], changed: [], unchanged: [] };
    const r = await c.ask({ cmd: 'reload' });
    assert.equal(r.ok, false);
    assert.match(String(r.error), /reload failed/);
    const h = await c.ask({ cmd: 'handover', instance: 'VI_6' });
    assert.deepEqual(h, { ok: false, message: 'VI_6 is not MASTER', error: 'VI_6 is not MASTER' });
    assert.equal((await c.ask({ cmd: 'status' })).ok, true);
    c.sock.destroy();
  });
});

test('control socket: a request over 64 KiB gets an error and a disconnect; others are served', async () => {
  await withServer({}, async (path) => {
    const big = await Client.connect(path);
    big.sock.write('{"cmd":"status","pad":"' + 'x'.repeat(70 * 1024));
    await big.until(() => big.closed, 'disconnect');
    assert.equal(big.lines.length, 1);
    assert.deepEqual(JSON.parse(big.lines[0]!), { ok: false, error: 'request longer than 65536 bytes; disconnected' });
    // A huge line that does end with a newline is refused the same way.
    const big2 = await Client.connect(path);
    big2.sock.write('{"cmd":"status","pad":"' + 'y'.repeat(65 * 1024) + '"}\n');
    await big2.until(() => big2.closed, 'disconnect');
    assert.match(big2.lines[0]!, /request longer than/);
    const c = await Client.connect(path);
    assert.equal((await c.ask({ cmd: 'ping' })).ok, true);
    c.sock.destroy();
  });
});

test('control socket: an idle client is disconnected with an error', async () => {
  await withServer({ idleTimeoutMs: 200 }, async (path) => {
    const c = await Client.connect(path);
    c.sock.write('{"cmd":'); // half a request, then nothing
    await c.until(() => c.closed, 'idle disconnect', 3000);
    assert.deepEqual(JSON.parse(c.lines[0]!), { ok: false, error: 'idle for 200 ms; disconnected' });
  });
});

test('control socket: too many clients', async () => {
  await withServer({ maxClients: 2 }, async (path) => {
    const a = await Client.connect(path);
    const b = await Client.connect(path);
    assert.equal((await a.ask({ cmd: 'ping' })).ok, true);
    assert.equal((await b.ask({ cmd: 'ping' })).ok, true);
    const c = await Client.connect(path);
    await c.until(() => c.closed, 'refusal');
    assert.match(c.lines[0]!, /too many control connections \(max 2\)/);
    a.sock.destroy();
    b.sock.destroy();
  });
});

test('control socket: a stale socket file is replaced; a regular file is not removed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vipd-ctl-'));
  try {
    const path = join(dir, 'stale.sock');
    // A socket file with no listener: bound by a process that has exited.
    execFileSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`]);
    assert.ok(lstatSync(path).isSocket());
    const srv = await startControlServer(new FakeDaemon(), { path });
    const c = await Client.connect(path);
    assert.equal((await c.ask({ cmd: 'ping' })).ok, true);
    c.sock.destroy();
    await srv.close();
    const file = join(dir, 'file');
    writeFileSync(file, 'keep me');
    await assert.rejects(startControlServer(new FakeDaemon(), { path: file }), {
      message: `control socket path ${file} exists and is not a socket; not removing it`,
    });
    assert.equal(statSync(file).size, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Run a one-request client as uid/gid 65534 (nobody); returns its stdout. */
function asNobody(path: string): Promise<string> {
  const script =
    `const s=require('net').createConnection(${JSON.stringify(path)});` +
    `s.on('connect',()=>s.write('{"cmd":"status"}\\n'));` +
    `s.on('data',d=>process.stdout.write(d));` +
    `s.on('error',e=>process.stdout.write('ERR '+e.code));` +
    `setTimeout(()=>process.exit(0),3000).unref();`;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', script], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.on('error', reject);
    p.on('exit', () => {
      clearTimeout(t);
      resolve(out);
    });
  });
}

const notRoot = process.getuid?.() !== 0 ? 'needs root to run a client as another uid; skipped' : undefined;

test('control socket: non-root callers are refused (file mode, then SO_PEERCRED)', { skip: notRoot }, async () => {
  await withServer({}, async (path, daemon, dir) => {
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'run'), 0o755);
    // Default mode 0600: the kernel refuses the connect.
    assert.equal(await asNobody(path), 'ERR EACCES');
  });
  await withServer({ mode: 0o666 }, async (path, daemon, dir) => {
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'run'), 0o755);
    // World-writable socket: SO_PEERCRED still refuses uid 65534, and the daemon is not asked anything.
    const out = await asNobody(path);
    assert.deepEqual(JSON.parse(out.trim()), { ok: false, error: 'permission denied: uid 65534 may not control vipd (root only)' });
    assert.deepEqual(daemon.calls, []);
    const c = await Client.connect(path);
    assert.equal((await c.ask({ cmd: 'status' })).ok, true);
    c.sock.destroy();
  });
});
