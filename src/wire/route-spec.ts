/**
 * `virtual_routes` / `virtual_rules` lines (the `ip route` / `ip rule` syntax keepalived accepts) to
 * typed specs, pure: `parseRouteSpec(text)` / `parseRuleSpec(text)` return `{ ok: true, spec }` or
 * `{ ok: false, error }` naming the offending word; they never throw.
 *
 * Routes: `[TYPE] [to] PREFIX|default [via|gw ADDR] [dev|oif IF] [src ADDR] [table ID]
 *   [metric|preference|priority N] [scope S] [proto|protocol P] [tos|dsfield N] [onlink] [mtu [lock] N]
 *   [pref low|medium|high] [no_track]`, TYPE one of unicast, local, broadcast, anycast, multicast,
 *   blackhole, unreachable, prohibit, throw.
 * Rules: `[not] [from PREFIX|all] [to PREFIX|all] [tos N] [fwmark N[/M]] [iif|dev IF] [oif IF]
 *   [priority|preference|pref|order N] [table|lookup ID] [goto N] [suppress_prefixlength N]
 *   [protocol P] [blackhole|unreachable|prohibit|nop|type T] [no_track]`.
 * Table ids: a number or main/local/default (names from /etc/iproute2/rt_tables are not read).
 * As keepalived 2.2.7 (checked with `keepalived -t` and in a namespace): a rule without a preference
 * gets 16384, and a tracked route (with `dev`, without `no_track`) is always `proto keepalived`; both
 * come with a warning in `warnings`. More lenient than keepalived: `proto` (keepalived: `protocol`
 * only), `type T`, and `pref` for rules are accepted as `ip` accepts them.
 * Not supported (an error names them): multipath `nexthop`, `encap`, `realms`, `nat`, `uidrange`,
 * `ipproto`, `sport`/`dport`, `l3mdev`, `suppress_ifgroup`, and the TCP metrics other than `mtu`.
 */
import { parseIP, type Family } from './inet.js';

export type RouteType = 'unicast' | 'local' | 'broadcast' | 'anycast' | 'multicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';
export type RuleAction = 'table' | 'goto' | 'nop' | 'blackhole' | 'unreachable' | 'prohibit';

export interface Prefix {
  /** 4 or 16 bytes, host bits clear. */
  address: Uint8Array;
  prefixlen: number;
}

export interface RouteSpec {
  family: Family;
  type: RouteType;
  /** null: the default route (0.0.0.0/0, ::/0). */
  dst: Prefix | null;
  via: Uint8Array | null;
  dev: string | null;
  src: Uint8Array | null;
  /** Routing table id; 254 (main) unless given. */
  table: number;
  metric: number | null;
  /** RT_SCOPE_* when given; null lets the kernel layer pick as `ip route` does. */
  scope: number | null;
  /** RTPROT_* when given; null means keepalived (18), as keepalived marks its routes. */
  protocol: number | null;
  tos: number;
  onlink: boolean;
  mtu: number | null;
  /** IPv6 router preference: 0 medium, 1 high, 3 low. */
  pref: number | null;
  noTrack: boolean;
  /** The line, words joined by one space. */
  text: string;
}

export interface RuleSpec {
  family: Family;
  action: RuleAction;
  /** For action 'table'. */
  table: number | null;
  priority: number | null;
  from: Prefix | null;
  to: Prefix | null;
  not: boolean;
  fwmark: number | null;
  fwmask: number | null;
  iif: string | null;
  oif: string | null;
  tos: number;
  /** For action 'goto': the target rule priority. */
  goto: number | null;
  suppressPrefixlen: number | null;
  /** FRA_PROTOCOL when given; null means keepalived (18). */
  protocol: number | null;
  noTrack: boolean;
  text: string;
}

/** `warnings`: what keepalived 2.2.7 also warns about and changes (see parseRouteSpec / parseRuleSpec). */
export type SpecResult<T> = { ok: true; spec: T; warnings: string[] } | { ok: false; error: string };

