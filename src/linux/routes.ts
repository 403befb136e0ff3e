/**
 * Routes and policy rules for `virtual_routes` / `virtual_rules`, over rtnetlink (no `ip` subprocess).
 *
 *   const nl = Rtnl.open();
 *   const rt = new Routes(nl);
 *   const r = parseRouteSpec('192.0.2.0/24 via 198.51.100.254 dev eth0 table 100');   // src/wire/route-spec.ts
 *   if (r.ok) await rt.addRoute(r.spec);          // ... and rt.delRoute(r.spec) when leaving master
 *   await rt.addRule(parseRuleSpec('from 192.0.2.0/24 table 100').spec);
 *
 * Routes and rules are marked `proto keepalived` (18) unless the line says otherwise, as keepalived
 * does. `addRoute` is exclusive (an identical route is EEXIST) unless `{ replace: true }`;
 * `delRoute`/`delRule` with `{ ignoreMissing: true }` resolve to false when there was nothing to delete.
 */
import { formatIP } from '../wire/inet.js';
import {
  AF_INET,
  AF_INET6,
  FR_ACT_BLACKHOLE,
  FR_ACT_GOTO,
  FR_ACT_NOP,
  FR_ACT_PROHIBIT,
  FR_ACT_TO_TBL,
  FR_ACT_UNREACHABLE,
  RTM_NEWROUTE,
  RTM_NEWRULE,
  RTN_ANYCAST,
  RTN_BLACKHOLE,
  RTN_BROADCAST,
  RTN_LOCAL,
  RTN_MULTICAST,
  RTN_PROHIBIT,
  RTN_THROW,
  RTN_UNICAST,
  RTN_UNREACHABLE,
  encodeGetRoutes,
  encodeGetRules,
  encodeRoute,
  encodeRule,
  parseRoute,
  parseRule,
  type RouteInfo,
  type RouteMsg,
  type RuleInfo,
  type RuleMsg,
} from '../wire/netlink.js';
import type { RouteSpec, RouteType, RuleAction, RuleSpec } from '../wire/route-spec.js';
import { SysError, native } from './native.js';
import type { Rtnl } from './rtnetlink.js';

export type { RouteSpec, RuleSpec } from '../wire/route-spec.js';
export type { RouteInfo, RuleInfo } from '../wire/netlink.js';

const RTN: Record<RouteType, number> = {
  unicast: RTN_UNICAST,
  local: RTN_LOCAL,
  broadcast: RTN_BROADCAST,
  anycast: RTN_ANYCAST,
  multicast: RTN_MULTICAST,
  blackhole: RTN_BLACKHOLE,
  unreachable: RTN_UNREACHABLE,
  prohibit: RTN_PROHIBIT,
  throw: RTN_THROW,
};

const FR_ACT: Record<RuleAction, number> = {
  table: FR_ACT_TO_TBL,
  goto: FR_ACT_GOTO,
  nop: FR_ACT_NOP,
  blackhole: FR_ACT_BLACKHOLE,
  unreachable: FR_ACT_UNREACHABLE,
  prohibit: FR_ACT_PROHIBIT,
};

/** "route 192.0.2.0/24 via 192.0.2.254 dev eth0" (the line as written, or rebuilt from the spec). */
export function describeRoute(spec: RouteSpec): string {
  if (spec.text) return `route ${spec.text}`;
  const dst = spec.dst ? `${formatIP(spec.family, spec.dst.address)}/${spec.dst.prefixlen}` : 'default';
  const parts = [spec.type === 'unicast' ? '' : spec.type, dst];
  if (spec.via) parts.push(`via ${formatIP(spec.family, spec.via)}`);
  if (spec.dev) parts.push(`dev ${spec.dev}`);
  if (spec.table !== 254) parts.push(`table ${spec.table}`);
  return `route ${parts.filter(Boolean).join(' ')}`;
}

export function describeRule(spec: RuleSpec): string {
  if (spec.text) return `rule ${spec.text}`;
  const p = (x: RuleSpec['from']) => (x ? `${formatIP(spec.family, x.address)}/${x.prefixlen}` : 'all');
  return `rule from ${p(spec.from)} to ${p(spec.to)} ${spec.action === 'table' ? `table ${spec.table}` : spec.action}`;
}

