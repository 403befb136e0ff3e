/**
 * Gratuitous ARP and unsolicited NA sent out of a VMAC, captured on the wire in the peer namespace with
 * an AF_PACKET socket, every field checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lab, netnsUnavailableReason, uniqueNsName, waitFor } from '../helpers/netns.js';
import { Agent, AgentError } from './agent-client.js';
import { parseEthernet, formatMac, ETHERTYPE_ARP, ETHERTYPE_IPV6 } from '../../src/wire/ethernet.js';
import { parseArp, ARPOP_REQUEST } from '../../src/wire/arp.js';
import { parseNa } from '../../src/wire/ndp.js';
import { formatIP } from '../../src/wire/inet.js';

const skip = netnsUnavailableReason();

test('GARP and unsolicited NA on the wire', { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  const lab = new Lab();
  try {
    const A = lab.addNs(uniqueNsName('gaa'));
    const B = lab.addNs(uniqueNsName('gab'));
    lab.veth(A, 'eth0', B, 'eth0');
    const a = await Agent.start(lab, A);
    const b = await Agent.start(lab, B);
    await a.call('vmacEnsure', { parent: 'eth0', vrid: 7, family: 4 });
    const v6 = await a.call<{ linkLocal: string }>('vmacEnsure', { parent: 'eth0', vrid: 9, family: 6 });
    await b.call('captureStart', { id: 'c', ifname: 'eth0' });

    const frames = async (pred: (f: Uint8Array) => boolean): Promise<Uint8Array[]> => {
      const got: Uint8Array[] = [];
      await waitFor(async () => {
        for (const h of await b.call<string[]>('captureRead', { id: 'c' })) {
          const f = new Uint8Array(Buffer.from(h, 'hex'));
          if (pred(f)) got.push(f);
        }
        return got.length > 0;
      }, 3000);
      return got;
    };

    await t.test('GARP: broadcast ARP request, sender = target = VIP, sender MAC = VMAC', async () => {
      await a.call('garp', { ifname: 'vrrp.7', mac: '00:00:5e:00:01:07', ip: '192.0.2.100' });
      const [f] = await frames((x) => parseEthernet(x)?.ethertype === ETHERTYPE_ARP);
      assert.ok(f, 'GARP captured');
      assert.equal(f.length, 42);
      const eth = parseEthernet(f)!;
      assert.equal(formatMac(eth.dst), 'ff:ff:ff:ff:ff:ff');
      assert.equal(formatMac(eth.src), '00:00:5e:00:01:07');
      const arp = parseArp(eth.payload)!;
      assert.equal(arp.op, ARPOP_REQUEST);
      assert.equal(formatMac(arp.senderMac), '00:00:5e:00:01:07');
      assert.equal(formatIP(4, arp.senderIp), '192.0.2.100');
      assert.equal(formatIP(4, arp.targetIp), '192.0.2.100');
      assert.equal(formatMac(arp.targetMac), 'ff:ff:ff:ff:ff:ff');
    });

    await t.test('NA: to ff02::1, hop limit 255, R and O set, S clear, TLLA = VMAC, checksum valid', async () => {
      assert.match(v6.linkLocal, /^fe80::/);
      await a.call('na', { ifname: 'vrrp.9', mac: '00:00:5e:00:02:09', src: v6.linkLocal, target: '2001:db8::100' });
      const [f] = await frames((x) => {
        const e = parseEthernet(x);
        return e?.ethertype === ETHERTYPE_IPV6 && parseNa(e.payload) !== null;
      });
      assert.ok(f, 'NA captured');
      const eth = parseEthernet(f)!;
      assert.equal(formatMac(eth.dst), '33:33:00:00:00:01');
      assert.equal(formatMac(eth.src), '00:00:5e:00:02:09');
      const na = parseNa(eth.payload)!;
      assert.equal(na.hopLimit, 255);
      assert.equal(formatIP(6, na.src), v6.linkLocal);
      assert.equal(formatIP(6, na.dst), 'ff02::1');
      assert.equal(formatIP(6, na.target), '2001:db8::100');
      assert.equal(na.router, true);
      assert.equal(na.override, true);
      assert.equal(na.solicited, false);
      assert.equal(formatMac(na.targetMac!), '00:00:5e:00:02:09');
      assert.equal(na.checksumOk, true);
    });

    await t.test("the peer's kernel accepts both: existing neighbour entries move to the VMAC", async () => {
      lab.ip(B, 'addr add 192.0.2.2/24 dev eth0');
      lab.ip(B, 'addr add 2001:db8::2/64 dev eth0 nodad');
      lab.ip(B, 'neigh replace 192.0.2.100 lladdr 02:00:00:00:00:01 dev eth0 nud stale');
      lab.ip(B, 'neigh replace 2001:db8::100 lladdr 02:00:00:00:00:01 dev eth0 nud stale');
      await a.call('garp', { ifname: 'vrrp.7', mac: '00:00:5e:00:01:07', ip: '192.0.2.100' });
      await a.call('na', { ifname: 'vrrp.9', mac: '00:00:5e:00:02:09', src: v6.linkLocal, target: '2001:db8::100' });
      const ok = await waitFor(
        () =>
          /lladdr 00:00:5e:00:01:07/.test(lab.ip(B, 'neigh show 192.0.2.100 dev eth0')) &&
          /lladdr 00:00:5e:00:02:09/.test(lab.ip(B, 'neigh show 2001:db8::100 dev eth0')),
        3000,
      );
      assert.ok(ok, `neighbours: ${lab.ip(B, 'neigh show dev eth0')}`);
    });

    await t.test('adverts sent out of the VMAC carry the VMAC as source MAC (IPv4 and IPv6)', async () => {
      lab.ip(A, 'addr add 192.0.2.1/24 dev eth0');
      await a.call('vrrpOpen', { id: 'v4', family: 4 });
      await a.call('vrrpOpen', { id: 'v6', family: 6 });
      await b.call('captureRead', { id: 'c' });
      await a.call('vrrpSend', { id: 'v4', version: 3, vrid: 7, addresses: ['192.0.2.100'], ifname: 'vrrp.7', src: '192.0.2.1' });
      const [f4] = await frames((x) => x[12] === 0x08 && x[13] === 0x00 && x[14 + 9] === 112);
      assert.ok(f4, 'IPv4 advert captured');
      assert.equal(formatMac(f4.subarray(6, 12)), '00:00:5e:00:01:07');
      assert.equal(formatMac(f4.subarray(0, 6)), '01:00:5e:00:00:12');
      assert.equal(f4[14 + 8], 255, 'TTL');
      assert.equal(formatIP(4, f4.subarray(14 + 12, 14 + 16)), '192.0.2.1', "the parent's address as source");
      await a.call('vrrpSend', { id: 'v6', version: 3, vrid: 9, addresses: ['2001:db8::100'], ifname: 'vrrp.9', src: v6.linkLocal });
      const [f6] = await frames((x) => x[12] === 0x86 && x[13] === 0xdd && x[14 + 6] === 112);
      assert.ok(f6, 'IPv6 advert captured');
      assert.equal(formatMac(f6.subarray(6, 12)), '00:00:5e:00:02:09');
      assert.equal(formatMac(f6.subarray(0, 6)), '33:33:00:00:00:12');
      assert.equal(f6[14 + 7], 255, 'hop limit');
      assert.equal(formatIP(6, f6.subarray(14 + 8, 14 + 24)), v6.linkLocal);
    });

    await t.test('a missing interface is a clear error', async () => {
      await assert.rejects(a.call('garp', { ifname: 'nosuch0', mac: '00:00:5e:00:01:07', ip: '192.0.2.100' }), (e: unknown) => {
        assert.ok(e instanceof AgentError);
        assert.match(e.message, /no interface nosuch0/);
        return true;
      });
    });
  } finally {
    await lab.destroy();
  }
});
