/**
 * Golden packets captured from keepalived 2.2.7 (Debian) by scripts/capture-golden.mjs (see docs/golden-packets.md).
 * Each fixture decodes to the fields of the keepalived configuration it was captured with, and re-encodes byte for
 * byte with the same IP context and checksum form. Reads the fixtures only; nothing is captured here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import {
  checkAdvert,
  decodeIPv4,
  decodeIPv6,
  encodeAdvert,
  wrapIPv4,
  type Advert,
  type ChecksumAccept,
  type DecodeOptions,
  type DecodeResult,
} from '../../src/wire/vrrp.js';
import { parseIP } from '../../src/wire/inet.js';

interface Fixture {
  name: string;
  how: string;
  keepalived: string;
  family: 4 | 6;
  hex: string;
  src: string;
  dst: string;
  ttl: number;
  derivedFrom?: string;
  config: string;
  expected: {
    version: 2 | 3;
    vrid: number;
    priority: number;
    interval: number;
    addresses: string[];
    authType: number;
    authDataHex: string;
    checksumForm: 'v2' | 'pseudo' | 'plain';
  };
}

// Compiled to dist/test/wire/; the fixtures stay in the source tree.
const here = fileURLToPath(new URL('.', import.meta.url));
const dir = join(here, '..', '..', '..', 'test', 'fixtures', 'golden');
const fixtures: Fixture[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture);

function bytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
function addr(text: string): Uint8Array {
  const p = parseIP(text);
  assert.ok(p, `fixture address ${text} parses`);
  return p.bytes;
}

/** The VRRP message inside a fixture (IPv4: after the IP header; IPv6: the payload itself). */
function vrrpMessage(fx: Fixture): Uint8Array {
  const b = bytes(fx.hex);
  return fx.family === 4 ? b.subarray((b[0]! & 0x0f) * 4) : b;
}

function decodeFixture(fx: Fixture, opts: DecodeOptions = {}): DecodeResult {
  const b = bytes(fx.hex);
  return fx.family === 4 ? decodeIPv4(b, opts) : decodeIPv6(b, { src: addr(fx.src), dst: addr(fx.dst), hopLimit: fx.ttl }, opts);
}

function expectedAdvert(fx: Fixture): Advert {
  const e = fx.expected;
  return {
    version: e.version,
    family: fx.family,
    vrid: e.vrid,
    priority: e.priority,
    interval: e.interval,
    addresses: e.addresses,
    authType: e.authType,
    authData: bytes(e.authDataHex),
  };
}

