/**
 * VRRP advertisement codec: VRRPv2 (RFC 3768) over IPv4 and VRRPv3 (RFC 5798 / RFC 9568) over IPv4 and IPv6.
 *
 * Pure: bytes in, typed values or a typed rejection out. No function here throws on any input.
 *
 *   v2 (RFC 3768 §5.1), 16 + 4n bytes            v3 (RFC 5798 §5.1), 8 + 4n (IPv4) / 8 + 16n (IPv6) bytes
 *   | Ver=2 | Type=1 | VRID | Priority | Count |   | Ver=3 | Type=1 | VRID | Priority | Count |
 *   | AuthType | AdverInt (s) | Checksum       |   | Rsvd(4) | MaxAdverInt (12 bits, cs) | Checksum |
 *   | IPv4 address x n | Auth Data (8 bytes)   |   | IPv4 x n  or  IPv6 x n |
 */
import { finish, ipv4PseudoSum, ipv6PseudoSum, sum16 } from './checksum.js';
import { formatIP, isIPv6LinkLocal, parseIP, type Family } from './inet.js';

export const VRRP_PROTO = 112;
export const VRRP_GROUP4 = '224.0.0.18';
export const VRRP_GROUP6 = 'ff02::12';
export const VRRP_TTL = 255;
export const ADVERT_TYPE = 1;

export type VrrpVersion = 2 | 3;

/**
 * Which checksum computation a packet used.
 * - `v2`: RFC 3768, over the VRRP message only.
 * - `pseudo`: v3 with the IP pseudo-header (always for IPv6; for IPv4 the keepalived / FRR default).
 * - `plain`: v3 over IPv4 without a pseudo-header (RFC 9568 §5.2.8, Cisco, keepalived `v3_checksum_as_v2`).
 */
export type ChecksumForm = 'v2' | 'pseudo' | 'plain';

/** What a v3-over-IPv4 receiver accepts. IPv6 always uses the pseudo-header; v2 never does. */
export type ChecksumAccept = 'pseudo' | 'plain' | 'either';

export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;

/** A decoded (or to-be-encoded) VRRP advertisement. */
export interface Advert {
  version: VrrpVersion;
  family: Family;
  vrid: number;
  priority: number;
  /** v2: Adver Int in whole seconds (8 bits). v3: Max Adver Int in centiseconds (12 bits). */
  interval: number;
  /** Virtual addresses in canonical text form, in packet order. */
  addresses: string[];
  /** v2 only: 0 none, 1 simple text password, 2 IP AH. Always 0 for v3. */
  authType: number;
  /** v2 only: the 8 bytes of Authentication Data (zero-filled for type 0). Empty for v3. */
  authData: Uint8Array;
}

/** Why a packet was discarded. Each maps to a counter (keepalived's name where it has one, in docs). */
export type RejectReason =
  // Packet-level checks (decode):
  | 'ip_header' // not a well-formed IPv4 header carrying protocol 112
  | 'ttl' // TTL / hop limit != 255 (RFC 5798 §7.1, RFC 3768 §7.1)  [ip_ttl_err]
  | 'length' // truncated, or length inconsistent with the address count  [packet_len_err]
  | 'version' // version field not 2 or 3, or v2 over IPv6  [version errors]
  | 'type' // type field != 1 (advertisement)  [invalid_type_rcvd]
  | 'address_count' // count of addresses is 0 (RFC 9568 erratum 8299)  [addr_list_err]
  | 'zero_interval' // advertisement interval 0 (RFC 9568 erratum 8301)
  | 'checksum' // checksum does not verify in any accepted form  [chksum_err]
  | 'auth_type_invalid' // v2 auth type not 0, 1 or 2  [invalid_authtype]
  | 'ipv6_first_not_link_local' // RFC 9568 erratum 8300 (when required)
  // Instance-level checks (checkAdvert):
  | 'vrid' // VRID not configured on this interface
  | 'version_mismatch' // version differs from the configured one
  | 'auth_type_mismatch' // v2 auth type differs from the configured one  [authtype_mismatch]
  | 'auth_failure' // v2 PASS password differs  [auth_failure]
  | 'interval_mismatch' // v2 Adver Int differs from the local one (RFC 3768 §7.1 MUST discard)
  | 'addr_list' // v2 address list differs and sender is not the owner (RFC 3768 §7.1 MUST drop)  [addr_list_err]
  | 'owner' // we are the address owner and are configured to ignore adverts (RFC 5798 §7.1 / erratum 8298)
  | 'unicast_peer'; // unicast advert from a source that is not a configured peer

