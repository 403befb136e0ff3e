/**
 * A minimal reader of classic pcap files (what `tcpdump -w` writes): per frame the capture time and the
 * captured bytes. Only what the timing benchmark needs: Ethernet link type, micro- or nanosecond stamps,
 * either byte order. Returns a typed result, never throws on bad input.
 */
export interface PcapFrame {
  /** Capture time in microseconds since the epoch (float for nanosecond files). */
  tUs: number;
  data: Uint8Array;
}

export type PcapResult = { ok: true; linkType: number; frames: PcapFrame[] } | { ok: false; error: string };

export function readPcap(buf: Uint8Array): PcapResult {
  if (buf.length < 24) return { ok: false, error: `pcap file too short (${buf.length} bytes)` };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magicLE = dv.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nano = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = dv.getUint32(0, false);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) return { ok: false, error: 'not a pcap file (bad magic)' };
    le = false;
    nano = magicBE === 0xa1b23c4d;
  }
  const linkType = dv.getUint32(20, le);
  const frames: PcapFrame[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    off += 16;
    if (off + incl > buf.length) break; // a frame cut by the end of the capture
    frames.push({ tUs: sec * 1e6 + (nano ? frac / 1000 : frac), data: buf.subarray(off, off + incl) });
    off += incl;
  }
  return { ok: true, linkType, frames };
}

/** A VRRP advert seen on an Ethernet capture: time, family, source address (text) and VRID. */
export interface AdvertSeen {
  tUs: number;
  family: 4 | 6;
  src: string;
  vrid: number;
  priority: number;
}

/** Decode the VRRP adverts (IPv4 protocol / IPv6 next header 112, no extension headers) of an Ethernet capture. */
export function vrrpAdverts(frames: readonly PcapFrame[]): AdvertSeen[] {
  const out: AdvertSeen[] = [];
  for (const f of frames) {
    const d = f.data;
    if (d.length < 14) continue;
    let off = 12;
    let type = (d[off]! << 8) | d[off + 1]!;
    off += 2;
    if (type === 0x8100 && d.length >= 18) {
      type = (d[off + 2]! << 8) | d[off + 3]!;
      off += 4;
    }
    if (type === 0x0800 && d.length >= off + 20) {
      const ihl = (d[off]! & 0x0f) * 4;
      if (d[off + 9] !== 112 || d.length < off + ihl + 4) continue;
      const src = `${d[off + 12]}.${d[off + 13]}.${d[off + 14]}.${d[off + 15]}`;
      out.push({ tUs: f.tUs, family: 4, src, vrid: d[off + ihl + 1]!, priority: d[off + ihl + 2]! });
    } else if (type === 0x86dd && d.length >= off + 44) {
      if (d[off + 6] !== 112) continue;
      const parts: string[] = [];
      for (let i = 0; i < 16; i += 2) parts.push(((d[off + 8 + i]! << 8) | d[off + 9 + i]!).toString(16));
      out.push({ tUs: f.tUs, family: 6, src: parts.join(':'), vrid: d[off + 41]!, priority: d[off + 42]! });
    }
  }
  return out;
}
