/**
 * VMAC interfaces as keepalived makes them (reference/keepalived-compat.md §2): a macvlan in private
 * mode on the parent, MAC 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6) unless configured,
 * named `vrrp.VRID` unless configured; IPv6 addrgenmode none (a separate request after creation, before
 * link-up) so no EUI-64 link-local derived from the shared VMAC; per-VMAC sysctls; reference-counted
 * parent sysctls restored when the parent's last VMAC goes; an existing macvlan of the right name is
 * reused (updated when MAC or mode differ, recreated when its parent differs).
 *
 * Nothing is left half-configured: when a step after creation fails, the macvlan is deleted and the
 * sysctls touched by that step are restored before the error is thrown.
 */
import { formatMac, isMulticastMac, vrrpVirtualMac } from '../wire/ethernet.js';
import { isIPv6LinkLocal } from '../wire/inet.js';
import { IN6_ADDR_GEN_MODE_NONE, MACVLAN_MODE_PRIVATE, RT_SCOPE_LINK } from '../wire/netlink.js';
import { SysError } from './native.js';
import { checkIfName, type LinkInfo, type Rtnl } from './rtnetlink.js';
import { Sysctls, confKey } from './sysctl.js';

export interface VmacRequest {
  /** Parent interface name. */
  parent: string;
  vrid: number;
  family: 4 | 6;
  /** Configured name (default vrrp.VRID). */
  name?: string;
  /** Configured MAC (default the VRRP virtual MAC). */
  mac?: Uint8Array;
  /** IPv4 instance without IPv6 VIPs: write disable_ipv6=1 on the VMAC (as keepalived). */
  disableIpv6?: boolean;
  /**
   * IPv6 instances: the link-local to put on the VMAC (adverts' source). Default: a copy of the
   * parent's link-local, else the parent MAC's EUI-64. `false` adds none.
   */
  linkLocal?: Uint8Array | false;
}

export interface Vmac {
  name: string;
  ifindex: number;
  parent: string;
  parentIndex: number;
  mac: Uint8Array;
  family: 4 | 6;
  /** True when vipd created it (then release() deletes it). */
  created: boolean;
  /** The link-local address added to it (IPv6), if any. */
  linkLocal: Uint8Array | null;
}

/** keepalived's default name: `<prefix>.VRID`, truncated to 15 characters. */
export function vmacName(vrid: number, prefix = 'vrrp'): string {
  return `${prefix}.${vrid}`.slice(0, 15);
}

/**
 * keepalived's VMAC name choice: the configured name, else `<prefix>.VRID`; when another instance holds
 * it, IPv6 tries `<prefix>6.VRID` first, then both families try `<prefix>1.VRID`, `<prefix>2.VRID`, ...
 * Returns the first name not in `taken` (names truncated to 15 characters).
 */
export function chooseVmacName(vrid: number, family: 4 | 6, taken: ReadonlySet<string>, prefix = 'vrrp'): string {
  const first = vmacName(vrid, prefix);
  if (!taken.has(first)) return first;
  if (family === 6) {
    const v6 = `${prefix}6.${vrid}`.slice(0, 15);
    if (!taken.has(v6)) return v6;
  }
  for (let i = 1; ; i++) {
    const n = `${prefix}${i}.${vrid}`.slice(0, 15);
    if (!taken.has(n)) return n;
    if (i > 10000) return n;
  }
}

/** The EUI-64 link-local address for a 6-byte MAC (fe80::/64). */
export function eui64LinkLocal(mac: Uint8Array): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0xfe;
  a[1] = 0x80;
  a[8] = mac[0]! ^ 0x02;
  a[9] = mac[1]!;
  a[10] = mac[2]!;
  a[11] = 0xff;
  a[12] = 0xfe;
  a[13] = mac[3]!;
  a[14] = mac[4]!;
  a[15] = mac[5]!;
  return a;
}

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  return !!a && a.length === b.length && a.every((x, i) => x === b[i]);
}

export class VmacManager {
  private readonly vmacs = new Map<string, Vmac>();
  /** parent name -> number of VMACs holding its sysctls. */
  private readonly parentRefs = new Map<string, number>();
  private rpFilterRefs = 0;
  private readonly rpFilterKeys: string[] = [];

  constructor(
    private readonly rtnl: Rtnl,
    readonly sysctl: Sysctls = new Sysctls(),
  ) {}

  list(): Vmac[] {
    return [...this.vmacs.values()];
  }

