/**
 * Unit tests of the VRRP codec: one test per receive check of RFC 5798 §7.1 / RFC 3768 §7.1 (and the RFC 9568
 * errata), the instance-level checks of checkAdvert, and every encode error. Each test is named after its clause.
 * Packets are built with encodeAdvert, then mutated; the checksum of a mutated packet is recomputed by the small
 * independent RFC 1071 implementation below, so that the check under test (not the checksum) is what fails.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  REJECT_REASONS,
  advertLength,
  checkAdvert,
  decodeIPv4,
  decodeIPv6,
  decodeVrrp,
  encodeAdvert,
  passAuthData,
  wrapIPv4,
  type Advert,
  type DecodeResult,
  type RejectReason,
  type RxExpectation,
} from '../../src/wire/vrrp.js';
import { parseIP } from '../../src/wire/inet.js';

const SRC4 = '192.0.2.1';
const DST4 = '224.0.0.18';
const SRC6 = 'fe80::1';
const DST6 = 'ff02::12';

function ip(text: string): Uint8Array {
  const p = parseIP(text);
  assert.ok(p, text);
  return p.bytes;
}

/** Independent RFC 1071 checksum over the concatenation of the parts. */
function rfc1071(...parts: Uint8Array[]): number {
  const all = Buffer.concat(parts.map((p) => Buffer.from(p)));
  let s = 0;
  for (let i = 0; i < all.length; i += 2) {
    s += (all[i]! << 8) | (i + 1 < all.length ? all[i + 1]! : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

type Form = 'v2' | 'plain' | 'pseudo4' | 'pseudo6';
/** Recompute the VRRP checksum of msg (in place) in the given form. */
function fixChecksum(msg: Uint8Array, form: Form, src = SRC4, dst = DST4): Uint8Array {
  msg[6] = 0;
  msg[7] = 0;
  let ck: number;
  if (form === 'v2' || form === 'plain') ck = rfc1071(msg);
  else if (form === 'pseudo4') ck = rfc1071(ip(src), ip(dst), Uint8Array.of(0, 112, msg.length >> 8, msg.length & 0xff), msg);
  else {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length);
    ck = rfc1071(ip(src), ip(dst), len, Uint8Array.of(0, 0, 0, 112), msg);
  }
  msg[6] = ck >> 8;
  msg[7] = ck & 0xff;
  return msg;
}

function v2(over: Partial<Advert> = {}): Advert {
  return { version: 2, family: 4, vrid: 7, priority: 100, interval: 1, addresses: ['192.0.2.100'], authType: 0, authData: new Uint8Array(0), ...over };
}
function v3(over: Partial<Advert> = {}): Advert {
  return { version: 3, family: 4, vrid: 7, priority: 100, interval: 100, addresses: ['192.0.2.100'], authType: 0, authData: new Uint8Array(0), ...over };
}
function v3six(over: Partial<Advert> = {}): Advert {
  return v3({ family: 6, addresses: ['fe80::100', '2001:db8::100'], ...over });
}

function enc(adv: Advert, checksumForm: 'pseudo' | 'plain' = 'pseudo'): Uint8Array {
  const r = encodeAdvert(adv, adv.family === 4 ? { src: SRC4, dst: DST4, checksumForm } : { src: SRC6, dst: DST6 });
  assert.ok(r.ok, r.ok ? '' : r.error);
  return Uint8Array.from(r.bytes);
}

function dec4(msg: Uint8Array, opts = {}, ttl = 255): DecodeResult {
  return decodeIPv4(wrapIPv4(msg, ip(SRC4), ip(DST4), ttl), opts);
}
function dec6(msg: Uint8Array, opts = {}, hopLimit = 255): DecodeResult {
  return decodeIPv6(msg, { src: ip(SRC6), dst: ip(DST6), hopLimit }, opts);
}

function rejected(r: DecodeResult | ReturnType<typeof checkAdvert>, reason: RejectReason, detail?: RegExp): void {
  assert.equal(r.ok, false, `expected rejection ${reason}, got acceptance`);
  if (r.ok) return;
  assert.equal(r.reason, reason, `reason (detail: ${r.detail})`);
  assert.ok(REJECT_REASONS.includes(r.reason));
  assert.ok(r.detail.length > 0, 'detail is not empty');
  if (detail) assert.match(r.detail, detail);
}

function accepted(r: DecodeResult): asserts r is Extract<DecodeResult, { ok: true }> {
  assert.ok(r.ok, r.ok ? '' : `rejected ${r.reason}: ${r.detail}`);
}

describe('IPv4 datagram framing (decodeIPv4)', () => {
  it('rejects a buffer shorter than an IPv4 header (ip_header)', () => {
    rejected(decodeIPv4(new Uint8Array(19)), 'ip_header');
  });
  it('rejects a non-IPv4 version nibble (ip_header)', () => {
    const d = wrapIPv4(enc(v3()), ip(SRC4), ip(DST4));
    d[0] = 0x65;
    rejected(decodeIPv4(d), 'ip_header', /IP version 6/);
  });
  it('rejects an IHL under 5 words or beyond the buffer (ip_header)', () => {
    const d = wrapIPv4(enc(v3()), ip(SRC4), ip(DST4));
    d[0] = 0x44;
    rejected(decodeIPv4(d), 'ip_header', /IHL/);
    d[0] = 0x4f;
    rejected(decodeIPv4(d.subarray(0, 40)), 'ip_header', /IHL/);
  });
  it('rejects a protocol other than 112 (ip_header)', () => {
    const d = wrapIPv4(enc(v3()), ip(SRC4), ip(DST4));
    d[9] = 17;
    rejected(decodeIPv4(d), 'ip_header', /protocol 17/);
  });
  it('rejects an IP total length longer than the datagram (length)', () => {
    const d = wrapIPv4(enc(v3()), ip(SRC4), ip(DST4));
    rejected(decodeIPv4(d.subarray(0, d.length - 1)), 'length', /total length/);
  });
  it('ignores slack after the IP total length', () => {
    const d = wrapIPv4(enc(v3()), ip(SRC4), ip(DST4));
    const padded = new Uint8Array(d.length + 14);
    padded.set(d);
    padded.fill(0xaa, d.length);
    accepted(decodeIPv4(padded));
  });
  it('honours IP options (header length from IHL)', () => {
    const msg = enc(v3());
    const d = wrapIPv4(msg, ip(SRC4), ip(DST4));
    const withOpts = new Uint8Array(d.length + 4);
    withOpts.set(d.subarray(0, 20));
    withOpts[0] = 0x46;
    withOpts[2] = withOpts.length >> 8;
    withOpts[3] = withOpts.length & 0xff;
    withOpts.set([1, 1, 1, 0], 20); // NOP NOP NOP EOL
    withOpts.set(msg, 24);
    const r = decodeIPv4(withOpts);
    accepted(r);
    assert.equal(r.advert.vrid, 7);
  });
  it('rejects IPv6 meta with addresses that are not 16 bytes (ip_header)', () => {
    rejected(decodeIPv6(enc(v3six()), { src: ip(SRC4), dst: ip(DST6), hopLimit: 255 }), 'ip_header');
  });
});

describe('RFC 5798 §7.1 / RFC 3768 §7.1 receive checks (decode)', () => {
  it('RFC 5798 §7.1: MUST verify that the IPv4 TTL is 255 (ttl)', () => {
    rejected(dec4(enc(v3()), {}, 254), 'ttl', /254/);
    rejected(dec4(enc(v2()), {}, 1), 'ttl');
    accepted(dec4(enc(v3())));
  });
  it('RFC 5798 §7.1: MUST verify that the IPv6 hop limit is 255 (ttl)', () => {
    rejected(dec6(enc(v3six()), {}, 64), 'ttl', /64/);
    accepted(dec6(enc(v3six())));
  });
  it('TTL check can be switched off (keepalived unicast without min_ttl)', () => {
    const r = dec4(enc(v3()), { requireTtl255: false }, 64);
    accepted(r);
    assert.equal(r.ttl, 64);
  });
  it('RFC 5798 §7.1: MUST verify the VRRP version (version)', () => {
    for (const ver of [0, 1, 4, 15]) {
      const m = enc(v3());
      m[0] = (ver << 4) | 1;
      rejected(dec4(fixChecksum(m, 'pseudo4')), 'version', new RegExp(`version ${ver}`));
    }
  });
  it('RFC 3768 §1 / RFC 5798 §5.2.1: VRRPv2 is IPv4 only (version)', () => {
    const m = new Uint8Array(16 + 16);
    m[0] = 0x21;
    m[1] = 7;
    m[2] = 100;
    m[3] = 1;
    m[5] = 1;
    m.set(ip('fe80::1'), 8);
    rejected(dec6(fixChecksum(m, 'v2')), 'version', /IPv4 only/);
    rejected(decodeVrrp(fixChecksum(m, 'v2'), 6, ip(SRC6), ip(DST6), 255), 'version');
  });
  it('RFC 5798 §7.1: MUST verify that the packet contains the complete VRRP packet: shorter than the header (length)', () => {
    rejected(dec4(enc(v3()).subarray(0, 7)), 'length', /shorter/);
    rejected(dec6(new Uint8Array(0)), 'length');
  });
  it('RFC 5798 §7.1: truncated address list (length)', () => {
    rejected(dec4(enc(v3({ addresses: ['192.0.2.1', '192.0.2.2'] })).subarray(0, 12)), 'length', /expected 16/);
    rejected(dec6(enc(v3six()).subarray(0, 39)), 'length', /expected 40/);
  });
  it('RFC 3768 §7.1: truncated v2 Auth Data (length)', () => {
    rejected(dec4(enc(v2()).subarray(0, 19)), 'length', /expected 20/);
  });
  it('RFC 5798 §7.1: length longer than the address count implies (length)', () => {
    const m = enc(v3());
    const longer = new Uint8Array(m.length + 4);
    longer.set(m);
    rejected(dec4(fixChecksum(longer, 'pseudo4')), 'length', /expected 12/);
    const m2 = enc(v2());
    const longer2 = new Uint8Array(m2.length + 1);
    longer2.set(m2);
    rejected(dec4(fixChecksum(longer2, 'v2')), 'length');
  });
  it('RFC 5798 §5.2.2 / RFC 3768 §5.3.2: MUST discard an unknown type (type)', () => {
    for (const t of [0, 2, 15]) {
      const m = enc(v3());
      m[0] = 0x30 | t;
      rejected(dec4(fixChecksum(m, 'pseudo4')), 'type', new RegExp(`type ${t}`));
      const m2 = enc(v2());
      m2[0] = 0x20 | t;
      rejected(dec4(fixChecksum(m2, 'v2')), 'type');
    }
  });
  it('RFC 5798 §5.2.3: VRID 0 is outside 1-255 and can never be configured (vrid)', () => {
    const m = enc(v3());
    m[1] = 0;
    rejected(dec4(fixChecksum(m, 'pseudo4')), 'vrid', /VRID 0/);
    const m2 = enc(v2());
    m2[1] = 0;
    rejected(dec4(fixChecksum(m2, 'v2')), 'vrid');
  });
  it('RFC 9568 erratum 8299: a count of 0 addresses is ignored (address_count)', () => {
    const m = enc(v3()).slice(0, 8);
    m[3] = 0;
    rejected(dec4(fixChecksum(m, 'pseudo4')), 'address_count');
    const m2 = new Uint8Array(16);
    m2.set(enc(v2()).subarray(0, 8));
    m2[3] = 0;
    rejected(dec4(fixChecksum(m2, 'v2')), 'address_count');
    const m6 = enc(v3six()).slice(0, 8);
    m6[3] = 0;
    rejected(dec6(fixChecksum(m6, 'pseudo6', SRC6, DST6)), 'address_count');
  });
  it('RFC 9568 erratum 8301: an advertisement interval of 0 is discarded (zero_interval)', () => {
    const m = enc(v3());
    m[4] = 0xf0; // reserved bits set, interval bits zero
    m[5] = 0;
    rejected(dec4(fixChecksum(m, 'pseudo4')), 'zero_interval');
    const m2 = enc(v2());
    m2[5] = 0;
    rejected(dec4(fixChecksum(m2, 'v2')), 'zero_interval');
  });
  it('RFC 5798 §5.2.5: the reserved bits are ignored on reception', () => {
    const m = enc(v3({ interval: 0x123 }));
    m[4] |= 0xa0;
    const r = dec4(fixChecksum(m, 'pseudo4'));
    accepted(r);
    assert.equal(r.advert.interval, 0x123);
  });
  it('RFC 3768 §7.1: MUST verify the v2 checksum (checksum)', () => {
    const m = enc(v2());
    accepted(dec4(m));
    m[7] ^= 1;
    rejected(dec4(m), 'checksum', /v2 form/);
    // v2 has no pseudo-header: a pseudo-header checksum on a v2 message fails.
    rejected(dec4(fixChecksum(enc(v2()), 'pseudo4')), 'checksum');
  });
  it('RFC 5798 §5.2.8 (keepalived/FRR reading): v3 IPv4 with the IPv4 pseudo-header (checksum)', () => {
    const m = enc(v3(), 'pseudo');
    for (const accept of ['pseudo', 'either', undefined] as const) {
      const r = dec4(m, accept ? { checksum: accept } : {});
      accepted(r);
      assert.equal(r.checksumForm, 'pseudo');
    }
    rejected(dec4(m, { checksum: 'plain' }), 'checksum', /verifies with the pseudo-header/);
    // The pseudo-header covers the addresses: another destination fails.
    rejected(decodeIPv4(wrapIPv4(m, ip(SRC4), ip('192.0.2.2'))), 'checksum');
  });
  it('RFC 9568 §5.2.8: v3 IPv4 checksum over the VRRP message only (checksum)', () => {
    const m = enc(v3(), 'plain');
    for (const accept of ['plain', 'either'] as const) {
      const r = dec4(m, { checksum: accept });
      accepted(r);
      assert.equal(r.checksumForm, 'plain');
    }
    rejected(dec4(m, { checksum: 'pseudo' }), 'checksum', /verifies without the pseudo-header/);
    m[7] ^= 0x80;
    rejected(dec4(m, { checksum: 'either' }), 'checksum', /either form/);
  });
  it('RFC 5798 §5.2.8: v3 IPv6 checksum includes the RFC 8200 pseudo-header (checksum)', () => {
    const m = enc(v3six());
    accepted(dec6(m));
    rejected(dec6(fixChecksum(Uint8Array.from(m), 'plain')), 'checksum', /IPv6 pseudo-header/);
    rejected(decodeIPv6(m, { src: ip('fe80::2'), dst: ip(DST6), hopLimit: 255 }), 'checksum');
    const bad = Uint8Array.from(m);
    bad[6] ^= 0xff;
    rejected(dec6(bad), 'checksum');
  });
  it('RFC 3768 §5.3.6: auth type above 2 is invalid (auth_type_invalid)', () => {
    for (const at of [3, 255]) {
      const m = enc(v2());
      m[4] = at;
      rejected(dec4(fixChecksum(m, 'v2')), 'auth_type_invalid', new RegExp(`auth type ${at}`));
    }
  });
  it('RFC 2338 §5.3.6: auth types 0, 1 (PASS) and 2 (AH) decode with their 8 Auth Data bytes', () => {
    for (const at of [0, 1, 2]) {
      const data = at === 0 ? new Uint8Array(8) : passAuthData('pw' + at);
      const r = dec4(enc(v2({ authType: at, authData: data, addresses: ['192.0.2.1', '192.0.2.2'] })));
      accepted(r);
      assert.equal(r.advert.authType, at);
      assert.deepEqual(Array.from(r.advert.authData), Array.from(data));
    }
  });
  it('RFC 9568 erratum 8300: the first IPv6 address must be link-local, when required (ipv6_first_not_link_local)', () => {
    const global = enc(v3six({ addresses: ['2001:db8::1', 'fe80::1'] }));
    rejected(dec6(global, { requireLinkLocalFirst: true }), 'ipv6_first_not_link_local', /2001:db8::1/);
    accepted(dec6(global)); // keepalived only checks in strict mode; off by default
    accepted(dec6(enc(v3six()), { requireLinkLocalFirst: true }));
    accepted(dec6(enc(v3six({ addresses: ['febf::1'] })), { requireLinkLocalFirst: true })); // fe80::/10 upper edge
    rejected(dec6(enc(v3six({ addresses: ['fec0::1'] })), { requireLinkLocalFirst: true }), 'ipv6_first_not_link_local');
  });
  it('checks run in RFC order: a TTL failure wins over a bad checksum and version', () => {
    const m = enc(v3());
    m[0] = 0x51;
    rejected(dec4(m, {}, 1), 'ttl');
    rejected(dec4(m), 'version');
  });
  it('decodes every field of an accepted advert (RFC 5798 §5.2)', () => {
    const r = dec4(enc(v3({ vrid: 255, priority: 0, interval: 4095, addresses: ['192.0.2.1', '203.0.113.255'] })));
    accepted(r);
    assert.deepEqual(
      { ...r.advert, authData: Array.from(r.advert.authData) },
      { version: 3, family: 4, vrid: 255, priority: 0, interval: 4095, addresses: ['192.0.2.1', '203.0.113.255'], authType: 0, authData: [] },
    );
    assert.equal(r.src, SRC4);
    assert.equal(r.dst, DST4);
    assert.equal(r.ttl, 255);
  });
});

describe('RFC 5798 §7.1 / RFC 3768 §7.1 instance checks (checkAdvert)', () => {
  const exp2: RxExpectation = { vrid: 7, version: 2, priority: 100, interval: 1, authType: 0, addresses: ['192.0.2.100'] };
  const exp3: RxExpectation = { vrid: 7, version: 3, priority: 100, interval: 100, authType: 0, addresses: ['192.0.2.100'] };

  it('RFC 5798 §7.1: MUST verify that the VRID is configured (vrid)', () => {
    rejected(checkAdvert(v3({ vrid: 8 }), exp3), 'vrid', /VRID 8/);
  });
  it('keepalived: version must equal the configured one (version_mismatch)', () => {
    rejected(checkAdvert(v2(), exp3), 'version_mismatch');
    rejected(checkAdvert(v3(), exp2), 'version_mismatch');
  });
  it('RFC 3768 §7.1: MUST verify that the Auth Type matches (auth_type_mismatch)', () => {
    rejected(checkAdvert(v2({ authType: 1, authData: passAuthData('x') }), exp2), 'auth_type_mismatch', /auth type 1, expected 0/);
    rejected(checkAdvert(v2(), { ...exp2, authType: 1, authData: passAuthData('x') }), 'auth_type_mismatch');
  });
  it('RFC 2338 §5.3.6.1: a PASS password that differs fails (auth_failure)', () => {
    const exp = { ...exp2, authType: 1, authData: passAuthData('secret') };
    rejected(checkAdvert(v2({ authType: 1, authData: passAuthData('secreT') }), exp), 'auth_failure');
    assert.deepEqual(checkAdvert(v2({ authType: 1, authData: passAuthData('secret') }), exp), { ok: true, addrListMismatch: false });
    // keepalived compares only the first 8 bytes.
    const long = { ...exp2, authType: 1, authData: passAuthData('12345678-a') };
    assert.equal(checkAdvert(v2({ authType: 1, authData: passAuthData('12345678-b') }), long).ok, true);
  });
  it('RFC 3768 §7.1: MUST discard a v2 advert whose Adver Int differs (interval_mismatch)', () => {
    rejected(checkAdvert(v2({ interval: 2 }), exp2), 'interval_mismatch', /2s, ours 1s/);
  });
  it('RFC 5798 §6.4.2: v3 intervals are learned, not checked', () => {
    assert.deepEqual(checkAdvert(v3({ interval: 37 }), exp3), { ok: true, addrListMismatch: false });
  });
  it('RFC 3768 §7.1: a v2 address-list mismatch from a non-owner MUST be dropped (addr_list)', () => {
    rejected(checkAdvert(v2({ addresses: ['192.0.2.101'] }), exp2), 'addr_list', /192\.0\.2\.101/);
    rejected(checkAdvert(v2({ addresses: ['192.0.2.100', '192.0.2.101'] }), exp2), 'addr_list');
  });
  it('RFC 3768 §7.1: a v2 address-list mismatch from the owner (priority 255) is accepted and flagged', () => {
    assert.deepEqual(checkAdvert(v2({ priority: 255, addresses: ['192.0.2.101'] }), exp2), { ok: true, addrListMismatch: true });
  });
  it('RFC 5798 §7.1: a v3 address-list mismatch MAY be logged; the advert is accepted and flagged', () => {
    assert.deepEqual(checkAdvert(v3({ addresses: ['192.0.2.101'] }), exp3), { ok: true, addrListMismatch: true });
  });
  it('RFC 3768 §7.1: a repeated address does not hide a missing one (addr_list)', () => {
    const exp = { ...exp2, addresses: ['192.0.2.1', '192.0.2.2'] };
    rejected(checkAdvert(v2({ addresses: ['192.0.2.1', '192.0.2.1'] }), exp), 'addr_list');
    assert.deepEqual(checkAdvert(v3({ addresses: ['192.0.2.1', '192.0.2.1'] }), { ...exp3, addresses: exp.addresses }), {
      ok: true,
      addrListMismatch: true,
    });
  });
  it('address lists compare as sets (order does not matter); skip_check_adv_addr skips the check', () => {
    const exp = { ...exp2, addresses: ['192.0.2.1', '192.0.2.2'] };
    assert.deepEqual(checkAdvert(v2({ addresses: ['192.0.2.2', '192.0.2.1'] }), exp), { ok: true, addrListMismatch: false });
    assert.deepEqual(checkAdvert(v2({ addresses: ['192.0.2.9'] }), { ...exp, skipAddrCheck: true }), { ok: true, addrListMismatch: false });
  });
  it('RFC 5798 §7.1: the owner discards adverts when configured to (owner)', () => {
    rejected(checkAdvert(v3(), { ...exp3, priority: 255, ownerIgnoresAdverts: true }), 'owner');
  });
  it('RFC 9568 erratum 8298: by default the owner only verifies and logs (accepted)', () => {
    assert.deepEqual(checkAdvert(v3(), { ...exp3, priority: 255 }), { ok: true, addrListMismatch: false });
  });
});

describe('encodeAdvert errors (typed, never thrown)', () => {
  const cases: Array<[string, Advert, RegExp, { src?: string; dst?: string }?]> = [
    ['version not 2 or 3', v3({ version: 4 as never }), /version 4/],
    ['family not 4 or 6', v3({ family: 5 as never }), /family 5/],
    ['RFC 3768: VRRPv2 over IPv6', v2({ family: 6, addresses: ['fe80::1'] }), /IPv4 only/],
    ['RFC 5798 §5.2.3: VRID 0', v3({ vrid: 0 }), /VRID 0/],
    ['RFC 5798 §5.2.3: VRID 256', v3({ vrid: 256 }), /VRID 256/],
    ['VRID not an integer', v3({ vrid: 1.5 }), /VRID 1\.5/],
    ['RFC 5798 §5.2.4: priority -1', v3({ priority: -1 }), /priority -1/],
    ['RFC 5798 §5.2.4: priority 256', v3({ priority: 256 }), /priority 256/],
    ['RFC 9568 erratum 8301: v3 interval 0', v3({ interval: 0 }), /interval 0 out of range 1-4095/],
    ['RFC 5798 §5.2.6: v3 interval 4096 (12 bits)', v3({ interval: 4096 }), /interval 4096/],
    ['RFC 3768 §5.3.7: v2 interval 256 (8 bits)', v2({ interval: 256 }), /interval 256 out of range 1-255/],
    ['interval not an integer', v3({ interval: 1.5 }), /interval 1\.5/],
    ['RFC 9568 erratum 8299: no addresses', v3({ addresses: [] }), /0 addresses/],
    ['RFC 5798 §5.2.5: more than 255 addresses', v3({ addresses: Array.from({ length: 256 }, (_, i) => `192.0.2.${i % 256}`) }), /256 addresses/],
    ['an IPv6 address in an IPv4 advert', v3({ addresses: ['2001:db8::1'] }), /address 2001:db8::1 is not IPv4/],
    ['an IPv4 address in an IPv6 advert', v3six({ addresses: ['192.0.2.1'] }), /is not IPv6/],
    ['an address that does not parse', v3({ addresses: ['192.0.2.300'] }), /192\.0\.2\.300/],
    ['RFC 3768 §5.3.6: v2 auth type 3', v2({ authType: 3 }), /auth type 3/],
    ['source of the wrong family', v3(), /source\/destination/, { src: 'fe80::1' }],
    ['destination that does not parse', v3(), /source\/destination/, { dst: 'nowhere' }],
  ];
  for (const [name, adv, re, ctx] of cases) {
    it(`rejects ${name}`, () => {
      const c = adv.family === 6 ? { src: SRC6, dst: DST6 } : { src: SRC4, dst: DST4 };
      const r = encodeAdvert(adv, { ...c, ...ctx });
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, re);
    });
  }
  it('accepts byte addresses of the right length and refuses the wrong length', () => {
    assert.equal(encodeAdvert(v3(), { src: ip(SRC4), dst: ip(DST4) }).ok, true);
    assert.equal(encodeAdvert(v3(), { src: ip(SRC6), dst: ip(DST4) }).ok, false);
  });
  it('encodes the boundaries: VRID 1 and 255, priority 0 and 255, interval 1 and max, 255 addresses', () => {
    for (const adv of [
      v3({ vrid: 1, priority: 0, interval: 1 }),
      v3({ vrid: 255, priority: 255, interval: 4095 }),
      v2({ interval: 255 }),
      v3({ addresses: Array.from({ length: 255 }, (_, i) => `198.51.100.${i}`) }),
    ]) {
      const m = enc(adv);
      assert.equal(m.length, advertLength(adv.version, adv.family, adv.addresses.length));
      accepted(dec4(m));
    }
  });
  it('v3 sets the version/type byte and the reserved bits to zero (RFC 5798 §5.2.1, §5.2.5)', () => {
    const m = enc(v3({ interval: 4095 }));
    assert.equal(m[0], 0x31);
    assert.equal(m[4]! >> 4, 0);
  });
});

describe('helpers', () => {
  it('passAuthData keeps the first 8 bytes of the password and zero pads (keepalived auth_pass)', () => {
    assert.deepEqual(Array.from(passAuthData('abc')), [0x61, 0x62, 0x63, 0, 0, 0, 0, 0]);
    assert.deepEqual(Buffer.from(passAuthData('123456789')).toString(), '12345678');
    assert.deepEqual(Array.from(passAuthData('')), [0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('v2 PASS Auth Data sits after the addresses (RFC 2338 §5.1)', () => {
    const m = enc(v2({ authType: 1, authData: passAuthData('pw'), addresses: ['192.0.2.1', '192.0.2.2'] }));
    assert.equal(m.length, 24);
    assert.equal(Buffer.from(m.subarray(16, 18)).toString(), 'pw');
  });
  it('wrapIPv4 writes a valid IPv4 header checksum', () => {
    const d = wrapIPv4(enc(v3()), ip(SRC4), ip(DST4), 255, 0x1234);
    assert.equal(rfc1071(d.subarray(0, 20)), 0);
    assert.equal(d[8], 255);
    assert.equal(d[9], 112);
    assert.equal((d[4]! << 8) | d[5]!, 0x1234);
  });
});
