/**
 * RFC 1071 Internet checksum helpers. Pure; never throw.
 */

/** Add the 16-bit big-endian words of b[start, end) to a running 32-bit sum (odd tail padded with zero). */
export function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < end) s += b[i]! << 8;
  // Fold often enough that the accumulator never loses precision (JS numbers are exact to 2^53).
  return s;
}

/** Fold a running sum to 16 bits and complement it: the value to place in a checksum field. */
export function finish(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** RFC 1071 checksum of b[start, end). */
export function inetChecksum(b: Uint8Array, start = 0, end = b.length, acc = 0): number {
  return finish(sum16(b, start, end, acc));
}

/** Sum of the IPv4 pseudo-header (src, dst, zero, protocol, length). */
export function ipv4PseudoSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return sum16(src, 0, 4) + sum16(dst, 0, 4) + protocol + length;
}

/** Sum of the IPv6 pseudo-header (RFC 8200 §8.1: src, dst, 32-bit length, 3 zero bytes, next header). */
export function ipv6PseudoSum(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  return sum16(src, 0, 16) + sum16(dst, 0, 16) + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader;
}
