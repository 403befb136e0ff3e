/**
 * The control socket of a real running vipd under abuse (issue 9), while it is master of a pair at 100 ms adverts
 * (so that any stall of its event loop longer than ~360 ms would show as a takeover by the backup):
 *  - malformed lines (not JSON, non-objects, unknown commands, binary, shell metacharacters): an error reply each,
 *    the connection goes on;
 *  - an oversized request (1 MiB without a newline): an error and a disconnect;
 *  - slow clients: one dribbling a request a byte at a time, one silent (disconnected after the idle timeout),
 *    more connections than allowed, a client pipelining thousands of requests without reading;
 *  - non-root callers: `vipd status` as `nobody` (runuser) is refused, by the socket's mode and, with the mode
 *    opened up, by SO_PEERCRED.
 * Meanwhile other clients are served quickly and no transition happens. The server's own unit tests (with a fake
 * daemon) are in test/control/control-server.test.ts. Needs root and the lab. About 20 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { execFile } from 'node:child_process';
import { buildTopology, cleanOrphanLabs, processTag, startDaemon, type Topology } from '../../src/linux/lab/index.js';
import { ControlConn, haveCommand, labSkip, pairConfig, socketOf, sleep, transitions, VIPD } from './common.js';

const skip = labSkip();
const orphans = skip ? Promise.resolve([]) : cleanOrphanLabs('ra');

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection (bounded). */
function readAll(s: Socket, timeoutMs: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', () => undefined);
    const timer = setTimeout(() => resolve({ text, closed: false }), timeoutMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

function runAs(user: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('runuser', ['-u', user, '--', process.execPath, VIPD, ...args], { encoding: 'utf8', timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, out: stdout + stderr });
    });
  });
}

