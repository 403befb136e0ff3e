/**
 * Fuzzing the VRRP codec: at least 200,000 random and mutated packets per run through decodeIPv4, decodeIPv6,
 * decodeVrrp and checkAdvert. Properties:
 *   - nothing throws;
 *   - every rejection carries a reason from REJECT_REASONS and a non-empty detail;
 *   - every accepted packet re-encodes (encodeAdvert, same IP context and checksum form) to the same bytes, except
 *     for the fields the RFCs say are ignored on reception (v3 reserved bits, v2 Auth Data with auth type 0), which
 *     re-encode as zero;
 *   - an advert checked against its own fields passes checkAdvert.
 * Seeds: the golden fixtures and freshly encoded random adverts of both families, mutated by bit flips, byte
 * substitutions, truncations, extensions, field substitutions from other packets, and IP header changes, with the
 * checksum often recomputed so that the deeper checks are reached. The PRNG is seeded; a failure prints the seed,
 * which reproduces the run with VIPD_FUZZ_SEED=<seed> (VIPD_FUZZ_N raises the count).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  REJECT_REASONS,
  checkAdvert,
  decodeIPv4,
  decodeIPv6,
  decodeVrrp,
  encodeAdvert,
  wrapIPv4,
  type Advert,
  type ChecksumAccept,
  type DecodeOptions,
  type DecodeResult,
  type RejectReason,
  type RxExpectation,
} from '../../src/wire/vrrp.js';
import { canonicalIP, parseIP } from '../../src/wire/inet.js';

const SEED = process.env.VIPD_FUZZ_SEED !== undefined ? Number(process.env.VIPD_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const N = Math.max(400_000, Number(process.env.VIPD_FUZZ_N ?? 0) || 0);

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n); // 0 .. n-1
const chance = (p: number) => rnd() < p;
function pick<T>(xs: readonly T[]): T {
  return xs[int(xs.length)]!;
}
function randBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------------------------------------------------------
// Independent RFC 1071 for recomputing checksums after mutation.

function sumWords(b: Uint8Array, s: number): number {
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}
type Form = 'plain' | 'pseudo4' | 'pseudo6';
function fixChecksum(msg: Uint8Array, form: Form, src: Uint8Array, dst: Uint8Array): void {
  if (msg.length < 8) return;
  msg[6] = 0;
  msg[7] = 0;
  let s = sumWords(msg, 0);
  if (form === 'pseudo4') s = sumWords(src.subarray(0, 4), sumWords(dst.subarray(0, 4), s)) + 112 + msg.length;
  if (form === 'pseudo6') s = sumWords(src, sumWords(dst, s)) + 112 + msg.length;
  const ck = fold(s);
  msg[6] = ck >> 8;
  msg[7] = ck & 0xff;
}

// ---------------------------------------------------------------------------------------------------------------
// Seed packets.

interface Sample4 {
  family: 4;
  dgram: Uint8Array;
}
interface Sample6 {
  family: 6;
  payload: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  hopLimit: number;
}
type Sample = Sample4 | Sample6;

const here = fileURLToPath(new URL('.', import.meta.url));
const fixtureDir = join(here, '..', '..', '..', 'test', 'fixtures', 'golden');
const goldens: Sample[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(fixtureDir, f), 'utf8')) as { family: 4 | 6; hex: string; src: string; dst: string; ttl: number })
  .map((fx) =>
    fx.family === 4
      ? { family: 4 as const, dgram: Uint8Array.from(Buffer.from(fx.hex, 'hex')) }
      : { family: 6 as const, payload: Uint8Array.from(Buffer.from(fx.hex, 'hex')), src: parseIP(fx.src)!.bytes, dst: parseIP(fx.dst)!.bytes, hopLimit: fx.ttl },
  );

function randAddr4(): string {
  return `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
}
function randAddr6(linkLocal: boolean): string {
  const w = Array.from({ length: 8 }, () => (chance(0.4) ? 0 : int(0x10000)).toString(16));
  if (linkLocal) w[0] = 'fe80';
  return w.join(':');
}

/** A valid random advert, encoded, in its IP context. */
function freshSample(): Sample {
  const family: 4 | 6 = chance(0.5) ? 4 : 6;
  const version: 2 | 3 = family === 4 && chance(0.4) ? 2 : 3;
  const count = chance(0.9) ? 1 + int(8) : 1 + int(255);
  const addresses = Array.from({ length: count }, (_, i) => (family === 4 ? randAddr4() : randAddr6(i === 0 && chance(0.7))));
  const authType = version === 2 ? int(3) : 0;
  const adv: Advert = {
    version,
    family,
    vrid: 1 + int(255),
    priority: chance(0.1) ? pick([0, 255]) : int(256),
    interval: version === 2 ? 1 + int(255) : 1 + int(4095),
    addresses,
    authType,
    authData: authType ? randBytes(int(9)) : new Uint8Array(0),
  };
  if (family === 4) {
    const src = parseIP(randAddr4())!.bytes;
    const dst = chance(0.8) ? Uint8Array.of(224, 0, 0, 18) : parseIP(randAddr4())!.bytes;
    const r = encodeAdvert(adv, { src, dst, checksumForm: chance(0.5) ? 'pseudo' : 'plain' });
    if (!r.ok) throw new Error(`seed ${SEED}: encoding a valid advert failed: ${r.error} ${JSON.stringify(adv)}`);
    return { family: 4, dgram: wrapIPv4(r.bytes, src, dst, chance(0.95) ? 255 : int(256), int(0x10000)) };
  }
  const src = parseIP(randAddr6(chance(0.9)))!.bytes;
  const dst = chance(0.8) ? parseIP('ff02::12')!.bytes : randBytes(16);
  const r = encodeAdvert(adv, { src, dst });
  if (!r.ok) throw new Error(`seed ${SEED}: encoding a valid advert failed: ${r.error} ${JSON.stringify(adv)}`);
  return { family: 6, payload: r.bytes, src, dst, hopLimit: chance(0.95) ? 255 : int(256) };
}

