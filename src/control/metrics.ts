/**
 * Prometheus metrics for a DaemonControl, with prom-client on a dedicated Registry (no global default metrics;
 * only process CPU/RSS/start time, computed here). Every metric is documented in docs/metrics.md.
 *
 * Gauges and counters that mirror the daemon's status are filled from status() at scrape time; transitions,
 * rejections and advert inter-arrival times come from the daemon's events.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { COUNTER_NAMES, type CounterName, type DaemonControl, type StateName, type TransitionInfo } from '../daemon/api.js';

export const STATES: StateName[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'];

/** Inter-arrival buckets (seconds): dense around advert intervals from 10 ms to 1 s and the 3x Master_Down range. */
export const INTERARRIVAL_BUCKETS = [
  0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 1.1, 1.25,
  1.5, 2, 2.5, 3, 4, 5, 10,
];

/** keepalived counters exported as advert errors (the others have their own metrics). */
export const ERROR_COUNTERS: CounterName[] = COUNTER_NAMES.filter(
  (c) => !['advert_rcvd', 'advert_sent', 'become_master', 'release_master', 'pri_zero_rcvd', 'pri_zero_sent'].includes(c),
);

export interface VipdMetrics {
  readonly registry: Registry;
  /** Prometheus text exposition. */
  text(): Promise<string>;
  /** Stop listening to the daemon's events. */
  detach(): void;
}

const fam = (f: 4 | 6) => (f === 4 ? 'ipv4' : 'ipv6');

