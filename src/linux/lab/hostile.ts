/**
 * Hostile VRRP traffic for the reliability tests: malformed and adversarial adverts, each with the counter a
 * receiving vipd must file it under. Pure (no I/O): blaster-child.ts sends what this builds.
 *
 * Every packet is a VRRP message for the kernel's raw socket (it adds the IP header), plus the TTL / hop limit,
 * the destination and the counter it must land in on each receiver. Packets that must be rejected are built so
 * that exactly one receive check fails (the checksum is recomputed after the corruption, unless the checksum is
 * the corruption), so the expected counter is known by construction, not by asking the decoder.
 */
import { finish, ipv4PseudoSum, ipv6PseudoSum, sum16 } from '../../wire/checksum.js';
import { parseIP } from '../../wire/inet.js';
import { AUTH_PASS, decodeVrrp, encodeAdvert, passAuthData, VRRP_PROTO, type Advert } from '../../wire/vrrp.js';

/** What the hostile traffic aims at (as configured on the routers under test). */
export interface HostileTarget {
  /** IPv4 source of the attacker (its own LAN address: the kernel refuses other sources on a raw socket without IP_HDRINCL). */
  src4: string;
  /** IPv6 source of the attacker, or null to send no IPv6. */
  src6: string | null;
  /** v3 IPv4 multicast instance. */
  v3: { vrid: number; vips: string[] };
  /** v2 IPv4 instance with auth PASS. */
  v2: { vrid: number; vips: string[]; pass: string; intervalSec: number };
  /** v3 IPv6 instance, or null. */
  v6: { vrid: number; vips: string[] } | null;
  /** Unicast v3 instance: its VRID and the unicast address of one router (not a peer of the attacker). */
  unicast: { vrid: number; vips: string[]; dst: string } | null;
  /** VRIDs configured anywhere (wrong-VRID packets avoid them). */
  configuredVrids: number[];
}

/** Where a packet must be counted: a counter of the instance with that VRID, or nowhere (no instance matches). */
export type Expect = { vrid: number; counter: string } | { vrid: null; counter: 'unmatched' };

export interface HostilePacket {
  family: 4 | 6;
  payload: Uint8Array;
  ttl: number;
  /** null: the VRRP multicast group. */
  dst: string | null;
  expect: Expect;
}

export const HOSTILE_CLASSES = [
  'random', // random bytes after a valid version/VRID prefix or none at all
  'version', // version 0, 1, 4..15
  'type', // type 0, 2..15
  'count_zero', // count of addresses 0
  'length', // count disagrees with the length
  'truncated', // a valid advert cut short
  'zero_interval', // interval 0
  'checksum', // wrong checksum
  'ttl', // TTL below 255 with a higher priority: an off-link attacker trying to take over
  'wrong_vrid', // VRID configured nowhere
  'version_mismatch', // v2 advert at the v3 instance
  'auth_type_invalid', // v2 auth type 3..255
  'auth_type_mismatch', // v2 auth type 0 / 2 at a PASS instance
  'auth_failure', // v2 wrong password
  'interval_mismatch', // v2 interval differs
  'v2_addr_list', // v2 address list differs, priority < 255 (RFC 3768: drop)
  'v6_hop_limit', // IPv6 hop limit below 255
  'v6_version', // IPv6 version 2 (VRRPv2 is IPv4 only)
  'v6_length', // IPv6 count disagrees with length
  'unicast_non_peer', // unicast from an address that is not a configured peer
  'prio255', // a VALID advert with priority 255 from a router that owns nothing: VRRP cannot tell (not in the default mix)
  'prio_low', // a VALID advert with priority 1: a master hears a lower priority (not in the default mix)
] as const;
export type HostileClass = (typeof HOSTILE_CLASSES)[number];

/** A small fast deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GROUP4 = parseIP('224.0.0.18')!.bytes;
const GROUP6 = parseIP('ff02::12')!.bytes;

/** Builds hostile packets of every class for one target. */
export class HostileFactory {
  private readonly r: () => number;
  private readonly src4: Uint8Array;
  private readonly src6: Uint8Array | null;
  private readonly uniDst: Uint8Array | null;
  readonly classes: HostileClass[];

  constructor(
    readonly target: HostileTarget,
    seed: number,
  ) {
    this.r = rng(seed);
    this.src4 = parseIP(target.src4)!.bytes;
    this.src6 = target.src6 ? parseIP(target.src6)!.bytes : null;
    this.uniDst = target.unicast ? parseIP(target.unicast.dst)!.bytes : null;
    this.classes = HOSTILE_CLASSES.filter((c) => {
      if (c.startsWith('v6_')) return target.v6 !== null && target.src6 !== null;
      if (c === 'unicast_non_peer') return target.unicast !== null;
      return c !== 'prio255' && c !== 'prio_low';
    });
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }

