/**
 * rtnetlink, VMAC and sysctls inside a namespace: macvlan mode/MAC/addrgenmode checked with `ip -d`,
 * sysctls set and restored, address add/delete seen as events, ENOBUFS resync, and bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Lab, netnsUnavailableReason, uniqueNsName, waitFor } from '../helpers/netns.js';
import { Agent, AgentError } from './agent-client.js';

const skip = netnsUnavailableReason();

async function rejects(p: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, text);
    assert.doesNotMatch(e.message, /\n\s+at /, 'no stack trace in the message');
    return true;
  });
}

test('rtnetlink, VMAC and sysctls in a namespace', { skip: skip ?? false, timeout: 90_000 }, async (t) => {
  const lab = new Lab();
  try {
    const A = lab.addNs(uniqueNsName('nla'));
    const B = lab.addNs(uniqueNsName('nlb'));
    lab.veth(A, 'eth0', B, 'eth0');
    lab.ip(A, 'addr add 192.0.2.1/24 dev eth0');
    const a = await Agent.start(lab, A);
    const sys = (k: string) => lab.ns(A, 'cat', `/proc/sys/${k}`).trim();

    await t.test('VMAC for IPv4: macvlan private, VRRP MAC, addrgenmode none, up; sysctls set', async () => {
      lab.ns(A, 'sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=2');
      const before = { arpIgnore: sys('net/ipv4/conf/eth0/arp_ignore'), arpFilter: sys('net/ipv4/conf/eth0/arp_filter') };
      assert.deepEqual(before, { arpIgnore: '0', arpFilter: '0' });
      const v = await a.call<{ name: string; created: boolean }>('vmacEnsure', { parent: 'eth0', vrid: 7, family: 4 });
      assert.equal(v.name, 'vrrp.7');
      assert.equal(v.created, true);
      const d = lab.ip(A, '-d link show vrrp.7');
      assert.match(d, /vrrp\.7@eth0/);
      assert.match(d, /link\/ether 00:00:5e:00:01:07/);
      assert.match(d, /macvlan mode private/);
      assert.match(d, /addrgenmode none/);
      assert.match(d, /[<,]UP[,>]/);
      assert.doesNotMatch(lab.ip(A, '-6 addr show dev vrrp.7'), /fe80::/, 'no EUI-64 link-local from the VMAC');
      assert.equal(sys('net/ipv4/conf/vrrp.7/arp_ignore'), '1');
      assert.equal(sys('net/ipv4/conf/vrrp.7/accept_local'), '1');
      assert.equal(sys('net/ipv4/conf/vrrp.7/rp_filter'), '0');
      assert.equal(sys('net/ipv4/conf/vrrp.7/promote_secondaries'), '1');
      assert.equal(sys('net/ipv4/conf/eth0/arp_ignore'), '1');
      assert.equal(sys('net/ipv4/conf/eth0/arp_filter'), '1');
      assert.equal(sys('net/ipv4/conf/all/rp_filter'), '0', 'all lowered to 0');
      assert.equal(sys('net/ipv4/conf/eth0/rp_filter'), '2', 'interfaces raised to the old all value');
    });

    await t.test('a second VMAC on the same parent shares the parent sysctls; the last one restores them', async () => {
      const v = await a.call<{ name: string }>('vmacEnsure', { parent: 'eth0', vrid: 8, family: 4, name: 'vip8' });
      assert.equal(v.name, 'vip8');
      await a.call('vmacRelease', { name: 'vrrp.7' });
      assert.doesNotMatch(lab.ip(A, 'link show'), /vrrp\.7/, 'created VMAC deleted');
      assert.equal(sys('net/ipv4/conf/eth0/arp_ignore'), '1', 'still held by vip8');
      await a.call('vmacRelease', { name: 'vip8' });
      assert.equal(sys('net/ipv4/conf/eth0/arp_ignore'), '0');
      assert.equal(sys('net/ipv4/conf/eth0/arp_filter'), '0');
      assert.equal(sys('net/ipv4/conf/all/rp_filter'), '2');
      assert.equal(sys('net/ipv4/conf/eth0/rp_filter'), '0');
    });

    await t.test('an existing macvlan of the name is reused and corrected (mode, MAC)', async () => {
      lab.ip(A, 'link add link eth0 name vrrp.9 address 02:00:00:00:00:09 type macvlan mode bridge');
      const v = await a.call<{ created: boolean }>('vmacEnsure', { parent: 'eth0', vrid: 9, family: 6 });
      assert.equal(v.created, false);
      const d = lab.ip(A, '-d link show vrrp.9');
      assert.match(d, /link\/ether 00:00:5e:00:02:09/);
      assert.match(d, /macvlan mode private/);
      assert.match(d, /addrgenmode none/);
      const parentLl = lab.ip(A, '-6 addr show dev eth0 scope link').match(/fe80::[0-9a-f:]+/)?.[0];
      assert.ok(parentLl, 'parent has a link-local');
      assert.match(lab.ip(A, '-6 addr show dev vrrp.9'), new RegExp(`${parentLl}/64`), "a copy of the parent's link-local");
      await a.call('vmacRelease', { name: 'vrrp.9' });
      assert.match(lab.ip(A, 'link show'), /vrrp\.9/, 'a reused VMAC is left in place');
      lab.ip(A, 'link del vrrp.9');
    });

    await t.test('a macvlan of the name on another parent is recreated; disable_ipv6; link down/up', async () => {
      lab.ip(A, 'link add eth9 type veth peer name eth9p');
      lab.ip(A, 'link add link eth9 name vrrp.12 type macvlan mode private');
      const v = await a.call<{ created: boolean }>('vmacEnsure', { parent: 'eth0', vrid: 12, family: 4, disableIpv6: true });
      assert.equal(v.created, true);
      assert.match(lab.ip(A, '-d link show vrrp.12'), /vrrp\.12@eth0/);
      assert.equal(sys('net/ipv6/conf/vrrp.12/disable_ipv6'), '1');
      assert.deepEqual(await a.call('linkUp', { name: 'vrrp.12', up: false }), { up: false, operstate: 'down' });
      assert.doesNotMatch(lab.ip(A, 'link show vrrp.12'), /[<,]UP[,>]/);
      assert.equal((await a.call<{ up: boolean }>('linkUp', { name: 'vrrp.12', up: true })).up, true);
      await a.call('vmacRelease', { name: 'vrrp.12' });
      assert.doesNotMatch(lab.ip(A, 'link show'), /vrrp\.12/);
      lab.ip(A, 'link del eth9');
    });

    await t.test('nothing half-configured: macvlan deleted when a later step fails', async () => {
      await rejects(a.call('vmacEnsureBrokenSysctl', { parent: 'eth0', vrid: 10 }), 'ENOENT', /sysctl .*vrrp\.10/);
      assert.doesNotMatch(lab.ip(A, 'link show'), /vrrp\.10/);
    });

    await t.test('bad input: missing parent, name too long, non-macvlan of that name', async () => {
      await rejects(a.call('vmacEnsure', { parent: 'nosuch0', vrid: 11, family: 4 }), 'ENODEV', /parent interface nosuch0 not found/);
      await rejects(a.call('vmacEnsure', { parent: 'eth0', vrid: 11, family: 4, name: 'a-very-long-name0' }), 'ENAMETOOLONG', /a-very-long-name0.*longer than 15/);
      await rejects(a.call('vmacEnsure', { parent: 'eth0', vrid: 11, family: 4, name: 'eth0' }), 'EEXIST', /eth0.*not a macvlan/);
      await rejects(a.call('addAddr', { ifname: 'nosuch0', address: '192.0.2.9', prefixlen: 24 }), 'ERR', /no interface nosuch0/);
      assert.doesNotMatch(lab.ip(A, 'link show'), /vrrp\.11/);
    });

    await t.test('address add/delete: events, label and broadcast, EEXIST naming the address', async () => {
      await a.call('monitorStart', {});
      const idx = await a.call<number>('ifindex', { name: 'eth0' });
      await a.call('addAddr', { ifname: 'eth0', address: '192.0.2.50', prefixlen: 24, label: 'eth0:vip', broadcast: '192.0.2.255' });
      await a.call('addAddr', { ifname: 'eth0', address: '2001:db8::50', prefixlen: 64 });
      const shown = lab.ip(A, 'addr show dev eth0');
      assert.match(shown, /inet 192\.0\.2\.50\/24 brd 192\.0\.2\.255 scope global secondary eth0:vip/);
      assert.match(shown, /inet6 2001:db8::50\/64 scope global/);
      assert.doesNotMatch(shown, /2001:db8::50\/64 scope global tentative/, 'nodad');
      await rejects(a.call('addAddr', { ifname: 'eth0', address: '192.0.2.50', prefixlen: 24 }), 'EEXIST', /add address 192\.0\.2\.50\/24 on eth0: already present/);
      await a.call('delAddr', { ifname: 'eth0', address: '192.0.2.50', prefixlen: 24 });
      await a.call('delAddr', { ifname: 'eth0', address: '2001:db8::50', prefixlen: 64 });
      await rejects(a.call('delAddr', { ifname: 'eth0', address: '192.0.2.50', prefixlen: 24 }), 'EADDRNOTAVAIL', /192\.0\.2\.50\/24 on eth0: address not present/);
      const seen: string[] = [];
      await waitFor(async () => {
        seen.push(...(await a.call<{ events: string[] }>('monitorRead')).events);
        return seen.includes(`del addr 2001:db8::50/64 if${idx}`);
      }, 3000);
      for (const e of ['new addr 192.0.2.50/24', 'new addr 2001:db8::50/64', 'del addr 192.0.2.50/24', 'del addr 2001:db8::50/64']) {
        assert.ok(seen.includes(`${e} if${idx}`), `event "${e}" in ${JSON.stringify(seen)}`);
      }
    });

    await t.test('ENOBUFS on the event socket: overflow counted and state resynchronised by a dump', async () => {
      const b = await Agent.start(lab, B);
      await b.call('monitorStart', { rcvbuf: 4096 });
      // 150 additions back to back: the agent's event loop does not turn, so the tiny buffer overflows.
      await b.call('burst', { ifname: 'eth0', count: 150 });
      let res = { overflows: 0, resyncs: [] as { addrs: string[] }[] };
      await waitFor(async () => {
        const r = await b.call<typeof res>('monitorRead');
        res = { overflows: res.overflows + r.overflows, resyncs: [...res.resyncs, ...r.resyncs] };
        return res.resyncs.length > 0;
      }, 5000);
      assert.ok(res.overflows >= 1, 'ENOBUFS seen');
      const last = res.resyncs.at(-1)!;
      for (const i of [1, 75, 150]) assert.ok(last.addrs.includes(`2001:db8:1::${i.toString(16)}`), `resync dump has address ${i}`);
    });

    await t.test('EPERM without root: a clear error, not a crash', { skip: process.getuid?.() === 0 ? false : 'needs root to drop to nobody' }, () => {
      const script = join(dirname(fileURLToPath(import.meta.url)), 'eperm-probe.js');
      const r = spawnSync('ip', ['netns', 'exec', A, process.execPath, script], { encoding: 'utf8', timeout: 10_000 });
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
      assert.equal(out.vrrp?.code, 'EPERM', r.stderr);
      assert.match(out.vrrp?.message, /open IPv4 VRRP socket.*needs root or CAP_NET_RAW/);
      assert.equal(out.addr?.code, 'EPERM');
      assert.match(out.addr?.message, /add address 192\.0\.2\.77\/24 on eth0: operation not permitted/);
    });
  } finally {
    await lab.destroy();
  }
});