export const REJECT_REASONS: readonly RejectReason[] = [
  'ip_header',
  'ttl',
  'length',
  'version',
  'type',
  'address_count',
  'zero_interval',
  'checksum',
  'auth_type_invalid',
  'ipv6_first_not_link_local',
  'vrid',
  'version_mismatch',
  'auth_type_mismatch',
  'auth_failure',
  'interval_mismatch',
  'addr_list',
  'owner',
  'unicast_peer',
];

export interface Rejection {
  ok: false;
  reason: RejectReason;
  detail: string;
}

export interface Decoded {
  ok: true;
  advert: Advert;
  /** IP source and destination in canonical text, and the TTL / hop limit. */
  src: string;
  dst: string;
  ttl: number;
  /** The checksum form that verified. */
  checksumForm: ChecksumForm;
}

export type DecodeResult = Decoded | Rejection;

export interface DecodeOptions {
  /** v3 over IPv4: which checksum forms to accept. Default 'either'. */
  checksum?: ChecksumAccept;
  /** Require TTL / hop limit 255 (RFC). keepalived skips this for unicast with no min_ttl. Default true. */
  requireTtl255?: boolean;
  /** Require the first IPv6 address to be link-local (RFC 9568 erratum 8300; keepalived only in strict mode). Default false. */
  requireLinkLocalFirst?: boolean;
}

/** Information the IPv6 socket delivers beside the payload (IPV6_PKTINFO, IPV6_HOPLIMIT). */
export interface IPv6Meta {
  src: Uint8Array;
  dst: Uint8Array;
  hopLimit: number;
}

function reject(reason: RejectReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}

/** Size of a VRRP message for a version, family and address count. */
export function advertLength(version: VrrpVersion, family: Family, count: number): number {
  const alen = family === 4 ? 4 : 16;
  return version === 2 ? 16 + 4 * count : 8 + alen * count;
}

/**
 * Decode a whole IPv4 datagram as a raw IPv4 socket delivers it (header length from IHL, TTL from the header).
 */
export function decodeIPv4(datagram: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  if (!(datagram instanceof Uint8Array)) return reject('ip_header', 'not a byte buffer');
  if (datagram.length < 20) return reject('ip_header', `datagram of ${datagram.length} bytes is shorter than an IPv4 header`);
  const vihl = datagram[0]!;
  if (vihl >> 4 !== 4) return reject('ip_header', `IP version ${vihl >> 4}, expected 4`);
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20 || ihl > datagram.length) return reject('ip_header', `IHL ${ihl} bytes invalid for a ${datagram.length}-byte datagram`);
  const totalLen = (datagram[2]! << 8) | datagram[3]!;
  // Linux raw sockets deliver tot_len as sent; accept a buffer at least that long and ignore any slack after it.
  if (totalLen < ihl || totalLen > datagram.length) {
    return reject('length', `IP total length ${totalLen} does not fit a ${datagram.length}-byte datagram`);
  }
  const proto = datagram[9]!;
  if (proto !== VRRP_PROTO) return reject('ip_header', `IP protocol ${proto}, expected ${VRRP_PROTO}`);
  const ttl = datagram[8]!;
  const src = datagram.subarray(12, 16);
  const dst = datagram.subarray(16, 20);
  return decodeVrrp(datagram.subarray(ihl, totalLen), 4, src, dst, ttl, opts);
}

/** Decode an IPv6 VRRP payload with the source, destination and hop limit delivered beside it. */
export function decodeIPv6(payload: Uint8Array, meta: IPv6Meta, opts: DecodeOptions = {}): DecodeResult {
  if (!(payload instanceof Uint8Array)) return reject('length', 'not a byte buffer');
  if (!meta || !(meta.src instanceof Uint8Array) || meta.src.length !== 16 || !(meta.dst instanceof Uint8Array) || meta.dst.length !== 16) {
    return reject('ip_header', 'IPv6 source/destination must be 16 bytes each');
  }
  return decodeVrrp(payload, 6, meta.src, meta.dst, meta.hopLimit, opts);
}

/**
 * Decode a VRRP message given its IP context. The receive checks of RFC 5798 §7.1 / RFC 3768 §7.1 that need no
 * local configuration are applied here, in the order the RFCs list them.
 */
