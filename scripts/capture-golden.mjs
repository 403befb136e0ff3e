#!/usr/bin/env node
// Capture golden VRRP adverts from a real keepalived (the Debian 2.2.7 package) and write them as JSON fixtures
// into test/fixtures/golden/. Needs root, iproute2, keepalived and tcpdump:
//
//   apt-get install -y keepalived tcpdump && node scripts/capture-golden.mjs [case-name ...]
//
// For every case it creates two network namespaces named vipd-golden-*, joined by a veth pair, runs keepalived
// as MASTER in one and tcpdump in the other, waits for a few adverts, stops keepalived with SIGTERM (which makes
// it send a priority-0 advert), and writes fixtures from the pcap. Everything is killed by PID and the namespaces
// are deleted in `finally`. Addresses come only from 192.0.2.0/24, 2001:db8::/64 and fe80::/10.
//
// This script deliberately does not use vipd's codec: it parses pcap, Ethernet, IPv4 and IPv6 itself and has its
// own RFC 1071 checksum, so the fixtures are independent evidence. The expected fields of each fixture come from
// the keepalived configuration (not from parsing), and the script checks the captured bytes against them.
//
// The test suite reads the fixtures only; CI does not re-capture.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(new URL('.', import.meta.url).pathname, '..');
const outDir = join(root, 'test', 'fixtures', 'golden');

// ---------------------------------------------------------------------------------------------------------------
// Cases. `vips` are written into the config in this order; `expected` is what the advert must carry.

const MASTER_MAC = '02:00:5e:10:00:01';
const CAPTURE_MAC = '02:00:5e:10:00:02';
const MASTER_LL = 'fe80::5eff:fe10:1';
const CAPTURE_LL = 'fe80::5eff:fe10:2';

/** @type {Array<{name: string, version: 2|3, family: 4|6, vrid: number, priority: number, advertInt: string,
 *   vips: string[], auth?: {type: 'PASS', pass: string}, keepPrio0?: boolean, derivePlain?: boolean, note: string}>} */