function why(name: string, kind: 'route' | 'rule', op: 'add' | 'del'): string | null {
  switch (name) {
    case 'EEXIST':
      return 'already present';
    case 'ESRCH':
      return op === 'del' ? `${kind} not present` : null;
    case 'ENOENT':
      return op === 'del' ? `${kind} not present` : null;
    case 'ENETUNREACH':
      return 'the gateway is not reachable from a directly connected network (Network is unreachable)';
    case 'ENODEV':
      return 'no such interface';
    case 'EADDRNOTAVAIL':
      return 'the source address is not configured on this host';
    case 'EPERM':
      return 'operation not permitted (needs root or CAP_NET_ADMIN)';
    case 'EAFNOSUPPORT':
      return 'address family not supported (IPv6 disabled?)';
    default:
      return null;
  }
}

function rewrap(e: unknown, what: string, kind: 'route' | 'rule', op: 'add' | 'del'): SysError {
  const err = e as SysError;
  if (!(err instanceof SysError)) return new SysError(`${what}: ${String((e as Error)?.message ?? e)}`, 0, 'EUNKNOWN');
  const text = why(err.code, kind, op);
  const kernel = /\[kernel: [^\]]*\]$/.exec(err.message)?.[0];
  const msg = text ? `${what}: ${text} (${err.code})${kernel ? ` ${kernel}` : ''}` : err.message;
  return new SysError(msg, err.errno, err.code);
}

function ifindexOf(name: string, what: string): number {
  const i = native().ifNameToIndex(name);
  if (!i) throw new SysError(`${what}: interface ${name} not found`, 19, 'ENODEV');
  return i;
}

function checkRoute(spec: RouteSpec): string | null {
  if (!spec || (spec.family !== 4 && spec.family !== 6)) return 'route spec has no family';
  const alen = spec.family === 4 ? 4 : 16;
  const ok = (b: Uint8Array | null | undefined) => b == null || (b instanceof Uint8Array && b.length === alen);
  if (!(spec.type in RTN)) return `route type ${String(spec.type)} not supported`;
  if (spec.dst && (!ok(spec.dst.address) || !(spec.dst.prefixlen >= 0 && spec.dst.prefixlen <= alen * 8))) return 'bad destination prefix';
  if (!ok(spec.via) || !ok(spec.src)) return `gateway and source must be IPv${spec.family} addresses`;
  if (!Number.isInteger(spec.table) || spec.table <= 0 || spec.table > 0xffffffff) return `bad table ${spec.table}`;
  return null;
}

function routeMsg(spec: RouteSpec, what: string): RouteMsg {
  const m: RouteMsg = {
    family: spec.family,
    type: RTN[spec.type],
    dst: spec.dst ? spec.dst.address : null,
    dstLen: spec.dst ? spec.dst.prefixlen : 0,
    gateway: spec.via,
    prefsrc: spec.src,
    table: spec.table,
    tos: spec.tos || undefined,
    onlink: spec.onlink,
  };
  if (spec.dev) m.oif = ifindexOf(spec.dev, what);
  if (spec.metric !== null) m.metric = spec.metric;
  if (spec.scope !== null) m.scope = spec.scope;
  if (spec.protocol !== null) m.protocol = spec.protocol;
  if (spec.mtu !== null) m.mtu = spec.mtu;
  if (spec.pref !== null) m.pref = spec.pref;
  return m;
}

function ruleMsg(spec: RuleSpec): RuleMsg {
  const m: RuleMsg = {
    family: spec.family,
    action: FR_ACT[spec.action],
    invert: spec.not,
    tos: spec.tos || undefined,
  };
  if (spec.table !== null) m.table = spec.table;
  if (spec.priority !== null) m.priority = spec.priority;
  if (spec.from) {
    m.src = spec.from.address;
    m.srcLen = spec.from.prefixlen;
  }
  if (spec.to) {
    m.dst = spec.to.address;
    m.dstLen = spec.to.prefixlen;
  }
  if (spec.fwmark !== null) m.fwmark = spec.fwmark;
  if (spec.fwmask !== null) m.fwmask = spec.fwmask;
  if (spec.iif) m.iifname = spec.iif;
  if (spec.oif) m.oifname = spec.oif;
  if (spec.goto !== null) m.goto = spec.goto;
  if (spec.suppressPrefixlen !== null) m.suppressPrefixlen = spec.suppressPrefixlen;
  if (spec.protocol !== null) m.protocol = spec.protocol;
  return m;
}

