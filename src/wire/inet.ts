/**
 * IPv4 / IPv6 address helpers: text <-> bytes, link-local tests, unsigned comparison.
 * Pure; never throws (parsers return null on bad input).
 */

export type Family = 4 | 6;

/** Parse dotted-quad IPv4 text into 4 bytes, or null. */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parse IPv6 text (with ::, optional embedded IPv4 tail, optional %zone ignored) into 16 bytes, or null. */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (s.length < 2 || s.length > 45) return null;
  const words: number[] = [];
  let tailV4: Uint8Array | null = null;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const parseGroups = (part: string, allowV4Tail: boolean): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    const res: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        tailV4 = parseIPv4(g);
        if (!tailV4) return null;
        res.push((tailV4[0]! << 8) | tailV4[1]!, (tailV4[2]! << 8) | tailV4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      res.push(parseInt(g, 16));
    }
    return res;
  };
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (!head || !tail) return null;
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    words.push(...head, ...new Array<number>(fill).fill(0), ...tail);
  } else {
    const all = parseGroups(s, true);
    if (!all || all.length !== 8) return null;
    words.push(...all);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  return out;
}

/** Parse an address of either family. */
export function parseIP(text: string): { family: Family; bytes: Uint8Array } | null {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, bytes: v6 };
  return null;
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 canonical text: lower case, longest run (>= 2) of zero words compressed, first on ties. */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + i * 2]! << 8) | b[off + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  if (bestStart < 0) return w.map(hex).join(':');
  const head = w.slice(0, bestStart).map(hex).join(':');
  const tail = w.slice(bestStart + bestLen).map(hex).join(':');
  return `${head}::${tail}`;
}

export function formatIP(family: Family, b: Uint8Array, off = 0): string {
  return family === 4 ? formatIPv4(b, off) : formatIPv6(b, off);
}

/** fe80::/10 */
export function isIPv6LinkLocal(b: Uint8Array, off = 0): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
}

/** 169.254.0.0/16 */
export function isIPv4LinkLocal(b: Uint8Array, off = 0): boolean {
  return b[off] === 169 && b[off + 1] === 254;
}

/** Link-local of either family, judged by length (4 or 16 bytes). */
export function isLinkLocal(b: Uint8Array): boolean {
  return b.length === 4 ? isIPv4LinkLocal(b) : b.length === 16 && isIPv6LinkLocal(b);
}

/** 224.0.0.0/4 or ff00::/8, judged by length. */
export function isMulticast(b: Uint8Array): boolean {
  return b.length === 4 ? (b[0]! & 0xf0) === 0xe0 : b.length === 16 && b[0] === 0xff;
}

/** Parse "address/len" (len optional: defaults to the full length), or null. */
export function parsePrefix(text: string): { family: Family; bytes: Uint8Array; prefixlen: number } | null {
  const slash = text.indexOf('/');
  const ip = parseIP(slash >= 0 ? text.slice(0, slash) : text);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ...ip, prefixlen: max };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return null;
  const prefixlen = Number(lenText);
  if (prefixlen > max) return null;
  return { ...ip, prefixlen };
}

/** Equal bytes (and length). */
export function sameAddr(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Unsigned network-order comparison of two equal-length addresses: <0, 0, >0. */
export function compareAddr(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** Normalise address text to canonical form, or null if it is not an address. */
export function canonicalIP(text: string): string | null {
  const p = parseIP(text);
  return p ? formatIP(p.family, p.bytes) : null;
}
