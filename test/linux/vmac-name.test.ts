/** Pure parts of the VMAC layer: names and link-locals (no root needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseVmacName, eui64LinkLocal, vmacName } from '../../src/linux/vmac.js';
import { formatIPv6 } from '../../src/wire/inet.js';
import { encodeNewMacvlan, parseMessages, parseLink } from '../../src/wire/netlink.js';

test('VMAC names as keepalived chooses them', () => {
  assert.equal(vmacName(7), 'vrrp.7');
  assert.equal(vmacName(255, 'averyverylongprefix'), 'averyverylongpr');
  assert.equal(chooseVmacName(7, 4, new Set()), 'vrrp.7');
  assert.equal(chooseVmacName(7, 4, new Set(['vrrp.7'])), 'vrrp1.7');
  assert.equal(chooseVmacName(7, 4, new Set(['vrrp.7', 'vrrp1.7'])), 'vrrp2.7');
  assert.equal(chooseVmacName(7, 6, new Set(['vrrp.7'])), 'vrrp6.7');
  assert.equal(chooseVmacName(7, 6, new Set(['vrrp.7', 'vrrp6.7'])), 'vrrp1.7');
});

test('EUI-64 link-local of a MAC', () => {
  assert.equal(formatIPv6(eui64LinkLocal(Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56))), 'fe80::5054:ff:fe12:3456');
});

test("macvlan creation keeps the parent's group and VRF master", () => {
  const [m] = parseMessages(encodeNewMacvlan(1, { name: 'vrrp.7', parentIndex: 2, mac: new Uint8Array(6), group: 5, master: 9 }));
  const l = parseLink(m!)!;
  assert.equal(l.group, 5);
  assert.equal(l.master, 9);
});