export function decodeVrrp(
  msg: Uint8Array,
  family: Family,
  src: Uint8Array,
  dst: Uint8Array,
  ttl: number,
  opts: DecodeOptions = {},
): DecodeResult {
  // RFC 5798 §7.1 / RFC 3768 §7.1: MUST verify that the IP TTL / hop limit is 255.
  if ((opts.requireTtl255 ?? true) && ttl !== VRRP_TTL) return reject('ttl', `TTL/hop limit ${ttl}, expected 255`);
  if (msg.length < 8) return reject('length', `VRRP message of ${msg.length} bytes is shorter than the 8-byte header`);
  const version = msg[0]! >> 4;
  const type = msg[0]! & 0x0f;
  // MUST verify the version field.
  if (version !== 2 && version !== 3) return reject('version', `version ${version}`);
  if (version === 2 && family === 6) return reject('version', 'VRRPv2 is IPv4 only');
  const count = msg[3]!;
  const expected = advertLength(version, family, count);
  // MUST verify that the received packet contains the complete VRRP packet.
  if (msg.length < expected) return reject('length', `${msg.length} bytes for ${count} addresses, expected ${expected}`);
  if (msg.length > expected) return reject('length', `${msg.length} bytes for ${count} addresses, expected ${expected}`);
  // MUST verify the VRRP checksum.
  let form: ChecksumForm;
  const stored = (msg[6]! << 8) | msg[7]!;
  const bodySum = sum16(msg, 0, 6) + sum16(msg, 8, msg.length);
  if (version === 2) {
    if (finish(bodySum) !== stored) return reject('checksum', `checksum 0x${hex4(stored)} does not verify (v2 form)`);
    form = 'v2';
  } else if (family === 6) {
    if (finish(bodySum + ipv6PseudoSum(src, dst, VRRP_PROTO, msg.length)) !== stored) {
      return reject('checksum', `checksum 0x${hex4(stored)} does not verify (IPv6 pseudo-header)`);
    }
    form = 'pseudo';
  } else {
    const accept = opts.checksum ?? 'either';
    const withPseudo = finish(bodySum + ipv4PseudoSum(src, dst, VRRP_PROTO, msg.length)) === stored;
    const plain = finish(bodySum) === stored;
    if (withPseudo && accept !== 'plain') form = 'pseudo';
    else if (plain && accept !== 'pseudo') form = 'plain';
    else {
      const wanted = accept === 'either' ? 'either form' : accept === 'pseudo' ? 'IPv4 pseudo-header form' : 'plain (RFC 9568) form';
      const other = withPseudo ? ' (verifies with the pseudo-header)' : plain ? ' (verifies without the pseudo-header)' : '';
      return reject('checksum', `checksum 0x${hex4(stored)} does not verify in the ${wanted}${other}`);
    }
  }
  // MUST discard unknown types (RFC 5798 §5.2.2).
  if (type !== ADVERT_TYPE) return reject('type', `type ${type}, expected 1 (advertisement)`);
  // RFC 5798 §5.2.3: VRID is 1-255; 0 can never be configured (and could not be re-encoded).
  if (msg[1] === 0) return reject('vrid', 'VRID 0 is outside 1-255');
  // RFC 9568 erratum 8299: a count of 0 is ignored.
  if (count === 0) return reject('address_count', 'count of addresses is 0');
  let interval: number;
  let authType = 0;
  let authData: Uint8Array = EMPTY;
  if (version === 2) {
    authType = msg[4]!;
    interval = msg[5]!;
    if (authType > AUTH_AH) return reject('auth_type_invalid', `auth type ${authType}`);
    authData = msg.slice(8 + 4 * count, 16 + 4 * count);
  } else {
    interval = ((msg[4]! & 0x0f) << 8) | msg[5]!;
  }
  // RFC 9568 erratum 8301: an interval of 0 is discarded.
  if (interval === 0) return reject('zero_interval', 'advertisement interval is 0');
  const alen = family === 4 ? 4 : 16;
  const base = 8;
  // RFC 9568 erratum 8300: the first IPv6 address must be link-local.
  if (family === 6 && (opts.requireLinkLocalFirst ?? false) && !isIPv6LinkLocal(msg, base)) {
    return reject('ipv6_first_not_link_local', `first address ${formatIP(6, msg, base)} is not link-local`);
  }
  const addresses: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) addresses[i] = formatIP(family, msg, base + i * alen);
  return {
    ok: true,
    advert: { version, family, vrid: msg[1]!, priority: msg[2]!, interval, addresses, authType, authData },
    src: formatIP(family, src),
    dst: formatIP(family, dst),
    ttl,
    checksumForm: form,
  };
}