/** keepalived's priority for a rule that gives none (so that the rule can be deleted exactly). */
export const DEFAULT_RULE_PRIORITY = 16384;
/** RTPROT_KEEPALIVED: keepalived marks tracked routes with it. */
const PROTO_KEEPALIVED = 18;

const ROUTE_TYPES: readonly RouteType[] = ['unicast', 'local', 'broadcast', 'anycast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw'];

export const SCOPES: Record<string, number> = { global: 0, universe: 0, site: 200, link: 253, host: 254, nowhere: 255 };

export const PROTOCOLS: Record<string, number> = {
  redirect: 1,
  kernel: 2,
  boot: 3,
  static: 4,
  gated: 8,
  ra: 9,
  mrt: 10,
  zebra: 11,
  bird: 12,
  dnrouted: 13,
  xorp: 14,
  ntk: 15,
  dhcp: 16,
  keepalived: 18,
  babel: 42,
  bgp: 186,
  isis: 187,
  ospf: 188,
  rip: 189,
  eigrp: 192,
};

const TABLES: Record<string, number> = { default: 253, main: 254, local: 255 };

const UNSUPPORTED_ROUTE = new Set([
  'nexthop',
  'nhid',
  'encap',
  'realm',
  'realms',
  'advmss',
  'rtt',
  'rttvar',
  'reordering',
  'window',
  'cwnd',
  'initcwnd',
  'initrwnd',
  'ssthresh',
  'features',
  'quickack',
  'congctl',
  'rto_min',
  'hoplimit',
  'expires',
  'as',
  'weight',
  'pervasive',
  'fastopen_no_cookie',
  'ttl-propagate',
  'or',
]);

const UNSUPPORTED_RULE = new Set(['nat', 'map-to', 'realms', 'uidrange', 'ipproto', 'sport', 'dport', 'l3mdev', 'suppress_ifgroup', 'sup_group', 'tun_id']);

class Fail {
  constructor(readonly error: string) {}
}

function tokens(text: unknown): string[] {
  return typeof text === 'string' ? text.split(/\s+/).filter(Boolean) : [];
}

function uint(word: string | undefined, what: string, max = 0xffffffff): number {
  if (word === undefined) throw new Fail(`${what}: value missing`);
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(word)) throw new Fail(`${what}: "${word}" is not a number`);
  const v = Number(word);
  if (!Number.isSafeInteger(v) || v > max) throw new Fail(`${what}: ${word} is out of range (0-${max})`);
  return v;
}

function tableId(word: string | undefined): number {
  if (word !== undefined && Object.hasOwn(TABLES, word)) return TABLES[word]!;
  if (word !== undefined && !/^(0x[0-9a-f]+|\d+)$/i.test(word)) {
    throw new Fail(`table "${word}" is not a number or main/local/default (table names from rt_tables are not supported)`);
  }
  const t = uint(word, 'table');
  if (t === 0) throw new Fail('table 0 is not a valid routing table');
  return t;
}

function protocol(word: string | undefined): number {
  if (word !== undefined && Object.hasOwn(PROTOCOLS, word)) return PROTOCOLS[word]!;
  if (word !== undefined && !/^\d+$/.test(word)) throw new Fail(`protocol "${word}" is not known (use a number 0-255)`);
  return uint(word, 'protocol', 255);
}

function address(word: string | undefined, what: string): { family: Family; bytes: Uint8Array } {
  if (word === undefined) throw new Fail(`${what}: address missing`);
  const p = parseIP(word);
  if (!p) throw new Fail(`${what}: "${word}" is not an IP address`);
  return p;
}

