/**
 * vipd's own nftables table for `no_accept`, over a NETLINK_NETFILTER socket (no `nft` subprocess).
 *
 *   const fw = VipFirewall.open();
 *   await fw.apply([{ family: 4, address: '192.0.2.10' }, { family: 6, address: '2001:db8::10' }]);
 *   await fw.remove();
 *
 * `apply` replaces table `inet vipd` in one transaction (all or nothing): an input chain (filter hook
 * input priority 0, policy accept) that accepts VRRP (protocol 112) and ICMPv6 neighbour
 * solicitations/advertisements (RFC 5798 §6.4.3), then drops anything else addressed to one of the
 * VIPs; and, as keepalived's table does, an output chain that drops what the host would send from a
 * VIP (VRRP and NS/NA excepted). It is meant to be called at start-up and on reload, never on the takeover path: the rules
 * match VIPs whether or not they are currently configured, so becoming master changes nothing here.
 * `apply([])` and `remove()` delete the table; deleting a table that is absent is not an error.
 *
 * `setVmacs(vmacs)` replaces a second table, `inet vipd_vmac` (`<table>_vmac`; plus `ip`/`ip6`
 * tables of that name for the copies), in one transaction: an output chain that drops IGMP, MLD and
 * router solicitations (ICMPv6 130-133, 143) leaving those interfaces, so that a BACKUP's VMAC never
 * sends a frame with the VMAC as source (keepalived issue #882), and optionally copies the reports
 * out of the parent. The tables are independent: `apply` never touches the VMAC tables, `setVmacs`
 * never touches the no_accept one.
 *
 * nfnetlink handles a batch inside sendmsg() (module autoloading included), so the acknowledgements
 * are normally queued when sendmsg returns; a poll with a timeout covers anything late.
 */
import { parseIP } from '../wire/inet.js';
import { NLMSG_ERROR, parseError, parseMessages, type NlMessage } from '../wire/netlink.js';
import {
  NETLINK_NETFILTER,
  NFPROTO_INET,
  VIPD_TABLE,
  describeNftOp,
  encodeBatch,
  encodeGetTable,
  parseTable,
  vipFirewallOps,
  vmacFilterOps,
  type FirewallVip,
  type NftOp,
  type VmacFilterEntry,
} from '../wire/nftables.js';
import { checkIfName } from './rtnetlink.js';
import { K, SysError, errnoError, native, wrapError, type SocketHandle } from './native.js';
import { sockaddrNl } from './sockaddr.js';

export type { FirewallVip, NftOp, VmacFilterEntry } from '../wire/nftables.js';

const RECV_SIZE = 64 * 1024;

/** A VIP as the daemon has it: address as text (or bytes). */
export interface FirewallAddress {
  family: 4 | 6;
  address: string | Uint8Array;
}

/** Wording for the errors nftables gives most, by errno name; null: the kernel's strerror. */
export function explainNftErrno(name: string, what: string): string | null {
  switch (name) {
    case 'EOPNOTSUPP':
      return 'nftables is not available in this kernel (nf_tables module missing? try `modprobe nf_tables`)';
    case 'EPROTONOSUPPORT':
      return 'nfnetlink is not available in this kernel (nfnetlink module missing? try `modprobe nf_tables`)';
    case 'EPERM':
      return 'operation not permitted (needs root or CAP_NET_ADMIN)';
    case 'ENOENT':
      if (/^add rule|^create chain/.test(what)) {
        return 'an nftables expression or chain type is not available (nft_meta/nft_payload/nft_cmp/nft_counter/nft_immediate or nft_chain_filter module missing?)';
      }
      return 'no such table';
    case 'EEXIST':
      return 'already present';
    default:
      return null;
  }
}

function nftError(what: string, errno: number, extack?: string): SysError {
  const n = native();
  const name = n.errnoName(errno);
  const text = explainNftErrno(name, what) ?? n.strerror(errno);
  return new SysError(`${what}: ${text} (${name})${extack ? ` [kernel: ${extack}]` : ''}`, errno, name);
}