const EMPTY = new Uint8Array(0);

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** Context for encoding: the IP addresses (needed for v3 pseudo-header checksums) and the form to use. */
export interface EncodeContext {
  /** IP source and destination (text or bytes) as they will appear in the IP header. */
  src: string | Uint8Array;
  dst: string | Uint8Array;
  /** v3 over IPv4: 'pseudo' (default, keepalived/FRR) or 'plain' (RFC 9568). Ignored for v2 and IPv6. */
  checksumForm?: 'pseudo' | 'plain';
}

export type EncodeResult = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

function toBytes(family: Family, a: string | Uint8Array): Uint8Array | null {
  if (a instanceof Uint8Array) return a.length === (family === 4 ? 4 : 16) ? a : null;
  const p = parseIP(a);
  return p && p.family === family ? p.bytes : null;
}

/**
 * Encode an advertisement (the VRRP message only; the kernel adds the IP header) with its checksum.
 * Returns an error (never throws) when a field is out of range or an address does not parse.
 */
export function encodeAdvert(adv: Advert, ctx: EncodeContext): EncodeResult {
  const { version, family } = adv;
  if (version !== 2 && version !== 3) return { ok: false, error: `version ${String(version)} is not 2 or 3` };
  if (family !== 4 && family !== 6) return { ok: false, error: `family ${String(family)} is not 4 or 6` };
  if (version === 2 && family === 6) return { ok: false, error: 'VRRPv2 is IPv4 only' };
  if (!isByte(adv.vrid) || adv.vrid < 1) return { ok: false, error: `VRID ${adv.vrid} out of range 1-255` };
  if (!isByte(adv.priority)) return { ok: false, error: `priority ${adv.priority} out of range 0-255` };
  const maxInt = version === 2 ? 255 : 4095;
  if (!Number.isInteger(adv.interval) || adv.interval < 1 || adv.interval > maxInt) {
    return { ok: false, error: `interval ${adv.interval} out of range 1-${maxInt}` };
  }
  const count = adv.addresses.length;
  if (count < 1 || count > 255) return { ok: false, error: `${count} addresses; 1-255 allowed` };
  const src = toBytes(family, ctx.src);
  const dst = toBytes(family, ctx.dst);
  if (!src || !dst) return { ok: false, error: `source/destination are not IPv${family} addresses` };
  const len = advertLength(version, family, count);
  const out = new Uint8Array(len);
  out[0] = (version << 4) | ADVERT_TYPE;
  out[1] = adv.vrid;
  out[2] = adv.priority;
  out[3] = count;
  if (version === 2) {
    if (!isByte(adv.authType) || adv.authType > AUTH_AH) return { ok: false, error: `auth type ${adv.authType}` };
    out[4] = adv.authType;
    out[5] = adv.interval;
  } else {
    out[4] = (adv.interval >> 8) & 0x0f;
    out[5] = adv.interval & 0xff;
  }
  const alen = family === 4 ? 4 : 16;
  for (let i = 0; i < count; i++) {
    const a = toBytes(family, adv.addresses[i]!);
    if (!a) return { ok: false, error: `address ${adv.addresses[i]} is not IPv${family}` };
    out.set(a, 8 + i * alen);
  }
  if (version === 2 && adv.authType !== AUTH_NONE) {
    // Auth Data: up to 8 bytes, zero padded (RFC 2338 §5.3.6.1).
    out.set(adv.authData.subarray(0, 8), 8 + count * 4);
  }
  let sum = sum16(out, 0, len);
  if (version === 3) {
    if (family === 6) sum += ipv6PseudoSum(src, dst, VRRP_PROTO, len);
    else if ((ctx.checksumForm ?? 'pseudo') === 'pseudo') sum += ipv4PseudoSum(src, dst, VRRP_PROTO, len);
  }
  const ck = finish(sum);
  out[6] = ck >> 8;
  out[7] = ck & 0xff;
  return { ok: true, bytes: out };
}

function isByte(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 255;
}

/** Auth Data for a v2 PASS password: its first 8 bytes, zero padded (keepalived truncates to 8). */
export function passAuthData(password: string): Uint8Array {
  const out = new Uint8Array(8);
  out.set(new TextEncoder().encode(password).subarray(0, 8));
  return out;
}

/**
 * Build a whole IPv4 datagram around a VRRP message (as the kernel would send it), for tests, fuzzing and the
 * simulation. IP header checksum is filled.
 */
