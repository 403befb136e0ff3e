/**
 * Test agent: runs inside a network namespace (`ip netns exec NS node dist/test/linux/agent.js`) and
 * executes src/linux operations on request, one JSON object per line on stdin/stdout:
 *   -> {"id":1,"op":"vrrpOpen","args":{...}}     <- {"id":1,"ok":true,"result":...}
 * Errors come back as {"ok":false,"error":{"code","message"}}. Test-only; not part of the daemon.
 */
import { createInterface } from 'node:readline';
import { K, native, type SocketHandle } from '../../src/linux/native.js';
import { VrrpSocket } from '../../src/linux/vrrp-socket.js';
import { GarpSender } from '../../src/linux/garp.js';
import { Rtnl, RtnlMonitor, type RtnlEvent } from '../../src/linux/rtnetlink.js';
import { VmacManager } from '../../src/linux/vmac.js';
import { Sysctls } from '../../src/linux/sysctl.js';
import { sockaddrLl } from '../../src/linux/sockaddr.js';
import { parseIP, formatIP } from '../../src/wire/inet.js';
import { parseMac } from '../../src/wire/ethernet.js';
import { encodeAdvert, decodeIPv4, decodeIPv6, type Advert } from '../../src/wire/vrrp.js';

type Args = Record<string, unknown>;

const vrrp = new Map<string, { sock: VrrpSocket; rx: unknown[] }>();
const captures = new Map<string, { h: SocketHandle; frames: string[] }>();
let rtnl: Rtnl | null = null;
let vmacs: VmacManager | null = null;
let monitor: { mon: RtnlMonitor; events: string[]; resyncs: { links: number; addrs: string[] }[] } | null = null;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ip = (s: unknown) => {
  const p = parseIP(String(s));
  if (!p) throw new Error(`bad address ${String(s)}`);
  return p.bytes;
};
const ifindex = (name: unknown) => {
  const i = native().ifNameToIndex(String(name));
  if (!i) throw new Error(`no interface ${String(name)}`);
  return i;
};
const r = () => (rtnl ??= Rtnl.open());

