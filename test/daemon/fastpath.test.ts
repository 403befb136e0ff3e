/**
 * The daemon's per-advert fast paths (issue 8, CPU): the receive memo (a packet identical to the last one an instance
 * decoded reuses that decode), the Master_Down_Timer that is not recreated for every advert, and the core's
 * Adver_Timer alignment. Each must be invisible to the protocol: these tests check what would break if it were not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { step } from '../../src/core/machine.js';
import { sameRx } from '../../src/daemon/daemon.js';
import { Instance, type Attachment, type Host, type RxMemo } from '../../src/daemon/instance.js';
import { Logger } from '../../src/daemon/log.js';
import { parseConfigText } from '../../src/config/index.js';
import type { VrrpPacket } from '../../src/linux/vrrp-socket.js';
import { decodeIPv4, encodeAdvert, type Decoded } from '../../src/wire/vrrp.js';
import { backup, cfg3, CS, fire, master, onlyTimer } from '../core/helpers.js';

// --- receive memo -----------------------------------------------------------------------------------------------

/** An IPv4 datagram carrying a VRRPv3 advert, as a raw socket delivers it. */
function datagram(opts: { id?: number; ttl?: number; priority?: number; src?: number[] } = {}): Uint8Array {
  const src = Uint8Array.from(opts.src ?? [192, 0, 2, 2]);
  const dst = Uint8Array.of(224, 0, 0, 18);
  const enc = encodeAdvert(
    { version: 3, family: 4, vrid: 51, priority: opts.priority ?? 100, interval: 10, addresses: ['192.0.2.100'], authType: 0, authData: new Uint8Array(0) },
    { src, dst },
  );
  assert.ok(enc.ok);
  const ip = new Uint8Array(20 + enc.bytes.length);
  ip[0] = 0x45;
  ip[2] = ip.length >> 8;
  ip[3] = ip.length & 0xff;
  ip[4] = ((opts.id ?? 1) >> 8) & 0xff;
  ip[5] = (opts.id ?? 1) & 0xff;
  ip[8] = opts.ttl ?? 255;
  ip[9] = 112;
  ip.set(src, 12);
  ip.set(dst, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (ip[i]! << 8) | ip[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const ck = ~sum & 0xffff;
  ip[10] = ck >> 8;
  ip[11] = ck & 0xff;
  ip.set(enc.bytes, 20);
  return ip;
}

function packet(data: Uint8Array): VrrpPacket {
  return { family: 4, data, ifindex: 3, src: data.slice(12, 16), dst: data.slice(16, 20), ttlOrHopLimit: data[8]!, truncated: false };
}

function memoOf(data: Uint8Array): RxMemo {
  const p = packet(data);
  const dec = decodeIPv4(p.data, { requireTtl255: true, checksum: 'either' });
  assert.ok(dec.ok);
  return { data: p.data.slice(), src: p.src.slice(), dst: p.dst.slice(), ttl: p.ttlOrHopLimit, multicast: true, dec: dec as Decoded };
}

describe('receive memo: only a packet that decodes the same way reuses the decode', () => {
  const memo = memoOf(datagram({ id: 1 }));

  test('the next advert of the same master (new IP identification and header checksum) is the same', () => {
    assert.equal(sameRx(memo, packet(datagram({ id: 2 })), true), true);
    assert.equal(sameRx(memo, packet(datagram({ id: 0xbeef })), true), true);
  });

  test('a different priority, TTL, source or delivery is not', () => {
    assert.equal(sameRx(memo, packet(datagram({ priority: 0 })), true), false, 'priority 0 must be decoded');
    assert.equal(sameRx(memo, packet(datagram({ ttl: 254 })), true), false, 'TTL 254 must be decoded (and rejected)');
    assert.equal(sameRx(memo, packet(datagram({ src: [192, 0, 2, 3] })), true), false, 'another sender');
    assert.equal(sameRx(memo, packet(datagram()), false), false, 'unicast delivery of the same bytes');
  });

  test('one flipped bit anywhere but the identification and header checksum is not', () => {
    const base = datagram({ id: 1 });
    for (let i = 0; i < base.length; i++) {
      if (i === 4 || i === 5 || i === 10 || i === 11) continue;
      const d = base.slice();
      d[i]! ^= 0x01;
      const p = packet(d);
      p.src = base.slice(12, 16); // the metadata of the original, so only the byte differs
      p.dst = base.slice(16, 20);
      p.ttlOrHopLimit = base[8]!;
      assert.equal(sameRx(memo, p, true), false, `byte ${i}`);
    }
    assert.equal(sameRx(memo, packet(base.subarray(0, base.length - 4)), true), false, 'shorter');
  });
});

// --- Master_Down_Timer not recreated per advert --------------------------------------------------------------

function fakeHost(): Host & { transitions: string[] } {
  const t0 = performance.now();
  const transitions: string[] = [];
  return {
    transitions,
    log: new Logger({ sink: { write: () => undefined } }),
    nowUs: () => (performance.now() - t0) * 1000,
    sendAdvert: () => undefined,
    addVips: () => undefined,
    removeVips: () => undefined,
    announce: async () => undefined,
    drainSockets: () => undefined,
    onTransition: (_i, info) => void transitions.push(info.to),
    onAdvert: () => undefined,
    mayBecomeMaster: () => true,
    onLowerPriorityAdvert: () => undefined,
    trackerStatus: () => [],
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a backup hearing adverts stays backup, and takes over one Master_Down_Interval after the last one', async () => {
  const conf = parseConfigText('vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n advert_int 0.05\n version 3\n virtual_ipaddress {\n 192.0.2.100\n }\n}\n');
  assert.ok(conf.usable);
  const host = fakeHost();
  const inst = new Instance(conf.config.instances[0]!, host);
  const src = Uint8Array.of(192, 0, 2, 10);
  const a: Attachment = { ifname: 'eth0', ifindex: 2, txIfindex: 2, rxIfindex: 2, vmacName: null, vmacIfindex: null, mac: new Uint8Array(6), src, srcText: '192.0.2.10' };
  inst.attach(a);
  inst.startup();
  try {
    assert.equal(inst.state, 'BACKUP');
    // Master_Down_Interval = 3 x 50 ms + skew (~30 ms) = ~180 ms. Adverts every 40 ms for 600 ms: the deadline moves
    // 15 times, each time later than the pending Node timer; a timer that fired on its first deadline would take over.
    const adv = { version: 3 as const, family: 4 as const, vrid: 51, priority: 150, interval: 5, addresses: ['192.0.2.100'], authType: 0, authData: new Uint8Array(0) };
    const peer = Uint8Array.of(192, 0, 2, 20);
    for (let i = 0; i < 15; i++) {
      inst.onAdvert(adv, peer, '192.0.2.20', 'pseudo');
      await sleep(40);
    }
    assert.deepEqual(host.transitions, ['BACKUP'], 'no takeover while the master advertises');
    const last = performance.now();
    inst.onAdvert(adv, peer, '192.0.2.20', 'pseudo');
    const deadline = Date.now() + 3_000;
    while ((inst.state as string) !== 'MASTER' && Date.now() < deadline) await sleep(2);
    const waited = performance.now() - last;
    assert.equal(inst.state, 'MASTER');
    assert.ok(waited >= 178, `took over ${waited.toFixed(1)} ms after the last advert, before Master_Down_Interval (~180 ms)`);
  } finally {
    inst.shutdown();
  }
});

// --- Adver_Timer alignment (core) ----------------------------------------------------------------------------

describe('§6.4.3 Adver_Timer with advertAlignUs (vipd: masters send in groups)', () => {
  const q = 10 * 1000; // a tenth of 100 ms
  const c = cfg3({ advertIntervalCs: 10, advertAlignUs: q });

  test('the deadline is on the grid, never before one interval, at most one grid step after', () => {
    for (const now of [0, 1, 12_345, 99_999, 100_000, 7_654_321]) {
      let s = master(c);
      const r = fire(s, now);
      s = r.state;
      const t = onlyTimer(r.actions);
      assert.equal(t.at % q, 0, `at ${t.at} on the ${q} µs grid`);
      assert.ok(t.at >= now + 10 * CS && t.at < now + 10 * CS + q, `now ${now}: at ${t.at}`);
    }
  });

  test('on the grid, the next deadline is exactly one interval later (no drift)', () => {
    let s = master(c);
    let at = fire(s, 3_333).state.timer!.at;
    s = fire(s, 3_333).state;
    for (let i = 0; i < 50; i++) {
      const r = fire(s, at);
      assert.equal(r.state.timer!.at, at + 10 * CS);
      at = r.state.timer!.at;
      s = r.state;
    }
  });

  test('becoming master (§6.4.2) and a priority-0 advert in master (§6.4.3) align too', () => {
    const b = backup(c, 777);
    const r = fire(b, 400_123);
    assert.equal(r.state.state, 'master');
    assert.equal(onlyTimer(r.actions).at % q, 0);
    const r2 = step(r.state, { type: 'advert', src: Uint8Array.of(192, 0, 2, 9), srcText: '192.0.2.9', priority: 0, intervalCs: 10 }, 450_001);
    assert.equal(onlyTimer(r2.actions).at, 560_000);
  });

  test('without advertAlignUs the Adver_Timer is exactly one interval (RFC behaviour, unchanged)', () => {
    const r = fire(master(cfg3({ advertIntervalCs: 10 })), 12_345);
    assert.equal(onlyTimer(r.actions).at, 12_345 + 10 * CS);
  });
});