  /** Create (or reuse) the VMAC for an instance and bring it up. */
  async ensure(req: VmacRequest): Promise<Vmac> {
    if (!Number.isInteger(req.vrid) || req.vrid < 1 || req.vrid > 255) {
      throw new SysError(`VMAC: VRID ${req.vrid} out of range 1-255`, 22, 'EINVAL');
    }
    const name = req.name ?? vmacName(req.vrid);
    const bad = checkIfName(name) ?? checkIfName(req.parent);
    if (bad) throw new SysError(`VMAC ${name}: ${bad}`, 36, 'ENAMETOOLONG');
    const mac = req.mac ?? vrrpVirtualMac(req.family, req.vrid);
    if (mac.length !== 6 || isMulticastMac(mac)) throw new SysError(`VMAC ${name}: MAC ${formatMac(mac)} is not a unicast MAC`, 22, 'EINVAL');
    const known = this.vmacs.get(name);
    if (known) {
      if (known.parent !== req.parent) throw new SysError(`VMAC ${name} is already in use on ${known.parent}`, 17, 'EEXIST');
      const cur = await this.rtnl.getLink(name);
      if (cur && cur.ifindex === known.ifindex) return known;
      // The VMAC vanished (its parent was deleted and recreated, or someone deleted it): forget it, including the
      // parent's sysctls, which died with the old parent, and build it again below.
      this.vmacs.delete(name);
      if (known.family === 4 && this.dropParentRef(known.parent)) {
        for (const k of ['arp_ignore', 'arp_filter', 'arp_announce']) this.sysctl.forget(confKey(4, known.parent, k));
      }
      for (const f of [4, 6] as const) {
        for (const k of ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries', 'disable_ipv6']) this.sysctl.forget(confKey(f, name, k));
      }
    }

    const parent = await this.rtnl.getLink(req.parent);
    if (!parent) throw new SysError(`VMAC ${name}: parent interface ${req.parent} not found`, 19, 'ENODEV');

    let link = await this.rtnl.getLink(name);
    let created = false;
    if (link) {
      if (link.kind !== 'macvlan') throw new SysError(`VMAC ${name}: an interface of that name exists and is not a macvlan`, 17, 'EEXIST');
      if (link.parentIndex !== parent.ifindex) {
        await this.rtnl.deleteLink(link.ifindex, name);
        link = null;
      } else if (!sameBytes(link.mac, mac) || link.macvlanMode !== MACVLAN_MODE_PRIVATE) {
        await this.rtnl.updateMacvlan(link.ifindex, { mac, mode: MACVLAN_MODE_PRIVATE }, name);
      }
    }
    if (!link) {
      // Like keepalived: keep the parent's device group and VRF.
      let master: number | undefined;
      if (parent.master) {
        const m = await this.rtnl.getLink(parent.master);
        if (m?.kind === 'vrf') master = m.ifindex;
      }
      link = await this.rtnl.createMacvlan({ name, parentIndex: parent.ifindex, mac, mode: MACVLAN_MODE_PRIVATE, group: parent.group, master });
      created = true;
    }
    const vmac: Vmac = {
      name,
      ifindex: link.ifindex,
      parent: req.parent,
      parentIndex: parent.ifindex,
      mac,
      family: req.family,
      created,
      linkLocal: null,
    };
    const touched: string[] = [];
    let parentRefTaken = false;
    let rpTaken = false;
    try {
      try {
        await this.rtnl.setAddrGenMode(link.ifindex, IN6_ADDR_GEN_MODE_NONE, name);
      } catch (e) {
        // Without IPv6 in the kernel there is no link-local to suppress.
        if (!(req.family === 4 && (e as SysError).code === 'EAFNOSUPPORT')) throw e;
      }
      if (created) this.vmacSysctls(vmac, req, touched);
      if (req.family === 4) {
        this.takeParent(req.parent, touched);
        parentRefTaken = true;
      }
      // keepalived does the rp_filter adjustment for VMACs of both families.
      rpTaken = true;
      await this.takeRpFilter(touched);
      if (!link.up) await this.rtnl.setLinkUp(link.ifindex, true, name);
      if (req.family === 6 && req.linkLocal !== false) await this.addLinkLocal(vmac, parent, req.linkLocal);
    } catch (e) {
      if (parentRefTaken) this.dropParentRef(req.parent);
      if (rpTaken) this.rpFilterRefs--;
      for (const k of touched.reverse()) {
        try {
          this.sysctl.restore(k);
        } catch {
          /* best effort */
        }
      }
      if (created) {
        try {
          await this.rtnl.deleteLink(link.ifindex, name);
        } catch {
          /* best effort */
        }
      }
      throw e;
    }
    this.vmacs.set(name, vmac);
    return vmac;
  }

  private vmacSysctls(vmac: Vmac, req: VmacRequest, touched: string[]): void {
    const set = (k: string, v: number) => {
      this.sysctl.set(k, v);
      touched.push(k);
    };
    set(confKey(4, vmac.name, 'arp_ignore'), 1);
    if (req.family === 4) {
      set(confKey(4, vmac.name, 'accept_local'), 1);
      set(confKey(4, vmac.name, 'rp_filter'), 0);
      set(confKey(4, vmac.name, 'promote_secondaries'), 1);
      if (req.disableIpv6 && this.sysctl.read(confKey(6, vmac.name, 'disable_ipv6')) !== null) {
        set(confKey(6, vmac.name, 'disable_ipv6'), 1);
      }
    }
  }

  private takeParent(parent: string, touched: string[]): void {
    const refs = this.parentRefs.get(parent) ?? 0;
    if (refs === 0) {
      for (const [k, v] of [
        [confKey(4, parent, 'arp_ignore'), 1],
        [confKey(4, parent, 'arp_filter'), 1],
        // Beyond keepalived: without arp_announce=2 the parent sends its own ARP requests (e.g. to answer a host
        // that pinged the VIP) with the VIP as sender address and the parent's MAC, and the host's neighbour entry
        // for the VIP flips to the parent's MAC (ARP flux) — seen with keepalived 2.2.7 too.
        [confKey(4, parent, 'arp_announce'), 2],
      ] as const) {
        this.sysctl.set(k, v);
        touched.push(k);
      }
    }
    this.parentRefs.set(parent, refs + 1);
  }

  private dropParentRef(parent: string): boolean {
    const refs = (this.parentRefs.get(parent) ?? 1) - 1;
    if (refs > 0) {
      this.parentRefs.set(parent, refs);
      return false;
    }
    this.parentRefs.delete(parent);
    return true;
  }

  /** The kernel uses max(all, iface) for rp_filter: raise default and every interface to `all`, then all=0. */
  private async takeRpFilter(touched: string[]): Promise<void> {
    this.rpFilterRefs++;
    if (this.rpFilterRefs > 1) return;
    const all = Number(this.sysctl.read('net/ipv4/conf/all/rp_filter') ?? '0');
    if (!(all > 0)) return;
    const links: LinkInfo[] = await this.rtnl.listLinks();
    for (const name of ['default', ...links.map((l) => l.name)]) {
      const k = confKey(4, name, 'rp_filter');
      const cur = Number(this.sysctl.read(k) ?? 'NaN');
      if (Number.isNaN(cur) || cur >= all || name.startsWith('vrrp')) continue;
      this.sysctl.set(k, all);
      this.rpFilterKeys.push(k);
      touched.push(k);
    }
    this.sysctl.set('net/ipv4/conf/all/rp_filter', 0);
    this.rpFilterKeys.push('net/ipv4/conf/all/rp_filter');
    touched.push('net/ipv4/conf/all/rp_filter');
  }

  private async addLinkLocal(vmac: Vmac, parent: LinkInfo, configured: Uint8Array | undefined): Promise<void> {
    let ll = configured ?? null;
    if (!ll) {
      const addrs = await this.rtnl.listAddrs(6);
      ll = addrs.find((a) => a.ifindex === parent.ifindex && isIPv6LinkLocal(a.address))?.address ?? null;
    }
    if (!ll && parent.mac && parent.mac.length === 6) ll = eui64LinkLocal(parent.mac);
    if (!ll) return;
    try {
      await this.rtnl.addAddress({ family: 6, ifindex: vmac.ifindex, address: ll, prefixlen: 64, scope: RT_SCOPE_LINK }, vmac.name);
    } catch (e) {
      if ((e as SysError).code !== 'EEXIST') throw e;
    }
    vmac.linkLocal = ll;
  }

  /** Delete a VMAC we created, and restore the sysctls when the parent's last VMAC goes. */
  async release(name: string): Promise<void> {
    const vmac = this.vmacs.get(name);
    if (!vmac) return;
    this.vmacs.delete(name);
    const errors: Error[] = [];
    if (vmac.created) {
      try {
        await this.rtnl.deleteLink(vmac.ifindex, name);
      } catch (e) {
        if ((e as SysError).code !== 'ENODEV') errors.push(e as Error);
      }
      for (const f of [4, 6] as const) {
        for (const s of ['arp_ignore', 'accept_local', 'rp_filter', 'promote_secondaries', 'disable_ipv6']) {
          this.sysctl.forget(confKey(f, name, s));
        }
      }
    }
    if (vmac.family === 4 && this.dropParentRef(vmac.parent)) {
      for (const s of ['arp_ignore', 'arp_filter', 'arp_announce']) {
        try {
          this.sysctl.restore(confKey(4, vmac.parent, s));
        } catch (e) {
          errors.push(e as Error);
        }
      }
    }
    this.rpFilterRefs--;
    if (this.rpFilterRefs === 0) {
      for (const k of this.rpFilterKeys.splice(0).reverse()) {
        try {
          this.sysctl.restore(k);
        } catch (e) {
          errors.push(e as Error);
        }
      }
    }
    if (errors.length) throw errors[0];
  }

  /** Release every VMAC (at daemon stop). Returns the errors met; continues past them. */
  async releaseAll(): Promise<Error[]> {
    const errors: Error[] = [];
    for (const name of [...this.vmacs.keys()].reverse()) {
      try {
        await this.release(name);
      } catch (e) {
        errors.push(e as Error);
      }
    }
    return errors;
  }
}