const CASES = [
  {
    name: 'v2-noauth-1vip',
    version: 2, family: 4, vrid: 10, priority: 150, advertInt: '1',
    vips: ['192.0.2.100'],
    keepPrio0: true,
    note: 'VRRPv2, no authentication, one VIP, 1 s interval',
  },
  {
    name: 'v2-pass-3vip',
    version: 2, family: 4, vrid: 20, priority: 200, advertInt: '2',
    vips: ['192.0.2.120', '192.0.2.121', '192.0.2.122'],
    auth: { type: 'PASS', pass: 'secret' },
    note: 'VRRPv2, PASS authentication with a 6-character password (zero padded to 8 bytes), three VIPs, 2 s interval',
  },
  {
    name: 'v3-ipv4-owner',
    version: 3, family: 4, vrid: 50, priority: 255, advertInt: '1',
    vips: ['192.0.2.150'],
    // keepalived removes configured VIPs at startup, so a VIP equal to the interface's only address would leave it
    // in FAULT ("no IPv4 address"); the advert of an owner is the same either way: priority 255.
    note: 'VRRPv3 over IPv4 at the owner priority 255, one VIP, 100 cs interval',
  },
  {
    name: 'v3-ipv4-1vip',
    version: 3, family: 4, vrid: 30, priority: 100, advertInt: '1',
    vips: ['192.0.2.130'],
    keepPrio0: true,
    derivePlain: true,
    note: 'VRRPv3 over IPv4, one VIP, 100 cs interval, checksum with the IPv4 pseudo-header (keepalived default)',
  },
  {
    name: 'v3-ipv4-4vip',
    version: 3, family: 4, vrid: 40, priority: 254, advertInt: '0.5',
    vips: ['192.0.2.140', '192.0.2.141', '192.0.2.142', '192.0.2.143'],
    derivePlain: true,
    note: 'VRRPv3 over IPv4, four VIPs, 50 cs interval, checksum with the IPv4 pseudo-header (keepalived default)',
  },
  {
    name: 'v3-ipv6-ll',
    version: 3, family: 6, vrid: 60, priority: 120, advertInt: '0.5',
    vips: ['fe80::60'],
    keepPrio0: true,
    note: 'VRRPv3 over IPv6, one link-local VIP, 50 cs interval',
  },
  {
    name: 'v3-ipv6-ll-2global',
    version: 3, family: 6, vrid: 61, priority: 200, advertInt: '1',
    vips: ['fe80::61', '2001:db8::61', '2001:db8::62'],
    note: 'VRRPv3 over IPv6, a link-local VIP first then two global VIPs, 100 cs interval',
  },
  {
    name: 'v3-ipv6-2global',
    version: 3, family: 6, vrid: 62, priority: 90, advertInt: '3',
    vips: ['2001:db8::a', '2001:db8::b'],
    note: 'VRRPv3 over IPv6, two global VIPs and no link-local VIP (fails the RFC 9568 erratum 8300 check), 300 cs interval',
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Independent helpers (no vipd code).

function sh(cmd, args, timeout = 10_000) {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
}
function inNs(ns, ...args) {
  return sh('ip', ['netns', 'exec', ns, ...args]);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** RFC 1071: ones' complement of the ones' complement sum of 16-bit words (odd byte padded). */
function rfc1071(bytes) {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i] << 8) | (i + 1 < bytes.length ? bytes[i + 1] : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ipv4Bytes(a) {
  return Buffer.from(a.split('.').map(Number));
}
/** Expand IPv6 text (no embedded IPv4) to 16 bytes. */
function ipv6Bytes(a) {
  const [h, t] = a.includes('::') ? a.split('::') : [a, null];
  const head = h ? h.split(':') : [];
  const tail = t === null ? [] : t ? t.split(':') : [];
  const words = t === null ? head : [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(parseInt(w, 16), i * 2));
  return out;
}
/** Canonical RFC 5952 text from 16 bytes (longest zero run >= 2 compressed, first on ties). */
function ipv6Text(b) {
  const w = [];
  for (let i = 0; i < 16; i += 2) w.push(b.readUInt16BE(i));
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i >= 2 && j - i > best[1]) best = [i, j - i];
    i = j;
  }
  const hx = (x) => x.toString(16);
  if (best[0] < 0) return w.map(hx).join(':');
  return `${w.slice(0, best[0]).map(hx).join(':')}::${w.slice(best[0] + best[1]).map(hx).join(':')}`;
}
function ipv4Text(b) {
  return [...b].join('.');
}

/** Parse a pcap file (Ethernet link type) into frames. */
function readPcap(file) {
  const buf = readFileSync(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`${file}: link type ${u32(20)}, expected Ethernet (1)`);
  const frames = [];
  for (let o = 24; o + 16 <= buf.length; ) {
    const incl = u32(o + 8);
    if (o + 16 + incl > buf.length) break; // partial record still being written
    frames.push(buf.subarray(o + 16, o + 16 + incl));
    o += 16 + incl;
  }
  return frames;
}

/** VRRP packets in the frames: { family, datagram (IPv4) | payload (IPv6), vrrp, src, dst, ttl }. */
function vrrpPackets(frames) {
  const out = [];
  for (const f of frames) {
    if (f.length < 14) continue;
    const et = f.readUInt16BE(12);
    const ip = f.subarray(14);
    if (et === 0x0800 && ip.length >= 20 && ip[9] === 112) {
      const ihl = (ip[0] & 0x0f) * 4;
      const tot = ip.readUInt16BE(2);
      const dgram = Buffer.from(ip.subarray(0, tot));
      out.push({ family: 4, dgram, vrrp: dgram.subarray(ihl), src: ipv4Text(ip.subarray(12, 16)), dst: ipv4Text(ip.subarray(16, 20)), ttl: ip[8] });
    } else if (et === 0x86dd && ip.length >= 40 && ip[6] === 112) {
      const plen = ip.readUInt16BE(4);
      const payload = Buffer.from(ip.subarray(40, 40 + plen));
      out.push({ family: 6, payload, vrrp: payload, src: ipv6Text(ip.subarray(8, 24)), dst: ipv6Text(ip.subarray(24, 40)), ttl: ip[7] });
    }
  }
  return out;
}

function vrrpChecksum(pkt) {
  const v = Buffer.from(pkt.vrrp);
  v[6] = 0;
  v[7] = 0;
  const version = v[0] >> 4;
  if (version === 2) return { plain: rfc1071(v) };
  if (pkt.family === 4) {
    const ph = Buffer.concat([ipv4Bytes(pkt.src), ipv4Bytes(pkt.dst), Buffer.from([0, 112]), Buffer.from([v.length >> 8, v.length & 0xff])]);
    return { pseudo: rfc1071(Buffer.concat([ph, v])), plain: rfc1071(v) };
  }
  const len = Buffer.alloc(4);
  len.writeUInt32BE(v.length);
  const ph = Buffer.concat([ipv6Bytes(pkt.src), ipv6Bytes(pkt.dst), len, Buffer.from([0, 0, 0, 112])]);
  return { pseudo: rfc1071(Buffer.concat([ph, v])) };
}

// ---------------------------------------------------------------------------------------------------------------

function configFor(c) {
  const lines = [
    '! vipd golden-packet capture (scripts/capture-golden.mjs)',
    'global_defs {',
    `    router_id vipd_golden_${c.vrid}`,
    '}',
    `vrrp_instance VG_${c.vrid} {`,
    '    state MASTER',
    '    interface veth0',
    `    virtual_router_id ${c.vrid}`,
    `    priority ${c.priority}`,
    `    advert_int ${c.advertInt}`,
    `    version ${c.version}`,
  ];
  if (c.auth) lines.push('    authentication {', `        auth_type ${c.auth.type}`, `        auth_pass ${c.auth.pass}`, '    }');
  lines.push('    virtual_ipaddress {');
  for (const v of c.vips) lines.push(`        ${v}/${c.family === 4 ? 32 : 128}`);
  lines.push('    }', '}', '');
  return lines.join('\n');
}

function expectedFor(c, priority) {
  const interval = c.version === 2 ? Number(c.advertInt) : Math.round(Number(c.advertInt) * 100);
  let authType = 0;
  let authDataHex = c.version === 2 ? '0000000000000000' : '';
  if (c.auth) {
    authType = 1;
    const d = Buffer.alloc(8);
    Buffer.from(c.auth.pass, 'utf8').copy(d, 0, 0, 8);
    authDataHex = d.toString('hex');
  }
  const addresses = c.vips.map((a) => (c.family === 4 ? a : ipv6Text(ipv6Bytes(a))));
  return { version: c.version, vrid: c.vrid, priority, interval, addresses, authType, authDataHex, checksumForm: c.version === 2 ? 'v2' : 'pseudo' };
}

/** Check the captured VRRP message against the expected fields with an independent minimal parser. */
function verify(pkt, exp, form) {
  const v = pkt.vrrp;
  const errs = [];
  const alen = pkt.family === 4 ? 4 : 16;
  const want = exp.version === 2 ? 16 + 4 * exp.addresses.length : 8 + alen * exp.addresses.length;
  if (v.length !== want) errs.push(`length ${v.length} != ${want}`);
  if (v[0] !== ((exp.version << 4) | 1)) errs.push(`ver/type 0x${v[0].toString(16)}`);
  if (v[1] !== exp.vrid) errs.push(`vrid ${v[1]}`);
  if (v[2] !== exp.priority) errs.push(`priority ${v[2]}`);
  if (v[3] !== exp.addresses.length) errs.push(`count ${v[3]}`);
  const interval = exp.version === 2 ? v[5] : ((v[4] & 0x0f) << 8) | v[5];
  if (interval !== exp.interval) errs.push(`interval ${interval}`);
  if (exp.version === 2 && v[4] !== exp.authType) errs.push(`auth type ${v[4]}`);
  for (let i = 0; i < exp.addresses.length; i++) {
    const a = v.subarray(8 + i * alen, 8 + (i + 1) * alen);
    const t = pkt.family === 4 ? ipv4Text(a) : ipv6Text(a);
    if (t !== exp.addresses[i]) errs.push(`address ${i} ${t}`);
  }
  if (exp.version === 2) {
    const ad = v.subarray(8 + 4 * exp.addresses.length).toString('hex');
    if (ad !== exp.authDataHex) errs.push(`auth data ${ad}`);
  }
  if (pkt.ttl !== 255) errs.push(`ttl ${pkt.ttl}`);
  const stored = v.readUInt16BE(6);
  const ck = vrrpChecksum(pkt);
  const f = form === 'v2' || form === 'plain' ? ck.plain : ck.pseudo;
  if (f !== stored) errs.push(`checksum 0x${stored.toString(16)} does not verify in form ${form}`);
  if (errs.length) throw new Error(`captured packet does not match the configuration: ${errs.join('; ')}`);
}

const keepalivedVersion = (() => {
  // keepalived prints its version on stderr.
  const r = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim();
})();
const debVersion = (() => {
  try {
    return sh('dpkg-query', ['-W', '-f=${Version}', 'keepalived']).trim();
  } catch {
    return 'unknown';
  }
})();

async function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

function killPid(child, sig) {
  if (child && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, sig);
    } catch {
      /* gone */
    }
  }
}