  /** A valid advert (before corruption). */
  private valid(over: Partial<Advert> & { family?: 4 | 6 }, dst: Uint8Array | null = null): Uint8Array {
    const t = this.target;
    const family = over.family ?? 4;
    const version = over.version ?? 3;
    const base: Advert =
      version === 2
        ? { version: 2, family: 4, vrid: t.v2.vrid, priority: 200, interval: t.v2.intervalSec, addresses: t.v2.vips, authType: AUTH_PASS, authData: passAuthData(t.v2.pass) }
        : family === 6
          ? { version: 3, family: 6, vrid: t.v6!.vrid, priority: 200, interval: 100, addresses: t.v6!.vips, authType: 0, authData: new Uint8Array(0) }
          : { version: 3, family: 4, vrid: t.v3.vrid, priority: 200, interval: 100, addresses: t.v3.vips, authType: 0, authData: new Uint8Array(0) };
    const adv: Advert = { ...base, ...over, family, version } as Advert;
    const enc = encodeAdvert(adv, { src: family === 4 ? this.src4 : this.src6!, dst: dst ?? (family === 4 ? GROUP4 : GROUP6) });
    if (!enc.ok) throw new Error(`hostile: cannot encode the base advert: ${enc.error}`);
    return enc.bytes;
  }

  /** Recompute the checksum in the form the receiver tries first (pseudo-header for v3, plain for v2). */
  private fix(msg: Uint8Array, family: 4 | 6, dst: Uint8Array | null = null): Uint8Array {
    msg[6] = 0;
    msg[7] = 0;
    let s = sum16(msg, 0, msg.length);
    const version = msg[0]! >> 4;
    const d = dst ?? (family === 4 ? GROUP4 : GROUP6);
    if (family === 6) s += ipv6PseudoSum(this.src6!, d, VRRP_PROTO, msg.length);
    else if (version !== 2) s += ipv4PseudoSum(this.src4, d, VRRP_PROTO, msg.length);
    const c = finish(s);
    msg[6] = c >> 8;
    msg[7] = c & 0xff;
    return msg;
  }

  private v4(payload: Uint8Array, counter: string, vrid: number | null = this.target.v3.vrid, ttl = 255): HostilePacket {
    return { family: 4, payload, ttl, dst: null, expect: vrid === null ? { vrid: null, counter: 'unmatched' } : { vrid, counter } };
  }

  private v6(payload: Uint8Array, counter: string, ttl = 255): HostilePacket {
    return { family: 6, payload, ttl, dst: null, expect: { vrid: this.target.v6!.vrid, counter } };
  }

