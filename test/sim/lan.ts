/**
 * A deterministic simulated LAN for the pure VRRP core: routers run `step()` from src/core on a virtual clock,
 * adverts go through the real wire codec (encode, IPv4 datagram / IPv6 payload, decode, instance checks), and links
 * have loss, delay, jitter and partitions. No real time, no sockets: the same seed gives the same run.
 */
import { initialState, step } from '../../src/core/machine.js';
import type { Action, VrConfig, VrEvent, VrState } from '../../src/core/types.js';
import { parseIP } from '../../src/wire/inet.js';
import {
  checkAdvert,
  decodeIPv4,
  decodeIPv6,
  encodeAdvert,
  wrapIPv4,
  VRRP_GROUP4,
  VRRP_GROUP6,
  type RejectReason,
} from '../../src/wire/vrrp.js';
import { Rng } from './rng.js';

export interface SimRouterSpec {
  /** One machine per VRID this router runs. */
  machines: VrConfig[];
}

interface QueueEntry {
  at: number;
  seq: number;
  run: () => void;
}

/** Binary min-heap on (at, seq): ties run in insertion order, which keeps runs deterministic. */
class Heap {
  private a: QueueEntry[] = [];
  get size(): number {
    return this.a.length;
  }
  push(e: QueueEntry): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, e)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }
  peek(): QueueEntry | undefined {
    return this.a[0];
  }
  pop(): QueueEntry | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(a[r]!, a[l]!) ? r : l;
        if (less(last, a[c]!)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function less(x: QueueEntry, y: QueueEntry): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export class SimRouter {
  alive = true;
  readonly states = new Map<number, VrState>();
  /** VRIDs whose VIPs this router currently holds. */
  readonly holding = new Set<number>();
  constructor(
    readonly id: number,
    readonly addr: Uint8Array,
    readonly addrText: string,
    readonly cfgs: Map<number, VrConfig>,
  ) {
    for (const [vrid, cfg] of cfgs) this.states.set(vrid, initialState(cfg));
  }
}

export interface LinkParams {
  /** Probability that one frame on this directed link is lost. */
  loss: number;
  /** One-way delay and uniform jitter, microseconds. */
  delayUs: number;
  jitterUs: number;
}

export class SimLan {
  now = 0;
  private seq = 0;
  private readonly q = new Heap();
  readonly routers: SimRouter[] = [];
  /** links[i][j]: frames from router i to router j. */
  readonly links: LinkParams[][] = [];
  /** Partition label per router: frames cross only between equal labels. */
  readonly group: number[] = [];
  readonly rejects = new Map<RejectReason, number>();
  transitions = 0;
  advertsSent = 0;
  /** Last `traceLimit` lines of what happened, for failure reports. */
  private readonly traceBuf: string[] = [];
  traceLimit = 400;
  /** Called after every transition, with the VRID. */
  onTransition: ((vrid: number) => void) | null = null;
  /** v3 over IPv4 checksum form every router sends. */
  checksumForm: 'pseudo' | 'plain' = 'pseudo';

  constructor(
    readonly family: 4 | 6,
    readonly rng: Rng,
    readonly vips: Map<number, string[]>,
  ) {}

  addRouter(spec: SimRouterSpec, link: LinkParams): SimRouter {
    const id = this.routers.length;
    const addrText = this.family === 4 ? `192.0.2.${10 + id}` : `fe80::${(10 + id).toString(16)}`;
    const addr = parseIP(addrText)!.bytes;
    const cfgs = new Map<number, VrConfig>();
    for (const m of spec.machines) cfgs.set(m.vrid, { ...m, primaryAddress: addr, family: this.family });
    const r = new SimRouter(id, addr, addrText, cfgs);
    this.routers.push(r);
    this.group.push(0);
    for (const row of this.links) row.push({ ...link });
    this.links.push(this.routers.map(() => ({ ...link })));
    return r;
  }

  trace(line: string): void {
    this.traceBuf.push(`${(this.now / 1000).toFixed(3).padStart(12)}ms ${line}`);
    if (this.traceBuf.length > this.traceLimit) this.traceBuf.splice(0, this.traceBuf.length - this.traceLimit);
  }

  traceText(): string {
    return this.traceBuf.join('\n');
  }

  at(t: number, run: () => void): void {
    this.q.push({ at: Math.max(t, this.now), seq: this.seq++, run });
  }

  /** Events processed, and the budget after which the run is declared a runaway (e.g. an advert storm). */
  events = 0;
  eventBudget = 2_000_000;
  runaway = false;

  /** Run events until the clock passes `until` (microseconds), or until the event budget is spent. */
  runUntil(until: number): void {
    for (;;) {
      const e = this.q.peek();
      if (!e || e.at > until) break;
      if (++this.events > this.eventBudget) {
        this.runaway = true;
        return;
      }
      this.q.pop();
      this.now = e.at;
      e.run();
    }
    this.now = Math.max(this.now, until);
  }

  /** Deliver one event to router r's machine for `vrid` and execute the resulting actions. */
  feed(r: SimRouter, vrid: number, ev: VrEvent): void {
    if (!r.alive) return;
    const st = r.states.get(vrid);
    if (!st) return;
    const res = step(st, ev, this.now);
    r.states.set(vrid, res.state);
    for (const a of res.actions) this.exec(r, vrid, res.state, a);
  }

  private exec(r: SimRouter, vrid: number, st: VrState, a: Action): void {
    switch (a.type) {
      case 'send_advert':
        this.sendAdvert(r, st, a.priority);
        break;
      case 'set_timer': {
        const gen = a.timer.gen;
        this.at(a.timer.at, () => this.feed(r, vrid, { type: 'timer', gen }));
        break;
      }
      case 'cancel_timer':
        break; // stale expiries are ignored by generation
      case 'add_vips':
        r.holding.add(vrid);
        break;
      case 'remove_vips':
        r.holding.delete(vrid);
        break;
      case 'announce':
        break;
      case 'transition':
        this.transitions++;
        this.trace(`R${r.id} vrid ${vrid}: ${a.transition.from} -> ${a.transition.to} (${a.transition.reason}) prio ${st.priority}`);
        this.onTransition?.(vrid);
        break;
      case 'log':
        break;
    }
  }

  private sendAdvert(r: SimRouter, st: VrState, priority: number): void {
    const cfg = st.cfg;
    const dstText = this.family === 4 ? VRRP_GROUP4 : VRRP_GROUP6;
    const enc = encodeAdvert(
      {
        version: cfg.version,
        family: this.family,
        vrid: cfg.vrid,
        priority,
        interval: cfg.version === 2 ? Math.round(cfg.advertIntervalCs / 100) : cfg.advertIntervalCs,
        addresses: this.vips.get(cfg.vrid)!,
        authType: 0,
        authData: new Uint8Array(0),
      },
      { src: r.addr, dst: dstText, checksumForm: this.checksumForm },
    );
    if (!enc.ok) throw new Error(`sim: encode failed: ${enc.error}`);
    this.advertsSent++;
    const dst = parseIP(dstText)!.bytes;
    const frame = this.family === 4 ? wrapIPv4(enc.bytes, r.addr, dst) : enc.bytes;
    for (const to of this.routers) {
      if (to === r) continue;
      if (this.group[to.id] !== this.group[r.id]) continue;
      const link = this.links[r.id]![to.id]!;
      if (link.loss > 0 && this.rng.chance(link.loss)) continue;
      const delay = link.delayUs + (link.jitterUs > 0 ? this.rng.int(0, link.jitterUs) : 0);
      this.at(this.now + delay, () => this.receive(to, frame, r.addr, dst));
    }
  }

  private receive(to: SimRouter, frame: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
    if (!to.alive) return;
    const dec = this.family === 4 ? decodeIPv4(frame) : decodeIPv6(frame, { src, dst, hopLimit: 255 });
    if (!dec.ok) return this.reject(dec.reason);
    const adv = dec.advert;
    const st = to.states.get(adv.vrid);
    if (!st) return this.reject('vrid');
    const cfg = st.cfg;
    const chk = checkAdvert(adv, {
      vrid: cfg.vrid,
      version: cfg.version,
      priority: st.priority,
      interval: cfg.version === 2 ? Math.round(cfg.advertIntervalCs / 100) : cfg.advertIntervalCs,
      authType: 0,
      addresses: this.vips.get(cfg.vrid)!,
    });
    if (!chk.ok) return this.reject(chk.reason);
    this.feed(to, adv.vrid, {
      type: 'advert',
      src,
      srcText: dec.src,
      priority: adv.priority,
      intervalCs: adv.version === 2 ? adv.interval * 100 : adv.interval,
    });
  }

  private reject(reason: RejectReason): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
  }

  // --- Scenario operations ------------------------------------------------------------------------------------

  startup(r: SimRouter): void {
    r.alive = true;
    this.trace(`R${r.id} startup`);
    for (const vrid of r.states.keys()) this.feed(r, vrid, { type: 'startup' });
  }

  /** Power loss: nothing is sent, state is lost, addresses vanish. */
  crash(r: SimRouter): void {
    this.trace(`R${r.id} crash`);
    r.alive = false;
    r.holding.clear();
    for (const [vrid, cfg] of r.cfgs) {
      const prev = r.states.get(vrid)!;
      r.states.set(vrid, initialState({ ...cfg, priority: prev.cfg.priority }));
    }
  }

  /** Graceful stop: Shutdown event (a master sends priority 0), then the router is gone. */
  shutdown(r: SimRouter): void {
    this.trace(`R${r.id} shutdown`);
    for (const vrid of r.states.keys()) this.feed(r, vrid, { type: 'shutdown' });
    r.alive = false;
    r.holding.clear();
  }

  setPriority(r: SimRouter, vrid: number, priority: number): void {
    this.trace(`R${r.id} vrid ${vrid}: priority -> ${priority}`);
    // The configured priority changes too, so that a restart keeps it.
    const cfg = r.cfgs.get(vrid)!;
    r.cfgs.set(vrid, { ...cfg, priority });
    this.feed(r, vrid, { type: 'set_priority', priority });
  }

  partition(groups: number[]): void {
    this.trace(`partition ${groups.join(',')}`);
    for (let i = 0; i < groups.length; i++) this.group[i] = groups[i]!;
  }

  heal(): void {
    this.trace('heal');
    for (let i = 0; i < this.group.length; i++) this.group[i] = 0;
  }

  /** Alive routers that are master for `vrid`. */
  masters(vrid: number): SimRouter[] {
    return this.routers.filter((r) => r.alive && r.states.get(vrid)?.state === 'master');
  }

  connected(): boolean {
    return this.group.every((g) => g === this.group[0]);
  }

  lossless(): boolean {
    return this.links.every((row) => row.every((l) => l.loss === 0));
  }
}
