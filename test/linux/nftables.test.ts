/**
 * no_accept firewall: the nfnetlink codec (pure, any user), and VipFirewall in namespaces: a VIP in
 * the table is not pingable from a peer while another address is, ARP and IPv6 neighbour discovery
 * (multicast and unicast NS to the VIP) still work, VRRP adverts (multicast and unicast to a VIP)
 * still arrive, `nft list ruleset` shows table inet vipd, re-apply replaces, remove() restores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { Lab, haveCommand, netnsUnavailableReason, uniqueNsName } from '../helpers/netns.js';
import { Agent } from './agent-client.js';
import { parseAttrs, parseMessages, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, type NlMessage } from '../../src/wire/netlink.js';
import {
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFTA_CHAIN_HOOK,
  NFTA_HOOK_HOOKNUM,
  NFTA_HOOK_PRIORITY,
  NFTA_RULE_EXPRESSIONS,
  NFTA_TABLE_NAME,
  NFT_MSG_DELTABLE,
  NFT_MSG_NEWCHAIN,
  NFT_MSG_NEWRULE,
  NFT_MSG_NEWTABLE,
  NFPROTO_INET,
  describeNftOp,
  encodeBatch,
  encodeGetTable,
  nftType,
  parseTable,
  vipFirewallOps,
  vipFirewallRules,
  type FirewallVip,
  type NftExpr,
} from '../../src/wire/nftables.js';
import { parseIP } from '../../src/wire/inet.js';

const skip = netnsUnavailableReason() ?? (haveCommand('nft') ? null : 'nftables tests need `nft` to inspect the ruleset (apt-get install nftables); skipped');
const distSrc = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');
const mod = (p: string) => JSON.stringify(pathToFileURL(join(distSrc, p)).href);

const vip = (s: string): FirewallVip => {
  const p = parseIP(s)!;
  return { family: p.family, address: p.bytes };
};

// ---------------- codec (no privileges needed) ----------------

function exprNames(m: NlMessage): string[] {
  const exprs = parseAttrs(m.body, 4).get(NFTA_RULE_EXPRESSIONS)!;
  const out: string[] = [];
  let off = 0;
  const dv = new DataView(exprs.buffer, exprs.byteOffset, exprs.byteLength);
  while (off + 4 <= exprs.length) {
    const len = dv.getUint16(off, true);
    const type = dv.getUint16(off + 2, true);
    assert.ok(type & 0x8000, 'list elements carry NLA_F_NESTED');
    const name = parseAttrs(exprs.subarray(off + 4, off + len), 0).get(1)!;
    out.push(Buffer.from(name.subarray(0, name.indexOf(0))).toString());
    off += (len + 3) & ~3;
  }
  return out;
}

test('nftables codec: a batch is BEGIN, the operations (acked), END, with consecutive sequence numbers', () => {
  const ops = vipFirewallOps([vip('192.0.2.10'), vip('2001:db8::10')]);
  const { bytes, seqs } = encodeBatch(1000, ops);
  const msgs = parseMessages(bytes);
  assert.equal(msgs.length, ops.length + 2);
  assert.equal(msgs[0]!.type, NFNL_MSG_BATCH_BEGIN);
  assert.deepEqual([...msgs[0]!.body.subarray(0, 4)], [0, 0, 0, 10], 'nfgenmsg: AF_UNSPEC, v0, res_id = htons(NFNL_SUBSYS_NFTABLES)');
  assert.equal(msgs.at(-1)!.type, NFNL_MSG_BATCH_END);
  assert.deepEqual(
    msgs.map((m) => m.seq),
    Array.from({ length: ops.length + 2 }, (_, i) => 1000 + i),
  );
  assert.deepEqual(seqs, msgs.slice(1, -1).map((m) => m.seq));
  const types = msgs.slice(1, -1).map((m) => m.type);
  assert.deepEqual(types.slice(0, 5), [NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWCHAIN].map(nftType));
  assert.ok(types.slice(5).every((t) => t === nftType(NFT_MSG_NEWRULE)));
  assert.equal(types.length, 5 + 2 * (3 + 2), 'per chain: accept VRRP, NS, NA; one drop per VIP');
  const last = parseMessages(encodeBatch(1, ops, { ack: 'last' }).bytes).slice(1, -1);
  assert.deepEqual(
    last.map((m) => (m.flags & NLM_F_ACK) !== 0),
    ops.map((_, i) => i === ops.length - 1),
    "ack: 'last' asks only the last operation for an ack",
  );
  for (const m of msgs.slice(1, -1)) {
    assert.ok(m.flags & NLM_F_ACK, 'every operation asks for an ack');
    assert.equal(m.body[0], NFPROTO_INET);
    assert.equal(m.body.length % 4, 0);
  }
  const rule = msgs[6]!;
  assert.equal(rule.flags & (NLM_F_CREATE | NLM_F_APPEND), NLM_F_CREATE | NLM_F_APPEND);
  // Table name attribute.
  const t = parseAttrs(msgs[1]!.body, 4).get(NFTA_TABLE_NAME)!;
  assert.equal(Buffer.from(t).toString(), 'vipd\0');
  // Chain hook: hook input (1), priority 0, big-endian.
  const hook = parseAttrs(msgs[4]!.body, 4).get(NFTA_CHAIN_HOOK)!;
  const h = parseAttrs(hook, 0);
  assert.deepEqual([...h.get(NFTA_HOOK_HOOKNUM)!], [0, 0, 0, 1]);
  assert.deepEqual([...h.get(NFTA_HOOK_PRIORITY)!], [0, 0, 0, 0]);
  // Output chain: hook output (3).
  assert.deepEqual([...parseAttrs(parseAttrs(msgs[5]!.body, 4).get(NFTA_CHAIN_HOOK)!, 0).get(NFTA_HOOK_HOOKNUM)!], [0, 0, 0, 3]);
  assert.deepEqual(exprNames(msgs[6]!), ['meta', 'cmp', 'immediate']);
  assert.deepEqual(exprNames(msgs[7]!), ['meta', 'cmp', 'payload', 'cmp', 'immediate']);
  assert.deepEqual(exprNames(msgs[9]!), ['meta', 'cmp', 'payload', 'cmp', 'counter', 'immediate']);
  assert.deepEqual(
    ops.filter((o) => o.op === 'newrule').map((o) => `${(o as { chain: string }).chain}: ${(o as { text: string }).text}`),
    [
      'input: meta l4proto vrrp accept',
      'input: icmpv6 type nd-neighbor-solicit accept',
      'input: icmpv6 type nd-neighbor-advert accept',
      'input: ip daddr 192.0.2.10 drop',
      'input: ip6 daddr 2001:db8::10 drop',
      'output: meta l4proto vrrp accept',
      'output: icmpv6 type nd-neighbor-solicit accept',
      'output: icmpv6 type nd-neighbor-advert accept',
      'output: ip saddr 192.0.2.10 drop',
      'output: ip6 saddr 2001:db8::10 drop',
    ],
  );
});

test('nftables codec: drop rules match the destination address at the right offset; duplicates and junk are dropped', () => {
  const rules = vipFirewallRules([vip('192.0.2.10'), vip('2001:db8::10'), vip('192.0.2.10')]);
  assert.equal(rules.length, 5);
  assert.deepEqual(
    rules.map((r) => r.text),
    ['meta l4proto vrrp accept', 'icmpv6 type nd-neighbor-solicit accept', 'icmpv6 type nd-neighbor-advert accept', 'ip daddr 192.0.2.10 drop', 'ip6 daddr 2001:db8::10 drop'],
  );
  const pay = (e: NftExpr[]) => e.find((x) => x.kind === 'payload') as Extract<NftExpr, { kind: 'payload' }>;
  const cmps = (e: NftExpr[]) => e.filter((x) => x.kind === 'cmp') as Extract<NftExpr, { kind: 'cmp' }>[];
  assert.deepEqual([pay(rules[3]!.exprs).offset, pay(rules[3]!.exprs).len], [16, 4]);
  assert.deepEqual([pay(rules[4]!.exprs).offset, pay(rules[4]!.exprs).len], [24, 16]);
  const outRules = vipFirewallRules([vip('192.0.2.10'), vip('2001:db8::10')], 'output');
  assert.deepEqual([pay(outRules[3]!.exprs).offset, pay(outRules[4]!.exprs).offset], [12, 8], 'saddr offsets');
  assert.deepEqual([...cmps(rules[3]!.exprs)[1]!.data], [192, 0, 2, 10]);
  assert.deepEqual([...cmps(rules[1]!.exprs)[1]!.data], [135]);
  assert.deepEqual([...cmps(rules[2]!.exprs)[1]!.data], [136]);
  assert.deepEqual([...cmps(rules[0]!.exprs)[0]!.data], [112]);
  // Never throws on junk; keeps only well-formed entries.
  const junk = [null, {}, { family: 4, address: new Uint8Array(16) }, { family: 5, address: new Uint8Array(4) }, { family: 6, address: 'x' }] as unknown as FirewallVip[];
  assert.equal(vipFirewallRules(junk).length, 3);
  assert.equal(vipFirewallRules('nope' as unknown as FirewallVip[]).length, 3);
  assert.deepEqual(
    vipFirewallOps([]).map((o) => o.op),
    ['newtable', 'deltable'],
    'no VIPs: the table is only deleted',
  );
  assert.doesNotThrow(() => encodeBatch(1, [null, { op: 'bogus' }, { op: 'newrule', family: 1, table: 't', chain: 'c', exprs: [null] }] as never));
  assert.doesNotThrow(() => encodeBatch(0xffffffff, 'x' as never));
  assert.equal(describeNftOp(vipFirewallOps([vip('192.0.2.10')])[5]!), 'add rule inet vipd input: meta l4proto vrrp accept');
  assert.equal(describeNftOp(vipFirewallOps([vip('192.0.2.10')])[3]!), 'create chain inet vipd input');
});

test('nftables codec: GETTABLE and the NEWTABLE reply', () => {
  const req = parseMessages(encodeGetTable(7, NFPROTO_INET, 'vipd'));
  assert.equal(req.length, 1);
  assert.equal(req[0]!.type, nftType(1));
  // A reply as the kernel sends it: nfgenmsg + name + flags + use.
  const body = Buffer.from('01000000' + '0900' + '0100' + Buffer.from('vipd\0').toString('hex') + '000000' + '0800' + '0300' + '00000001', 'hex');
  const info = parseTable({ type: nftType(NFT_MSG_NEWTABLE), flags: 0, seq: 1, pid: 0, body: new Uint8Array(body) });
  assert.deepEqual(info, { family: 1, name: 'vipd', flags: 0, use: 1 });
  assert.equal(parseTable({ type: nftType(NFT_MSG_NEWTABLE), flags: 0, seq: 1, pid: 0, body: new Uint8Array(2) }), null);
  assert.equal(parseTable(null as never), null);
});

// ---------------- in namespaces ----------------

interface NodeResult {
  ok: boolean;
  result?: unknown;
  code?: string;
  message?: string;
}

/** Run an async function body as an ES module inside a namespace; its return value comes back as JSON. */
function nodeIn(ns: string, body: string, timeoutMs = 15_000): NodeResult {
  const code = `
import { VipFirewall } from ${mod('linux/nftables.js')};
import { native } from ${mod('linux/native.js')};
import { sockaddrIn6 } from ${mod('linux/sockaddr.js')};
import { parseIP } from ${mod('wire/inet.js')};
import { vipFirewallOps } from ${mod('wire/nftables.js')};
try {
  const result = await (async () => { ${body} })();
  process.stdout.write(JSON.stringify({ ok: true, result: result ?? null }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }));
}`;
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.status !== 0 || !r.stdout) throw new Error(`node in ${ns} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as NodeResult;
}

function apply(ns: string, vips: string[], table?: string): NodeResult {
  const list = vips.map((a) => ({ family: a.includes(':') ? 6 : 4, address: a }));
  return nodeIn(ns, `const fw = VipFirewall.open(${table ? JSON.stringify({ table }) : ''}); try { await fw.apply(${JSON.stringify(list)}); return await fw.exists(); } finally { fw.close(); }`);
}

function pings(lab: Lab, ns: string, addr: string, from?: string): boolean {
  void lab;
  const src = from ? ['-I', from] : [];
  const r = spawnSync('ip', ['netns', 'exec', ns, 'ping', '-n', '-q', '-c', '1', '-W', '1', ...src, addr], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0;
}

test('VipFirewall in namespaces: no_accept drops VIP traffic, keeps ND and VRRP, remove() restores', { skip: skip ?? false, timeout: 120_000 }, async (t) => {
  const lab = new Lab();
  try {
    const R = lab.addNs(uniqueNsName('nft-r'));
    const P = lab.addNs(uniqueNsName('nft-p'));
    lab.veth(R, 'eth0', P, 'eth0');
    lab.ip(R, 'addr add 192.0.2.1/24 dev eth0');
    lab.ip(R, 'addr add 192.0.2.10/32 dev eth0');
    lab.ip(R, 'addr add 192.0.2.11/32 dev eth0');
    lab.ip(R, 'addr add 2001:db8::1/64 dev eth0 nodad');
    lab.ip(R, 'addr add 2001:db8::10/128 dev eth0 nodad');
    lab.ip(R, 'addr add 2001:db8::11/128 dev eth0 nodad');
    lab.ip(P, 'addr add 192.0.2.2/24 dev eth0');
    lab.ip(P, 'addr add 2001:db8::2/64 dev eth0 nodad');
    const macR = /link\/ether ([0-9a-f:]+)/.exec(lab.ip(R, 'link show eth0'))![1]!;
    const macP = /link\/ether ([0-9a-f:]+)/.exec(lab.ip(P, 'link show eth0'))![1]!;

    await t.test('before: every address answers', () => {
      for (const a of ['192.0.2.10', '192.0.2.11', '2001:db8::10', '2001:db8::11']) assert.ok(pings(lab, P, a), `${a} answers before apply`);
    });

    await t.test('apply: table inet vipd with the expected chain and rules', () => {
      const r = apply(R, ['192.0.2.10', '2001:db8::10', '192.0.2.10/32']);
      assert.deepEqual(r, { ok: true, result: true });
      const rs = lab.ns(R, 'nft', 'list', 'ruleset');
      assert.match(rs, /table inet vipd \{/);
      assert.match(rs, /chain input \{\s*type filter hook input priority (filter|0); policy accept;/);
      assert.match(rs, /meta l4proto vrrp accept/);
      assert.match(rs, /icmpv6 type nd-neighbor-solicit accept/);
      assert.match(rs, /icmpv6 type nd-neighbor-advert accept/);
      assert.match(rs, /ip daddr 192\.0\.2\.10 counter packets 0 bytes 0 drop/);
      assert.match(rs, /ip6 daddr 2001:db8::10 counter packets 0 bytes 0 drop/);
      assert.equal(rs.match(/daddr/g)?.length, 2, 'a repeated VIP gives one rule');
      assert.match(rs, /chain output \{\s*type filter hook output priority (filter|0); policy accept;/);
      assert.match(rs, /ip saddr 192\.0\.2\.10 counter packets 0 bytes 0 drop/);
      assert.match(rs, /ip6 saddr 2001:db8::10 counter packets 0 bytes 0 drop/);
      assert.equal(rs.match(/^table /gm)?.length, 1);
    });

    await t.test('a VIP is not pingable while another address is; ARP for it still resolves', () => {
      lab.ip(P, 'neigh flush dev eth0');
      assert.equal(pings(lab, P, '192.0.2.10'), false, 'IPv4 VIP dropped');
      assert.match(lab.ip(P, 'neigh show 192.0.2.10 dev eth0'), new RegExp(`lladdr ${macR}`), 'ARP is not filtered by inet');
      assert.ok(pings(lab, P, '192.0.2.11'), 'other IPv4 address answers');
      assert.ok(pings(lab, P, '192.0.2.1'), 'interface address answers');
      assert.match(lab.ns(R, 'nft', 'list', 'ruleset'), /ip daddr 192\.0\.2\.10 counter packets [1-9]\d* bytes \d+ drop/);
    });

    await t.test('the host cannot send from a VIP (as keepalived), but can from another address', () => {
      assert.equal(pings(lab, R, '192.0.2.2', '192.0.2.10'), false, 'from the IPv4 VIP');
      assert.ok(pings(lab, R, '192.0.2.2', '192.0.2.11'));
      assert.equal(pings(lab, R, '2001:db8::2', '2001:db8::10'), false, 'from the IPv6 VIP');
      assert.ok(pings(lab, R, '2001:db8::2', '2001:db8::11'));
      assert.match(lab.ns(R, 'nft', 'list', 'ruleset'), /ip saddr 192\.0\.2\.10 counter packets [1-9]\d* bytes \d+ drop/);
    });

    await t.test('IPv6: the VIP is dropped but its neighbour entry resolves; a unicast NS to it is answered', () => {
      lab.ip(P, '-6 neigh flush dev eth0');
      assert.equal(pings(lab, P, '2001:db8::10'), false, 'IPv6 VIP dropped');
      assert.match(lab.ip(P, '-6 neigh show 2001:db8::10 dev eth0'), new RegExp(`lladdr ${macR}`), 'peer resolved the VIP');
      assert.ok(pings(lab, P, '2001:db8::11'), 'other IPv6 address answers');
      // A unicast NS addressed to the VIP (as NUD probes are): R must accept it and learn P's MAC from it.
      const mac = macP.split(':').map((x) => parseInt(x, 16));
      const sendNs = () =>
        nodeIn(
          P,
          `const n = native();
           const h = n.socket(10, 3, 58);
           n.setsockopt(h, n.constants.IPPROTO_IPV6, n.constants.IPV6_UNICAST_HOPS, 255);
           n.bind(h, sockaddrIn6(parseIP('2001:db8::2').bytes));
           const ns = new Uint8Array(32);
           ns[0] = 135;
           ns.set(parseIP('2001:db8::10').bytes, 8);
           ns[24] = 1; ns[25] = 1; ns.set(${JSON.stringify(mac)}, 26);
           const r = n.sendmsg(h, ns, sockaddrIn6(parseIP('2001:db8::10').bytes), null, 0);
           n.close(h);
           return r;`,
        );
      const learned = (ms: number) => {
        const deadline = Date.now() + ms;
        for (;;) {
          if (lab.ip(R, '-6 neigh show 2001:db8::2 dev eth0').includes(macP)) return true;
          if (Date.now() > deadline) return false;
        }
      };
      // Control: the same drop rule without the ND exceptions loses the NS (so the check below can fail).
      const ctl = nodeIn(
        R,
        `const fw = VipFirewall.open({ table: 'vipdctl' });
         const ops = vipFirewallOps([{ family: 6, address: parseIP('2001:db8::10').bytes }], 'vipdctl')
           .filter((o) => !(o.op === 'newrule' && /accept/.test(o.text)));
         await fw.transact(ops);
         const vipd = VipFirewall.open();
         await vipd.remove();
         return ops.length;`,
      );
      assert.deepEqual(ctl, { ok: true, result: 7 });
      lab.ip(R, '-6 neigh flush dev eth0');
      assert.deepEqual(sendNs(), { ok: true, result: 32 });
      assert.equal(learned(300), false, 'without the exception the unicast NS is dropped');
      assert.match(lab.ns(R, 'nft', 'list', 'table', 'inet', 'vipdctl'), /ip6 daddr 2001:db8::10 counter packets [1-9]/);
      lab.ns(R, 'nft', 'delete', 'table', 'inet', 'vipdctl');
      assert.deepEqual(apply(R, ['192.0.2.10', '2001:db8::10']), { ok: true, result: true });
      lab.ip(R, '-6 neigh flush dev eth0');
      assert.doesNotMatch(lab.ip(R, '-6 neigh show 2001:db8::2 dev eth0'), /lladdr/);
      assert.deepEqual(sendNs(), { ok: true, result: 32 });
      assert.ok(learned(2000), 'R processed the unicast NS to its VIP');
    });

    await t.test('VRRP adverts to 224.0.0.18 and unicast to the VIP still arrive', async () => {
      const ra = await Agent.start(lab, R);
      const pa = await Agent.start(lab, P);
      await ra.call('vrrpOpen', { id: 'r', family: 4 });
      await ra.call('vrrpJoin', { id: 'r', ifname: 'eth0' });
      await pa.call('vrrpOpen', { id: 'p', family: 4 });
      await pa.call('vrrpSend', { id: 'p', ifname: 'eth0', src: '192.0.2.2', version: 3, vrid: 51, priority: 100, addresses: ['192.0.2.10'] });
      await pa.call('vrrpSend', { id: 'p', ifname: 'eth0', src: '192.0.2.2', dst: '192.0.2.10', version: 3, vrid: 52, priority: 100, addresses: ['192.0.2.10'] });
      let rx: { dst: string; decoded: { ok: boolean; advert?: { vrid: number } } }[] = [];
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && rx.length < 2) {
        rx = rx.concat(await ra.call<typeof rx>('vrrpReceived', { id: 'r' }));
        if (rx.length < 2) await new Promise((r) => setTimeout(r, 20));
      }
      const got = rx.filter((p) => p.decoded.ok).map((p) => `${p.dst} vrid ${p.decoded.advert!.vrid}`).sort();
      assert.deepEqual(got, ['192.0.2.10 vrid 52', '224.0.0.18 vrid 51']);
    });

    await t.test('apply again replaces the rules atomically (the other address is now the dropped one)', () => {
      assert.deepEqual(apply(R, ['192.0.2.11']), { ok: true, result: true });
      const rs = lab.ns(R, 'nft', 'list', 'ruleset');
      assert.doesNotMatch(rs, /192\.0\.2\.10|2001:db8::10/);
      assert.match(rs, /ip daddr 192\.0\.2\.11 counter packets 0 bytes 0 drop/);
      assert.equal(rs.match(/^table /gm)?.length, 1);
      assert.equal(rs.match(/chain input/g)?.length, 1);
      assert.ok(pings(lab, P, '192.0.2.10'));
      assert.equal(pings(lab, P, '192.0.2.11'), false);
    });

    await t.test('remove() deletes the table and restores access; removing again is fine', () => {
      const r = nodeIn(R, `const fw = VipFirewall.open(); await fw.remove(); await fw.remove(); const e = await fw.exists(); fw.close(); return e;`);
      assert.deepEqual(r, { ok: true, result: false });
      assert.doesNotMatch(lab.ns(R, 'nft', 'list', 'ruleset'), /vipd/);
      assert.ok(pings(lab, P, '192.0.2.11'));
      assert.ok(pings(lab, P, '2001:db8::10'));
    });

    await t.test('apply([]) leaves no table; other tables are untouched', () => {
      lab.ns(R, 'nft', 'add', 'table', 'inet', 'other');
      assert.deepEqual(apply(R, ['192.0.2.10']), { ok: true, result: true });
      assert.deepEqual(apply(R, []), { ok: true, result: false });
      const rs = lab.ns(R, 'nft', 'list', 'ruleset');
      assert.doesNotMatch(rs, /table inet vipd/);
      assert.match(rs, /table inet other/);
    });

    await t.test('bad input: clear errors, no stack traces, nothing applied', () => {
      const cases: [NodeResult, RegExp][] = [
        [apply(R, ['not-an-ip']), /"not-an-ip" is not an IPv4 address/],
        [nodeIn(R, `const fw = VipFirewall.open(); await fw.apply([{ family: 6, address: '192.0.2.10' }]);`), /"192\.0\.2\.10" is not an IPv6 address/],
        [nodeIn(R, `const fw = VipFirewall.open(); await fw.apply([{ family: 5, address: '192.0.2.10' }]);`), /bad address family 5/],
        [nodeIn(R, `const fw = VipFirewall.open(); await fw.apply('192.0.2.10');`), /must be an array/],
        [nodeIn(R, `VipFirewall.open({ table: 'bad name' });`), /invalid table name "bad name"/],
      ];
      for (const [r, re] of cases) {
        assert.equal(r.ok, false);
        assert.equal(r.code, 'EINVAL', r.message);
        assert.match(r.message!, re);
        assert.doesNotMatch(r.message!, /\n\s+at /);
      }
      assert.doesNotMatch(lab.ns(R, 'nft', 'list', 'ruleset'), /table inet vipd/);
    });

    await t.test('a kernel refusal (not on the last operation) names the operation; the batch is all or nothing', () => {
      const r = nodeIn(
        R,
        `const fw = VipFirewall.open({ table: 'vipdx' });
         await fw.transact([
           { op: 'newtable', family: 1, table: 'vipdx' },
           { op: 'newchain', family: 1, table: 'vipdx', chain: 'c', hook: { hooknum: 1, priority: 0, type: 'no-such-type' } },
           { op: 'newtable', family: 1, table: 'vipdy' },
         ]);`,
      );
      assert.equal(r.ok, false);
      assert.equal(r.code, 'ENOENT');
      assert.match(r.message!, /^create chain inet vipdx c: /);
      assert.doesNotMatch(lab.ns(R, 'nft', 'list', 'ruleset'), /vipd[xy]/, 'no table of the failed batch was created');
    });

    await t.test('2000 VIPs go in one batch (larger than the default socket buffer)', () => {
      const r = nodeIn(
        R,
        `const vips = [];
         for (let i = 1; i <= 2000; i++) vips.push({ family: 6, address: '2001:db8:1::' + i.toString(16) });
         const fw = VipFirewall.open();
         await fw.apply(vips);
         return await fw.exists();`,
      );
      assert.deepEqual(r, { ok: true, result: true });
      const rs = lab.ns(R, 'nft', 'list', 'table', 'inet', 'vipd');
      assert.equal(rs.match(/ip6 daddr 2001:db8:1::[0-9a-f]+ counter packets 0 bytes 0 drop/g)?.length, 2000);
      assert.equal(rs.match(/ip6 saddr 2001:db8:1::[0-9a-f]+ counter packets 0 bytes 0 drop/g)?.length, 2000);
      assert.deepEqual(apply(R, []), { ok: true, result: false });
    });

    await t.test('a kernel without the subsystem: the error says nf_tables is missing', () => {
      // The same batch addressed to nfnetlink subsystem 4 (ULOG, long gone from Linux) is refused on
      // BATCH_BEGIN with EOPNOTSUPP, exactly as every batch is when nf_tables is not there.
      const r = nodeIn(
        R,
        `const { encodeBatch } = await import(${mod('wire/nftables.js')});
         const fw = VipFirewall.open();
         await fw.exchange((s) => { const b = encodeBatch(s, vipFirewallOps([])); b.bytes[19] = 4; return b; }, ['x', 'y'], false);`,
      );
      assert.equal(r.ok, false);
      assert.equal(r.code, 'EOPNOTSUPP');
      assert.match(r.message!, /^nftables table inet vipd: nftables is not available in this kernel \(nf_tables module missing\? try `modprobe nf_tables`\)/);
    });
  } finally {
    await lab.destroy();
  }
});

test('explainNftErrno: a missing nf_tables module is said clearly', async () => {
  const { explainNftErrno } = await import('../../src/linux/nftables.js');
  assert.match(explainNftErrno('EOPNOTSUPP', 'nftables table inet vipd')!, /nf_tables module missing/);
  assert.match(explainNftErrno('EPROTONOSUPPORT', 'open')!, /nfnetlink/);
  assert.match(explainNftErrno('ENOENT', 'add rule inet vipd input: x')!, /expression/);
  assert.match(explainNftErrno('ENOENT', 'delete table inet vipd')!, /no such table/);
  assert.equal(explainNftErrno('EBUSY', 'x'), null);
});

// ---------------- VMAC egress filter (keepalived issue #882) ----------------

test('nftables codec: the VMAC table drops IGMP and MLD (130-133, 143) by output interface name', async () => {
  const { vmacFilterOps, vmacFilterRules, ifnameKey, NF_INET_LOCAL_OUT } = await import('../../src/wire/nftables.js');
  assert.deepEqual(
    vmacFilterRules(['vrrp.51', 'vrrp.51', '', 'x'.repeat(16), 7 as never]).map((r) => r.text),
    ['oifname "vrrp.51" meta l4proto igmp drop', 'oifname "vrrp.51" icmpv6 type 130-133 drop', 'oifname "vrrp.51" icmpv6 type mld2-listener-report drop'],
    'one set of rules per valid name, junk and repeats skipped',
  );
  assert.deepEqual([...ifnameKey('ab')!], [97, 98, ...new Array(14).fill(0)]);
  assert.equal(ifnameKey('x'.repeat(16)), null);
  const reset = ['newtable', 'deltable', 'newtable', 'deltable', 'newtable', 'deltable'];
  const ops = vmacFilterOps(['vrrp.51']);
  assert.deepEqual(ops.map((o) => o.op), [...reset, 'newtable', 'newchain', 'newrule', 'newrule', 'newrule'], 'names only: no copy tables');
  assert.deepEqual(ops.slice(0, 6).map((o) => (o as { family: number }).family), [1, 1, 2, 2, 10, 10], 'inet, ip and ip6 tables are reset');
  assert.equal((ops[0] as { table: string }).table, 'vipd_vmac');
  assert.equal((ops[7] as { hook: { hooknum: number } }).hook.hooknum, NF_INET_LOCAL_OUT);
  assert.deepEqual(vmacFilterOps([]).map((o) => o.op), reset, 'no names: the tables are only deleted');
  const msgs = parseMessages(encodeBatch(1, ops).bytes).slice(1, -1);
  assert.deepEqual(exprNames(msgs[9]!), ['meta', 'cmp', 'meta', 'cmp', 'payload', 'cmp', 'cmp', 'counter', 'immediate']);
  // With a parent index: copies of the reports out of the parent, in ip and ip6 tables, before the drop.
  const withCopy = vmacFilterOps([{ name: 'vrrp.51', parentIndex: 0x0102 }, { name: 'vrrp.52', parentIndex: -1 }]);
  const copies = withCopy.filter((o) => o.op === 'newrule' && o.family !== NFPROTO_INET) as { family: number; text: string; exprs: NftExpr[] }[];
  assert.deepEqual(
    copies.map((o) => `${o.family} ${o.text}`),
    [
      '2 oifname "vrrp.51" ip protocol igmp dup to 224.0.0.22 device ifindex 258',
      '10 oifname "vrrp.51" icmpv6 type { mld-listener-report, mld-listener-done } dup to ff02::16 device ifindex 258',
      '10 oifname "vrrp.51" icmpv6 type mld2-listener-report dup to ff02::16 device ifindex 258',
    ],
    'a bad parent index gives no copy',
  );
  const imm = copies[0]!.exprs.filter((e) => e.kind === 'immediate') as Extract<NftExpr, { kind: 'immediate' }>[];
  assert.deepEqual(imm.map((e) => [...e.data]), [[224, 0, 0, 22], [2, 1, 0, 0]], 'address, then the ifindex in host order');
  const chains = withCopy.filter((o) => o.op === 'newchain') as { family: number; hook: { priority: number } }[];
  assert.deepEqual(chains.map((c) => [c.family, c.hook.priority]), [[1, 0], [2, -10], [10, -10]]);
  const enc = parseMessages(encodeBatch(1, withCopy).bytes).slice(1, -1);
  assert.deepEqual(exprNames(enc.at(-1)!), ['meta', 'cmp', 'meta', 'cmp', 'payload', 'cmp', 'immediate', 'immediate', 'dup']);
});

test('VipFirewall.setVmacs in namespaces: no IGMP/MLD leaves a VMAC, adverts and ND still do', { skip: (skip ?? (haveCommand('tcpdump') ? null : 'needs tcpdump')) || false, timeout: 120_000 }, async (t) => {
  const lab = new Lab();
  const VMAC = '00:00:5e:00:02:33';
  try {
    const R = lab.addNs(uniqueNsName('nftv-r'));
    const P = lab.addNs(uniqueNsName('nftv-p'));
    lab.veth(R, 'eth0', P, 'eth0');
    lab.ip(R, `link add link eth0 name vrrp.51 address ${VMAC} type macvlan mode private`);
    lab.ip(R, 'link set vrrp.51 addrgenmode none');
    lab.ip(R, 'link set vrrp.51 up');
    lab.ip(R, 'addr add 192.0.2.51/24 dev vrrp.51');
    const llP = /inet6 (fe80::[0-9a-f:]+)\/64/.exec(lab.ip(P, '-6 addr show dev eth0'))?.[1];
    assert.ok(llP, 'peer has a link-local');

    /** Frames from the VMAC MAC seen on the peer while `act` runs plus `ms`. */
    const capture = async (act: () => Promise<void> | void, ms: number, mac = VMAC): Promise<string[]> => {
      const child = lab.spawnIn(P, 'tcpdump', ['-i', 'eth0', '-e', '-n', '-l', '-U', '-vv', 'ether', 'src', mac]);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const deadline = Date.now() + 5000;
      while (!/listening on/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.match(err, /listening on/, 'tcpdump started');
      try {
        await act();
        await new Promise((r) => setTimeout(r, ms));
      } finally {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await Promise.race([done, new Promise((r) => setTimeout(r, 2000))]);
      }
      return out.split('\n').filter((l) => /^\s/.test(l) || l.includes(mac));
    };
    const membership = (lines: string[]) => lines.filter((l) => /multicast listener|igmp/i.test(l));
    const joinIgmp = async () => {
      const a = await Agent.start(lab, R);
      await a.call('vrrpOpen', { id: 'j', family: 4 });
      await a.call('vrrpJoin', { id: 'j', ifname: 'vrrp.51' });
      return a;
    };

    await t.test('control: without the rule the VMAC sends MLD and IGMP reports with its MAC', async () => {
      let a: Agent | undefined;
      const lines = await capture(async () => {
        lab.ip(R, 'addr add fe80::51/64 dev vrrp.51 nodad');
        a = await joinIgmp();
      }, 1200);
      const m = membership(lines);
      assert.ok(m.some((l) => /multicast listener report/.test(l)), `MLD report from the VMAC expected, got:\n${lines.join('\n')}`);
      assert.ok(m.some((l) => /igmp/i.test(l)), `IGMP report from the VMAC expected, got:\n${lines.join('\n')}`);
      void a;
    });

    await t.test('setVmacs: table inet vipd_vmac beside inet vipd; neither erases the other', () => {
      const r = nodeIn(
        R,
        `const fw = VipFirewall.open();
         await fw.apply([{ family: 4, address: '192.0.2.10' }]);
         await fw.setVmacs(['vrrp.51', 'vrrp.52']);
         await fw.apply([{ family: 4, address: '192.0.2.11' }]);
         const both = [await fw.exists(), await fw.vmacsExist()];
         await fw.setVmacs(['vrrp.51']);
         return [...both, await fw.exists(), await fw.vmacsExist()];`,
      );
      assert.deepEqual(r, { ok: true, result: [true, true, true, true] });
      const rs = lab.ns(R, 'nft', 'list', 'ruleset');
      assert.match(rs, /table inet vipd \{/);
      assert.match(rs, /ip daddr 192\.0\.2\.11 counter/);
      assert.match(rs, /table inet vipd_vmac \{\s*chain output \{\s*type filter hook output priority (filter|0); policy accept;/);
      assert.match(rs, /oifname "vrrp\.51" (meta l4proto|ip protocol) igmp counter packets 0 bytes 0 drop/);
      assert.match(rs, /oifname "vrrp\.51" (meta l4proto ipv6-icmp )?icmpv6 type (130-133|\{?[^\n]*mld-listener-query)[^\n]*counter packets 0 bytes 0 drop/);
      assert.match(rs, /oifname "vrrp\.51" (meta l4proto ipv6-icmp )?icmpv6 type mld2-listener-report counter packets 0 bytes 0 drop/);
      assert.doesNotMatch(rs, /vrrp\.52/, 're-applied with fewer names');
      assert.deepEqual(nodeIn(R, `const fw = VipFirewall.open(); await fw.apply([]); return await fw.vmacsExist();`), { ok: true, result: true }, 'apply([]) keeps the VMAC table');
    });

    await t.test('with the rule: no MLD/IGMP from the VMAC MAC (link down/up, new address, new join); counters count them', async () => {
      let a: Agent | undefined;
      const lines = await capture(async () => {
        lab.ip(R, 'link set vrrp.51 down');
        lab.ip(R, 'link set vrrp.51 up');
        lab.ip(R, 'addr add fe80::52/64 dev vrrp.51 nodad');
        a = await joinIgmp();
      }, 1500);
      void a;
      assert.deepEqual(membership(lines), [], 'no membership traffic from the VMAC');
      const rs = lab.ns(R, 'nft', 'list', 'table', 'inet', 'vipd_vmac');
      assert.match(rs, /mld2-listener-report counter packets [1-9]\d* bytes/, 'MLDv2 reports were dropped by the rule');
      assert.match(rs, /igmp counter packets [1-9]\d* bytes/, 'IGMP reports were dropped by the rule');
    });

    await t.test('with parent indexes: the reports leave the parent with its MAC, still none from the VMAC', async () => {
      const macR = /link\/ether ([0-9a-f:]+)/.exec(lab.ip(R, 'link show eth0'))![1]!;
      const parentIndex = Number(/^(\d+):/.exec(lab.ip(R, 'link show eth0'))![1]);
      assert.deepEqual(nodeIn(R, `const fw = VipFirewall.open(); await fw.setVmacs([{ name: 'vrrp.51', parentIndex: ${parentIndex} }]); return await fw.vmacsExist();`), { ok: true, result: true });
      const rs = lab.ns(R, 'nft', 'list', 'ruleset');
      assert.match(rs, /table ip vipd_vmac \{[^}]*priority (filter - 10|-10);[^}]*igmp dup to 224\.0\.0\.22 device "eth0"/);
      assert.match(rs, /table ip6 vipd_vmac \{[^}]*priority (filter - 10|-10);[^}]*mld2-listener-report dup to ff02::16 device "eth0"/);
      let fromVmac: string[] = [];
      const fromParent = await capture(async () => {
        fromVmac = await capture(() => {
          lab.ip(R, 'link set vrrp.51 down');
          lab.ip(R, 'link set vrrp.51 up');
          lab.ip(R, 'addr add fe80::53/64 dev vrrp.51 nodad');
        }, 1500);
      }, 0, macR);
      assert.deepEqual(membership(fromVmac), [], 'still nothing from the VMAC MAC');
      const text = fromParent.join('\n');
      assert.match(text, /multicast listener report v2[^\n]*(\n\t[^\n]*)*ff02::1:ff00:53/, `the VMAC's new group reported with the parent MAC:\n${text}`);
      assert.match(text, /> 01:00:5e:00:00:16,[^\n]*proto IGMP[^\n]*\n\s+192\.0\.2\.51 > 224\.0\.0\.22: igmp v3 report[^\n]*gaddr 224\.0\.0\.18/, `the VMAC's IGMP group reported with the parent MAC:\n${text}`);
      assert.doesNotMatch(text, /fe80::53 > ff02::2:/, "the VMAC's router solicitations are not copied");
    });

    // Link down flushed fe80::52: fe80::53 is the VMAC's address now.
    await t.test('the VMAC still does ND (both ways) and sends and receives VRRP adverts', async () => {
      const ping = (ns: string, dst: string) =>
        spawnSync('ip', ['netns', 'exec', ns, 'ping', '-6', '-n', '-q', '-c', '1', '-W', '2', dst], { encoding: 'utf8', timeout: 5000 }).status === 0;
      lab.ip(P, '-6 neigh flush dev eth0');
      lab.ip(R, '-6 neigh flush dev vrrp.51');
      assert.ok(ping(P, 'fe80::53%eth0'), 'peer resolves and reaches the VMAC link-local (NS in, NA out)');
      assert.match(lab.ip(P, '-6 neigh show fe80::53 dev eth0'), new RegExp(`lladdr ${VMAC}`));
      lab.ip(R, '-6 neigh flush dev vrrp.51');
      assert.ok(ping(R, `${llP}%vrrp.51`), 'the VMAC resolves the peer (NS out)');
      const ra = await Agent.start(lab, R);
      const pa = await Agent.start(lab, P);
      await ra.call('vrrpOpen', { id: 'r', family: 6 });
      await ra.call('vrrpJoin', { id: 'r', ifname: 'vrrp.51' });
      await pa.call('vrrpOpen', { id: 'p', family: 6 });
      await pa.call('vrrpJoin', { id: 'p', ifname: 'eth0' });
      await ra.call('vrrpSend', { id: 'r', ifname: 'vrrp.51', src: 'fe80::53', version: 3, vrid: 51, priority: 100, addresses: ['2001:db8::51'] });
      await pa.call('vrrpSend', { id: 'p', ifname: 'eth0', src: llP, version: 3, vrid: 51, priority: 200, addresses: ['2001:db8::51'] });
      type Rx = { src: string; decoded: { ok: boolean; advert?: { vrid: number; priority: number } } };
      const got = async (a: Agent, id: string) => {
        let rx: Rx[] = [];
        const deadline = Date.now() + 3000;
        while (Date.now() < deadline && !rx.some((p) => p.decoded.ok)) {
          rx = rx.concat(await a.call<Rx[]>('vrrpReceived', { id }));
          if (!rx.some((p) => p.decoded.ok)) await new Promise((r) => setTimeout(r, 20));
        }
        return rx.filter((p) => p.decoded.ok).map((p) => `${p.src} prio ${p.decoded.advert!.priority}`);
      };
      assert.ok((await got(pa, 'p')).includes('fe80::53 prio 100'), 'the peer received the VMAC advert');
      assert.ok((await got(ra, 'r')).includes(`${llP} prio 200`), 'the VMAC received the peer advert');
    });

    await t.test('setVmacs([]) deletes the VMAC table; bad names are refused clearly', () => {
      assert.deepEqual(nodeIn(R, `const fw = VipFirewall.open(); await fw.setVmacs([]); return await fw.vmacsExist();`), { ok: true, result: false });
      assert.doesNotMatch(lab.ns(R, 'nft', 'list', 'ruleset'), /vipd_vmac/, 'inet, ip and ip6 tables gone');
      for (const [arg, re] of [
        [`[{ name: 'vrrp.51', parentIndex: 0 }]`, /parent interface index 0 of vrrp\.51 is not a valid ifindex/],
        [`[{ parentIndex: 2 }]`, /interface name undefined is not a string/],
        [`['x'.repeat(16)]`, /longer than 15 characters/],
        [`['a b']`, /invalid character/],
        [`'vrrp.51'`, /must be an array/],
      ] as const) {
        const r = nodeIn(R, `const fw = VipFirewall.open(); await fw.setVmacs(${arg});`);
        assert.equal(r.ok, false);
        assert.equal(r.code, 'EINVAL');
        assert.match(r.message!, re);
      }
    });
  } finally {
    await lab.destroy();
  }
});
