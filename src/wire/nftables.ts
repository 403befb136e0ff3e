/**
 * nftables over nfnetlink, pure codec: batch begin/end, NFT_MSG_NEWTABLE / DELTABLE / NEWCHAIN /
 * NEWRULE / GETTABLE, and the expressions vipd's no_accept table needs (meta, payload, cmp, counter,
 * immediate verdict). Never throws: encoders encode what they are given; validation (names, address
 * lengths) is the caller's job, in src/linux/nftables.ts, or done by `vipFirewallOps` which drops
 * malformed entries.
 *
 * Message layout: nlmsghdr, then struct nfgenmsg { u8 family; u8 version (0); be16 res_id }, then
 * attributes. Unlike rtnetlink, nf_tables integers inside attributes are **big-endian**; the netlink
 * header and attribute headers stay host-endian (little-endian here, as in netlink.ts).
 */
import { formatIP } from './inet.js';
import {
  NLM_F_ACK,
  NLM_F_APPEND,
  NLM_F_CREATE,
  NLM_F_REQUEST,
  NlWriter,
  parseAttrs,
  type NlMessage,
} from './netlink.js';

// ---- constants (linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h, linux/netfilter.h) ----
export const NETLINK_NETFILTER = 12;
export const NFNL_SUBSYS_NFTABLES = 10;
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;
export const NFNETLINK_V0 = 0;
export const NLA_F_NESTED = 0x8000;

export const NFT_MSG_NEWTABLE = 0;
export const NFT_MSG_GETTABLE = 1;
export const NFT_MSG_DELTABLE = 2;
export const NFT_MSG_NEWCHAIN = 3;
export const NFT_MSG_GETCHAIN = 4;
export const NFT_MSG_DELCHAIN = 5;
export const NFT_MSG_NEWRULE = 6;
export const NFT_MSG_GETRULE = 7;
export const NFT_MSG_DELRULE = 8;

/** NFPROTO_* (the nfgenmsg family of a table). */
export const NFPROTO_UNSPEC = 0;
export const NFPROTO_INET = 1;
export const NFPROTO_IPV4 = 2;
export const NFPROTO_IPV6 = 10;

/** Netfilter hooks (NF_INET_*). */
export const NF_INET_PRE_ROUTING = 0;
export const NF_INET_LOCAL_IN = 1;
export const NF_INET_FORWARD = 2;
export const NF_INET_LOCAL_OUT = 3;
export const NF_INET_POST_ROUTING = 4;

/** Verdicts. */
export const NF_DROP = 0;
export const NF_ACCEPT = 1;

export const NFTA_TABLE_NAME = 1;
export const NFTA_TABLE_FLAGS = 2;
export const NFTA_TABLE_USE = 3;
export const NFTA_CHAIN_TABLE = 1;
export const NFTA_CHAIN_NAME = 3;
export const NFTA_CHAIN_HOOK = 4;
export const NFTA_CHAIN_POLICY = 5;
export const NFTA_CHAIN_TYPE = 7;
export const NFTA_HOOK_HOOKNUM = 1;
export const NFTA_HOOK_PRIORITY = 2;
export const NFTA_RULE_TABLE = 1;
export const NFTA_RULE_CHAIN = 2;
export const NFTA_RULE_EXPRESSIONS = 4;
export const NFTA_LIST_ELEM = 1;
export const NFTA_EXPR_NAME = 1;
export const NFTA_EXPR_DATA = 2;
export const NFTA_META_DREG = 1;
export const NFTA_META_KEY = 2;
export const NFTA_PAYLOAD_DREG = 1;
export const NFTA_PAYLOAD_BASE = 2;
export const NFTA_PAYLOAD_OFFSET = 3;
export const NFTA_PAYLOAD_LEN = 4;
export const NFTA_CMP_SREG = 1;
export const NFTA_CMP_OP = 2;
export const NFTA_CMP_DATA = 3;
export const NFTA_IMMEDIATE_DREG = 1;
export const NFTA_IMMEDIATE_DATA = 2;
export const NFTA_DUP_SREG_ADDR = 1;
export const NFTA_DUP_SREG_DEV = 2;
export const NFTA_DATA_VALUE = 1;
export const NFTA_DATA_VERDICT = 2;
export const NFTA_VERDICT_CODE = 1;

