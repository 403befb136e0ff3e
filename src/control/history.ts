/**
 * Recent history for the dashboard: transitions of the last hour and the latest advert inter-arrival samples per
 * instance and family, fed by the daemon's events.
 */
import type { DaemonControl, TransitionInfo } from '../daemon/api.js';

export interface TransitionRecord extends TransitionInfo {
  instance: string;
  family: 4 | 6;
}
export interface Sample {
  /** ms since the epoch */
  t: number;
  /** inter-arrival, ms */
  ms: number;
}

export const HISTORY_MS = 3600_000;
const MAX_TRANSITIONS = 5000;
const MAX_SAMPLES = 600;

export const seriesKey = (instance: string, family: 4 | 6) => `${instance}/${family}`;

export class History {
  readonly transitions: TransitionRecord[] = [];
  readonly samples = new Map<string, Sample[]>();
  private listeners = new Set<(kind: 'transition' | 'sample', data: TransitionRecord | { key: string; sample: Sample }) => void>();
  private readonly onT: (i: string, f: 4 | 6, info: TransitionInfo) => void;
  private readonly onA: (i: string, f: 4 | 6, ms: number | null) => void;

  constructor(private readonly daemon: DaemonControl, private readonly now: () => number = Date.now) {
    this.onT = (instance, family, info) => {
      const rec: TransitionRecord = { ...info, instance, family };
      this.transitions.push(rec);
      this.prune();
      for (const l of this.listeners) l('transition', rec);
    };
    this.onA = (instance, family, ms) => {
      if (ms === null || !Number.isFinite(ms) || ms < 0) return;
      const key = seriesKey(instance, family);
      const arr = this.samples.get(key) ?? [];
      const sample = { t: this.now(), ms };
      arr.push(sample);
      if (arr.length > MAX_SAMPLES) arr.splice(0, arr.length - MAX_SAMPLES);
      this.samples.set(key, arr);
      for (const l of this.listeners) l('sample', { key, sample });
    };
    daemon.on('transition', this.onT);
    daemon.on('advert', this.onA);
  }

  /** Transitions of the last hour. */
  recentTransitions(): TransitionRecord[] {
    this.prune();
    return [...this.transitions];
  }
  samplesObject(): Record<string, Sample[]> {
    return Object.fromEntries(this.samples);
  }
  subscribe(fn: (kind: 'transition' | 'sample', data: TransitionRecord | { key: string; sample: Sample }) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  detach(): void {
    this.daemon.off('transition', this.onT);
    this.daemon.off('advert', this.onA);
    this.listeners.clear();
  }
  private prune(): void {
    const cutoff = this.now() - HISTORY_MS;
    let n = 0;
    while (n < this.transitions.length && Date.parse(this.transitions[n]!.at) < cutoff) n++;
    if (this.transitions.length - n > MAX_TRANSITIONS) n = this.transitions.length - MAX_TRANSITIONS;
    if (n > 0) this.transitions.splice(0, n);
  }
}