function toVips(vips: FirewallAddress[]): FirewallVip[] {
  if (!Array.isArray(vips)) throw new SysError('nftables vipd: the VIP list must be an array', 22, 'EINVAL');
  const out: FirewallVip[] = [];
  for (const v of vips) {
    const fam = v?.family;
    if (fam !== 4 && fam !== 6) throw new SysError(`nftables vipd: bad address family ${String(fam)}`, 22, 'EINVAL');
    let bytes: Uint8Array | null = null;
    if (typeof v.address === 'string') {
      const p = parseIP(v.address.replace(/\/(32|128)$/, ''));
      if (p && p.family === fam) bytes = p.bytes;
    } else if (v.address instanceof Uint8Array && v.address.length === (fam === 4 ? 4 : 16)) {
      bytes = v.address;
    }
    if (!bytes) {
      const shown = typeof v.address === 'string' ? v.address : `${String((v.address as Uint8Array | undefined)?.length)} bytes`;
      throw new SysError(`nftables vipd: "${shown}" is not an IPv${fam} address`, 22, 'EINVAL');
    }
    out.push({ family: fam, address: bytes });
  }
  return out;
}

/** The no_accept firewall: one NETLINK_NETFILTER socket, table `inet vipd` (or another name, for tests). */
export class VipFirewall {
  private readonly h: SocketHandle;
  private seq: number;
  private readonly rbuf = new Uint8Array(RECV_SIZE);
  private readonly out = new Int32Array(3);
  private closed = false;
  /** Transactions run one at a time (replies are matched per exchange). */
  private queue: Promise<unknown> = Promise.resolve();
  timeoutMs = 5000;

  private constructor(
    h: SocketHandle,
    readonly table: string,
  ) {
    this.h = h;
    this.seq = (Date.now() & 0x3fffffff) >>> 0;
  }

