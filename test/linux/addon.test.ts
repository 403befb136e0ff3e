/** The native addon on its own: constants, errno names, handle lifetime, bad arguments. No root needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { K, native, SysError, errnoError } from '../../src/linux/native.js';
import { CmsgWriter, cmsgSpace, forEachCmsg, sockaddrIn6 } from '../../src/linux/sockaddr.js';

const skip = process.platform === 'linux' ? false : 'Linux only';

test('addon constants and ABI sizes', { skip }, () => {
  assert.equal(K('AF_INET'), 2);
  assert.equal(K('AF_INET6'), 10);
  assert.equal(K('SIZEOF_SOCKADDR_IN6'), 28);
  assert.equal(K('SIZEOF_SOCKADDR_LL'), 20);
  assert.equal(K('SIZEOF_SOCKADDR_NL'), 12);
  assert.equal(K('SIZEOF_IN_PKTINFO'), 12);
  assert.equal(K('SIZEOF_IN6_PKTINFO'), 20);
  assert.equal(cmsgSpace(4), K('CMSG_SPACE_INT'));
  assert.throws(() => K('NO_SUCH_CONSTANT'), /unknown constant NO_SUCH_CONSTANT/);
});

test('errno names and SysError text', { skip }, () => {
  const n = native();
  assert.equal(n.errnoName(1), 'EPERM');
  assert.equal(n.errnoName(-105), 'ENOBUFS');
  assert.equal(n.errnoName(100000), 'EUNKNOWN');
  const e = errnoError('send advert on eth0', -1);
  assert.ok(e instanceof SysError);
  assert.equal(e.code, 'EPERM');
  assert.equal(e.errno, 1);
  assert.match(e.message, /^send advert on eth0: Operation not permitted \(EPERM\)$/);
});

test('socket lifetime: non-blocking recvmsg, close is idempotent, closed handle is EBADF', { skip }, () => {
  const n = native();
  const h = n.socket(K('AF_INET6'), K('SOCK_DGRAM'), 0);
  assert.ok(n.fd(h) >= 0);
  n.bind(h, sockaddrIn6(new Uint8Array(16)));
  const out = new Int32Array(3);
  assert.equal(n.recvmsg(h, new Uint8Array(64), null, null, 0, out), -K('EAGAIN'), 'never blocks');
  n.close(h);
  n.close(h);
  assert.equal(n.fd(h), -1);
  assert.throws(() => n.bind(h, sockaddrIn6(new Uint8Array(16))), (e: { code?: string }) => e.code === 'EBADF');
});

test('bad arguments are exceptions with a code, not crashes', { skip }, () => {
  const n = native();
  assert.throws(() => n.socket(-1, 0, 0), (e: { code?: string }) => typeof e.code === 'string' && e.code.startsWith('E'));
  assert.throws(() => (n.bind as unknown as (a: unknown, b: unknown) => void)({}, 'x'), TypeError);
  assert.throws(() => (n.socket as unknown as (a: unknown) => void)('x'), TypeError);
  assert.equal(n.ifNameToIndex('x'.repeat(40)), 0);
  assert.equal(n.ifIndexToName(-5), null);
  const h = n.socket(K('AF_INET'), K('SOCK_DGRAM'), 0);
  assert.throws(() => n.setsockopt(h, 0xfff, 0xfff, 1), (e: { code?: string; message?: string }) => e.code === 'ENOPROTOOPT' && /setsockopt/.test(e.message!));
  n.close(h);
});

test('garbage-collected sockets release their fd', { skip }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  (() => {
    for (let i = 0; i < 50; i++) native().socket(K('AF_INET'), K('SOCK_DGRAM'), 0);
  })();
  assert.ok(fds() >= before + 50);
  for (let i = 0; i < 10 && fds() > before + 5; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(fds() <= before + 5, `fds before ${before}, after GC ${fds()}`);
});

test('cmsg writer and reader agree', { skip }, () => {
  const w = new CmsgWriter(128);
  w.addInPktinfo(7, Uint8Array.of(192, 0, 2, 1));
  w.addInt(K('IPPROTO_IP'), K('IP_TTL'), 64);
  const seen: [number, number, number][] = [];
  const v = w.view()!;
  forEachCmsg(v, v.length, (level, type, _off, len) => seen.push([level, type, len]));
  assert.deepEqual(seen, [
    [K('IPPROTO_IP'), K('IP_PKTINFO'), 12],
    [K('IPPROTO_IP'), K('IP_TTL'), 4],
  ]);
  assert.equal(v.length, cmsgSpace(12) + cmsgSpace(4));
});

test('a closed socket releases its poll handle: the process can exit', { skip }, () => {
  const nativeUrl = new URL('../../src/linux/native.js', import.meta.url).href;
  const code = `
    const { native, K } = await import(${JSON.stringify(nativeUrl)});
    const n = native();
    const h = n.socket(K('AF_INET'), K('SOCK_DGRAM'), 0);
    n.poll(h, K('UV_READABLE'), () => {});
    setTimeout(() => { n.close(h); console.log('closed'); }, 50);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 5000 });
  assert.equal(r.error, undefined, 'exited by itself (no live poll handle)');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'closed');
});

test('SCHED_FIFO and mlockall (in a child process, which must still exit cleanly)', { skip: skip || (process.getuid?.() !== 0 ? 'needs root' : false) }, () => {
  const procUrl = new URL('../../src/linux/process.js', import.meta.url).href;
  const code = `
    import { readFileSync } from 'node:fs';
    const p = await import(${JSON.stringify(procUrl)});
    p.setRealtimePriority(10);
    const policy = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[38]; // field 41 (policy); fields after the comm start at 3
    p.lockMemory();
    const locked = /VmLck:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
    p.setNormalScheduling();
    let err = null;
    try { p.setRealtimePriority(1000); } catch (e) { err = e.code + ' ' + e.message; }
    console.log(JSON.stringify({ policy, locked: Number(locked), err }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.policy, '1', 'SCHED_FIFO');
  assert.ok(out.locked > 0, 'memory locked');
  assert.match(out.err, /^EINVAL set SCHED_FIFO priority 1000: /);
});