export const NFT_REG_VERDICT = 0;
/** The first 128-bit data register (holds an IPv6 address). */
export const NFT_REG_1 = 1;
export const NFT_REG_2 = 2;
export const NFT_META_OIFNAME = 7;
export const NFT_META_NFPROTO = 15;
export const NFT_META_L4PROTO = 16;
export const NFT_PAYLOAD_LL_HEADER = 0;
export const NFT_PAYLOAD_NETWORK_HEADER = 1;
export const NFT_PAYLOAD_TRANSPORT_HEADER = 2;
export const NFT_CMP_EQ = 0;
export const NFT_CMP_NEQ = 1;
export const NFT_CMP_LTE = 3;
export const NFT_CMP_GTE = 5;

export const IPPROTO_IGMP = 2;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_VRRP = 112;
/** MLD query (130), MLDv1 report (131), MLDv1 done (132), router solicitation (133); MLDv2 report (143). */
export const ICMPV6_MLD_QUERY = 130;
export const ICMPV6_ROUTER_SOLICIT = 133;
export const ICMPV6_MLD2_REPORT = 143;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;

/** The message type of an nf_tables message: subsystem in the high byte. */
export function nftType(msg: number): number {
  return ((NFNL_SUBSYS_NFTABLES << 8) | (msg & 0xff)) & 0xffff;
}

// ---- expressions ----

export type NftExpr =
  | { kind: 'meta'; key: number; dreg: number }
  | { kind: 'payload'; base: number; offset: number; len: number; dreg: number }
  | { kind: 'cmp'; sreg: number; op: number; data: Uint8Array }
  | { kind: 'counter' }
  | { kind: 'verdict'; code: number }
  /** Load a constant into a data register (nft_immediate). */
  | { kind: 'immediate'; dreg: number; data: Uint8Array }
  /** Send a copy to the address in `sregAddr` through the interface whose ifindex is in `sregDev` (ip/ip6 tables only). */
  | { kind: 'dup'; sregAddr: number; sregDev: number };

export interface NftHook {
  /** NF_INET_*; vipd uses NF_INET_LOCAL_IN. */
  hooknum: number;
  priority: number;
  /** Chain type, "filter" unless given. */
  type?: string;
  /** NF_ACCEPT (default) or NF_DROP. */
  policy?: number;
}

export type NftOp =
  | { op: 'newtable'; family: number; table: string }
  | { op: 'deltable'; family: number; table: string }
  | { op: 'newchain'; family: number; table: string; chain: string; hook?: NftHook }
  | { op: 'newrule'; family: number; table: string; chain: string; exprs: NftExpr[]; text?: string };

const be32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, false);
  return b;
};

function nfgenmsg(w: NlWriter, family: number, resId = 0): void {
  w.u8(family).u8(NFNETLINK_V0);
  // res_id is big-endian.
  w.u8((resId >> 8) & 0xff).u8(resId & 0xff);
}

function attrBe32(w: NlWriter, type: number, v: number): void {
  w.attr(type, be32(v));
}

function nest(w: NlWriter, type: number, body: () => void): void {
  w.beginNest(type | NLA_F_NESTED);
  body();
  w.endNest();
}