const ops: Record<string, (a: Args) => unknown> = {
  ifindex: (a) => ifindex(a.name),

  vrrpOpen(a) {
    const family = a.family as 4 | 6;
    const sock = VrrpSocket.open(family);
    const entry = { sock, rx: [] as unknown[] };
    sock.onPacket((p) => {
      const decoded =
        family === 4
          ? decodeIPv4(p.data)
          : decodeIPv6(p.data, { src: p.src, dst: p.dst, hopLimit: p.ttlOrHopLimit });
      entry.rx.push({
        len: p.data.length,
        ifindex: p.ifindex,
        src: formatIP(family, p.src),
        dst: formatIP(family, p.dst),
        ttl: p.ttlOrHopLimit,
        decoded: decoded.ok ? { ok: true, advert: decoded.advert } : { ok: false, reason: decoded.reason },
      });
    });
    vrrp.set(String(a.id), entry);
    return true;
  },
  vrrpJoin(a) {
    vrrp.get(String(a.id))!.sock.join(ifindex(a.ifname));
    return true;
  },
  vrrpSend(a) {
    const e = vrrp.get(String(a.id))!;
    const family = e.sock.family;
    const dst = (a.dst as string | undefined) ?? (family === 4 ? '224.0.0.18' : 'ff02::12');
    const adv: Advert = {
      version: a.version as 2 | 3,
      family,
      vrid: a.vrid as number,
      priority: (a.priority as number) ?? 100,
      interval: (a.interval as number) ?? (a.version === 2 ? 1 : 100),
      addresses: a.addresses as string[],
      authType: 0,
      authData: a.version === 2 ? new Uint8Array(8) : new Uint8Array(0),
    };
    const enc = encodeAdvert(adv, { src: String(a.src), dst });
    if (!enc.ok) throw new Error(enc.error);
    e.sock.send(enc.bytes, {
      ifindex: ifindex(a.ifname),
      src: ip(a.src),
      dst: a.dst ? ip(a.dst) : undefined,
      ttl: a.ttl as number | undefined,
    });
    return enc.bytes.length;
  },
  /** Block the event loop for `ms` (as a GC pause would), then drain synchronously: how many were read. */
  vrrpBusyThenDrain(a) {
    const e = vrrp.get(String(a.id))!;
    const before = e.rx.length;
    const end = Date.now() + (a.ms as number);
    while (Date.now() < end) {
      /* busy */
    }
    const drained = e.sock.drain();
    return { drained, delivered: e.rx.length - before };
  },
  vrrpReceived(a) {
    const e = vrrp.get(String(a.id))!;
    e.sock.drain();
    return e.rx.splice(0);
  },

  captureStart(a) {
    const n = native();
    const h = n.socket(K('AF_PACKET'), K('SOCK_RAW'), ((K('ETH_P_ALL') & 0xff) << 8) | (K('ETH_P_ALL') >> 8));
    n.bind(h, sockaddrLl(ifindex(a.ifname), K('ETH_P_ALL')));
    const frames: string[] = [];
    const buf = new Uint8Array(2048);
    const out = new Int32Array(3);
    n.poll(h, K('UV_READABLE'), () => {
      for (;;) {
        const len = n.recvmsg(h, buf, null, null, 0, out);
        if (len < 0) break;
        frames.push(hex(buf.subarray(0, len)));
      }
    });
    captures.set(String(a.id), { h, frames });
    return true;
  },
  captureRead(a) {
    return captures.get(String(a.id))!.frames.splice(0);
  },

  garp(a) {
    const g = GarpSender.open();
    try {
      g.sendGarp(ifindex(a.ifname), parseMac(String(a.mac))!, ip(a.ip));
    } finally {
      g.close();
    }
    return true;
  },
  na(a) {
    const g = GarpSender.open();
    try {
      g.sendNa(ifindex(a.ifname), parseMac(String(a.mac))!, ip(a.src), ip(a.target), { router: a.router as boolean | undefined });
    } finally {
      g.close();
    }
    return true;
  },

  async getLink(a) {
    return r().getLink(String(a.name));
  },
  async addAddr(a) {
    const p = parseIP(String(a.address))!;
    await r().addAddress({
      family: p.family,
      ifindex: ifindex(a.ifname),
      address: p.bytes,
      prefixlen: a.prefixlen as number,
      label: a.label as string | undefined,
      broadcast: a.broadcast ? ip(a.broadcast) : undefined,
    });
    return true;
  },
  async delAddr(a) {
    const p = parseIP(String(a.address))!;
    await r().delAddress({ family: p.family, ifindex: ifindex(a.ifname), address: p.bytes, prefixlen: a.prefixlen as number });
    return true;
  },
  /** Add `count` addresses 192.0.2.X (or 2001:db8::X) back to back, then delete them. */
  async burst(a) {
    const count = a.count as number;
    const idx = ifindex(a.ifname);
    for (let i = 1; i <= count; i++) {
      await r().addAddress({ family: 6, ifindex: idx, address: ip(`2001:db8:1::${i.toString(16)}`), prefixlen: 64 });
    }
    return true;
  },
  async listAddrs(a) {
    const list = await r().listAddrs(a.family as 4 | 6 | undefined);
    return list.map((x) => ({ ifindex: x.ifindex, address: formatIP(x.family, x.address), prefixlen: x.prefixlen, label: x.label, flags: x.flags }));
  },

  monitorStart(a) {
    const events: string[] = [];
    const resyncs: { links: number; addrs: string[] }[] = [];
    const mon = RtnlMonitor.open({
      rcvbuf: a.rcvbuf as number | undefined,
      onEvent: (ev: RtnlEvent) => {
        if (ev.kind === 'addr') events.push(`${ev.op} addr ${formatIP(ev.addr.family, ev.addr.address)}/${ev.addr.prefixlen} if${ev.addr.ifindex}`);
        else events.push(`${ev.op} link ${ev.link.name}`);
      },
      onResync: (s) => resyncs.push({ links: s.links.length, addrs: s.addrs.map((x) => formatIP(x.family, x.address)) }),
    });
    monitor = { mon, events, resyncs };
    return true;
  },
  monitorRead() {
    monitor!.mon.drain();
    return { events: monitor!.events.splice(0), resyncs: monitor!.resyncs.splice(0), overflows: monitor!.mon.overflows };
  },

  async vmacEnsure(a) {
    vmacs ??= new VmacManager(r(), new Sysctls((a.sysctlRoot as string | undefined) ?? '/proc/sys'));
    const v = await vmacs.ensure({
      parent: String(a.parent),
      vrid: a.vrid as number,
      family: a.family as 4 | 6,
      name: a.name as string | undefined,
      mac: a.mac ? parseMac(String(a.mac))! : undefined,
      disableIpv6: a.disableIpv6 as boolean | undefined,
    });
    return { name: v.name, ifindex: v.ifindex, created: v.created, linkLocal: v.linkLocal ? formatIP(6, v.linkLocal) : null };
  },
  async linkUp(a) {
    await r().setLinkUp(ifindex(a.name), a.up as boolean);
    const l = await r().getLink(String(a.name));
    return { up: l!.up, operstate: l!.operstate };
  },
  async vmacRelease(a) {
    await vmacs!.release(String(a.name));
    return true;
  },
  /** A fresh manager whose sysctl root is missing: creation succeeds, the sysctl step fails. */
  async vmacEnsureBrokenSysctl(a) {
    const m = new VmacManager(r(), new Sysctls('/nonexistent-sysctl-root'));
    await m.ensure({ parent: String(a.parent), vrid: a.vrid as number, family: 4 });
    return true;
  },
};

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let msg: { id: number; op: string; args?: Args };
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  const reply = (o: object) => process.stdout.write(`${JSON.stringify({ id: msg.id, ...o })}\n`);
  const fn = ops[msg.op];
  if (!fn) return reply({ ok: false, error: { code: 'ENOSYS', message: `unknown op ${msg.op}` } });
  Promise.resolve()
    .then(() => fn(msg.args ?? {}))
    .then(
      (result) => reply({ ok: true, result }),
      (e: { code?: string; message?: string }) => reply({ ok: false, error: { code: e?.code ?? 'ERR', message: e?.message ?? String(e) } }),
    );
});
rl.on('close', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
