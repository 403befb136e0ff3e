import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeGarpFrame, parseArp, isGratuitous, encodeArp, ARPOP_REPLY, GARP_FRAME_LEN } from '../../src/wire/arp.js';
import { parseEthernet, formatMac, parseMac, vrrpVirtualMac, ipv6MulticastMac, ETHERTYPE_ARP } from '../../src/wire/ethernet.js';

test('gratuitous ARP frame bytes', () => {
  const f = encodeGarpFrame(vrrpVirtualMac(4, 7), Uint8Array.of(192, 0, 2, 100));
  assert.equal(f.length, GARP_FRAME_LEN);
  assert.equal(
    Buffer.from(f).toString('hex'),
    'ffffffffffff' + '00005e000107' + '0806' + // Ethernet
      '0001' + '0800' + '06' + '04' + '0001' + // ARP header, request
      '00005e000107' + 'c0000264' + 'ffffffffffff' + 'c0000264',
  );
  const eth = parseEthernet(f)!;
  assert.equal(eth.ethertype, ETHERTYPE_ARP);
  const arp = parseArp(eth.payload)!;
  assert.equal(isGratuitous(arp), true);
});

test('ARP parse rejects other hardware/protocol types and short input', () => {
  const p = encodeArp({ op: ARPOP_REPLY, senderMac: new Uint8Array(6), senderIp: Uint8Array.of(1, 2, 3, 4), targetMac: new Uint8Array(6), targetIp: Uint8Array.of(1, 2, 3, 5) });
  assert.equal(parseArp(p)!.op, ARPOP_REPLY);
  assert.equal(isGratuitous(parseArp(p)!), false);
  assert.equal(parseArp(p.subarray(0, 27)), null);
  const q = p.slice();
  q[1] = 6;
  assert.equal(parseArp(q), null);
  assert.equal(parseEthernet(new Uint8Array(13)), null);
});

test('MAC helpers', () => {
  assert.equal(formatMac(vrrpVirtualMac(6, 255)), '00:00:5e:00:02:ff');
  assert.deepEqual(parseMac('00:00:5E:00:01:07'), vrrpVirtualMac(4, 7));
  assert.deepEqual(parseMac('00-00-5e-00-01-07'), vrrpVirtualMac(4, 7));
  for (const bad of ['00:00:5e:00:01', '00:00:5e:00:01:07:08', 'zz:00:5e:00:01:07', '']) assert.equal(parseMac(bad), null, bad);
  assert.equal(formatMac(ipv6MulticastMac(Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12))), '33:33:00:00:00:12');
});