async function capture(c) {
  const tag = `${process.pid.toString(36)}${c.vrid}`;
  const nsM = `vipd-golden-m${tag}`;
  const nsC = `vipd-golden-c${tag}`;
  const tmp = mkdtempSync(join(tmpdir(), 'vipd-golden-'));
  const conf = join(tmp, 'keepalived.conf');
  const pcap = join(tmp, 'cap.pcap');
  const config = configFor(c);
  writeFileSync(conf, config);
  const procs = [];
  const made = [];
  try {
    for (const ns of [nsM, nsC]) {
      if (existsSync(`/run/netns/${ns}`)) sh('ip', ['netns', 'del', ns]);
      sh('ip', ['netns', 'add', ns]);
      made.push(ns);
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    const tA = `vg${tag}a`.slice(0, 15);
    const tB = `vg${tag}b`.slice(0, 15);
    inNs(nsM, 'ip', 'link', 'add', tA, 'type', 'veth', 'peer', 'name', tB);
    inNs(nsM, 'ip', 'link', 'set', tB, 'netns', nsC);
    inNs(nsM, 'ip', 'link', 'set', tA, 'name', 'veth0');
    inNs(nsC, 'ip', 'link', 'set', tB, 'name', 'veth0');
    for (const [ns, mac, v4, ll, g6] of [
      [nsM, MASTER_MAC, '192.0.2.1/24', MASTER_LL, '2001:db8::1/64'],
      [nsC, CAPTURE_MAC, '192.0.2.2/24', CAPTURE_LL, '2001:db8::2/64'],
    ]) {
      inNs(ns, 'ip', 'link', 'set', 'veth0', 'address', mac);
      inNs(ns, 'ip', 'link', 'set', 'veth0', 'addrgenmode', 'none');
      inNs(ns, 'ip', 'link', 'set', 'veth0', 'up');
      inNs(ns, 'ip', 'addr', 'add', v4, 'dev', 'veth0');
      inNs(ns, 'ip', '-6', 'addr', 'add', `${ll}/64`, 'dev', 'veth0', 'nodad');
      inNs(ns, 'ip', '-6', 'addr', 'add', g6, 'dev', 'veth0', 'nodad');
    }
    const td = spawn('ip', ['netns', 'exec', nsC, 'tcpdump', '-n', '-U', '-i', 'veth0', '-s', '0', '-w', pcap, 'ip proto 112 or ip6 proto 112'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(td);
    let tdErr = '';
    td.stderr.on('data', (d) => (tdErr += d));
    for (let i = 0; i < 100 && !/listening on/.test(tdErr); i++) await sleep(50);
    if (!/listening on/.test(tdErr)) throw new Error(`tcpdump did not start: ${tdErr}`);
    const ka = spawn(
      'ip',
      ['netns', 'exec', nsM, 'keepalived', '-n', '-l', '-D', '-P', '-f', conf, '-p', join(tmp, 'keepalived.pid'), '-r', join(tmp, 'vrrp.pid')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    procs.push(ka);
    let kaLog = '';
    ka.stdout.on('data', (d) => (kaLog += d));
    ka.stderr.on('data', (d) => (kaLog += d));
    // Wait for three adverts (bounded).
    const deadline = Date.now() + 20_000;
    let pkts = [];
    while (Date.now() < deadline) {
      await sleep(200);
      pkts = existsSync(pcap) ? vrrpPackets(readPcap(pcap)) : [];
      if (pkts.filter((p) => p.vrrp[2] !== 0).length >= 3) break;
    }
    if (pkts.length < 3) throw new Error(`only ${pkts.length} adverts captured in 20 s; keepalived log:\n${kaLog}`);
    // SIGTERM: keepalived as MASTER sends a priority-0 advert when it stops.
    killPid(ka, 'SIGTERM');
    if (!(await waitExit(ka, 10_000))) {
      killPid(ka, 'SIGKILL');
      throw new Error('keepalived did not stop within 10 s of SIGTERM');
    }
    await sleep(500);
    killPid(td, 'SIGINT');
    await waitExit(td, 5000);
    pkts = vrrpPackets(readPcap(pcap));
    const adverts = pkts.filter((p) => p.vrrp[2] !== 0);
    const prio0 = pkts.filter((p) => p.vrrp[2] === 0);
    return { config, adverts, prio0, kaLog };
  } finally {
    for (const p of procs) killPid(p, 'SIGKILL');
    for (const p of procs) await waitExit(p, 2000);
    for (const ns of made.reverse()) {
      try {
        for (const pid of sh('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      } catch {
        /* gone */
      }
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* gone */
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  }
}

function fixture(c, name, pkt, config, expected, how, extra = {}) {
  return {
    name,
    description: c.note + (extra.descriptionSuffix ?? ''),
    how,
    keepalived: `${keepalivedVersion} (Debian package keepalived ${debVersion})`,
    family: c.family,
    hex: (c.family === 4 ? pkt.dgram : pkt.payload).toString('hex'),
    src: pkt.src,
    dst: pkt.dst,
    ttl: pkt.ttl,
    expected,
    ...(extra.derivedFrom ? { derivedFrom: extra.derivedFrom } : {}),
    config,
  };
}

function write(fx) {
  const file = join(outDir, `${fx.name}.json`);
  writeFileSync(file, JSON.stringify(fx, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

async function main() {
  if (process.getuid && process.getuid() !== 0) {
    console.error('capture-golden: must run as root (it creates network namespaces)');
    process.exit(2);
  }
  for (const cmd of ['ip', 'keepalived', 'tcpdump']) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    } catch {
      console.error(`capture-golden: ${cmd} not found (apt-get install -y iproute2 keepalived tcpdump)`);
      process.exit(2);
    }
  }
  mkdirSync(outDir, { recursive: true });
  const only = process.argv.slice(2);
  const cases = CASES.filter((c) => only.length === 0 || only.includes(c.name));
  if (cases.length === 0) {
    console.error(`capture-golden: no such case; known: ${CASES.map((c) => c.name).join(', ')}`);
    process.exit(2);
  }
  for (const c of cases) {
    console.log(`capturing ${c.name} ...`);
    const { config, adverts, prio0 } = await capture(c);
    const how =
      `namespaces vipd-golden-m*/vipd-golden-c* joined by a veth pair (veth0 both ends; master 192.0.2.1/24, ${MASTER_LL}/64, ` +
      `2001:db8::1/64, MAC ${MASTER_MAC}; capture 192.0.2.2/24). In the master namespace: ` +
      `keepalived -n -l -D -P -f keepalived.conf -p keepalived.pid -r vrrp.pid (config in "config"). ` +
      `In the capture namespace: tcpdump -n -U -i veth0 -s 0 -w cap.pcap 'ip proto 112 or ip6 proto 112'. ` +
      `Captured and written by scripts/capture-golden.mjs`;
    // Use the third advert: keepalived is settled as MASTER by then.
    const adv = adverts[2];
    const exp = expectedFor(c, c.priority);
    verify(adv, exp, exp.checksumForm);
    write(fixture(c, c.name, adv, config, exp, `${how}; the third advert captured.`));
    if (c.keepPrio0) {
      if (prio0.length === 0) throw new Error(`${c.name}: no priority-0 advert captured after SIGTERM`);
      const p0 = prio0[0];
      const exp0 = expectedFor(c, 0);
      verify(p0, exp0, exp0.checksumForm);
      write(
        fixture(c, `${c.name}-prio0`, p0, config, exp0, `${how}; then SIGTERM to keepalived (by PID): the priority-0 advert it sends when stopping as MASTER.`, {
          descriptionSuffix: '; priority 0 (master stopping)',
        }),
      );
    }
    if (c.derivePlain) {
      // keepalived 2.2.7 has no v3_checksum_as_v2, so the RFC 9568 form cannot be captured from it: derive it from
      // the captured datagram by recomputing the VRRP checksum without the pseudo-header (independent RFC 1071 here).
      const dgram = Buffer.from(adv.dgram);
      const ihl = (dgram[0] & 0x0f) * 4;
      const v = dgram.subarray(ihl);
      v[6] = 0;
      v[7] = 0;
      const ck = rfc1071(v);
      v.writeUInt16BE(ck, 6);
      const derived = { ...adv, dgram, vrrp: v };
      const expP = { ...exp, checksumForm: 'plain' };
      verify(derived, expP, 'plain');
      write(
        fixture(
          c,
          `${c.name}-plain`,
          derived,
          config,
          expP,
          `DERIVED, not captured: keepalived 2.2.7 (the Debian package) lacks v3_checksum_as_v2, so the RFC 9568 §5.2.8 ` +
            `checksum form (no IPv4 pseudo-header) cannot be captured from it. This is fixture ${c.name} (${how}) with ` +
            `only the VRRP checksum field recomputed over the VRRP message alone by the independent RFC 1071 code in ` +
            `scripts/capture-golden.mjs. The IP header is unchanged.`,
          { descriptionSuffix: '; DERIVED: checksum recomputed in the RFC 9568 form (no pseudo-header)', derivedFrom: c.name },
        ),
      );
    }
  }
}

main().catch((e) => {
  console.error(`capture-golden: ${e.message}`);
  process.exit(1);
});
