/**
 * A fake DaemonControl for the control-plane tests: canned status, scriptable transitions and adverts.
 */
import { EventEmitter } from 'node:events';
import {
  COUNTER_NAMES,
  type CounterName,
  type DaemonControl,
  type DaemonStatus,
  type InstanceStatus,
  type ReloadResult,
  type StateName,
  type TransitionInfo,
} from '../../src/daemon/api.js';
import type { DumpDetails } from '../../src/control/dumps.js';

export function zeroCounters(): Record<CounterName, number> {
  return Object.fromEntries(COUNTER_NAMES.map((c) => [c, 0])) as Record<CounterName, number>;
}

/** The configuration-only details (keepalived's dumps) that go with cannedStatus(), as keepalived's own files show them. */
export const CANNED_DUMP_DETAILS: DumpDetails = {
  routerId: 'vipd_dump_a',
  trackFiles: { tf_maint: { path: '/tmp/vipd-dump-track-file', weight: -10 } },
  instances: {
    VI_1: { authType: 'PASS', authPass: 's3cret', excludedVips: ['198.51.100.7/32'], fdIn: 15, fdOut: 16 },
    VI_6: { masterPriority: 120, fdIn: 17, fdOut: 18, ifindex: 2 },
  },
};

export function cannedStatus(): DaemonStatus {
  const vi1: InstanceStatus = {
    name: 'VI_1',
    family: 4,
    vrid: 51,
    version: 2,
    interface: 'eth0',
    vmac: null,
    state: 'MASTER',
    basePriority: 150,
    effectivePriority: 140,
    masterAddress: '192.0.2.1',
    masterPriority: null,
    sourceAddress: '192.0.2.1',
    vips: ['192.0.2.100/24', '192.0.2.101/24'],
    advertIntervalMs: 1000,
    masterAdverIntervalMs: 1000,
    masterDownIntervalMs: 3414.0625,
    lastTransition: { at: '2026-11-21T06:33:31.113Z', from: 'BACKUP', to: 'MASTER', reason: 'master_down_timer' },
    tracking: [
      { kind: 'file', name: 'tf_maint', status: '0', weight: -10 },
      { kind: 'interface', name: 'eth1', status: 'down', weight: -10 },
    ],
    counters: { ...zeroCounters(), advert_sent: 3, become_master: 1, auth_failure: 2 },
    checksumForms: { v2: 0, pseudo: 0, plain: 0 },
    syncGroup: null,
  };
  const vi6: InstanceStatus = {
    name: 'VI_6',
    family: 6,
    vrid: 52,
    version: 3,
    interface: 'eth0',
    vmac: null,
    state: 'BACKUP',
    basePriority: 90,
    effectivePriority: 90,
    masterAddress: 'fe80::f87c:86ff:fed4:6321',

    masterPriority: 200,
    sourceAddress: 'fe80::a803:7dff:fedb:7d9',
    vips: ['2001:db8::100/64'],
    advertIntervalMs: 500,
    masterAdverIntervalMs: 500,
    masterDownIntervalMs: 1824.21875,
    lastTransition: { at: '2026-11-21T06:33:31.714Z', from: 'MASTER', to: 'BACKUP', reason: 'higher_priority_advert' },
    tracking: [],
    counters: { ...zeroCounters(), advert_rcvd: 6, advert_sent: 5, become_master: 1, release_master: 1 },
    checksumForms: { v2: 0, pseudo: 6, plain: 0 },
    syncGroup: null,
  };
  return {
    pid: 4242,
    version: '0.1.0',
    startedAt: '2026-11-21T06:33:25.000Z',
    configFile: '/etc/keepalived/keepalived.conf',
    instances: [vi1, vi6],
  };
}

export class FakeDaemon extends EventEmitter implements DaemonControl {
  current: DaemonStatus = cannedStatus();
  calls: string[] = [];
  /** Make the next status() throw (the server must survive). */
  statusThrows = false;
  reloadResult: ReloadResult = { ok: true, diagnostics: [], added: [], removed: [], changed: ['VI_1'], unchanged: ['VI_6'] };

  status(): DaemonStatus {
    this.calls.push('status');
    if (this.statusThrows) throw new Error('status exploded');
    return structuredClone(this.current);
  }
  async reload(): Promise<ReloadResult> {
    this.calls.push('reload');
    return this.reloadResult;
  }
  async handover(instance: string): Promise<{ ok: boolean; message: string }> {
    this.calls.push(`handover ${instance}`);
    const i = this.current.instances.find((x) => x.name === instance);
    if (i?.state !== 'MASTER') return { ok: false, message: `${instance} is not MASTER` };
    return { ok: true, message: 'handed over to 192.0.2.2' };
  }
  async garp(instance: string): Promise<{ ok: boolean; message: string }> {
    this.calls.push(`garp ${instance}`);
    return { ok: true, message: 'sent 2 gratuitous ARPs' };
  }

  /** Change an instance's state and emit 'transition' like the daemon does. */
  flip(name: string, to: StateName, reason = 'master_down_timer'): TransitionInfo {
    const i = this.current.instances.find((x) => x.name === name);
    if (!i) throw new Error(`fake: no instance ${name}`);
    const info: TransitionInfo = { at: new Date().toISOString(), from: i.state, to, reason };
    i.state = to;
    i.lastTransition = info;
    if (to === 'MASTER') {
      i.counters.become_master += 1;
      i.masterAddress = i.sourceAddress;
    }
    if (info.from === 'MASTER') i.counters.release_master += 1;
    this.emit('transition', name, i.family, info);
    return info;
  }
  advert(name: string, interArrivalMs: number | null): void {
    const i = this.current.instances.find((x) => x.name === name)!;
    i.counters.advert_rcvd += 1;
    this.emit('advert', name, i.family, interArrivalMs);
  }
  reject(name: string | null, reason: string): void {
    this.emit('reject', name, reason);
  }
}