function checkRule(spec: RuleSpec): string | null {
  if (!spec || (spec.family !== 4 && spec.family !== 6)) return 'rule spec has no family';
  if (!(spec.action in FR_ACT)) return `rule action ${String(spec.action)} not supported`;
  const alen = spec.family === 4 ? 4 : 16;
  for (const p of [spec.from, spec.to]) {
    if (p && (!(p.address instanceof Uint8Array) || p.address.length !== alen)) return `rule addresses must be IPv${spec.family}`;
  }
  if (spec.action === 'table' && (spec.table === null || !Number.isInteger(spec.table) || spec.table <= 0)) return 'rule has no table';
  return null;
}

/** Route and rule operations on an Rtnl request socket. */
export class Routes {
  constructor(private readonly nl: Rtnl) {}

  async addRoute(spec: RouteSpec, opts: { replace?: boolean } = {}): Promise<void> {
    const what = `add ${describeRoute(spec)}`;
    const bad = checkRoute(spec);
    if (bad) throw new SysError(`${what}: ${bad}`, 22, 'EINVAL');
    const m = routeMsg(spec, what);
    try {
      await this.nl.request((s) => encodeRoute(s, 'add', m, opts), what);
    } catch (e) {
      throw rewrap(e, what, 'route', 'add');
    }
  }

  /** Delete a route; with ignoreMissing, false when it was not there. */
  async delRoute(spec: RouteSpec, opts: { ignoreMissing?: boolean } = {}): Promise<boolean> {
    const what = `delete ${describeRoute(spec)}`;
    const bad = checkRoute(spec);
    if (bad) throw new SysError(`${what}: ${bad}`, 22, 'EINVAL');
    let m: RouteMsg;
    try {
      m = routeMsg(spec, what);
    } catch (e) {
      // The interface is gone, and the kernel removed its routes with it.
      if (opts.ignoreMissing && (e as SysError).code === 'ENODEV') return false;
      throw e;
    }
    try {
      await this.nl.request((s) => encodeRoute(s, 'del', m), what);
      return true;
    } catch (e) {
      const code = (e as SysError).code;
      if (opts.ignoreMissing && (code === 'ESRCH' || code === 'ENOENT')) return false;
      throw rewrap(e, what, 'route', 'del');
    }
  }

  async addRule(spec: RuleSpec): Promise<void> {
    const what = `add ${describeRule(spec)}`;
    const bad = checkRule(spec);
    if (bad) throw new SysError(`${what}: ${bad}`, 22, 'EINVAL');
    const m = ruleMsg(spec);
    try {
      await this.nl.request((s) => encodeRule(s, 'add', m), what);
    } catch (e) {
      throw rewrap(e, what, 'rule', 'add');
    }
  }

  async delRule(spec: RuleSpec, opts: { ignoreMissing?: boolean } = {}): Promise<boolean> {
    const what = `delete ${describeRule(spec)}`;
    const bad = checkRule(spec);
    if (bad) throw new SysError(`${what}: ${bad}`, 22, 'EINVAL');
    const m = ruleMsg(spec);
    try {
      await this.nl.request((s) => encodeRule(s, 'del', m), what);
      return true;
    } catch (e) {
      const code = (e as SysError).code;
      if (opts.ignoreMissing && (code === 'ENOENT' || code === 'ESRCH')) return false;
      throw rewrap(e, what, 'rule', 'del');
    }
  }

  /** Every route of a family (all tables). */
  async listRoutes(family: 4 | 6): Promise<RouteInfo[]> {
    const msgs = await this.nl.request((s) => encodeGetRoutes(s, family === 4 ? AF_INET : AF_INET6), 'dump routes', true);
    const out: RouteInfo[] = [];
    for (const m of msgs) {
      if (m.type !== RTM_NEWROUTE) continue;
      const r = parseRoute(m);
      if (r) out.push(r);
    }
    return out;
  }

  async listRules(family: 4 | 6): Promise<RuleInfo[]> {
    const msgs = await this.nl.request((s) => encodeGetRules(s, family === 4 ? AF_INET : AF_INET6), 'dump rules', true);
    const out: RuleInfo[] = [];
    for (const m of msgs) {
      if (m.type !== RTM_NEWRULE) continue;
      const r = parseRule(m);
      if (r) out.push(r);
    }
    return out;
  }
}