  static open(opts: { table?: string } = {}): VipFirewall {
    const table = opts.table ?? VIPD_TABLE;
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(table)) {
      throw new SysError(`nftables: invalid table name "${table}"`, 22, 'EINVAL');
    }
    const n = native();
    let h: SocketHandle;
    try {
      h = n.socket(K('AF_NETLINK'), K('SOCK_RAW'), n.constants.NETLINK_NETFILTER ?? NETLINK_NETFILTER);
    } catch (e) {
      const err = wrapError('open nfnetlink socket', e);
      const why = explainNftErrno(err.code, 'open');
      throw why ? new SysError(`open nfnetlink socket: ${why} (${err.code})`, err.errno, err.code) : err;
    }
    try {
      for (const opt of ['NETLINK_EXT_ACK', 'NETLINK_CAP_ACK']) {
        try {
          n.setsockopt(h, K('SOL_NETLINK'), K(opt), 1);
        } catch {
          /* older kernels: plain errors */
        }
      }
      n.bind(h, sockaddrNl(0, 0));
    } catch (e) {
      n.close(h);
      throw wrapError('set up nfnetlink socket', e);
    }
    return new VipFirewall(h, table);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native().close(this.h);
  }

  private sndbuf = 0;

  /** A batch is one datagram: the send buffer must hold it (netlink refuses larger ones with EMSGSIZE). */
  private fitSendBuffer(len: number): void {
    const need = len + 4096;
    if (need <= this.sndbuf) return;
    const n = native();
    const SOL_SOCKET = K('SOL_SOCKET');
    if (this.sndbuf === 0) {
      const b = new Uint8Array(4);
      try {
        n.getsockopt(this.h, SOL_SOCKET, K('SO_SNDBUF'), b);
        // The kernel reports twice the value set; the usable size is about half of that.
        this.sndbuf = new DataView(b.buffer).getInt32(0, true) / 2;
      } catch {
        this.sndbuf = 0;
      }
      if (need <= this.sndbuf) return;
    }
    // SO_SNDBUFFORCE is 32 on x86-64 and arm64 (the addon does not export it).
    for (const opt of [n.constants.SO_SNDBUFFORCE ?? 32, K('SO_SNDBUF')]) {
      try {
        n.setsockopt(this.h, SOL_SOCKET, opt, need);
        this.sndbuf = need;
        return;
      } catch {
        /* SO_SNDBUFFORCE needs CAP_NET_ADMIN; SO_SNDBUF is capped by net.core.wmem_max */
      }
    }
  }

  /** (Re)create the table with drop rules for these addresses, atomically; [] deletes the table. */
  async apply(vips: FirewallAddress[]): Promise<void> {
    await this.transact(vipFirewallOps(toVips(vips), this.table));
  }

  /** Delete the table (absent is fine). */
  async remove(): Promise<void> {
    await this.transact(vipFirewallOps([], this.table));
  }

  /** Whether the table exists now. */
  async exists(): Promise<boolean> {
    return this.tableExists(this.table);
  }

  /** The VMAC egress table's name: `<table>_vmac` (`vipd_vmac`). */
  get vmacTable(): string {
    return `${this.table}_vmac`;
  }

  /**
   * (Re)create the VMAC egress tables for exactly these VMACs, atomically; [] deletes them. An entry
   * is a name, or `{ name, parentIndex }` to also send a copy of each IGMP/MLD report out of the
   * parent (keepalived's behaviour: MLD/IGMP-snooping switches keep forwarding the groups joined on
   * the VMAC, ff02::12 and 224.0.0.18 included, to this port). Names need not exist yet (the match is
   * on the name), so this can run before a VMAC is brought up; a parent index must be current.
   */
  async setVmacs(vmacs: (string | VmacFilterEntry)[]): Promise<void> {
    if (!Array.isArray(vmacs)) throw new SysError(`nftables ${this.vmacTable}: the VMAC list must be an array`, 22, 'EINVAL');
    for (const v of vmacs) {
      const name: unknown = typeof v === 'string' ? v : v && typeof v === 'object' ? v.name : v;
      const why = typeof name === 'string' ? checkIfName(name) : `interface name ${String(name)} is not a string`;
      if (why) throw new SysError(`nftables ${this.vmacTable}: ${why}`, 22, 'EINVAL');
      const pi = typeof v === 'object' ? v.parentIndex : undefined;
      if (pi !== undefined && !(Number.isInteger(pi) && pi > 0 && pi <= 0x7fffffff)) {
        throw new SysError(`nftables ${this.vmacTable}: parent interface index ${String(pi)} of ${name} is not a valid ifindex`, 22, 'EINVAL');
      }
    }
    await this.transact(vmacFilterOps(vmacs, this.vmacTable));
  }

  /** Whether the VMAC egress table exists now. */
  async vmacsExist(): Promise<boolean> {
    return this.tableExists(this.vmacTable);
  }

  private async tableExists(table: string): Promise<boolean> {
    const msgs = await this.exchange(
      (s) => ({ bytes: encodeGetTable(s, NFPROTO_INET, table), seqs: [s] }),
      [`get table inet ${table}`],
      true,
    );
    return msgs.some((m) => parseTable(m)?.name === table);
  }

  /** Run operations as one nfnetlink transaction; the first failure is thrown naming its operation. */
  async transact(ops: NftOp[]): Promise<void> {
    await this.exchange(
      (s) => {
        const b = encodeBatch(s, ops, { ack: 'last' });
        return { ...b, expect: b.seqs.slice(-1) };
      },
      ops.map((o) => describeNftOp(o)),
      false,
    );
  }

  /**
   * Send one datagram and wait until each of `expect` (default: every one of `seqs`) is answered by
   * an NLMSG_ERROR (an ACK when 0); errors for any of `seqs` are collected on the way. Data replies
   * (GET) are returned. With `missingOk`, ENOENT on a GET is "no data", not an error.
   */
  private exchange(
    build: (seq: number) => { bytes: Uint8Array; seqs: number[]; expect?: number[] },
    whats: string[],
    missingOk: boolean,
  ): Promise<NlMessage[]> {
    const run = this.queue.then(
      () => this.exchangeNow(build, whats, missingOk),
      () => this.exchangeNow(build, whats, missingOk),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  private exchangeNow(
    build: (seq: number) => { bytes: Uint8Array; seqs: number[]; expect?: number[] },
    whats: string[],
    missingOk: boolean,
  ): Promise<NlMessage[]> {
    const label = `nftables table inet ${this.table}`;
    if (this.closed) return Promise.reject(new SysError(`${label}: nfnetlink socket closed`, 9, 'EBADF'));
    const first = (this.seq + 1) >>> 0 || 1;
    const { bytes, seqs, expect } = build(first);
    this.seq = (first + seqs.length + 1) >>> 0;
    const n = native();
    this.fitSendBuffer(bytes.length);
    const sent = n.sendmsg(this.h, bytes, null, null, 0);
    if (sent < 0) {
      const e = errnoError(`${label}: send`, sent);
      return Promise.reject(e.code === 'EPERM' ? nftError(`${label}: send`, e.errno) : e);
    }
    const names = new Map<number, string>(seqs.map((s, i) => [s, whats[i] ?? label]));
    const pending = new Set<number>(expect ?? seqs);
    const data: NlMessage[] = [];
    const errors: { order: number; err: SysError }[] = [];
    const order = new Map<number, number>(seqs.map((s, i) => [s, i]));
    let batchError: SysError | null = null;

    const read = (): void => {
      const MSG_TRUNC = K('MSG_TRUNC');
      for (;;) {
        const r = n.recvmsg(this.h, this.rbuf, null, null, MSG_TRUNC, this.out);
        if (r < 0) {
          const name = n.errnoName(-r);
          if (name === 'EAGAIN') return;
          if (name === 'EINTR') continue;
          batchError = errnoError(`${label}: receive`, r);
          return;
        }
        if (r > this.rbuf.length) {
          batchError = new SysError(`${label}: reply of ${r} bytes exceeds the buffer`, 90, 'EMSGSIZE');
          continue;
        }
        for (const m of parseMessages(this.rbuf, r)) {
          if (m.type === NLMSG_ERROR) {
            const e = parseError(m);
            if (!e) continue;
            const what = names.get(m.seq);
            if (what === undefined) {
              // An error on the batch begin/end (not one of ours): e.g. EOPNOTSUPP without nf_tables.
              if (e.errno !== 0 && m.seq >= first && m.seq <= first + seqs.length + 1) {
                batchError = nftError(label, e.errno, e.message);
              }
              continue;
            }
            pending.delete(m.seq);
            if (e.errno !== 0 && !(missingOk && n.errnoName(e.errno) === 'ENOENT')) {
              errors.push({ order: order.get(m.seq) ?? 0, err: nftError(what, e.errno, e.message) });
            }
          } else if (names.has(m.seq)) {
            data.push({ ...m, body: m.body.slice() });
          }
        }
      }
    };

    const settle = (): { done: boolean; err: SysError | null } => {
      if (batchError) return { done: true, err: batchError };
      if (pending.size > 0) return { done: false, err: null };
      if (errors.length) {
        errors.sort((a, b) => a.order - b.order);
        // The kernel aborts the whole batch; name the first operation it refused.
        return { done: true, err: errors[0]!.err };
      }
      return { done: true, err: null };
    };

    read();
    const now = settle();
    if (now.done) return now.err ? Promise.reject(now.err) : Promise.resolve(data);

    return new Promise<NlMessage[]>((resolve, reject) => {
      let finished = false;
      const finish = (err: SysError | null) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        try {
          n.pollStop(this.h);
        } catch {
          /* closed */
        }
        if (err) reject(err);
        else resolve(data);
      };
      const timer = setTimeout(() => {
        const seq = pending.values().next().value;
        const what = (seq !== undefined ? names.get(seq) : undefined) ?? label;
        finish(new SysError(`${what}: no reply from the kernel in ${this.timeoutMs} ms`, 110, 'ETIMEDOUT'));
      }, this.timeoutMs);
      n.poll(this.h, K('UV_READABLE'), () => {
        read();
        const s = settle();
        if (s.done) finish(s.err);
      });
    });
  }
}
