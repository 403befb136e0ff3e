import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeNaFrame, parseNa, icmpv6Checksum, NA_FRAME_LEN } from '../../src/wire/ndp.js';
import { parseEthernet, formatMac, ETHERTYPE_IPV6 } from '../../src/wire/ethernet.js';
import { parseIPv6, formatIPv6 } from '../../src/wire/inet.js';

const mac = Uint8Array.of(0, 0, 0x5e, 0, 2, 9);
const src = parseIPv6('fe80::1')!;
const target = parseIPv6('2001:db8::100')!;

test('unsolicited NA frame', () => {
  const f = encodeNaFrame({ mac, src, target });
  assert.equal(f.length, NA_FRAME_LEN);
  const eth = parseEthernet(f)!;
  assert.equal(eth.ethertype, ETHERTYPE_IPV6);
  assert.equal(formatMac(eth.dst), '33:33:00:00:00:01');
  assert.equal(formatMac(eth.src), '00:00:5e:00:02:09');
  const ip6 = eth.payload;
  assert.equal(ip6[0]! >> 4, 6);
  assert.equal((ip6[4]! << 8) | ip6[5]!, 32, 'payload length');
  assert.equal(ip6[6], 58, 'next header ICMPv6');
  const icmp = ip6.subarray(40);
  assert.equal(icmp[0], 136);
  assert.equal(icmp[1], 0);
  assert.equal(icmp[4], 0xa0, 'R and O, not S');
  assert.deepEqual(icmp.subarray(24, 32), Uint8Array.of(2, 1, ...mac), 'target link-layer address option');
  const na = parseNa(ip6)!;
  assert.equal(na.hopLimit, 255);
  assert.equal(formatIPv6(na.dst), 'ff02::1');
  assert.equal(formatIPv6(na.target), '2001:db8::100');
  assert.equal(na.checksumOk, true);
  assert.equal(na.router && na.override && !na.solicited, true);
});

test('NA checksum: a known vector and corruption detection', () => {
  // Sum computed by hand for an all-zero ICMPv6 body of 4 bytes between :: and :: : ~(len 4 + nh 58) = 0xffc1.
  assert.equal(icmpv6Checksum(new Uint8Array(16), new Uint8Array(16), new Uint8Array(4)), 0xffff - (4 + 58));
  const f = encodeNaFrame({ mac, src, target, router: false });
  const ip6 = parseEthernet(f)!.payload;
  assert.equal(parseNa(ip6)!.router, false);
  const bad = ip6.slice();
  bad[40 + 10] = bad[40 + 10]! ^ 1;
  assert.equal(parseNa(bad)!.checksumOk, false);
});

test('parseNa rejects non-NA and truncated packets', () => {
  const ip6 = parseEthernet(encodeNaFrame({ mac, src, target }))!.payload;
  assert.equal(parseNa(ip6.subarray(0, 50)), null);
  const ns = ip6.slice();
  ns[40] = 135;
  assert.equal(parseNa(ns), null);
  const v4 = ip6.slice();
  v4[0] = 0x45;
  assert.equal(parseNa(v4), null);
});