const INTERESTING = [0, 1, 2, 3, 4, 0x0f, 0x10, 0x11, 0x20, 0x21, 0x22, 0x30, 0x31, 0x32, 0x41, 0x45, 0x7f, 0x80, 0xfe, 0xff];

/** Mutate a byte string in place or into a new one. `vrrpStart` is where the VRRP message begins. */
function mutate(b: Uint8Array, vrrpStart: number, donors: Uint8Array[]): Uint8Array {
  let out = b;
  const rounds = chance(0.5) ? 1 : 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    switch (int(12)) {
      case 0: {
        // bit flips
        const n = 1 + int(4);
        for (let i = 0; i < n && out.length; i++) out[int(out.length)] ^= 1 << int(8);
        break;
      }
      case 1: // random byte
        if (out.length) out[int(out.length)] = int(256);
        break;
      case 2: // truncation
        out = out.slice(0, int(out.length + 1));
        break;
      case 3: {
        // extension
        const ext = chance(0.5) ? randBytes(1 + int(20)) : new Uint8Array(pick([1, 3, 4, 8, 16]));
        const n = new Uint8Array(out.length + ext.length);
        n.set(out);
        n.set(ext, out.length);
        out = n;
        break;
      }
      case 4: {
        // field substitution in the VRRP header from an interesting value
        const off = vrrpStart + int(8);
        if (off < out.length) out[off] = pick(INTERESTING);
        break;
      }
      case 5: {
        // field substitution from another packet (same offset)
        const d = pick(donors);
        const off = vrrpStart + int(Math.max(1, out.length - vrrpStart));
        if (off < out.length && off < d.length) out[off] = d[off]!;
        break;
      }
      case 6: {
        // splice: keep a prefix, append another packet's tail
        const d = pick(donors);
        const cut = int(out.length + 1);
        const from = int(d.length + 1);
        const n = new Uint8Array(cut + d.length - from);
        n.set(out.subarray(0, cut));
        n.set(d.subarray(from), cut);
        out = n;
        break;
      }
      case 7: // address count
        if (vrrpStart + 3 < out.length) out[vrrpStart + 3] = chance(0.5) ? pick([0, 1, 2, 3, 4, 255]) : int(256);
        break;
      case 8: {
        // IPv4 header fields (IHL, total length, TTL, protocol) when there is one
        if (vrrpStart === 0 || out.length < 20) break;
        const f = int(4);
        if (f === 0) out[0] = 0x40 | int(16);
        else if (f === 1) {
          const tl = chance(0.5) ? out.length + int(9) - 4 : int(0x10000);
          out[2] = (tl >> 8) & 0xff;
          out[3] = tl & 0xff;
        } else if (f === 2) out[8] = pick([0, 1, 64, 254, 255]);
        else out[9] = pick([112, 17, 6, 0, 113]);
        break;
      }
      case 9:
      case 10: {
        // a VRRP field set to a boundary or random value, keeping the length (the checksum is often fixed after)
        const v = vrrpStart;
        if (v + 8 > out.length) break;
        const f = int(7);
        if (f === 0) out[v] = (out[v]! & 0xf0) | pick([0, 1, 2, 15]); // type
        else if (f === 1) out[v] = (pick([1, 2, 3, 4]) << 4) | (out[v]! & 0x0f); // version
        else if (f === 2) out[v + 1] = pick([0, 1, 255, int(256)]); // VRID
        else if (f === 3) out[v + 2] = pick([0, 100, 254, 255]); // priority
        else if (f === 4) out[v + 4] = pick([0, 1, 2, 3, 0xf0, int(256)]); // v2 auth type / v3 reserved + interval
        else if (f === 5) out[v + 5] = pick([0, 0, 1, 255]); // interval
        else {
          out[v + 4] = chance(0.5) ? 0 : out[v + 4]! & 0xf0;
          out[v + 5] = 0;
        }
        break;
      }
      case 11: {
        // count 0 with the length that matches it (v3: 8 bytes; v2: 16)
        if (vrrpStart + 8 > out.length) break;
        const len = out[vrrpStart]! >> 4 === 2 ? 16 : 8;
        const n = new Uint8Array(vrrpStart + len);
        n.set(out.subarray(0, Math.min(out.length, vrrpStart + len)));
        n[vrrpStart + 3] = 0;
        if (vrrpStart) {
          n[2] = n.length >> 8;
          n[3] = n.length & 0xff;
        }
        out = n;
        break;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Property checks.

class FuzzFailure extends Error {}
let iteration = 0;
function fail(what: string, input: string): never {
  throw new FuzzFailure(`fuzz seed ${SEED} (VIPD_FUZZ_SEED=${SEED}), iteration ${iteration}: ${what}\n  input: ${input}`);
}

const reasonSet = new Set<string>(REJECT_REASONS);
const seen = new Map<string, number>();
let accepts = 0;
const note = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);

function checkRejection(r: { reason: RejectReason; detail: string }, input: string): void {
  if (!reasonSet.has(r.reason)) fail(`rejection with unknown reason ${String(r.reason)}`, input);
  if (typeof r.detail !== 'string' || r.detail.length === 0) fail(`rejection ${r.reason} without detail`, input);
  note(r.reason);
}

function randomOpts(): DecodeOptions {
  const o: DecodeOptions = {};
  if (chance(0.7)) o.checksum = pick<ChecksumAccept>(['pseudo', 'plain', 'either']);
  if (chance(0.2)) o.requireTtl255 = chance(0.5);
  if (chance(0.3)) o.requireLinkLocalFirst = chance(0.5);
  return o;
}

/** Validate a decode result; on acceptance, re-encode and compare with the VRRP bytes that were decoded. */
function checkResult(r: DecodeResult, msg: Uint8Array | null, src: Uint8Array, dst: Uint8Array, input: string): void {
  if (!r || typeof r !== 'object') fail('decode returned no result', input);
  if (!r.ok) return checkRejection(r, input);
  accepts++;
  note('accept');
  const a = r.advert;
  if (!msg) fail('accepted a packet without a VRRP message', input);
  if (a.addresses.length !== msg[3] || a.addresses.length === 0) fail(`address count ${a.addresses.length} vs ${msg[3]}`, input);
  if (a.interval === 0) fail('accepted interval 0', input);
  // What the RFCs let a re-encode change: reserved bits (v3) and Auth Data with auth type 0 (v2) become zero.
  const want = Uint8Array.from(msg);
  let normalised = false;
  if (a.version === 3 && want[4]! >> 4 !== 0) {
    want[4]! &= 0x0f;
    normalised = true;
  }
  if (a.version === 2 && a.authType === 0 && want.subarray(want.length - 8).some((x) => x !== 0)) {
    want.fill(0, want.length - 8);
    normalised = true;
  }
  if (normalised) {
    const form: Form = a.version === 2 || r.checksumForm === 'plain' ? 'plain' : a.family === 4 ? 'pseudo4' : 'pseudo6';
    fixChecksum(want, form, src, dst);
  }
  const e = encodeAdvert(a, { src, dst, checksumForm: r.checksumForm === 'plain' ? 'plain' : 'pseudo' });
  if (!e.ok) fail(`accepted advert does not re-encode: ${e.error}`, input);
  if (hex(e.bytes) !== hex(want)) fail(`re-encode differs:\n  got  ${hex(e.bytes)}\n  want ${hex(want)}`, input);
  // Instance checks: against its own fields it passes; against a perturbed expectation it never throws.
  const own: RxExpectation = {
    vrid: a.vrid,
    version: a.version,
    priority: 100,
    interval: a.interval,
    authType: a.authType,
    authData: a.authData,
    addresses: [...a.addresses].reverse(),
  };
  const c0 = checkAdvert(a, own);
  if (!c0.ok || c0.addrListMismatch) fail(`advert fails checks against its own fields: ${JSON.stringify(c0)}`, input);
  const exp: RxExpectation = { ...own };
  switch (int(8)) {
    case 0:
      exp.vrid = (a.vrid % 255) + 1;
      break;
    case 1:
      exp.version = a.version === 2 ? 3 : 2;
      break;
    case 2:
      exp.authType = (a.authType + 1 + int(2)) % 3;
      break;
    case 3:
      exp.authData = randBytes(8);
      exp.authType = 1;
      break;
    case 4:
      exp.interval = a.interval + 1;
      break;
    case 5:
      exp.addresses = a.family === 4 ? [randAddr4()] : [randAddr6(true)];
      exp.skipAddrCheck = chance(0.2);
      break;
    case 6:
      exp.priority = 255;
      exp.ownerIgnoresAdverts = chance(0.7);
      break;
    default:
      break;
  }
  const c = checkAdvert(a, exp);
  if (!c.ok) checkRejection(c, input);
  else if (typeof c.addrListMismatch !== 'boolean') fail('checkAdvert result without addrListMismatch', input);
}

function runOne(pool: Sample[], donors4: Uint8Array[], donors6: Uint8Array[]): void {
  const kind = int(10);
  if (kind === 0) {
    // Pure random bytes, through all three entry points.
    const b = randBytes(int(chance(0.5) ? 48 : 300));
    const opts = randomOpts();
    const s = randBytes(16);
    const d = randBytes(16);
    const input = `random ${hex(b)}`;
    let r = decodeIPv4(b, opts);
    checkResult(r, r.ok ? b.subarray((b[0]! & 0x0f) * 4, (b[2]! << 8) | b[3]!) : null, b.subarray(12, 16), b.subarray(16, 20), `${input} (IPv4)`);
    r = decodeIPv6(b, { src: s, dst: d, hopLimit: chance(0.8) ? 255 : int(256) }, opts);
    checkResult(r, b, s, d, `${input} (IPv6)`);
    const fam = chance(0.5) ? 4 : 6;
    const vs = fam === 4 ? s.subarray(0, 4) : s;
    const vd = fam === 4 ? d.subarray(0, 4) : d;
    r = decodeVrrp(b, fam, vs, vd, 255, opts);
    checkResult(r, b, vs, vd, `${input} (decodeVrrp family ${fam})`);
    return;
  }
  const base = chance(0.3) ? pick(goldens) : pick(pool);
  const opts = randomOpts();
  if (base.family === 4) {
    let dg = mutate(Uint8Array.from(base.dgram), 20, donors4);
    if (chance(0.6) && dg.length >= 20) {
      const ihl = (dg[0]! & 0x0f) * 4;
      if (ihl >= 20 && ihl + 8 <= dg.length) {
        const msg = dg.subarray(ihl);
        fixChecksum(msg, chance(0.5) ? 'pseudo4' : 'plain', dg.subarray(12, 16), dg.subarray(16, 20));
      }
    }
    if (chance(0.05)) dg = dg.subarray(0, Math.max(0, dg.length - int(4)));
    const input = `IPv4 ${hex(dg)} opts ${JSON.stringify(opts)}`;
    const r = decodeIPv4(dg, opts);
    const msg = r.ok ? dg.subarray((dg[0]! & 0x0f) * 4, (dg[2]! << 8) | dg[3]!) : null;
    checkResult(r, msg, dg.subarray(12, 16), dg.subarray(16, 20), input);
  } else {
    const p = mutate(Uint8Array.from(base.payload), 0, donors6);
    let src = base.src;
    let dst = base.dst;
    let hopLimit = base.hopLimit;
    if (chance(0.2)) src = chance(0.9) ? randBytes(16) : randBytes(pick([0, 4, 15, 17]));
    if (chance(0.1)) dst = chance(0.9) ? randBytes(16) : randBytes(pick([0, 4, 15]));
    if (chance(0.1)) hopLimit = pick([0, 1, 64, 254, 256, -1, Number.NaN]);
    if (chance(0.6) && src.length === 16 && dst.length === 16) fixChecksum(p, chance(0.85) ? 'pseudo6' : 'plain', src, dst);
    const input = `IPv6 ${hex(p)} src ${hex(src)} dst ${hex(dst)} hop ${hopLimit} opts ${JSON.stringify(opts)}`;
    const r = decodeIPv6(p, { src, dst, hopLimit }, opts);
    checkResult(r, p, src, dst, input);
    if (chance(0.1)) {
      // The same bytes as an IPv4 message, straight into decodeVrrp.
      const s4 = randBytes(4);
      const d4 = randBytes(4);
      checkResult(decodeVrrp(p, 4, s4, d4, 255, opts), p, s4, d4, `decodeVrrp family 4 ${hex(p)}`);
    }
  }
}

/** Random, often invalid, adverts through encodeAdvert: it never throws, and what it encodes decodes back. */
function encodeOne(): void {
  const family: 4 | 6 = chance(0.5) ? 4 : 6;
  const adv: Advert = {
    version: pick([2, 3, 3, 1, 4]) as 2 | 3,
    family: chance(0.97) ? family : (pick([0, 5]) as 4),
    vrid: pick([0, 1, 255, 256, -1, 1.5, 1 + int(255)]),
    priority: pick([0, 255, 256, -1, int(256)]),
    interval: pick([0, 1, 255, 256, 4095, 4096, 2.5, 1 + int(300)]),
    addresses: Array.from({ length: chance(0.05) ? pick([0, 256]) : 1 + int(5) }, () =>
      chance(0.95) ? (family === 4 ? randAddr4() : randAddr6(chance(0.5))) : pick(['', 'x', '1.2.3', '::g', '2001:db8::1', '192.0.2.1']),
    ),
    authType: pick([0, 1, 2, 3, 0]),
    authData: randBytes(int(12)),
  };
  const src = family === 4 ? randAddr4() : randAddr6(true);
  const dst = chance(0.95) ? (family === 4 ? '224.0.0.18' : 'ff02::12') : 'nonsense';
  const form = chance(0.5) ? 'pseudo' : 'plain';
  const input = `encode ${JSON.stringify({ ...adv, authData: hex(adv.authData) })} src ${src} dst ${dst} form ${form}`;
  const e = encodeAdvert(adv, { src, dst, checksumForm: form });
  if (!e.ok) {
    if (typeof e.error !== 'string' || e.error.length === 0) fail('encode error without text', input);
    note('encode_error');
    return;
  }
  note('encode_ok');
  const s = parseIP(src)!.bytes;
  const d = parseIP(dst)!.bytes;
  const r = family === 4 ? decodeIPv4(wrapIPv4(e.bytes, s, d)) : decodeIPv6(e.bytes, { src: s, dst: d, hopLimit: 255 });
  if (!r.ok) fail(`encoded advert does not decode: ${r.reason} ${r.detail}`, input);
  const a = r.advert;
  const canon = adv.addresses.map((x) => canonicalIP(x));
  if (a.vrid !== adv.vrid || a.priority !== adv.priority || a.interval !== adv.interval || a.version !== adv.version) {
    fail(`round trip changed a field: ${JSON.stringify({ ...a, authData: hex(a.authData) })}`, input);
  }
  if (a.addresses.join() !== canon.join()) fail(`round trip changed addresses: ${a.addresses}`, input);
  if (adv.version === 2 && adv.authType !== 0) {
    const want = new Uint8Array(8);
    want.set(adv.authData.subarray(0, 8));
    if (hex(a.authData) !== hex(want)) fail(`round trip changed Auth Data: ${hex(a.authData)}`, input);
  }
}

it(`fuzz: ${N} random and mutated VRRP packets through decode and checkAdvert never throw; rejections have reasons; accepts re-encode exactly`, () => {
  const started = Date.now();
  const pool: Sample[] = [];
  for (let i = 0; i < 400; i++) pool.push(freshSample());
  const all = [...goldens, ...pool];
  const donors4 = all.filter((s): s is Sample4 => s.family === 4).map((s) => s.dgram);
  const donors6 = all.filter((s): s is Sample6 => s.family === 6).map((s) => s.payload);
  try {
    for (iteration = 0; iteration < N; iteration++) {
      runOne(pool, donors4, donors6);
      if (iteration % 20 === 0) encodeOne();
      // Refresh part of the pool now and then so that the run covers more fresh adverts.
      if (iteration % 500 === 0) pool[int(pool.length)] = freshSample();
    }
  } catch (e) {
    if (e instanceof FuzzFailure) throw e;
    const err = e as Error;
    throw new Error(`fuzz seed ${SEED} (VIPD_FUZZ_SEED=${SEED}), iteration ${iteration}: threw ${err.stack ?? String(err)}`);
  }
  const ms = Date.now() - started;
  const summary = [...seen.entries()].sort().map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`fuzz seed ${SEED}: ${N} packets in ${ms} ms; ${summary}`);
  // The fuzzer must reach every check, or it proves little.
  const mustSee: RejectReason[] = [
    'ip_header', 'ttl', 'length', 'version', 'type', 'address_count', 'zero_interval', 'checksum', 'auth_type_invalid',
    'ipv6_first_not_link_local', 'vrid', 'version_mismatch', 'auth_type_mismatch', 'auth_failure', 'interval_mismatch',
    'addr_list', 'owner',
  ];
  for (const r of mustSee) assert.ok((seen.get(r) ?? 0) > 0, `seed ${SEED}: the fuzzer never produced a '${r}' rejection`);
  assert.ok(accepts >= N / 20, `seed ${SEED}: only ${accepts} of ${N} packets were accepted; the mutations are too blunt`);
  assert.ok((seen.get('encode_ok') ?? 0) > 0 && (seen.get('encode_error') ?? 0) > 0, `seed ${SEED}: encode paths not both exercised`);
});
