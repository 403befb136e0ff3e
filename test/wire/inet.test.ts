import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalIP,
  compareAddr,
  formatIPv6,
  isIPv4LinkLocal,
  isIPv6LinkLocal,
  isMulticast,
  parseIP,
  parseIPv4,
  parseIPv6,
  parsePrefix,
  sameAddr,
} from '../../src/wire/inet.js';

test('IPv4 parse and format', () => {
  assert.deepEqual(parseIPv4('192.0.2.1'), Uint8Array.of(192, 0, 2, 1));
  assert.deepEqual(parseIPv4('0.0.0.0'), new Uint8Array(4));
  for (const bad of ['192.0.2', '192.0.2.256', '1.2.3.4.5', '', 'a.b.c.d', '1..2.3', ' 1.2.3.4', '1.2.3.-4', '1234.1.1.1']) {
    assert.equal(parseIPv4(bad), null, bad);
  }
  assert.equal(canonicalIP('198.51.100.7'), '198.51.100.7');
});

test('IPv6 canonical text per RFC 5952', () => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero word is not compressed
    ['2001:0db8:0000:0000:0001:0000:0000:0000', '2001:db8:0:0:1::'], // the longest run wins
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['ff02::12', 'ff02::12'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::', '1::'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalIP(input), want, input);
  for (const bad of [':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '1:2:3:4:5:6:7', '::ffff:1.2.3', '']) {
    assert.equal(parseIPv6(bad), null, bad);
  }
  assert.equal(formatIPv6(parseIPv6('2001:db8::1')!), '2001:db8::1');
});

test('link-local, multicast, prefixes, comparison', () => {
  assert.equal(isIPv6LinkLocal(parseIP('fe80::1')!.bytes), true);
  assert.equal(isIPv6LinkLocal(parseIP('febf::1')!.bytes), true);
  assert.equal(isIPv6LinkLocal(parseIP('fec0::1')!.bytes), false);
  assert.equal(isIPv4LinkLocal(parseIP('169.254.1.1')!.bytes), true);
  assert.equal(isIPv4LinkLocal(parseIP('192.0.2.1')!.bytes), false);
  assert.equal(isMulticast(parseIP('224.0.0.18')!.bytes), true);
  assert.equal(isMulticast(parseIP('ff02::12')!.bytes), true);
  assert.equal(isMulticast(parseIP('192.0.2.1')!.bytes), false);
  assert.deepEqual(parsePrefix('192.0.2.10/24'), { family: 4, bytes: Uint8Array.of(192, 0, 2, 10), prefixlen: 24 });
  assert.equal(parsePrefix('2001:db8::1')!.prefixlen, 128);
  assert.equal(parsePrefix('192.0.2.1/33'), null);
  assert.equal(parsePrefix('192.0.2.1/x'), null);
  const a = parseIP('192.0.2.1')!.bytes;
  const b = parseIP('192.0.2.10')!.bytes;
  assert.ok(compareAddr(a, b) < 0);
  assert.ok(compareAddr(b, a) > 0);
  assert.equal(compareAddr(a, Uint8Array.from(a)), 0);
  assert.ok(compareAddr(parseIP('10.0.0.1')!.bytes, parseIP('9.255.255.255')!.bytes) > 0, 'unsigned, bytewise');
  assert.equal(sameAddr(a, Uint8Array.from(a)), true);
  assert.equal(sameAddr(a, b), false);
});

test('parsers never throw on junk', () => {
  for (let i = 0; i < 2000; i++) {
    const len = (i * 7) % 50;
    let s = '';
    for (let j = 0; j < len; j++) s += ':.0123456789abcdefg%/'[(i * 31 + j * 17) % 21];
    parseIP(s);
    parsePrefix(s);
  }
});
