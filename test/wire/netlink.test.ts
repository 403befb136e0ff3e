import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NlWriter,
  encodeAddr,
  encodeNewMacvlan,
  encodeSetAddrGenMode,
  parseMessages,
  parseAttrs,
  parseAddr,
  parseLink,
  parseError,
  NLMSG_ERROR,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  RTM_NEWADDR,
  RTM_NEWLINK,
  NLM_F_REQUEST,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  IFA_F_NODAD,
  IFLA_LINKINFO,
  IFLA_INFO_KIND,
  IFLA_INFO_DATA,
  IFLA_AF_SPEC,
  MACVLAN_MODE_PRIVATE,
} from '../../src/wire/netlink.js';

test('RTM_NEWADDR for IPv4: exact bytes', () => {
  const b = encodeAddr(42, 'add', { family: 4, ifindex: 3, address: Uint8Array.of(192, 0, 2, 10), prefixlen: 24, label: 'eth0:v' });
  const hex = Buffer.from(b).toString('hex');
  assert.equal(
    hex,
    // nlmsghdr: len 52, type 20, flags REQUEST|ACK|EXCL|CREATE (0x605), seq 42, pid 0
    '34000000' + '1400' + '0506' + '2a000000' + '00000000' +
      // ifaddrmsg: AF_INET, /24, flags 0, scope 0, index 3
      '02180000' + '03000000' +
      // IFA_LOCAL, IFA_ADDRESS, IFA_LABEL "eth0:v\0" padded
      '08000200c000020a' + '08000100c000020a' + '0b000300' + '657468303a760000',
  );
  const [m] = parseMessages(b);
  assert.equal(m!.type, RTM_NEWADDR);
  assert.equal(m!.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const a = parseAddr(m!)!;
  assert.equal(a.family, 4);
  assert.equal(a.ifindex, 3);
  assert.equal(a.prefixlen, 24);
  assert.equal(a.label, 'eth0:v');
  assert.deepEqual(a.address, Uint8Array.of(192, 0, 2, 10));
});

test('RTM_NEWADDR for IPv6 carries nodad; flags above 8 bits go in IFA_FLAGS', () => {
  const addr = new Uint8Array(16);
  addr[0] = 0x20;
  addr[15] = 1;
  const [m] = parseMessages(encodeAddr(1, 'add', { family: 6, ifindex: 2, address: addr, prefixlen: 64 }));
  const a = parseAddr(m!)!;
  assert.equal(a.flags & IFA_F_NODAD, IFA_F_NODAD);
  const [m2] = parseMessages(encodeAddr(1, 'add', { family: 6, ifindex: 2, address: addr, prefixlen: 64, flags: 0x200 }));
  assert.equal(parseAddr(m2!)!.flags, 0x200 | IFA_F_NODAD);
});

test('macvlan creation nests LINKINFO / INFO_DATA / MACVLAN_MODE', () => {
  const [m] = parseMessages(encodeNewMacvlan(5, { name: 'vrrp.7', parentIndex: 3, mac: Uint8Array.of(0, 0, 0x5e, 0, 1, 7) }));
  assert.equal(m!.type, RTM_NEWLINK);
  const l = parseLink(m!)!;
  assert.equal(l.name, 'vrrp.7');
  assert.equal(l.parentIndex, 3);
  assert.equal(l.kind, 'macvlan');
  assert.equal(l.macvlanMode, MACVLAN_MODE_PRIVATE);
  assert.deepEqual(l.mac, Uint8Array.of(0, 0, 0x5e, 0, 1, 7));
  const li = parseAttrs(m!.body, 16).get(IFLA_LINKINFO)!;
  assert.ok(parseAttrs(li, 0).has(IFLA_INFO_KIND));
  assert.ok(parseAttrs(li, 0).has(IFLA_INFO_DATA));
  const [g] = parseMessages(encodeSetAddrGenMode(6, 9, 1));
  assert.equal(parseLink(g!)!.addrGenMode, 1);
  assert.ok(parseAttrs(g!.body, 16).has(IFLA_AF_SPEC));
});

test('NLMSG_ERROR with extended ack message', () => {
  const w = new NlWriter().header(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9);
  w.i32(-17); // -EEXIST
  w.u32(16).u16(20).u16(5).u32(9).u32(0); // the original header (capped)
  w.attrStr(1, 'ipv6: address already assigned');
  const [m] = parseMessages(w.finish());
  assert.deepEqual(parseError(m!), { errno: 17, message: 'ipv6: address already assigned' });
  const ack = new NlWriter().header(NLMSG_ERROR, NLM_F_CAPPED, 1).i32(0).u32(16).u16(0).u16(0).u32(1).u32(0);
  assert.deepEqual(parseError(parseMessages(ack.finish())[0]!), { errno: 0 });
});

test('several messages in one datagram; garbage never throws', () => {
  const a = encodeAddr(1, 'del', { family: 4, ifindex: 1, address: Uint8Array.of(192, 0, 2, 1), prefixlen: 32 });
  const b = encodeAddr(2, 'del', { family: 4, ifindex: 1, address: Uint8Array.of(192, 0, 2, 2), prefixlen: 32 });
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  assert.deepEqual(parseMessages(both).map((m) => m.seq), [1, 2]);
  assert.deepEqual(parseMessages(both, a.length + 10).map((m) => m.seq), [1], 'a truncated trailing message is dropped');
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    const len = i % 200;
    const junk = new Uint8Array(len);
    for (let j = 0; j < len; j++) junk[j] = (x = (x * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    if (len >= 4) junk.set(Uint8Array.of(len, 0, 0, 0), 0);
    for (const m of parseMessages(junk)) {
      parseLink(m);
      parseAddr(m);
      parseError(m);
    }
    const fake = { type: 16, flags: 0, seq: 0, pid: 0, body: junk };
    parseLink(fake);
    parseAddr(fake);
    parseError({ ...fake, flags: NLM_F_ACK_TLVS });
  }
});
