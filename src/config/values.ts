/** Value parsers shared by the keepalived.conf interpreter: numbers, booleans, addresses. Pure. */
import { isIPv4, isIPv6 } from 'node:net';
import type { Family } from './model.js';

/** Canonical text of an IPv4/IPv6 address, with its family; null when `s` is not an address. */
export function parseIp(s: string): { address: string; family: Family } | null {
  if (isIPv4(s)) {
    // inet_pton rejects leading zeros too; isIPv4 already does.
    return { address: s, family: 4 };
  }
  const pct = s.indexOf('%');
  const bare = pct >= 0 ? s.slice(0, pct) : s;
  if (isIPv6(bare)) {
    let canon = bare.toLowerCase();
    try {
      canon = new URL(`http://[${bare}]/`).hostname.replace(/^\[|\]$/g, '');
    } catch {
      /* keep lower-cased form */
    }
    return { address: pct >= 0 ? canon + s.slice(pct) : canon, family: 6 };
  }
  return null;
}

/** Strict decimal integer: optional sign, digits only. */
export function parseIntStrict(s: string): number | null {
  if (!/^[+-]?\d{1,15}$/.test(s)) return null;
  return Number(s);
}

/** Decimal number (keepalived accepts fractional seconds): "1", "0.5", ".25". */
export function parseDecimal(s: string): number | null {
  if (!/^[+-]?(\d{1,15}(\.\d*)?|\.\d+)$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

const TRUE = new Set(['on', 'true', 'yes']);
const FALSE = new Set(['off', 'false', 'no']);

/** keepalived's BOOL: on/off, true/false, yes/no (case-insensitive); null when none of these. */
export function parseBoolWord(s: string): boolean | null {
  const l = s.toLowerCase();
  if (TRUE.has(l)) return true;
  if (FALSE.has(l)) return false;
  return null;
}

/** Split a command line shell-like (quotes group, backslash escapes). */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let have = false;
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i]!;
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      have = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i]!;
      have = true;
    } else if (c === ' ' || c === '\t') {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

/** A MAC address "aa:bb:cc:dd:ee:ff" (or 5 octets, to which keepalived appends the VRID). */
export function parseMac(s: string): number[] | null {
  if (!/^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){4,5}$/.test(s)) return null;
  return s.split(':').map((h) => parseInt(h, 16));
}