/** "192.0.2.0/24", "2001:db8::/32", a host address, or null for default/all/any. */
function prefix(word: string | undefined, what: string, strictHostBits: boolean): { family: Family | null; prefix: Prefix | null } {
  if (word === undefined) throw new Fail(`${what}: prefix missing`);
  if (word === 'default' || word === 'all' || word === 'any') return { family: null, prefix: null };
  const slash = word.indexOf('/');
  const a = address(slash >= 0 ? word.slice(0, slash) : word, what);
  const max = a.family === 4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const l = word.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l) || Number(l) > max) throw new Fail(`${what}: bad prefix length in "${word}" (0-${max})`);
    len = Number(l);
  }
  const bytes = a.bytes.slice();
  let hostBits = false;
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    if (bytes[i]! & ~mask & 0xff) hostBits = true;
    bytes[i] = bytes[i]! & mask;
  }
  // The kernel refuses IPv4 prefixes with host bits set and masks IPv6 ones silently.
  if (hostBits && strictHostBits && a.family === 4) throw new Fail(`${what}: "${word}" has host bits set (did you mean ${[...bytes].join('.')}/${len}?)`);
  return { family: a.family, prefix: { address: bytes, prefixlen: len } };
}

function setFamily(cur: Family | null, f: Family, what: string): Family {
  if (cur !== null && cur !== f) throw new Fail(`${what} is IPv${f} but the ${cur === 4 ? 'IPv4' : 'IPv6'} route/rule mixes families`);
  return f;
}

function ifName(word: string | undefined, what: string): string {
  if (word === undefined) throw new Fail(`${what}: interface name missing`);
  if (new TextEncoder().encode(word).length > 15 || /[/:]/.test(word)) throw new Fail(`${what}: "${word}" is not a valid interface name`);
  return word;
}