test('control socket abuse against a running master: errors, disconnects, refusals; no stall, no transition', { skip, timeout: 120_000 }, async () => {
  await orphans;
  const topo: Topology = await buildTopology({ tag: processTag('ra'), routers: 2, ipv6: false });
  const open: Socket[] = [];
  try {
    const r1 = await startDaemon(topo, 'R1', { kind: 'vipd', config: pairConfig(topo, 'R1', 150, { advertInt: 0.1, v6: false, unicast: false }) });
    const r2 = await startDaemon(topo, 'R2', { kind: 'vipd', config: pairConfig(topo, 'R2', 100, { advertInt: 0.1, v6: false, unicast: false }) });
    for (const i of ['VI_1', 'VI_2']) {
      await r1.waitForState('MASTER', { instance: i });
      await r2.waitForState('BACKUP', { instance: i });
    }
    await sleep(500);
    const m1 = r1.mark();
    const m2 = r2.mark();
    const path = socketOf(r1);

    // A silent client, to be disconnected after the idle timeout (10 s).
    const silent = await connect(path);
    open.push(silent);
    const silentDone = readAll(silent, 20_000);
    const tSilent = Date.now();

    // Malformed lines on one connection: one error reply each, in order, and the connection still works.
    const c = await ControlConn.open(path);
    const bad: unknown[] = ['not json', '[]', '42', 'null', '{"cmd":5}', '{"cmd":"rm -rf /"}', '{"cmd":"handover"}', '{"cmd":"status","instance":""}', '{"cmd":"garp","instance":"$(reboot)"}', '{"cmd":"status","instance":"VI_1; reboot"}'];
    for (const line of bad) {
      const rep = await new Promise<Record<string, unknown>>((resolve) => {
        (c as unknown as { waiting: Array<(l: string) => void> }).waiting.push((l) => resolve(JSON.parse(l) as Record<string, unknown>));
        (c as unknown as { sock: Socket }).sock.write(`${String(line)}\n`);
      });
      assert.equal(rep.ok, false, `${String(line)} -> ${JSON.stringify(rep)}`);
      assert.equal(typeof rep.error === 'string' || typeof rep.message === 'string', true);
      assert.doesNotMatch(JSON.stringify(rep), /\n\s+at |TypeError|SyntaxError: Unexpected/, 'no stack trace');
    }
    const binary = await new Promise<Record<string, unknown>>((resolve) => {
      (c as unknown as { waiting: Array<(l: string) => void> }).waiting.push((l) => resolve(JSON.parse(l) as Record<string, unknown>));
      (c as unknown as { sock: Socket }).sock.write(Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]), Buffer.from('\n')]));
    });
    assert.equal(binary.ok, false);
    assert.equal((await c.request<{ ok: boolean }>({ cmd: 'ping' })).ok, true, 'the connection goes on after errors');
    c.close();

    // Oversized: 1 MiB without a newline -> an error and a disconnect.
    const big = await connect(path);
    open.push(big);
    const bigDone = readAll(big, 10_000);
    big.write(Buffer.alloc(1 << 20, 0x61));
    const bigRes = await bigDone;
    assert.ok(bigRes.closed, 'the oversized client is disconnected');
    assert.match(bigRes.text, /request longer than \d+ bytes/);

    // Slow dribbler: a status request a byte every 20 ms; meanwhile others get quick answers.
    const slow = await connect(path);
    open.push(slow);
    const slowDone = readAll(slow, 15_000);
    const req = '{"cmd":"ping"}\n';
    const dribble = (async () => {
      for (const ch of req) {
        slow.write(ch);
        await sleep(20);
      }
    })();
    const fast: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      const q = await ControlConn.open(path);
      assert.equal((await q.request<{ ok: boolean }>({ cmd: 'ping' })).ok, true);
      q.close();
      fast.push(performance.now() - t);
    }
    await dribble;
    await sleep(200);
    slow.end();
    assert.match((await slowDone).text, /"ok":true/, 'the dribbled request is answered');
    assert.ok(Math.max(...fast) < 500, `other clients answered within 500 ms while one dribbles (${fast.map((x) => x.toFixed(0)).join(', ')} ms)`);

    // More connections than allowed (32): the extra ones get an error and are closed; the daemon serves again after.
    const many: Socket[] = [];
    const replies: Promise<{ text: string; closed: boolean }>[] = [];
    for (let i = 0; i < 40; i++) {
      const s = await connect(path);
      many.push(s);
      open.push(s);
      replies.push(readAll(s, 3000));
    }
    const res = await Promise.all(replies);
    const refused = res.filter((x) => /too many control connections/.test(x.text)).length;
    assert.ok(refused >= 40 - 32, `extra connections refused (${refused})`);
    for (const s of many) s.destroy();
    await sleep(200);

    // A client pipelining 5000 status requests without reading: the daemon stays responsive to others.
    const pipe = await connect(path);
    open.push(pipe);
    pipe.pause();
    pipe.write('{"cmd":"status"}\n'.repeat(5000));
    await sleep(500);
    {
      const t = performance.now();
      const q = await ControlConn.open(path);
      assert.equal((await q.request<{ ok: boolean }>({ cmd: 'ping' })).ok, true);
      q.close();
      assert.ok(performance.now() - t < 1000, 'served while another client does not read its replies');
    }
    pipe.destroy();

    // Non-root callers: the socket is 0600 root, so `nobody` cannot even connect...
    if (haveCommand('runuser')) {
      const st = statSync(path);
      assert.equal(st.mode & 0o777, 0o600);
      const a = await runAs('nobody', ['status', '--control-socket', path]);
      assert.notEqual(a.code, 0);
      assert.match(a.out, /permission denied/i);
      assert.doesNotMatch(a.out, /\n\s+at /, 'no stack trace');
      // ...and with the file mode opened up (a mistake an operator could make), SO_PEERCRED still refuses it.
      const dirMode = statSync(dirname(path)).mode & 0o777;
      chmodSync(dirname(path), 0o755);
      chmodSync(path, 0o666);
      try {
        const b = await runAs('nobody', ['reload', '--control-socket', path]);
        assert.notEqual(b.code, 0);
        assert.match(b.out, /permission denied: uid \d+ may not control vipd/);
      } finally {
        chmodSync(path, 0o600);
        chmodSync(dirname(path), dirMode);
      }
      assert.ok(r1.proc.grep(/refused connection from uid/, m1).length >= 1, 'the refusal is logged');
    }

    const s = await silentDone;
    assert.ok(s.closed, 'the silent client was disconnected');
    assert.match(s.text, /idle for \d+ ms/);
    const idleAfter = Date.now() - tSilent;
    assert.ok(idleAfter >= 9_000 && idleAfter < 15_000, `idle disconnect after ${idleAfter} ms`);

    assert.ok(r1.proc.running && r2.proc.running);
    assert.deepEqual(transitions(r1, m1), [], 'R1 stayed master throughout');
    assert.deepEqual(transitions(r2, m2), [], 'R2 never took over (no stall of R1 longer than Master_Down_Interval)');
  } finally {
    for (const s of open) s.destroy();
    await topo.destroy();
  }
});