describe('golden packets from keepalived 2.2.7', () => {
  it('the fixture set covers v2 none/PASS, v3 IPv4 in both checksum forms, v3 IPv6, several VIP counts, priority 0 and 255', () => {
    const has = (p: (f: Fixture) => boolean) => fixtures.some(p);
    assert.ok(fixtures.length >= 10, `${fixtures.length} fixtures`);
    assert.ok(has((f) => f.expected.version === 2 && f.expected.authType === 0));
    assert.ok(has((f) => f.expected.version === 2 && f.expected.authType === 1));
    assert.ok(has((f) => f.expected.version === 3 && f.family === 4 && f.expected.checksumForm === 'pseudo'));
    assert.ok(has((f) => f.expected.version === 3 && f.family === 4 && f.expected.checksumForm === 'plain'));
    assert.ok(has((f) => f.family === 6 && f.expected.addresses[0]!.startsWith('fe80:')));
    assert.ok(has((f) => f.family === 6 && f.expected.addresses.length >= 2));
    assert.ok(has((f) => f.expected.priority === 0));
    assert.ok(has((f) => f.expected.priority === 255));
    assert.ok(new Set(fixtures.map((f) => f.expected.addresses.length)).size >= 3, 'several VIP counts');
    for (const f of fixtures) {
      assert.match(f.keepalived, /v2\.2\.7/, `${f.name}: captured from keepalived 2.2.7`);
      assert.ok(f.how.length > 0 && f.config.includes('vrrp_instance'), `${f.name}: says how it was made`);
      // Only the derived RFC 9568 form is not a capture, and it says so.
      assert.equal(f.expected.checksumForm === 'plain', f.derivedFrom !== undefined, `${f.name}: derivedFrom`);
      if (f.derivedFrom) assert.match(f.how, /DERIVED, not captured/);
    }
  });

  for (const fx of fixtures) {
    describe(fx.name, () => {
      it('decodes to the configured fields (RFC 3768 §5 / RFC 5798 §5)', () => {
        const r = decodeFixture(fx);
        assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
        const e = fx.expected;
        assert.equal(r.advert.version, e.version);
        assert.equal(r.advert.family, fx.family);
        assert.equal(r.advert.vrid, e.vrid);
        assert.equal(r.advert.priority, e.priority);
        assert.equal(r.advert.interval, e.interval);
        assert.deepEqual(r.advert.addresses, e.addresses);
        assert.equal(r.advert.authType, e.authType);
        assert.equal(Buffer.from(r.advert.authData).toString('hex'), e.authDataHex);
        assert.equal(r.checksumForm, e.checksumForm);
        assert.equal(r.src, fx.src);
        assert.equal(r.dst, fx.dst);
        assert.equal(r.ttl, 255);
      });

      it('re-encodes byte for byte with the same IP context and checksum form', () => {
        const r = decodeFixture(fx);
        assert.ok(r.ok);
        const form = fx.expected.checksumForm === 'plain' ? 'plain' : 'pseudo';
        const want = Buffer.from(vrrpMessage(fx)).toString('hex');
        const fromDecoded = encodeAdvert(r.advert, { src: fx.src, dst: fx.dst, checksumForm: form });
        assert.ok(fromDecoded.ok, fromDecoded.ok ? '' : fromDecoded.error);
        assert.equal(Buffer.from(fromDecoded.bytes).toString('hex'), want);
        // And from the configuration alone (the fields keepalived was given), with byte addresses as context.
        const fromConfig = encodeAdvert(expectedAdvert(fx), { src: addr(fx.src), dst: addr(fx.dst), checksumForm: form });
        assert.ok(fromConfig.ok, fromConfig.ok ? '' : fromConfig.error);
        assert.equal(Buffer.from(fromConfig.bytes).toString('hex'), want);
      });

      if (fx.family === 4) {
        it('wrapIPv4 rebuilds the IPv4 header keepalived/Linux sent (TOS 0xc0, TTL 255, proto 112, header checksum)', () => {
          const b = bytes(fx.hex);
          const id = (b[4]! << 8) | b[5]!;
          const wrapped = wrapIPv4(vrrpMessage(fx), addr(fx.src), addr(fx.dst), fx.ttl, id);
          assert.equal(Buffer.from(wrapped).toString('hex'), fx.hex);
        });
      }

      it('is accepted or rejected by each checksum acceptance as its form demands', () => {
        const accepts: ChecksumAccept[] = ['pseudo', 'plain', 'either'];
        for (const accept of accepts) {
          const r = decodeFixture(fx, { checksum: accept });
          const form = fx.expected.checksumForm;
          // v2 and IPv6 have a single form; the option only concerns v3 over IPv4.
          const shouldPass = form === 'v2' || fx.family === 6 || accept === 'either' || accept === form;
          if (shouldPass) {
            assert.ok(r.ok, `accept=${accept}: ${r.ok ? '' : r.detail}`);
            assert.equal(r.checksumForm, form);
          } else {
            assert.equal(r.ok, false, `accept=${accept} must reject a ${form} packet`);
            assert.equal(r.reason, 'checksum');
            assert.ok(r.detail.length > 0);
          }
        }
      });

      if (fx.family === 6) {
        it('RFC 5798 §5.2.8: the IPv6 checksum covers the pseudo-header (another source fails)', () => {
          const other = addr(fx.src);
          other[15] ^= 1;
          const r = decodeIPv6(bytes(fx.hex), { src: other, dst: addr(fx.dst), hopLimit: 255 });
          assert.equal(r.ok, false);
          assert.equal(r.ok ? '' : r.reason, 'checksum');
        });

        it('RFC 9568 erratum 8300: first address link-local check when required', () => {
          const r = decodeFixture(fx, { requireLinkLocalFirst: true });
          if (fx.expected.addresses[0]!.startsWith('fe80:')) assert.ok(r.ok);
          else {
            assert.equal(r.ok, false);
            assert.equal(r.ok ? '' : r.reason, 'ipv6_first_not_link_local');
          }
        });
      }

      it('passes the instance checks of the configuration it was captured with', () => {
        const r = decodeFixture(fx);
        assert.ok(r.ok);
        const e = fx.expected;
        const c = checkAdvert(r.advert, {
          vrid: e.vrid,
          version: e.version,
          priority: 100,
          interval: e.interval,
          authType: e.authType,
          authData: bytes(e.authDataHex),
          addresses: e.addresses,
        });
        assert.deepEqual(c, { ok: true, addrListMismatch: false });
      });
    });
  }
});