export function createMetrics(daemon: DaemonControl): VipdMetrics {
  const registry = new Registry();
  const registers = [registry];
  const il = ['instance', 'family'] as const;

  // One status() snapshot per scrape: the collect callbacks of one registry.metrics() run in the same turn of the
  // event loop; the snapshot is dropped at the next turn.
  let snap: ReturnType<DaemonControl['status']> | null = null;
  const status = () => {
    if (!snap) {
      snap = daemon.status();
      setImmediate(() => {
        snap = null;
      });
    }
    return snap;
  };

  new Gauge({
    name: 'vipd_info',
    help: 'vipd version and configuration file (always 1).',
    labelNames: ['version', 'config_file'],
    registers,
    collect() {
      const s = status();
      this.reset();
      this.set({ version: s.version, config_file: s.configFile }, 1);
    },
  });
  new Gauge({
    name: 'vipd_start_time_seconds',
    help: 'When the daemon started, seconds since the Unix epoch.',
    registers,
    collect() {
      this.set(Date.parse(status().startedAt) / 1000);
    },
  });
  new Gauge({
    name: 'vipd_instance_state',
    help: 'VRRP state per instance and family: 1 for the current state, 0 for the others.',
    labelNames: [...il, 'state'],
    registers,
    collect() {
      this.reset();
      for (const i of status().instances) {
        for (const st of STATES) this.set({ instance: i.name, family: fam(i.family), state: st }, i.state === st ? 1 : 0);
      }
    },
  });
  const perInstance = (name: string, help: string, value: (i: ReturnType<typeof status>['instances'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: [...il],
      registers,
      collect() {
        this.reset();
        for (const i of status().instances) {
          const v = value(i);
          if (v !== null) this.set({ instance: i.name, family: fam(i.family) }, v);
        }
      },
    });
  perInstance('vipd_instance_base_priority', 'Configured priority.', (i) => i.basePriority);
  perInstance('vipd_instance_effective_priority', 'Priority after tracking weights.', (i) => i.effectivePriority);
  perInstance('vipd_instance_vrid', 'Virtual router ID.', (i) => i.vrid);
  perInstance('vipd_instance_vips', 'Number of virtual IP addresses.', (i) => i.vips.length);
  perInstance('vipd_instance_advert_interval_seconds', 'Configured Advertisement_Interval.', (i) => i.advertIntervalMs / 1000);
  perInstance(
    'vipd_instance_master_advert_interval_seconds',
    'Master_Adver_Interval learned from the master (VRRPv3), else the configured interval.',
    (i) => i.masterAdverIntervalMs / 1000,
  );
  perInstance('vipd_instance_master_down_interval_seconds', 'Master_Down_Interval.', (i) => i.masterDownIntervalMs / 1000);
  perInstance('vipd_instance_last_transition_timestamp_seconds', 'Time of the last state transition.', (i) =>
    i.lastTransition ? Date.parse(i.lastTransition.at) / 1000 : null,
  );
  new Gauge({
    name: 'vipd_tracker_up',
    help: 'Tracked object per instance: 1 when up / passing (a track file: when its value is 0), else 0.',
    labelNames: [...il, 'kind', 'name'],
    registers,
    collect() {
      this.reset();
      for (const i of status().instances) {
        for (const t of i.tracking) {
          const up = t.status === 'up' || t.status === 'passing' || (t.kind === 'file' && t.status === '0') ? 1 : 0;
          this.set({ instance: i.name, family: fam(i.family), kind: t.kind, name: t.name }, up);
        }
      }
    },
  });

  // Counters mirrored from the daemon's per-instance counters.
  const fromCounter = (name: string, help: string, key: CounterName) =>
    new Counter({
      name,
      help,
      labelNames: [...il],
      registers,
      collect() {
        this.reset();
        for (const i of status().instances) this.inc({ instance: i.name, family: fam(i.family) }, i.counters[key] ?? 0);
      },
    });
  fromCounter('vipd_adverts_sent_total', 'Advertisements sent (keepalived advert_sent).', 'advert_sent');
  fromCounter('vipd_adverts_received_total', 'Advertisements received (keepalived advert_rcvd).', 'advert_rcvd');
  fromCounter('vipd_become_master_total', 'Times the instance became MASTER (keepalived become_master).', 'become_master');
  fromCounter('vipd_release_master_total', 'Times the instance left MASTER (keepalived release_master).', 'release_master');
  fromCounter('vipd_priority_zero_received_total', 'Priority-0 adverts received (keepalived pri_zero_rcvd).', 'pri_zero_rcvd');
  fromCounter('vipd_priority_zero_sent_total', 'Priority-0 adverts sent (keepalived pri_zero_sent).', 'pri_zero_sent');
  new Counter({
    name: 'vipd_advert_errors_total',
    help: "Adverts dropped per instance, by keepalived's error counter name (packet_len_err, ip_ttl_err, auth_failure, ...).",
    labelNames: [...il, 'error'],
    registers,
    collect() {
      this.reset();
      for (const i of status().instances) {
        for (const e of ERROR_COUNTERS) this.inc({ instance: i.name, family: fam(i.family), error: e }, i.counters[e] ?? 0);
      }
    },
  });
  new Counter({
    name: 'vipd_adverts_checksum_form_total',
    help: 'Accepted adverts by checksum form: v2, v3 with pseudo-header (RFC 5798), v3 without (old keepalived).',
    labelNames: [...il, 'form'],
    registers,
    collect() {
      this.reset();
      for (const i of status().instances) {
        const l = { instance: i.name, family: fam(i.family) };
        this.inc({ ...l, form: 'v2' }, i.checksumForms.v2);
        this.inc({ ...l, form: 'pseudo' }, i.checksumForms.pseudo);
        this.inc({ ...l, form: 'plain' }, i.checksumForms.plain);
      }
    },
  });

  // Event-driven metrics.
  const transitions = new Counter({
    name: 'vipd_transitions_total',
    help: 'State transitions since the metrics started, by from/to state and reason.',
    labelNames: [...il, 'from', 'to', 'reason'],
    registers,
  });
  const rejects = new Counter({
    name: 'vipd_rejected_packets_total',
    help: 'Received VRRP packets rejected, by reason (instance "" when no instance matched).',
    labelNames: ['instance', 'reason'],
    registers,
  });
  const interArrival = new Histogram({
    name: 'vipd_advert_interarrival_seconds',
    help: "Time between consecutive adverts from the master we follow: compare with Master_Down_Interval for the margin before a false failover.",
    labelNames: [...il],
    buckets: INTERARRIVAL_BUCKETS,
    registers,
  });
  const lastGap = new Gauge({
    name: 'vipd_advert_last_interarrival_seconds',
    help: 'The most recent advert inter-arrival time.',
    labelNames: [...il],
    registers,
  });

  const onTransition = (instance: string, family: 4 | 6, info: TransitionInfo) =>
    transitions.inc({ instance, family: fam(family), from: info.from, to: info.to, reason: info.reason });
  const onAdvert = (instance: string, family: 4 | 6, gapMs: number | null) => {
    if (gapMs === null || !Number.isFinite(gapMs) || gapMs < 0) return;
    interArrival.observe({ instance, family: fam(family) }, gapMs / 1000);
    lastGap.set({ instance, family: fam(family) }, gapMs / 1000);
  };
  const onReject = (instance: string | null, reason: string) => rejects.inc({ instance: instance ?? '', reason });
  daemon.on('transition', onTransition);
  daemon.on('advert', onAdvert);
  daemon.on('reject', onReject);

  registerProcessMetrics(registry);

  return {
    registry,
    text: () => {
      snap = null; // a fresh snapshot for every scrape
      return registry.metrics();
    },
    detach() {
      daemon.off('transition', onTransition);
      daemon.off('advert', onAdvert);
      daemon.off('reject', onReject);
    },
  };
}

/** process_* metrics (CPU, RSS, start time) with the names Prometheus client libraries use. */
function registerProcessMetrics(registry: Registry): void {
  const registers = [registry];
  const startSec = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'User CPU time spent in seconds.',
    registers,
    collect() {
      this.reset();
      this.inc(process.cpuUsage().user / 1e6);
    },
  });
  new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'System CPU time spent in seconds.',
    registers,
    collect() {
      this.reset();
      this.inc(process.cpuUsage().system / 1e6);
    },
  });
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers,
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size in bytes.',
    registers,
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new Gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch in seconds.',
    registers,
    collect() {
      this.set(startSec);
    },
  });
}