/** Parse one `virtual_routes` line. `family` applies when nothing in the line says (e.g. `blackhole default`). */
export function parseRouteSpec(text: string, opts: { family?: Family } = {}): SpecResult<RouteSpec> {
  try {
    const t = tokens(text);
    if (t.length === 0) return { ok: false, error: 'empty route' };
    let i = 0;
    let family: Family | null = null;
    let type: RouteType = 'unicast';
    let dstSeen = false;
    let dst: Prefix | null = null;
    const spec: Omit<RouteSpec, 'family' | 'type' | 'dst' | 'text'> = {
      via: null,
      dev: null,
      src: null,
      table: 254,
      metric: null,
      scope: null,
      protocol: null,
      tos: 0,
      onlink: false,
      mtu: null,
      pref: null,
      noTrack: false,
    };
    if (t[0] === 'type') {
      i++;
      if (!ROUTE_TYPES.includes(t[i] as RouteType)) throw new Fail(`route type "${t[i] ?? ''}" is not supported`);
    }
    if (ROUTE_TYPES.includes(t[i] as RouteType)) type = t[i++] as RouteType;
    const seen = new Set<string>();
    const once = (k: string) => {
      if (seen.has(k)) throw new Fail(`"${k}" given twice`);
      seen.add(k);
    };
    while (i < t.length) {
      const w = t[i++]!;
      const next = () => t[i++];
      switch (w) {
        case 'to': {
          if (dstSeen) throw new Fail('more than one destination');
          const p = prefix(next(), 'to', true);
          if (p.family) family = setFamily(family, p.family, 'the destination');
          dst = p.prefix;
          dstSeen = true;
          break;
        }
        case 'via':
        case 'gw': {
          once('via');
          let v = next();
          if (v === 'inet' || v === 'inet6') v = next();
          const a = address(v, w);
          family = setFamily(family, a.family, `gateway ${v}`);
          spec.via = a.bytes;
          break;
        }
        case 'dev':
        case 'oif':
          once('dev');
          spec.dev = ifName(next(), w);
          break;
        case 'src': {
          once('src');
          const v = next();
          const a = address(v, 'src');
          family = setFamily(family, a.family, `source ${v}`);
          spec.src = a.bytes;
          break;
        }
        case 'table':
          once('table');
          spec.table = tableId(next());
          break;
        case 'metric':
        case 'preference':
        case 'priority':
          once('metric');
          spec.metric = uint(next(), w);
          break;
        case 'scope': {
          once('scope');
          const v = next();
          spec.scope = v !== undefined && Object.hasOwn(SCOPES, v) ? SCOPES[v]! : uint(v, 'scope (host, link, global, site, nowhere or 0-255)', 255);
          break;
        }
        case 'proto':
        case 'protocol':
          once('proto');
          spec.protocol = protocol(next());
          break;
        case 'tos':
        case 'dsfield':
          once('tos');
          spec.tos = uint(next(), w, 255);
          break;
        case 'onlink':
          spec.onlink = true;
          break;
        case 'mtu': {
          once('mtu');
          let v = next();
          if (v === 'lock') throw new Fail('"mtu lock" is not supported');
          spec.mtu = uint(v, 'mtu');
          break;
        }
        case 'pref': {
          once('pref');
          const v = next();
          const p = v === 'medium' ? 0 : v === 'high' ? 1 : v === 'low' ? 3 : -1;
          if (p < 0) throw new Fail(`pref "${v ?? ''}" must be low, medium or high`);
          spec.pref = p;
          break;
        }
        case 'no_track':
          spec.noTrack = true;
          break;
        default:
          if (UNSUPPORTED_ROUTE.has(w)) throw new Fail(`route option "${w}" is not supported by vipd`);
          if (ROUTE_TYPES.includes(w as RouteType)) throw new Fail(`route type "${w}" must come first`);
          if (!dstSeen && (w === 'default' || w === 'all' || w === 'any' || /^[0-9a-fA-F:.]+(\/\d+)?$/.test(w))) {
            const p = prefix(w, 'destination', true);
            if (p.family) family = setFamily(family, p.family, 'the destination');
            dst = p.prefix;
            dstSeen = true;
            break;
          }
          throw new Fail(`unknown route option "${w}"`);
      }
    }
    if (!dstSeen) throw new Fail('no destination (a prefix or "default")');
    const fam: Family = family ?? opts.family ?? 4;
    if (spec.pref !== null && fam !== 6) throw new Fail('"pref" applies to IPv6 routes only');
    if (type === 'unicast' && !spec.via && !spec.dev) throw new Fail('a unicast route needs "via" or "dev"');
    if ((type === 'blackhole' || type === 'unreachable' || type === 'prohibit' || type === 'throw') && spec.via) {
      throw new Fail(`a ${type} route cannot have a gateway`);
    }
    if (spec.onlink && !spec.via) throw new Fail('"onlink" needs a gateway ("via")');
    const warnings: string[] = [];
    // As keepalived: a tracked route (one with an interface and without no_track) must carry
    // proto keepalived, so another protocol is reset (with a warning).
    if (spec.protocol !== null && spec.protocol !== PROTO_KEEPALIVED && spec.dev && !spec.noTrack) {
      warnings.push(`route "${t.join(' ')}": a tracked route must be proto keepalived (18); protocol reset (add no_track to keep it)`);
      spec.protocol = null;
    }
    return { ok: true, spec: { family: fam, type, dst, ...spec, text: t.join(' ') }, warnings };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: `route "${tokens(text).join(' ')}": ${e.error}` };
    return { ok: false, error: `route "${String(text)}": ${String(e)}` };
  }
}

