/**
 * VRRP adverts across a veth pair between two namespaces: v2 and v3 over IPv4, v3 over IPv6, with
 * TTL / hop limit and ifindex as received, a TTL-64 advert rejected by the codec, one socket serving two
 * interfaces, and unicast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, netnsUnavailableReason, uniqueNsName, waitFor } from '../helpers/netns.js';
import { Agent } from './agent-client.js';

const skip = netnsUnavailableReason();

interface Rx {
  ifindex: number;
  src: string;
  dst: string;
  ttl: number;
  len: number;
  decoded: { ok: boolean; reason?: string; advert?: { version: number; vrid: number; priority: number; addresses: string[] } };
}

async function collect(agent: Agent, id: string, n: number, timeoutMs = 3000): Promise<Rx[]> {
  const got: Rx[] = [];
  await waitFor(async () => {
    got.push(...(await agent.call<Rx[]>('vrrpReceived', { id })));
    return got.length >= n;
  }, timeoutMs);
  return got;
}

test('VRRP sockets across a veth pair', { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  const lab = new Lab();
  try {
    const A = lab.addNs(uniqueNsName('vsa'));
    const B = lab.addNs(uniqueNsName('vsb'));
    lab.veth(A, 'eth0', B, 'eth0');
    lab.veth(A, 'eth1', B, 'eth1');
    lab.ip(A, 'addr add 192.0.2.1/24 dev eth0');
    lab.ip(B, 'addr add 192.0.2.2/24 dev eth0');
    lab.ip(A, 'addr add 198.51.100.1/24 dev eth1');
    lab.ip(B, 'addr add 198.51.100.2/24 dev eth1');
    for (const ns of [A, B]) {
      for (const i of ['eth0', 'eth1']) lab.ns(ns, 'sysctl', '-qw', `net.ipv6.conf.${i}.addr_gen_mode=1`);
    }
    lab.ip(A, 'addr add fe80::a/64 dev eth0 nodad');
    lab.ip(B, 'addr add fe80::b/64 dev eth0 nodad');
    lab.ip(A, 'addr add 2001:db8::a/64 dev eth0 nodad');
    lab.ip(B, 'addr add 2001:db8::b/64 dev eth0 nodad');
    const a = await Agent.start(lab, A);
    const b = await Agent.start(lab, B);
    const bEth0 = await b.call<number>('ifindex', { name: 'eth0' });
    const bEth1 = await b.call<number>('ifindex', { name: 'eth1' });

    await a.call('vrrpOpen', { id: 'v4', family: 4 });
    await a.call('vrrpOpen', { id: 'v6', family: 6 });
    await b.call('vrrpOpen', { id: 'v4', family: 4 });
    await b.call('vrrpOpen', { id: 'v6', family: 6 });
    await b.call('vrrpJoin', { id: 'v4', ifname: 'eth0' });
    await b.call('vrrpJoin', { id: 'v6', ifname: 'eth0' });

    await t.test('VRRPv2 over IPv4: TTL 255, ifindex, source and group', async () => {
      await a.call('vrrpSend', { id: 'v4', version: 2, vrid: 7, priority: 150, addresses: ['192.0.2.100'], ifname: 'eth0', src: '192.0.2.1' });
      const [rx] = await collect(b, 'v4', 1);
      assert.ok(rx, 'advert received');
      assert.equal(rx.ttl, 255);
      assert.equal(rx.ifindex, bEth0);
      assert.equal(rx.src, '192.0.2.1');
      assert.equal(rx.dst, '224.0.0.18');
      assert.equal(rx.len, 20 + 20, 'whole IP datagram: 20-byte header + 20-byte v2 message');
      assert.deepEqual(rx.decoded.ok, true);
      assert.equal(rx.decoded.advert!.version, 2);
      assert.equal(rx.decoded.advert!.vrid, 7);
      assert.equal(rx.decoded.advert!.priority, 150);
      assert.deepEqual(rx.decoded.advert!.addresses, ['192.0.2.100']);
    });

    await t.test('VRRPv3 over IPv4', async () => {
      await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 8, priority: 200, addresses: ['192.0.2.101', '192.0.2.102'], ifname: 'eth0', src: '192.0.2.1' });
      const [rx] = await collect(b, 'v4', 1);
      assert.ok(rx);
      assert.equal(rx.ttl, 255);
      assert.equal(rx.ifindex, bEth0);
      assert.equal(rx.decoded.ok, true, JSON.stringify(rx.decoded));
      assert.equal(rx.decoded.advert!.version, 3);
      assert.deepEqual(rx.decoded.advert!.addresses, ['192.0.2.101', '192.0.2.102']);
    });

    await t.test('VRRPv3 over IPv6: hop limit 255, link-local source, ff02::12, kernel checksum', async () => {
      await a.call('vrrpSend', { id: 'v6', version: 3, vrid: 9, priority: 100, addresses: ['fe80::1', '2001:db8::100'], ifname: 'eth0', src: 'fe80::a' });
      const [rx] = await collect(b, 'v6', 1);
      assert.ok(rx);
      assert.equal(rx.ttl, 255);
      assert.equal(rx.ifindex, bEth0);
      assert.equal(rx.src, 'fe80::a');
      assert.equal(rx.dst, 'ff02::12');
      assert.equal(rx.len, 8 + 32, 'IPv6: the VRRP message only');
      assert.equal(rx.decoded.ok, true, JSON.stringify(rx.decoded));
      assert.deepEqual(rx.decoded.advert!.addresses, ['fe80::1', '2001:db8::100']);
    });

    await t.test('an advert sent with TTL 64 arrives and is rejected with reason ttl', async () => {
      await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 10, addresses: ['192.0.2.100'], ifname: 'eth0', src: '192.0.2.1', ttl: 64 });
      await a.call('vrrpSend', { id: 'v6', version: 3, vrid: 10, addresses: ['2001:db8::100'], ifname: 'eth0', src: 'fe80::a', ttl: 64 });
      const [r4] = await collect(b, 'v4', 1);
      const [r6] = await collect(b, 'v6', 1);
      assert.equal(r4?.ttl, 64);
      assert.equal(r4?.decoded.ok, false);
      assert.equal(r4?.decoded.reason, 'ttl');
      assert.equal(r6?.ttl, 64);
      assert.equal(r6?.decoded.reason, 'ttl');
    });

    await t.test('one socket serves two interfaces and reports each ifindex', async () => {
      await b.call('vrrpJoin', { id: 'v4', ifname: 'eth1' });
      await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 11, addresses: ['192.0.2.100'], ifname: 'eth0', src: '192.0.2.1' });
      await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 12, addresses: ['198.51.100.100'], ifname: 'eth1', src: '198.51.100.1' });
      const rx = await collect(b, 'v4', 2);
      assert.equal(rx.length, 2);
      const byVrid = new Map(rx.map((p) => [p.decoded.advert?.vrid, p]));
      assert.equal(byVrid.get(11)?.ifindex, bEth0);
      assert.equal(byVrid.get(12)?.ifindex, bEth1);
      assert.equal(byVrid.get(12)?.src, '198.51.100.1');
    });

    await t.test('unicast adverts to a peer, both families', async () => {
      await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 13, addresses: ['192.0.2.100'], ifname: 'eth0', src: '192.0.2.1', dst: '192.0.2.2' });
      await a.call('vrrpSend', { id: 'v6', version: 3, vrid: 13, addresses: ['2001:db8::100'], ifname: 'eth0', src: '2001:db8::a', dst: '2001:db8::b' });
      const [r4] = await collect(b, 'v4', 1);
      const [r6] = await collect(b, 'v6', 1);
      assert.equal(r4?.dst, '192.0.2.2');
      assert.equal(r4?.ttl, 255);
      assert.equal(r4?.decoded.ok, true, JSON.stringify(r4?.decoded));
      assert.equal(r6?.dst, '2001:db8::b');
      assert.equal(r6?.src, '2001:db8::a');
      assert.equal(r6?.ifindex, bEth0);
      assert.equal(r6?.decoded.ok, true, JSON.stringify(r6?.decoded));
    });

    await t.test('drain() reads queued adverts synchronously while the event loop is blocked', async () => {
      await b.call('vrrpReceived', { id: 'v4' });
      const pending = b.call<{ drained: number; delivered: number }>('vrrpBusyThenDrain', { id: 'v4', ms: 400 });
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 5; i++) {
        await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 20 + i, addresses: ['192.0.2.100'], ifname: 'eth0', src: '192.0.2.1' });
      }
      const r = await pending;
      assert.equal(r.drained, 5);
      assert.equal(r.delivered, 5);
      assert.equal((await b.call<Rx[]>('vrrpReceived', { id: 'v4' })).length, 5);
    });

    await t.test('IPv4: a socket that never joined does not get the group joined by another socket', async () => {
      // IP_MULTICAST_ALL=0 at work. (IPv6 raw sockets have no such filter unless bound: see docs/linux-io.md.)
      await b.call('vrrpOpen', { id: 'idle4', family: 4 });
      await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 14, addresses: ['192.0.2.100'], ifname: 'eth0', src: '192.0.2.1' });
      const [rx] = await collect(b, 'v4', 1);
      assert.ok(rx, 'the joined socket got it');
      assert.deepEqual(await b.call('vrrpReceived', { id: 'idle4' }), []);
    });
  } finally {
    await lab.destroy();
  }
});
