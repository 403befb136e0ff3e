/**
 * Helpers for the pure state-machine tests: build a configuration, drive a machine, and read its actions.
 * Time is integer microseconds, as in the core.
 */
import assert from 'node:assert/strict';
import { defaultVrConfig, initialState, step } from '../../src/core/machine.js';
import type { Action, AdvertEvent, PendingTimer, StepResult, VrConfig, VrState } from '../../src/core/types.js';
import { parseIP } from '../../src/wire/inet.js';

export const S = 1_000_000; // one second in microseconds
export const CS = 10_000; // one centisecond in microseconds

export function ip(text: string): Uint8Array {
  const p = parseIP(text);
  if (!p) throw new Error(`bad test address ${text}`);
  return p.bytes;
}

/** keepalived defaults (v2, priority 100, 1 s, preempt) with our primary address 192.0.2.10, plus overrides. */
export function cfg(over: Partial<VrConfig> = {}): VrConfig {
  return defaultVrConfig({ vrid: 1, primaryAddress: ip('192.0.2.10'), ...over });
}

/** A VRRPv3 IPv4 configuration (interval 100 cs unless overridden). */
export function cfg3(over: Partial<VrConfig> = {}): VrConfig {
  return cfg({ version: 3, ...over });
}

export function advert(src: string, priority: number, intervalCs = 100): AdvertEvent {
  return { type: 'advert', src: ip(src), srcText: src, priority, intervalCs };
}

/** Startup at `now` from a fresh Initialize state. */
export function start(c: VrConfig, now = 0): StepResult {
  return step(initialState(c), { type: 'startup' }, now);
}

/** A machine already in Backup (started at `now`). */
export function backup(c: VrConfig, now = 0): VrState {
  const r = start(c, now);
  assert.equal(r.state.state, 'backup');
  return r.state;
}

/** A machine already in Master: started at 0 and its first down timer fired (or owner startup). */
export function master(c: VrConfig): VrState {
  let s = start(c, 0).state;
  if (s.state === 'backup') s = fire(s).state;
  assert.equal(s.state, 'master');
  return s;
}

/** Fire the machine's current timer at its deadline (or at `now` if given). */
export function fire(s: VrState, now?: number): StepResult {
  const t = s.timer;
  assert.ok(t, `no timer running in state ${s.state}`);
  return step(s, { type: 'timer', gen: t.gen }, now ?? t.at);
}

/** The actions without log entries, reduced to comparable shapes. */
export function kinds(actions: readonly Action[]): string[] {
  return actions.filter((a) => a.type !== 'log').map((a) => a.type);
}

export function logs(actions: readonly Action[]): Extract<Action, { type: 'log' }>[] {
  return actions.filter((a): a is Extract<Action, { type: 'log' }> => a.type === 'log');
}

export function sent(actions: readonly Action[]): number[] {
  return actions.flatMap((a) => (a.type === 'send_advert' ? [a.priority] : []));
}

export function timersSet(actions: readonly Action[]): PendingTimer[] {
  return actions.flatMap((a) => (a.type === 'set_timer' ? [a.timer] : []));
}

export function onlyTimer(actions: readonly Action[]): PendingTimer {
  const t = timersSet(actions);
  assert.equal(t.length, 1, `expected exactly one set_timer, got ${JSON.stringify(kinds(actions))}`);
  return t[0]!;
}

export function transitionOf(actions: readonly Action[]) {
  const t = actions.flatMap((a) => (a.type === 'transition' ? [a.transition] : []));
  assert.equal(t.length, 1, `expected exactly one transition, got ${t.length}`);
  return t[0]!;
}

/** The shared seedable PRNG (test/helpers/rng.ts), under the name the property tests use. */
export { Rng as Prng } from '../helpers/rng.js';