function writeExpr(w: NlWriter, e: NftExpr): void {
  nest(w, NFTA_LIST_ELEM, () => {
    switch (e?.kind) {
      case 'meta':
        w.attrStr(NFTA_EXPR_NAME, 'meta');
        nest(w, NFTA_EXPR_DATA, () => {
          attrBe32(w, NFTA_META_KEY, e.key);
          attrBe32(w, NFTA_META_DREG, e.dreg);
        });
        break;
      case 'payload':
        w.attrStr(NFTA_EXPR_NAME, 'payload');
        nest(w, NFTA_EXPR_DATA, () => {
          attrBe32(w, NFTA_PAYLOAD_DREG, e.dreg);
          attrBe32(w, NFTA_PAYLOAD_BASE, e.base);
          attrBe32(w, NFTA_PAYLOAD_OFFSET, e.offset);
          attrBe32(w, NFTA_PAYLOAD_LEN, e.len);
        });
        break;
      case 'cmp':
        w.attrStr(NFTA_EXPR_NAME, 'cmp');
        nest(w, NFTA_EXPR_DATA, () => {
          attrBe32(w, NFTA_CMP_SREG, e.sreg);
          attrBe32(w, NFTA_CMP_OP, e.op);
          nest(w, NFTA_CMP_DATA, () => w.attr(NFTA_DATA_VALUE, e.data));
        });
        break;
      case 'counter':
        w.attrStr(NFTA_EXPR_NAME, 'counter');
        break;
      case 'verdict':
        w.attrStr(NFTA_EXPR_NAME, 'immediate');
        nest(w, NFTA_EXPR_DATA, () => {
          attrBe32(w, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
          nest(w, NFTA_IMMEDIATE_DATA, () => nest(w, NFTA_DATA_VERDICT, () => attrBe32(w, NFTA_VERDICT_CODE, e.code)));
        });
        break;
      case 'immediate':
        w.attrStr(NFTA_EXPR_NAME, 'immediate');
        nest(w, NFTA_EXPR_DATA, () => {
          attrBe32(w, NFTA_IMMEDIATE_DREG, e.dreg);
          nest(w, NFTA_IMMEDIATE_DATA, () => w.attr(NFTA_DATA_VALUE, e.data));
        });
        break;
      case 'dup':
        w.attrStr(NFTA_EXPR_NAME, 'dup');
        nest(w, NFTA_EXPR_DATA, () => {
          attrBe32(w, NFTA_DUP_SREG_ADDR, e.sregAddr);
          attrBe32(w, NFTA_DUP_SREG_DEV, e.sregDev);
        });
        break;
      default:
        // Unknown expression: an empty element, which the kernel rejects (EINVAL) naming the rule.
        break;
    }
  });
}

function writeOp(w: NlWriter, op: NftOp, seq: number, ack: boolean): void {
  const A = ack ? NLM_F_ACK : 0;
  switch (op?.op) {
    case 'newtable':
      w.header(nftType(NFT_MSG_NEWTABLE), NLM_F_REQUEST | A | NLM_F_CREATE, seq);
      nfgenmsg(w, op.family);
      w.attrStr(NFTA_TABLE_NAME, op.table);
      attrBe32(w, NFTA_TABLE_FLAGS, 0);
      break;
    case 'deltable':
      w.header(nftType(NFT_MSG_DELTABLE), NLM_F_REQUEST | A, seq);
      nfgenmsg(w, op.family);
      w.attrStr(NFTA_TABLE_NAME, op.table);
      break;
    case 'newchain':
      w.header(nftType(NFT_MSG_NEWCHAIN), NLM_F_REQUEST | A | NLM_F_CREATE, seq);
      nfgenmsg(w, op.family);
      w.attrStr(NFTA_CHAIN_TABLE, op.table);
      w.attrStr(NFTA_CHAIN_NAME, op.chain);
      if (op.hook) {
        const hook = op.hook;
        nest(w, NFTA_CHAIN_HOOK, () => {
          attrBe32(w, NFTA_HOOK_HOOKNUM, hook.hooknum);
          attrBe32(w, NFTA_HOOK_PRIORITY, hook.priority | 0);
        });
        attrBe32(w, NFTA_CHAIN_POLICY, hook.policy ?? NF_ACCEPT);
        w.attrStr(NFTA_CHAIN_TYPE, hook.type ?? 'filter');
      }
      break;
    case 'newrule':
      w.header(nftType(NFT_MSG_NEWRULE), NLM_F_REQUEST | A | NLM_F_CREATE | NLM_F_APPEND, seq);
      nfgenmsg(w, op.family);
      w.attrStr(NFTA_RULE_TABLE, op.table);
      w.attrStr(NFTA_RULE_CHAIN, op.chain);
      nest(w, NFTA_RULE_EXPRESSIONS, () => {
        for (const e of Array.isArray(op.exprs) ? op.exprs : []) writeExpr(w, e);
      });
      break;
    default:
      // Not an operation: a NEWTABLE without a name, which the kernel refuses (EINVAL).
      w.header(nftType(NFT_MSG_NEWTABLE), NLM_F_REQUEST | A, seq);
      nfgenmsg(w, NFPROTO_UNSPEC);
      break;
  }
}

function patchLen(w: NlWriter, start: number): void {
  w.pad();
  w.dv.setUint32(start, w.len - start, true);
}

export interface NftBatch {
  /** Every message of the batch, for one sendmsg() call. */
  bytes: Uint8Array;
  /** The sequence number of each operation (ops[i] has seqs[i]); the batch begin is `seq`, the end seqs.at(-1)+1. */
  seqs: number[];
}

/**
 * One transaction: BATCH_BEGIN, the operations, BATCH_END; the kernel applies all or nothing.
 * `ack: 'each'` (default) puts NLM_F_ACK on every operation; `'last'` only on the last one: the kernel
 * still reports every failing operation (it does not stop at the first error), so the last one's
 * answer ends the exchange and large batches need no large receive buffer.
 */
export function encodeBatch(seq: number, ops: NftOp[], opts: { ack?: 'each' | 'last' } = {}): NftBatch {
  const list = Array.isArray(ops) ? ops : [];
  const w = new NlWriter(256 + list.length * 256);
  let s = seq >>> 0;
  let start = w.len;
  w.header(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, s);
  nfgenmsg(w, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
  patchLen(w, start);
  const seqs: number[] = [];
  const ackEach = opts?.ack !== 'last';
  for (let i = 0; i < list.length; i++) {
    s = (s + 1) >>> 0;
    seqs.push(s);
    start = w.len;
    writeOp(w, list[i]!, s, ackEach || i === list.length - 1);
    patchLen(w, start);
  }
  s = (s + 1) >>> 0;
  start = w.len;
  w.header(NFNL_MSG_BATCH_END, NLM_F_REQUEST, s);
  nfgenmsg(w, NFPROTO_UNSPEC, NFNL_SUBSYS_NFTABLES);
  patchLen(w, start);
  return { bytes: w.buf.slice(0, w.len), seqs };
}

/** NFT_MSG_GETTABLE for one table (answered by NEWTABLE, or ENOENT). Not part of a batch. */
export function encodeGetTable(seq: number, family: number, table: string): Uint8Array {
  const w = new NlWriter(64).header(nftType(NFT_MSG_GETTABLE), NLM_F_REQUEST | NLM_F_ACK, seq);
  nfgenmsg(w, family);
  w.attrStr(NFTA_TABLE_NAME, table);
  return w.finish();
}

export interface NftTableInfo {
  family: number;
  name: string;
  flags: number;
  /** Number of chains/sets/objects using the table (NFTA_TABLE_USE). */
  use: number;
}

/** Decode an NFT_MSG_NEWTABLE reply, or null. */
export function parseTable(msg: NlMessage): NftTableInfo | null {
  if (!msg || msg.type !== nftType(NFT_MSG_NEWTABLE) || !(msg.body instanceof Uint8Array) || msg.body.length < 4) return null;
  const a = parseAttrs(msg.body, 4);
  const name = a.get(NFTA_TABLE_NAME);
  if (!name) return null;
  const z = name.indexOf(0);
  const be = (b: Uint8Array | undefined) => (b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, false) : 0);
  return {
    family: msg.body[0]!,
    name: new TextDecoder().decode(z >= 0 ? name.subarray(0, z) : name),
    flags: be(a.get(NFTA_TABLE_FLAGS)),
    use: be(a.get(NFTA_TABLE_USE)),
  };
}

// ---- vipd's no_accept table ----

export interface FirewallVip {
  family: 4 | 6;
  /** 4 or 16 bytes. */
  address: Uint8Array;
}

export const VIPD_TABLE = 'vipd';
export const VIPD_CHAIN = 'input';
export const VIPD_OUT_CHAIN = 'output';

const ipHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function formatAddr(v: FirewallVip): string {
  return formatIP(v.family, v.address);
}

/**
 * The rules of one of vipd's chains, each with the text `nft` would show (for error messages).
 * `input` drops packets addressed to a VIP; `output` (as keepalived's no_accept table does) drops
 * packets the host sends from a VIP, which could never get an answer. Both accept VRRP and ICMPv6
 * NS/NA first (the kernel answers an NS for a VIP with an NA from the VIP).
 */
export function vipFirewallRules(vips: FirewallVip[], dir: 'input' | 'output' = 'input'): { exprs: NftExpr[]; text: string }[] {
  const l4 = (proto: number): NftExpr[] => [
    { kind: 'meta', key: NFT_META_L4PROTO, dreg: NFT_REG_1 },
    { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_EQ, data: Uint8Array.of(proto) },
  ];
  const rules: { exprs: NftExpr[]; text: string }[] = [
    // VRRP itself is never dropped (adverts to the group, and unicast adverts to a VIP).
    { exprs: [...l4(IPPROTO_VRRP), { kind: 'verdict', code: NF_ACCEPT }], text: 'meta l4proto vrrp accept' },
  ];
  // RFC 5798 §6.4.3: with Accept_Mode False a master must still accept ND for its IPv6 addresses.
  for (const [type, name] of [
    [ICMPV6_NEIGHBOR_SOLICIT, 'nd-neighbor-solicit'],
    [ICMPV6_NEIGHBOR_ADVERT, 'nd-neighbor-advert'],
  ] as const) {
    rules.push({
      exprs: [
        ...l4(IPPROTO_ICMPV6),
        { kind: 'payload', base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, len: 1, dreg: NFT_REG_1 },
        { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_EQ, data: Uint8Array.of(type) },
        { kind: 'verdict', code: NF_ACCEPT },
      ],
      text: `icmpv6 type ${name} accept`,
    });
  }
  const out = dir === 'output';
  const seen = new Set<string>();
  for (const v of Array.isArray(vips) ? vips : []) {
    if (!v || (v.family !== 4 && v.family !== 6)) continue;
    const alen = v.family === 4 ? 4 : 16;
    if (!(v.address instanceof Uint8Array) || v.address.length !== alen) continue;
    const key = `${v.family}/${ipHex(v.address)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Network header offsets: IPv4 saddr 12, daddr 16; IPv6 saddr 8, daddr 24.
    const offset = v.family === 4 ? (out ? 12 : 16) : out ? 8 : 24;
    rules.push({
      exprs: [
        { kind: 'meta', key: NFT_META_NFPROTO, dreg: NFT_REG_1 },
        { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_EQ, data: Uint8Array.of(v.family === 4 ? NFPROTO_IPV4 : NFPROTO_IPV6) },
        { kind: 'payload', base: NFT_PAYLOAD_NETWORK_HEADER, offset, len: alen, dreg: NFT_REG_1 },
        { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_EQ, data: v.address.slice() },
        { kind: 'counter' },
        { kind: 'verdict', code: NF_DROP },
      ],
      text: `${v.family === 4 ? 'ip' : 'ip6'} ${out ? 'saddr' : 'daddr'} ${formatAddr(v)} drop`,
    });
  }
  return rules;
}

/**
 * The operations that (re)create vipd's table atomically: make sure it exists, delete it (with
 * everything in it), create it again with the input chain (filter hook input priority 0, policy
 * accept) and the output chain (filter hook output priority 0, policy accept) and their rules. With
 * no VIPs the table is only deleted.
 */
export function vipFirewallOps(vips: FirewallVip[], table = VIPD_TABLE): NftOp[] {
  const ops: NftOp[] = [
    { op: 'newtable', family: NFPROTO_INET, table },
    { op: 'deltable', family: NFPROTO_INET, table },
  ];
  const input = vipFirewallRules(vips, 'input');
  if (input.length <= 3) return ops;
  const output = vipFirewallRules(vips, 'output');
  ops.push({ op: 'newtable', family: NFPROTO_INET, table });
  for (const [chain, hooknum] of [
    [VIPD_CHAIN, NF_INET_LOCAL_IN],
    [VIPD_OUT_CHAIN, NF_INET_LOCAL_OUT],
  ] as const) {
    ops.push({ op: 'newchain', family: NFPROTO_INET, table, chain, hook: { hooknum, priority: 0, type: 'filter', policy: NF_ACCEPT } });
  }
  for (const r of input) ops.push({ op: 'newrule', family: NFPROTO_INET, table, chain: VIPD_CHAIN, exprs: r.exprs, text: r.text });
  for (const r of output) ops.push({ op: 'newrule', family: NFPROTO_INET, table, chain: VIPD_OUT_CHAIN, exprs: r.exprs, text: r.text });
  return ops;
}

// ---- VMAC egress filter (keepalived issue #882) ----

export const VIPD_VMAC_TABLE = 'vipd_vmac';
export const VIPD_VMAC_CHAIN = 'output';
/** IFNAMSIZ: `meta oifname` loads the name as 16 bytes, NUL-padded. */
const IFNAMSIZ = 16;

/** An interface name as `meta oifname` compares it (16 bytes, NUL-padded), or null when it cannot be one. */
export function ifnameKey(name: string): Uint8Array | null {
  if (typeof name !== 'string' || name.length === 0) return null;
  const b = new TextEncoder().encode(name);
  if (b.length >= IFNAMSIZ || b.includes(0)) return null;
  const out = new Uint8Array(IFNAMSIZ);
  out.set(b);
  return out;
}

/** A VMAC for the egress filter; with `parentIndex`, its IGMP/MLD reports are copied out of the parent. */
export interface VmacFilterEntry {
  name: string;
  parentIndex?: number;
}

type Rule = { exprs: NftExpr[]; text: string };

function vmacEntries(vmacs: (string | VmacFilterEntry)[]): { name: string; key: Uint8Array; parentIndex: number | null }[] {
  const out: { name: string; key: Uint8Array; parentIndex: number | null }[] = [];
  const seen = new Set<string>();
  for (const v of Array.isArray(vmacs) ? vmacs : []) {
    const name = typeof v === 'string' ? v : v && typeof v === 'object' ? v.name : undefined;
    const key = ifnameKey(name as string);
    if (!key || seen.has(name!)) continue;
    seen.add(name!);
    const pi = typeof v === 'object' ? v.parentIndex : undefined;
    out.push({ name: name!, key, parentIndex: Number.isInteger(pi) && pi! > 0 && pi! <= 0x7fffffff ? pi! : null });
  }
  return out;
}

const oifIs = (key: Uint8Array): NftExpr[] => [
  { kind: 'meta', key: NFT_META_OIFNAME, dreg: NFT_REG_1 },
  { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_EQ, data: key },
];
const l4Is = (proto: number): NftExpr[] => [
  { kind: 'meta', key: NFT_META_L4PROTO, dreg: NFT_REG_1 },
  { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_EQ, data: Uint8Array.of(proto) },
];
const icmpTypeIn = (lo: number, hi: number): NftExpr[] => [
  { kind: 'payload', base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, len: 1, dreg: NFT_REG_1 },
  ...(lo === hi
    ? [{ kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_EQ, data: Uint8Array.of(lo) } as NftExpr]
    : [
        { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_GTE, data: Uint8Array.of(lo) } as NftExpr,
        { kind: 'cmp', sreg: NFT_REG_1, op: NFT_CMP_LTE, data: Uint8Array.of(hi) } as NftExpr,
      ]),
];
const le32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};

/**
 * The rules that stop multicast-membership traffic from leaving VMAC interfaces: per name, IGMP
 * (any type), and ICMPv6 types 130-133 (MLD query, MLDv1 report and done, router solicitation) and
 * 143 (MLDv2 report), matched on `meta oifname` in an output hook. Such packets carry the VMAC as
 * Ethernet source and teach learning switches that the VMAC lives on a BACKUP's port. NS/NA and
 * VRRP are not touched. Malformed or repeated names are skipped.
 */
export function vmacFilterRules(vmacs: (string | VmacFilterEntry)[]): Rule[] {
  const rules: Rule[] = [];
  for (const v of vmacEntries(vmacs)) {
    const drop: NftExpr[] = [{ kind: 'counter' }, { kind: 'verdict', code: NF_DROP }];
    const shown = JSON.stringify(v.name);
    rules.push({ exprs: [...oifIs(v.key), ...l4Is(IPPROTO_IGMP), ...drop], text: `oifname ${shown} meta l4proto igmp drop` });
    rules.push({
      exprs: [...oifIs(v.key), ...l4Is(IPPROTO_ICMPV6), ...icmpTypeIn(ICMPV6_MLD_QUERY, ICMPV6_ROUTER_SOLICIT), ...drop],
      text: `oifname ${shown} icmpv6 type 130-133 drop`,
    });
    rules.push({
      exprs: [...oifIs(v.key), ...l4Is(IPPROTO_ICMPV6), ...icmpTypeIn(ICMPV6_MLD2_REPORT, ICMPV6_MLD2_REPORT), ...drop],
      text: `oifname ${shown} icmpv6 type mld2-listener-report drop`,
    });
  }
  return rules;
}

/**
 * The copy rules (as keepalived does): for VMACs with a parent index, a copy of each IGMP report
 * (ip table) or MLD report/done (ICMPv6 131, 132, 143; ip6 table) leaving the VMAC is sent out of
 * the parent, to 224.0.0.22 / ff02::16 as next hop, so it carries the parent's MAC and a snooping
 * switch keeps forwarding the VMAC's groups (ff02::12, 224.0.0.18, solicited-node) to this port.
 * The IP header, and so the group records, are unchanged. `dup` exists only in ip and ip6 tables.
 */
export function vmacCopyRules(vmacs: (string | VmacFilterEntry)[], family: 4 | 6): Rule[] {
  const rules: Rule[] = [];
  for (const v of vmacEntries(vmacs)) {
    if (v.parentIndex === null) continue;
    const shown = JSON.stringify(v.name);
    const copy = (to: Uint8Array): NftExpr[] => [
      { kind: 'immediate', dreg: NFT_REG_1, data: to },
      { kind: 'immediate', dreg: NFT_REG_2, data: le32(v.parentIndex!) },
      { kind: 'dup', sregAddr: NFT_REG_1, sregDev: NFT_REG_2 },
    ];
    if (family === 4) {
      rules.push({
        exprs: [...oifIs(v.key), ...l4Is(IPPROTO_IGMP), ...copy(Uint8Array.of(224, 0, 0, 22))],
        text: `oifname ${shown} ip protocol igmp dup to 224.0.0.22 device ifindex ${v.parentIndex}`,
      });
    } else {
      const mld2 = new Uint8Array(16);
      mld2.set([0xff, 0x02], 0);
      mld2[15] = 0x16;
      for (const [lo, hi, what] of [
        [ICMPV6_MLD_QUERY + 1, ICMPV6_MLD_QUERY + 2, 'mld-listener-report, mld-listener-done'],
        [ICMPV6_MLD2_REPORT, ICMPV6_MLD2_REPORT, 'mld2-listener-report'],
      ] as const) {
        rules.push({
          exprs: [...oifIs(v.key), ...l4Is(IPPROTO_ICMPV6), ...icmpTypeIn(lo, hi), ...copy(mld2)],
          text: `oifname ${shown} icmpv6 type ${lo === hi ? what : `{ ${what} }`} dup to ff02::16 device ifindex ${v.parentIndex}`,
        });
      }
    }
  }
  return rules;
}

/**
 * The operations that (re)create the VMAC egress tables atomically, all named `table` (`vipd_vmac`)
 * and separate from the no_accept table so that neither replaces the other: `inet` with one chain
 * (filter hook output priority 0, policy accept) holding `vmacFilterRules`; and, when some entry has
 * a parent index, `ip` and `ip6` with a chain at priority -10 (before the drop) holding
 * `vmacCopyRules`. Every table is deleted first; with no (valid) entries nothing is created again.
 */
export function vmacFilterOps(vmacs: (string | VmacFilterEntry)[], table = VIPD_VMAC_TABLE): NftOp[] {
  const ops: NftOp[] = [];
  for (const family of [NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6]) {
    ops.push({ op: 'newtable', family, table }, { op: 'deltable', family, table });
  }
  const rules = vmacFilterRules(vmacs);
  if (rules.length === 0) return ops;
  const chain = (family: number, priority: number, list: Rule[]) => {
    if (list.length === 0) return;
    ops.push({ op: 'newtable', family, table });
    ops.push({ op: 'newchain', family, table, chain: VIPD_VMAC_CHAIN, hook: { hooknum: NF_INET_LOCAL_OUT, priority, type: 'filter', policy: NF_ACCEPT } });
    for (const r of list) ops.push({ op: 'newrule', family, table, chain: VIPD_VMAC_CHAIN, exprs: r.exprs, text: r.text });
  };
  chain(NFPROTO_INET, 0, rules);
  chain(NFPROTO_IPV4, -10, vmacCopyRules(vmacs, 4));
  chain(NFPROTO_IPV6, -10, vmacCopyRules(vmacs, 6));
  return ops;
}

/** Human text for an operation, for error messages: "add rule inet vipd input: ip daddr 192.0.2.10 drop". */
export function describeNftOp(op: NftOp): string {
  const fam = (f: number) => (f === NFPROTO_INET ? 'inet' : f === NFPROTO_IPV4 ? 'ip' : f === NFPROTO_IPV6 ? 'ip6' : `family ${f}`);
  switch (op?.op) {
    case 'newtable':
      return `create table ${fam(op.family)} ${op.table}`;
    case 'deltable':
      return `delete table ${fam(op.family)} ${op.table}`;
    case 'newchain':
      return `create chain ${fam(op.family)} ${op.table} ${op.chain}`;
    case 'newrule':
      return `add rule ${fam(op.family)} ${op.table} ${op.chain}${op.text ? `: ${op.text}` : ''}`;
    default:
      return 'unknown nftables operation';
  }
}