export function wrapIPv4(msg: Uint8Array, src: Uint8Array, dst: Uint8Array, ttl = VRRP_TTL, id = 0): Uint8Array {
  const out = new Uint8Array(20 + msg.length);
  out[0] = 0x45;
  out[1] = 0xc0; // DSCP CS6, as Linux sends VRRP (keepalived sets IPTOS_PREC_INTERNETCONTROL)
  const tl = out.length;
  out[2] = tl >> 8;
  out[3] = tl & 0xff;
  out[4] = (id >> 8) & 0xff;
  out[5] = id & 0xff;
  out[8] = ttl & 0xff;
  out[9] = VRRP_PROTO;
  out.set(src.subarray(0, 4), 12);
  out.set(dst.subarray(0, 4), 16);
  const ck = finish(sum16(out, 0, 20));
  out[10] = ck >> 8;
  out[11] = ck & 0xff;
  out.set(msg, 20);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Instance-level receive checks (RFC 5798 §7.1, RFC 3768 §7.1) that need the local configuration.

/** What an instance expects of adverts for its VRID. */
export interface RxExpectation {
  vrid: number;
  version: VrrpVersion;
  /** Local priority; 255 means we are the owner. */
  priority: number;
  /** v2: local Adver Int in seconds. Ignored for v3 (intervals are learned). */
  interval: number;
  /** v2: configured auth type and its 8-byte data. */
  authType: number;
  authData?: Uint8Array;
  /** The configured virtual addresses, canonical text. */
  addresses: readonly string[];
  /** Skip the address-list comparison (keepalived `skip_check_adv_addr`). */
  skipAddrCheck?: boolean;
  /** Owner discards adverts (RFC 5798 §7.1 as written; keepalived `owner_ignore_adverts`). Default false: erratum 8298. */
  ownerIgnoresAdverts?: boolean;
}

export type RxCheck = { ok: true; addrListMismatch: boolean } | Rejection;

/** Apply the instance-level receive checks to a decoded advert. */
export function checkAdvert(adv: Advert, exp: RxExpectation): RxCheck {
  // MUST verify that the VRID is configured on the receiving interface.
  if (adv.vrid !== exp.vrid) return reject('vrid', `VRID ${adv.vrid} is not configured (ours ${exp.vrid})`);
  if (adv.version !== exp.version) return reject('version_mismatch', `VRRPv${adv.version} advert, configured v${exp.version}`);
  if (adv.version === 2) {
    // RFC 3768 §7.1: MUST verify that the Auth Type matches the locally configured one.
    if (adv.authType !== exp.authType) {
      return reject('auth_type_mismatch', `auth type ${adv.authType}, expected ${exp.authType}`);
    }
    if (adv.authType === AUTH_PASS) {
      const want = exp.authData ?? new Uint8Array(8);
      for (let i = 0; i < 8; i++) {
        if ((adv.authData[i] ?? 0) !== (want[i] ?? 0)) return reject('auth_failure', 'password does not match');
      }
    }
    // RFC 3768 §7.1: MUST verify that the Adver Interval matches the local one, else discard.
    if (adv.interval !== exp.interval) {
      return reject('interval_mismatch', `advert interval ${adv.interval}s, ours ${exp.interval}s`);
    }
  }
  // RFC 5798 §7.1: if we are the owner, MUST discard (RFC 9568 erratum 8298: verify and log only).
  if (exp.priority === 255 && exp.ownerIgnoresAdverts) return reject('owner', 'we are the address owner');
  // MAY verify the address list (count and addresses).
  let mismatch = false;
  if (!exp.skipAddrCheck) mismatch = !sameAddressSet(adv.addresses, exp.addresses);
  // RFC 3768 §7.1: on a failed address check, if the sender is not the owner, MUST drop. RFC 5798: log only.
  if (mismatch && adv.version === 2 && adv.priority !== 255) {
    return reject('addr_list', `address list [${adv.addresses.join(', ')}] differs from [${exp.addresses.join(', ')}]`);
  }
  return { ok: true, addrListMismatch: mismatch };
}

function sameAddressSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  // The usual case, the same list in the same order, without building sets (this runs for every advert received).
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (i === a.length) return true;
  // Both directions: with a repeated address, one direction alone misses a missing one ([x, x] vs [x, y]).
  const sa = new Set(a);
  const sb = new Set(b);
  for (const x of a) if (!sb.has(x)) return false;
  for (const x of b) if (!sa.has(x)) return false;
  return true;
}