  /** One packet of the given class. */
  make(cls: HostileClass): HostilePacket {
    const t = this.target;
    switch (cls) {
      case 'random': {
        // Random bytes with the VRID byte of the v3 instance, so that the packet reaches its checks; whatever
        // check fails first names the counter (computed with the receiver's own rules by the decoder, the one
        // class where the expectation is not by construction). A packet that happens to decode is not sent.
        for (;;) {
          const len = this.int(2, 64);
          const b = new Uint8Array(len);
          for (let i = 0; i < len; i++) b[i] = this.int(0, 255);
          b[1] = t.v3.vrid;
          if (this.r() < 0.5) b[0] = (this.pick([2, 3]) << 4) | (b[0]! & 0x0f); // reach deeper checks half the time
          const d = decodeVrrp(b, 4, this.src4, GROUP4, 255, { checksum: 'either' });
          if (d.ok) continue;
          if (d.reason === 'vrid') return this.v4(b, 'unmatched', null); // VRID 0 is never matched
          return this.v4(b, REASON_TO_COUNTER[d.reason]!);
        }
      }
      case 'version': {
        const m = this.valid({});
        m[0] = (this.pick([0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]) << 4) | (m[0]! & 0x0f);
        return this.v4(this.fix(m, 4), 'version_err');
      }
      case 'type': {
        const m = this.valid({});
        m[0] = (m[0]! & 0xf0) | this.pick([0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        return this.v4(this.fix(m, 4), 'invalid_type_rcvd');
      }
      case 'count_zero': {
        // Count 0 with a message of exactly 8 bytes (consistent length), so only the count check fails.
        const m = this.valid({}).slice(0, 8);
        m[3] = 0;
        return this.v4(this.fix(m, 4), 'addr_list_err');
      }
      case 'length': {
        const m = this.valid({});
        const n = t.v3.vips.length;
        m[3] = this.pick([0, n + 1, n + 6, 255]); // 0 too: the length check comes before the count check
        return this.v4(this.fix(m, 4), 'packet_len_err');
      }
      case 'truncated': {
        const full = this.valid({});
        return this.v4(full.slice(0, this.int(2, full.length - 1)), 'packet_len_err');
      }
      case 'zero_interval': {
        const m = this.valid({});
        m[4] = this.int(0, 15) << 4; // reserved bits may be anything; the 12-bit interval is 0
        m[5] = 0;
        return this.v4(this.fix(m, 4), 'advert_interval_err');
      }
      case 'checksum': {
        const m = this.valid({});
        const good = (m[6]! << 8) | m[7]!;
        // Neither form may verify: avoid the plain (RFC 9568) checksum too.
        m[6] = 0;
        m[7] = 0;
        const plain = finish(sum16(m, 0, m.length));
        let bad: number;
        do bad = this.int(0, 0xffff);
        while (bad === good || bad === plain);
        m[6] = bad >> 8;
        m[7] = bad & 0xff;
        return this.v4(m, 'checksum_err');
      }
      case 'ttl':
        return this.v4(this.valid({ priority: 254 }), 'ip_ttl_err', t.v3.vrid, this.int(1, 254));
      case 'wrong_vrid': {
        let vrid: number;
        do vrid = this.int(1, 255);
        while (t.configuredVrids.includes(vrid));
        return this.v4(this.valid({ vrid, priority: 254 }), 'unmatched', null);
      }
      case 'version_mismatch': {
        // A well-formed v2 advert (v2 checksum) with the v3 instance's VRID.
        const adv: Partial<Advert> = { version: 2, vrid: t.v3.vrid, priority: 254, addresses: t.v3.vips, interval: 1, authType: 0, authData: new Uint8Array(8) };
        return this.v4(this.valid(adv), 'version_err');
      }
      case 'auth_type_invalid': {
        const m = this.valid({ version: 2 });
        m[4] = this.int(3, 255);
        return this.v4(this.fix(m, 4), 'invalid_authtype', t.v2.vrid);
      }
      case 'auth_type_mismatch':
        return this.v4(this.valid({ version: 2, authType: this.pick([0, 2]), priority: 254 }), 'authtype_mismatch', t.v2.vrid);
      case 'auth_failure': {
        const pw = new Uint8Array(8);
        for (let i = 0; i < 8; i++) pw[i] = this.int(0, 255);
        const want = passAuthData(t.v2.pass);
        if (pw.every((x, i) => x === want[i])) pw[0] = want[0]! ^ 1;
        return this.v4(this.valid({ version: 2, authData: pw, priority: 254 }), 'auth_failure', t.v2.vrid);
      }
      case 'interval_mismatch': {
        let iv: number;
        do iv = this.int(1, 255);
        while (iv === t.v2.intervalSec);
        return this.v4(this.valid({ version: 2, interval: iv, priority: 254 }), 'advert_interval_err', t.v2.vrid);
      }
      case 'v2_addr_list':
        return this.v4(this.valid({ version: 2, addresses: ['192.0.2.250'], priority: 254 }), 'addr_list_err', t.v2.vrid);
      case 'v6_hop_limit':
        return this.v6(this.valid({ family: 6, priority: 254 }), 'ip_ttl_err', this.int(1, 254));
      case 'v6_version': {
        const m = this.valid({ family: 6 });
        m[0] = (2 << 4) | 1;
        return this.v6(this.fix(m, 6), 'version_err');
      }
      case 'v6_length': {
        const m = this.valid({ family: 6 });
        const n = t.v6!.vips.length;
        m[3] = this.pick([n + 1, n + 4, 255]);
        return this.v6(this.fix(m, 6), 'packet_len_err');
      }
      case 'prio255':
        return this.v4(this.valid({ priority: 255 }), 'advert_rcvd');
      case 'prio_low':
        return this.v4(this.valid({ priority: 1 }), 'advert_rcvd');
      case 'unicast_non_peer': {
        const u = t.unicast!;
        const m = this.valid({ vrid: u.vrid, addresses: u.vips, priority: 254 }, this.uniDst);
        return { family: 4, payload: m, ttl: 255, dst: u.dst, expect: { vrid: u.vrid, counter: 'unicast_peer_err' } };
      }
    }
  }
}

/** keepalived's counter per decoder rejection reason (as src/daemon/instance.ts files them). */
const REASON_TO_COUNTER: Record<string, string> = {
  ip_header: 'other_err',
  ttl: 'ip_ttl_err',
  length: 'packet_len_err',
  version: 'version_err',
  type: 'invalid_type_rcvd',
  address_count: 'addr_list_err',
  zero_interval: 'advert_interval_err',
  checksum: 'checksum_err',
  auth_type_invalid: 'invalid_authtype',
  ipv6_first_not_link_local: 'addr_list_err',
};

/** Expected counts: "vrid:counter" (or "unmatched") -> packets, per receiver kind. */
export type Tally = Record<string, number>;

export function expectKey(e: Expect): string {
  return e.vrid === null ? 'unmatched' : `${e.vrid}:${e.counter}`;
}