/** Parse one `virtual_rules` line. `family` applies when the rule has no address (e.g. `fwmark 1 table 100`). */
export function parseRuleSpec(text: string, opts: { family?: Family } = {}): SpecResult<RuleSpec> {
  try {
    const t = tokens(text);
    if (t.length === 0) return { ok: false, error: 'empty rule' };
    let family: Family | null = null;
    let action: RuleAction | null = null;
    const spec: Omit<RuleSpec, 'family' | 'action' | 'text'> = {
      table: null,
      priority: null,
      from: null,
      to: null,
      not: false,
      fwmark: null,
      fwmask: null,
      iif: null,
      oif: null,
      tos: 0,
      goto: null,
      suppressPrefixlen: null,
      protocol: null,
      noTrack: false,
    };
    const seen = new Set<string>();
    const once = (k: string) => {
      if (seen.has(k)) throw new Fail(`"${k}" given twice`);
      seen.add(k);
    };
    const setAction = (a: RuleAction) => {
      if (action !== null && action !== a) throw new Fail(`more than one action ("${action}" and "${a}")`);
      action = a;
    };
    let i = 0;
    while (i < t.length) {
      const w = t[i++]!;
      const next = () => t[i++];
      switch (w) {
        case 'not':
          spec.not = true;
          break;
        case 'from':
        case 'to': {
          once(w);
          const p = prefix(next(), w, false);
          if (p.family) family = setFamily(family, p.family, `"${w}"`);
          spec[w] = p.prefix;
          break;
        }
        case 'tos':
        case 'dsfield':
          once('tos');
          spec.tos = uint(next(), w, 255);
          break;
        case 'fwmark': {
          once('fwmark');
          const v = next();
          const [mark, mask] = (v ?? '').split('/');
          spec.fwmark = uint(v === undefined ? undefined : mark, 'fwmark');
          if (mask !== undefined) spec.fwmask = uint(mask, 'fwmark mask');
          break;
        }
        case 'iif':
        case 'dev':
          once('iif');
          spec.iif = ifName(next(), w);
          break;
        case 'oif':
          once('oif');
          spec.oif = ifName(next(), w);
          break;
        case 'priority':
        case 'preference':
        case 'pref':
        case 'order':
          once('priority');
          spec.priority = uint(next(), w);
          break;
        case 'table':
        case 'lookup':
          once('table');
          setAction('table');
          spec.table = tableId(next());
          break;
        case 'goto':
          once('goto');
          setAction('goto');
          spec.goto = uint(next(), 'goto');
          break;
        case 'suppress_prefixlength':
        case 'sup_pl':
          once('suppress_prefixlength');
          spec.suppressPrefixlen = uint(next(), w, 128);
          break;
        case 'protocol':
        case 'proto':
          once('protocol');
          spec.protocol = protocol(next());
          break;
        case 'type': {
          const v = next();
          if (v !== 'blackhole' && v !== 'unreachable' && v !== 'prohibit' && v !== 'nop' && v !== 'unicast') {
            throw new Fail(`rule type "${v ?? ''}" is not supported (blackhole, unreachable, prohibit, nop)`);
          }
          if (v !== 'unicast') setAction(v);
          break;
        }
        case 'blackhole':
        case 'unreachable':
        case 'prohibit':
        case 'nop':
          setAction(w);
          break;
        case 'no_track':
          spec.noTrack = true;
          break;
        default:
          if (UNSUPPORTED_RULE.has(w)) throw new Fail(`rule option "${w}" is not supported by vipd`);
          throw new Fail(`unknown rule option "${w}"`);
      }
    }
    const act: RuleAction = action ?? 'table';
    if (act === 'table' && spec.table === null) throw new Fail('no action: give "table N" (or goto, blackhole, unreachable, prohibit, nop)');
    if (spec.fwmask !== null && spec.fwmark === null) throw new Fail('fwmark mask without fwmark');
    const warnings: string[] = [];
    if (spec.priority === null) {
      // As keepalived 2.2.7: a rule without a preference gets 16384, so that it can be deleted exactly.
      warnings.push(`rule "${t.join(' ')}": no preference given, using ${DEFAULT_RULE_PRIORITY}`);
      spec.priority = DEFAULT_RULE_PRIORITY;
    }
    return { ok: true, spec: { family: family ?? opts.family ?? 4, action: act, ...spec, text: t.join(' ') }, warnings };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: `rule "${tokens(text).join(' ')}": ${e.error}` };
    return { ok: false, error: `rule "${String(text)}": ${String(e)}` };
  }
}
