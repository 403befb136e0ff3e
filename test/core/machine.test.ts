/**
 * The VRRP state machine, clause by clause: one test (or a few) per transition of RFC 5798 §6.4, with RFC 9568's
 * amendments, RFC 3768's v2 timer rules and keepalived's documented options. Each test is named after the clause it
 * checks, so docs/rfc-conformance.md can point at it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, masterDownIntervalUs, skewTimeUs, step } from '../../src/core/machine.js';
import {
  CS,
  S,
  advert,
  backup,
  cfg,
  cfg3,
  fire,
  ip,
  kinds,
  logs,
  master,
  onlyTimer,
  sent,
  start,
  timersSet,
  transitionOf,
} from './helpers.js';

describe('RFC 5798 §6.1 parameters: Skew_Time and Master_Down_Interval', () => {
  test('§6.1 v3 Skew_Time = ((256 - Priority) x Master_Adver_Interval) / 256: priority 200 at 100 cs -> 218750 µs, MDI 3218750 µs', () => {
    assert.equal(skewTimeUs(3, 200, 100 * CS), 218_750);
    assert.equal(masterDownIntervalUs(cfg3({ priority: 200 }), 200, 100 * CS), 3_218_750);
  });

  test('§6.1 v3 Skew_Time scales with the interval: priority 100 at 50 cs -> 304687 µs (floored), MDI 1804687 µs', () => {
    assert.equal(skewTimeUs(3, 100, 50 * CS), 304_687);
    assert.equal(masterDownIntervalUs(cfg3({ advertIntervalCs: 50 }), 100, 50 * CS), 1_804_687);
    // the largest v3 interval (4095 cs) and the lowest priority stay exact integers
    assert.equal(skewTimeUs(3, 1, 4095 * CS), 40_790_039);
  });

  test('RFC 3768 §6.1 v2 Skew_Time = (256 - Priority) / 256 s, independent of the advertisement interval', () => {
    assert.equal(skewTimeUs(2, 100, 100 * CS), 609_375);
    assert.equal(skewTimeUs(2, 100, 300 * CS), 609_375);
    assert.equal(skewTimeUs(2, 254, 100 * CS), 7_812);
    assert.equal(masterDownIntervalUs(cfg({ advertIntervalCs: 300 }), 100, 300 * CS), 9_609_375);
  });

  test('keepalived down_timer_adverts replaces the factor 3 of Master_Down_Interval', () => {
    assert.equal(masterDownIntervalUs(cfg3({ priority: 200, downTimerAdverts: 5 }), 200, 100 * CS), 5_218_750);
  });

  test('§6.1 initial state: Master_Adver_Interval = Advertisement_Interval, and the derived values match', () => {
    const s = initialState(cfg3({ priority: 200 }));
    assert.equal(s.state, 'init');
    assert.equal(s.masterAdverIntervalUs, 1 * S);
    assert.equal(s.skewUs, 218_750);
    assert.equal(s.masterDownIntervalUs, 3_218_750);
    assert.equal(s.timer, null);
  });
});

describe('RFC 5798 §6.4.1 Initialize', () => {
  test('§6.4.1 Initialize: priority 255 sends an advert, announces, arms Adver_Timer and becomes Master', () => {
    const r = start(cfg3({ priority: 255 }), 7 * S);
    assert.deepEqual(kinds(r.actions), ['send_advert', 'add_vips', 'announce', 'set_timer', 'transition']);
    assert.deepEqual(sent(r.actions), [255]);
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'adver');
    assert.equal(t.at, 8 * S);
    assert.deepEqual(r.state.timer, t);
    const tr = transitionOf(r.actions);
    assert.deepEqual([tr.from, tr.to, tr.reason, tr.at], ['init', 'master', 'owner_startup', 7 * S]);
    assert.equal(r.state.state, 'master');
    assert.equal(r.state.masterAddress, 'self');
    assert.equal(r.state.masterPriority, 255);
  });

  test('§6.4.1 Initialize: priority below 255 sets Master_Down_Timer to Master_Down_Interval (3 x interval + skew) and becomes Backup', () => {
    const r = start(cfg3({ priority: 200 }), 5 * S);
    assert.deepEqual(kinds(r.actions), ['set_timer', 'transition']);
    assert.deepEqual(sent(r.actions), [], 'a backup does not advertise');
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'master_down');
    assert.equal(t.at, 5 * S + 3_218_750);
    const tr = transitionOf(r.actions);
    assert.deepEqual([tr.from, tr.to, tr.reason], ['init', 'backup', 'startup']);
    assert.equal(r.state.masterAdverIntervalUs, 1 * S);
    assert.equal(r.state.masterDownIntervalUs, 3_218_750);
  });

  test('§6.4.1 Initialize (v2): the down timer uses the v2 skew (256 - p)/256 s: priority 100 at 3 s -> 9609375 µs', () => {
    const r = start(cfg({ advertIntervalCs: 300 }), 0);
    assert.equal(onlyTimer(r.actions).at, 9_609_375);
    assert.equal(r.state.skewUs, 609_375);
  });

  test('keepalived `state MASTER` below 255: the first down timer is one advert interval + skew, then Master', () => {
    const c = cfg({ priority: 150, initialMaster: true });
    const r = start(c, 0);
    assert.equal(r.state.state, 'backup');
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'master_down');
    assert.equal(t.at, 1 * S + 414_062); // 1 s + (256-150)/256 s
    assert.equal(fire(r.state).state.state, 'master');
  });

  test('keepalived `state MASTER` below 255: after an advert the down timer is the full Master_Down_Interval again', () => {
    const s = backup(cfg({ priority: 150, initialMaster: true }));
    const r = step(s, advert('192.0.2.20', 200), 2 * S);
    assert.equal(onlyTimer(r.actions).at, 2 * S + 3 * S + 414_062);
  });

  test('keepalived `state MASTER` with priority 255 is the owner path: Master at once', () => {
    const r = start(cfg({ priority: 255, initialMaster: true }));
    assert.equal(r.state.state, 'master');
    assert.deepEqual(sent(r.actions), [255]);
  });

  test('§6.4.1 Initialize: every event but Startup is ignored (adverts, timers, shutdown, recover)', () => {
    const s = initialState(cfg3());
    for (const ev of [
      advert('192.0.2.20', 200),
      advert('192.0.2.20', 0),
      { type: 'timer', gen: 0 } as const,
      { type: 'timer', gen: 1 } as const,
      { type: 'shutdown' } as const,
      { type: 'recover' } as const,
    ]) {
      const r = step(s, ev, 1 * S);
      assert.equal(r.state, s, `${ev.type} changed the state`);
      assert.deepEqual(r.actions, [], `${ev.type} produced actions`);
    }
  });

  test('Startup outside Initialize is ignored (Backup and Master)', () => {
    const b = backup(cfg3());
    const rb = step(b, { type: 'startup' }, 1 * S);
    assert.equal(rb.state, b);
    assert.deepEqual(rb.actions, []);
    const m = master(cfg3());
    const rm = step(m, { type: 'startup' }, 9 * S);
    assert.equal(rm.state, m);
    assert.deepEqual(rm.actions, []);
  });
});

describe('RFC 5798 §6.4.2 Backup', () => {
  test('§6.4.2 Backup: Shutdown cancels the Master_Down_Timer and goes to Initialize without advertising', () => {
    const s = backup(cfg3());
    const r = step(s, { type: 'shutdown' }, 1 * S);
    assert.deepEqual(kinds(r.actions), ['cancel_timer', 'transition']);
    assert.equal(r.state.state, 'init');
    assert.equal(r.state.timer, null);
    // the cancelled timer's expiry is stale now
    const late = step(r.state, { type: 'timer', gen: s.timer!.gen }, s.timer!.at);
    assert.equal(late.state, r.state);
    assert.deepEqual(late.actions, []);
  });

  test('§6.4.2 Backup: Master_Down_Timer fires -> send_advert, add_vips, announce, set_timer(adver), transition to Master', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = fire(s);
    assert.deepEqual(kinds(r.actions), ['send_advert', 'add_vips', 'announce', 'set_timer', 'transition']);
    assert.deepEqual(sent(r.actions), [200]);
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'adver');
    assert.equal(t.at, 3_218_750 + 1 * S);
    const tr = transitionOf(r.actions);
    assert.deepEqual([tr.from, tr.to, tr.reason, tr.at], ['backup', 'master', 'master_down_timer', 3_218_750]);
    assert.deepEqual(
      logs(r.actions).map((l) => l.code),
      ['master_down_timeout'],
      'keepalived logs "Receive advertisement timeout"',
    );
    assert.equal(r.state.masterAddress, 'self');
  });

  test('§6.4.2 Backup: an advert with priority 0 sets the Master_Down_Timer to Skew_Time', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = step(s, advert('192.0.2.20', 0), 1 * S);
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'master_down');
    assert.equal(t.at, 1 * S + 218_750);
    assert.equal(r.state.state, 'backup');
    assert.deepEqual(sent(r.actions), []);
    assert.equal(fire(r.state).state.state, 'master', 'takes over after skew only');
  });

  test('§6.4.2 Backup (v2): an advert with priority 0 sets the timer to the v2 skew (256 - p)/256 s', () => {
    const s = backup(cfg({ priority: 100, advertIntervalCs: 300 }));
    const r = step(s, advert('192.0.2.20', 0, 300), 1 * S);
    assert.equal(onlyTimer(r.actions).at, 1 * S + 609_375);
  });

  test('§6.4.2 Backup: a higher-priority advert resets the Master_Down_Timer to Master_Down_Interval', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = step(s, advert('192.0.2.20', 250), 2 * S);
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'master_down');
    assert.equal(t.at, 2 * S + 3_218_750);
    assert.equal(r.state.masterAddress, '192.0.2.20');
    assert.equal(r.state.masterPriority, 250);
    assert.equal(r.state.state, 'backup');
  });

  test('§6.4.2 Backup (RFC 9568): v3 learns the advertised interval and recomputes Skew_Time and Master_Down_Interval', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = step(s, advert('192.0.2.20', 250, 200), 2 * S);
    assert.equal(r.state.masterAdverIntervalUs, 2 * S);
    assert.equal(r.state.skewUs, 437_500); // 56 x 2 s / 256
    assert.equal(r.state.masterDownIntervalUs, 6_437_500);
    assert.equal(onlyTimer(r.actions).at, 2 * S + 6_437_500);
    // and learns a shorter one back
    const r2 = step(r.state, advert('192.0.2.20', 250, 25), 3 * S);
    assert.equal(r2.state.masterAdverIntervalUs, 250_000);
    assert.equal(r2.state.skewUs, 54_687);
    assert.equal(onlyTimer(r2.actions).at, 3 * S + 750_000 + 54_687);
  });

  test('RFC 3768 §6.4.2 Backup (v2): the interval is not learned (it must equal ours; the wire layer drops mismatches)', () => {
    const s = backup(cfg({ priority: 100 }));
    const r = step(s, advert('192.0.2.20', 200, 300), 2 * S);
    assert.equal(r.state.masterAdverIntervalUs, 1 * S);
    assert.equal(onlyTimer(r.actions).at, 2 * S + 3_609_375);
  });

  test('§6.4.2 Backup: an advert of equal priority is accepted whatever the sender address (timer reset)', () => {
    for (const src of ['192.0.2.1', '192.0.2.200']) {
      const s = backup(cfg3({ priority: 100 }));
      const r = step(s, advert(src, 100), 1 * S);
      assert.equal(onlyTimer(r.actions).at, 1 * S + 3_609_375, src);
      assert.equal(r.state.masterAddress, src);
    }
  });

  test('§6.4.2 Backup: Preempt_Mode True discards a lower-priority advert and does not reset the timer', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = step(s, advert('192.0.2.20', 100, 200), 1 * S);
    assert.deepEqual(timersSet(r.actions), []);
    assert.deepEqual(r.state.timer, s.timer, 'the Master_Down_Timer keeps its deadline');
    assert.equal(r.state.masterAdverIntervalUs, 1 * S, 'interval not learned from a discarded advert');
    // so the timer fires at the original deadline and we preempt
    const f = fire(r.state);
    assert.equal(f.state.state, 'master');
    assert.equal(transitionOf(f.actions).at, 3_218_750);
  });

  test('§6.4.2 Backup: Preempt_Mode False (keepalived nopreempt) accepts a lower-priority advert and learns its interval', () => {
    const s = backup(cfg3({ priority: 200, preempt: false }));
    const r = step(s, advert('192.0.2.20', 100, 50), 1 * S);
    assert.equal(r.state.masterAdverIntervalUs, 500_000);
    assert.equal(r.state.skewUs, 109_375); // 56 x 0.5 s / 256
    assert.equal(onlyTimer(r.actions).at, 1 * S + 1_500_000 + 109_375);
    assert.equal(r.state.masterAddress, '192.0.2.20');
  });

  test('keepalived preempt_delay after startup: a lower-priority master is followed until the delay has passed', () => {
    const s = backup(cfg3({ priority: 200, preemptDelayUs: 5 * S }), 0);
    assert.equal(s.preemptDeadline, 5 * S);
    const early = step(s, advert('192.0.2.20', 100), 1 * S);
    assert.equal(onlyTimer(early.actions).at, 1 * S + 3_218_750, 'honoured during the delay');
    const late = step(early.state, advert('192.0.2.20', 100), 5 * S);
    assert.deepEqual(timersSet(late.actions), [], 'discarded once the delay is over');
    assert.equal(fire(late.state).state.state, 'master');
  });

  test('keepalived preempt_delay after first hearing a lower master: the delay starts then (logged), and ends after it', () => {
    const c = cfg3({ priority: 200, preemptDelayUs: 5 * S });
    let s = backup(c, 0);
    s = step(s, advert('192.0.2.30', 250), 1 * S).state; // a higher master clears the startup delay
    assert.equal(s.preemptDeadline, null);
    const first = step(s, advert('192.0.2.20', 100), 10 * S);
    assert.equal(first.state.preemptDeadline, 15 * S);
    assert.deepEqual(
      logs(first.actions).map((l) => l.code),
      ['preempt_delay_start'],
    );
    assert.equal(timersSet(first.actions).length, 1, 'honoured');
    const mid = step(first.state, advert('192.0.2.20', 100), 14 * S);
    assert.equal(timersSet(mid.actions).length, 1, 'still honoured before the deadline');
    assert.deepEqual(logs(mid.actions), [], 'the delay is started once');
    const after = step(mid.state, advert('192.0.2.20', 100), 15 * S);
    assert.deepEqual(timersSet(after.actions), [], 'discarded at the deadline');
  });

  test('keepalived preempt_delay: a higher-priority advert resets the delay, which restarts at the next lower master', () => {
    const c = cfg3({ priority: 200, preemptDelayUs: 5 * S });
    let s = backup(c, 0); // startup delay would end at 5 s
    s = step(s, advert('192.0.2.30', 250), 1 * S).state;
    s = step(s, advert('192.0.2.20', 100), 2 * S).state; // new delay: until 7 s
    const r = step(s, advert('192.0.2.20', 100), 6 * S);
    assert.equal(timersSet(r.actions).length, 1, 'honoured at 6 s: the startup deadline (5 s) no longer applies');
  });

  test('§6.4.2 Backup: without preempt_delay a lower-priority advert never starts a delay', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = step(s, advert('192.0.2.20', 100), 1 * S);
    assert.equal(r.state.preemptDeadline, null);
    assert.deepEqual(logs(r.actions), []);
  });

  test('§6.4.2 Backup: a higher-priority advert keeps a v3 backup from taking over as long as adverts come', () => {
    let s = backup(cfg3({ priority: 200 }));
    for (let t = 1; t <= 100; t++) {
      const r = step(s, advert('192.0.2.20', 250), t * S);
      s = r.state;
      assert.equal(s.state, 'backup');
    }
    assert.equal(s.timer!.at, 100 * S + 3_218_750);
  });
});

describe('RFC 5798 §6.4.3 Master', () => {
  test('§6.4.3 Master: Adver_Timer fires -> send an advert and reset the Adver_Timer to Advertisement_Interval', () => {
    const m = master(cfg3({ priority: 200, advertIntervalCs: 50 }));
    const r = fire(m);
    assert.deepEqual(kinds(r.actions), ['send_advert', 'set_timer']);
    assert.deepEqual(sent(r.actions), [200]);
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'adver');
    assert.equal(t.at, m.timer!.at + 500_000);
    assert.equal(r.state.state, 'master');
  });

  test('§6.4.3 Master: the Adver_Timer uses our own Advertisement_Interval, not one learned earlier as Backup', () => {
    let s = backup(cfg3({ priority: 200, advertIntervalCs: 100 }));
    s = step(s, advert('192.0.2.20', 250, 300), 1 * S).state; // learned 3 s
    const m = fire(s);
    assert.equal(m.state.state, 'master');
    assert.equal(onlyTimer(m.actions).at, m.state.lastTransition!.at + 1 * S);
  });

  test('§6.4.3 Master: an advert with priority 0 -> send an advert and reset the Adver_Timer', () => {
    const m = master(cfg3({ priority: 200 }));
    const now = m.timer!.at - 300_000;
    const r = step(m, advert('192.0.2.20', 0), now);
    assert.deepEqual(kinds(r.actions), ['send_advert', 'set_timer']);
    assert.deepEqual(sent(r.actions), [200]);
    assert.equal(onlyTimer(r.actions).at, now + 1 * S);
    assert.equal(r.state.state, 'master');
  });

  test('§6.4.3 Master: a higher-priority advert -> cancel Adver_Timer, remove VIPs, set Master_Down_Timer, transition to Backup', () => {
    const m = master(cfg3({ priority: 200 }));
    const now = 4 * S;
    const r = step(m, advert('192.0.2.20', 250, 200), now);
    assert.deepEqual(kinds(r.actions), ['cancel_timer', 'remove_vips', 'set_timer', 'transition']);
    assert.deepEqual(sent(r.actions), [], 'no advert unless higher_prio_send_advert');
    const t = onlyTimer(r.actions);
    assert.equal(t.kind, 'master_down');
    assert.equal(t.at, now + 6_437_500, 'learned 2 s: 3 x 2 s + 56 x 2 s / 256');
    assert.equal(r.state.masterAdverIntervalUs, 2 * S);
    const tr = transitionOf(r.actions);
    assert.deepEqual([tr.from, tr.to, tr.reason], ['master', 'backup', 'higher_priority_advert']);
    assert.deepEqual(
      logs(r.actions).map((l) => [l.code, l.from, l.theirs, l.ours]),
      [['higher_prio_advert', '192.0.2.20', 250, 200]],
    );
    assert.equal(r.state.masterAddress, '192.0.2.20');
    // the old Adver_Timer is stale now
    const stale = step(r.state, { type: 'timer', gen: m.timer!.gen }, m.timer!.at);
    assert.equal(stale.state, r.state);
    assert.deepEqual(stale.actions, []);
  });

  test('keepalived higher_prio_send_advert: the Master sends one advert before yielding to a higher priority', () => {
    const m = master(cfg3({ priority: 200, higherPrioSendAdvert: true }));
    const r = step(m, advert('192.0.2.20', 250), 4 * S);
    assert.deepEqual(kinds(r.actions), ['send_advert', 'cancel_timer', 'remove_vips', 'set_timer', 'transition']);
    assert.deepEqual(sent(r.actions), [200]);
    assert.equal(r.state.state, 'backup');
  });

  test('§6.4.3 Master: equal priority and a higher sender primary address (IPv4) -> Backup', () => {
    const m = master(cfg3({ priority: 100, primaryAddress: ip('192.0.2.10') }));
    const r = step(m, advert('192.0.2.20', 100), 4 * S);
    assert.equal(r.state.state, 'backup');
    assert.deepEqual(
      logs(r.actions).map((l) => l.code),
      ['equal_prio_advert'],
    );
  });

  test('§6.4.3 Master: equal priority and a lower sender primary address (IPv4) -> stay Master and advertise (RFC 9568)', () => {
    const m = master(cfg3({ priority: 100, primaryAddress: ip('192.0.2.10') }));
    const r = step(m, advert('192.0.2.9', 100), 4 * S);
    assert.equal(r.state.state, 'master');
    assert.deepEqual(sent(r.actions), [100]);
    assert.deepEqual(timersSet(r.actions), [], 'the Adver_Timer keeps running');
  });

  test('§6.4.3 Master: addresses compare as unsigned bytes in network order (IPv4: .200 beats .100, 203.x beats 192.x)', () => {
    // A signed comparison of the last byte (200 = -56) or of a 32-bit word would get these wrong.
    const m1 = master(cfg3({ primaryAddress: ip('192.0.2.100') }));
    assert.equal(step(m1, advert('192.0.2.200', 100), 4 * S).state.state, 'backup');
    const m2 = master(cfg3({ primaryAddress: ip('192.0.2.200') }));
    assert.equal(step(m2, advert('192.0.2.100', 100), 4 * S).state.state, 'master');
    const m3 = master(cfg3({ primaryAddress: ip('192.0.2.255') }));
    assert.equal(step(m3, advert('203.0.113.1', 100), 4 * S).state.state, 'backup');
    const m4 = master(cfg3({ primaryAddress: ip('198.51.100.1') }));
    assert.equal(step(m4, advert('192.0.2.255', 100), 4 * S).state.state, 'master');
  });

  test('§6.4.3 Master: equal priority compares IPv6 link-local sources as unsigned bytes in network order', () => {
    const c = { family: 6 as const };
    const m1 = master(cfg3({ ...c, primaryAddress: ip('fe80::1') }));
    assert.equal(step(m1, advert('fe80::2', 100), 4 * S).state.state, 'backup');
    const m2 = master(cfg3({ ...c, primaryAddress: ip('fe80::2') }));
    assert.equal(step(m2, advert('fe80::1', 100), 4 * S).state.state, 'master');
    // the first differing byte decides, unsigned: 0x80 > 0x7f
    const m3 = master(cfg3({ ...c, primaryAddress: ip('fe80::7fff:ffff:ffff:ffff') }));
    assert.equal(step(m3, advert('fe80::8000:0:0:0', 100), 4 * S).state.state, 'backup');
    const m4 = master(cfg3({ ...c, primaryAddress: ip('fe80::8000:0:0:0') }));
    assert.equal(step(m4, advert('fe80::7fff:ffff:ffff:ffff', 100), 4 * S).state.state, 'master');
  });

  test('§6.4.3 Master (RFC 9568): a lower-priority advert is discarded and answered by an advert at once', () => {
    const m = master(cfg3({ priority: 200 }));
    const r = step(m, advert('192.0.2.20', 100), 4 * S);
    assert.deepEqual(kinds(r.actions), ['send_advert']);
    assert.deepEqual(sent(r.actions), [200]);
    assert.deepEqual(
      logs(r.actions).map((l) => [l.code, l.from, l.theirs, l.ours]),
      [['lower_prio_advert', '192.0.2.20', 100, 200]],
    );
    assert.equal(r.state.state, 'master');
    assert.deepEqual(r.state.timer, m.timer, 'Adver_Timer not reset');
  });

  test('keepalived lower_prio_no_advert: the Master discards a lower-priority advert silently (RFC 5798 as written)', () => {
    const m = master(cfg3({ priority: 200, lowerPrioNoAdvert: true }));
    const r = step(m, advert('192.0.2.20', 100), 4 * S);
    assert.deepEqual(kinds(r.actions), []);
    assert.equal(r.state.state, 'master');
  });

  test('§6.4.3 Master: Shutdown cancels the Adver_Timer, sends priority 0, removes the VIPs and goes to Initialize', () => {
    const m = master(cfg3({ priority: 200 }));
    const r = step(m, { type: 'shutdown' }, 5 * S);
    assert.deepEqual(kinds(r.actions), ['cancel_timer', 'send_advert', 'remove_vips', 'transition']);
    assert.deepEqual(sent(r.actions), [0]);
    assert.equal(r.state.state, 'init');
    assert.equal(r.state.timer, null);
    assert.equal(r.state.masterAddress, null);
  });

  test('§6.4.3 Master: an owner (255) yields only to an equal-priority higher address (two owners, erratum 8298)', () => {
    const m = master(cfg3({ priority: 255, primaryAddress: ip('192.0.2.10') }));
    assert.equal(step(m, advert('192.0.2.9', 255), 1 * S).state.state, 'master');
    assert.equal(step(m, advert('192.0.2.11', 255), 1 * S).state.state, 'backup');
  });

  test('RFC 3768 §6.4.3 Master (v2): a higher priority or an equal priority from a higher address -> Backup with the v2 down timer', () => {
    const m = master(cfg({ priority: 100, primaryAddress: ip('192.0.2.10') }));
    const r = step(m, advert('192.0.2.20', 200), 10 * S);
    assert.equal(r.state.state, 'backup');
    assert.equal(onlyTimer(r.actions).at, 10 * S + 3_609_375, 'v2: 3 x 1 s + (256 - 100)/256 s');
    assert.equal(r.state.masterAdverIntervalUs, 1 * S);
    assert.equal(step(m, advert('192.0.2.20', 100), 10 * S).state.state, 'backup');
    assert.equal(step(m, advert('192.0.2.9', 100), 10 * S).state.state, 'master');
  });

  test('RFC 9568 erratum 8301: the core also ignores an advert event with interval 0, negative or non-integer (defence in depth)', () => {
    const b = backup(cfg3({ priority: 100 }));
    const m = master(cfg3({ priority: 100 }));
    for (const intervalCs of [0, -100, 1.5, NaN]) {
      for (const s of [b, m]) {
        const r = step(s, advert('192.0.2.20', 200, intervalCs), 1 * S);
        assert.equal(r.state, s, `interval ${intervalCs} in ${s.state}`);
        assert.deepEqual(r.actions, []);
      }
    }
  });

  test('§6.4.2 -> §6.4.3 round trip: the backup that took over yields again to the returning higher master', () => {
    let s = backup(cfg3({ priority: 100 }));
    s = fire(s).state;
    assert.equal(s.state, 'master');
    const r = step(s, advert('192.0.2.20', 200), 10 * S);
    assert.equal(r.state.state, 'backup');
    assert.equal(r.state.timer!.kind, 'master_down');
  });
});

describe('Fault (keepalived tracking) and recovery', () => {
  test('fault in Initialize: stays Initialize; Startup then enters Fault; recover goes to Backup', () => {
    const s0 = initialState(cfg3());
    const f = step(s0, { type: 'fault' }, 0);
    assert.equal(f.state.state, 'init');
    assert.equal(f.state.faulted, true);
    assert.deepEqual(f.actions, []);
    const up = step(f.state, { type: 'startup' }, 1 * S);
    assert.equal(up.state.state, 'fault');
    assert.deepEqual(kinds(up.actions), ['transition']);
    assert.equal(up.state.timer, null);
    const rec = step(up.state, { type: 'recover' }, 2 * S);
    assert.equal(rec.state.state, 'backup');
    assert.equal(rec.state.faulted, false);
    const tr = transitionOf(rec.actions);
    assert.deepEqual([tr.from, tr.to, tr.reason], ['fault', 'backup', 'recover']);
    assert.equal(onlyTimer(rec.actions).at, 2 * S + 3_609_375);
  });

  test('fault in Backup: cancel the timer, no advert, no VIP change; recover -> Backup with a fresh Master_Down_Timer', () => {
    let s = backup(cfg3({ priority: 200 }));
    s = step(s, advert('192.0.2.20', 250, 300), 1 * S).state; // learned 3 s
    const f = step(s, { type: 'fault' }, 2 * S);
    assert.deepEqual(kinds(f.actions), ['cancel_timer', 'transition']);
    assert.equal(f.state.state, 'fault');
    assert.equal(f.state.timer, null);
    const rec = step(f.state, { type: 'recover' }, 3 * S);
    assert.equal(rec.state.state, 'backup');
    assert.equal(rec.state.masterAdverIntervalUs, 1 * S, 'restarts from Advertisement_Interval (§6.4.1)');
    assert.equal(onlyTimer(rec.actions).at, 3 * S + 3_218_750);
  });

  test('fault in Master: send priority 0 and remove the VIPs (keepalived MASTER -> FAULT); recover -> Backup', () => {
    const m = master(cfg3({ priority: 200 }));
    const f = step(m, { type: 'fault' }, 5 * S);
    assert.deepEqual(kinds(f.actions), ['cancel_timer', 'send_advert', 'remove_vips', 'transition']);
    assert.deepEqual(sent(f.actions), [0]);
    assert.equal(f.state.state, 'fault');
    const rec = step(f.state, { type: 'recover' }, 6 * S);
    assert.equal(rec.state.state, 'backup');
    assert.equal(rec.state.timer!.kind, 'master_down');
  });

  test('recover of an owner (255) goes straight back to Master, announcing', () => {
    const m = master(cfg3({ priority: 255 }));
    const f = step(m, { type: 'fault' }, 5 * S);
    const rec = step(f.state, { type: 'recover' }, 6 * S);
    assert.equal(rec.state.state, 'master');
    assert.deepEqual(kinds(rec.actions), ['send_advert', 'add_vips', 'announce', 'set_timer', 'transition']);
    const tr = transitionOf(rec.actions);
    assert.deepEqual([tr.from, tr.to, tr.reason], ['fault', 'master', 'recover']);
  });

  test('Fault ignores adverts, stale timers, Startup and a second fault', () => {
    const b = backup(cfg3());
    const f = step(b, { type: 'fault' }, 1 * S).state;
    for (const ev of [
      advert('192.0.2.20', 0),
      advert('192.0.2.20', 250),
      { type: 'timer', gen: b.timer!.gen } as const,
      { type: 'startup' } as const,
      { type: 'fault' } as const,
    ]) {
      const r = step(f, ev, 2 * S);
      assert.equal(r.state, f, ev.type);
      assert.deepEqual(r.actions, [], ev.type);
    }
  });

  test('shutdown from Fault goes to Initialize; recover when not faulted does nothing', () => {
    const f = step(backup(cfg3()), { type: 'fault' }, 1 * S).state;
    const r = step(f, { type: 'shutdown' }, 2 * S);
    assert.equal(r.state.state, 'init');
    assert.deepEqual(kinds(r.actions), ['transition']);
    const b = backup(cfg3());
    const n = step(b, { type: 'recover' }, 1 * S);
    assert.equal(n.state, b);
    assert.deepEqual(n.actions, []);
  });
});

describe('Priority changes (tracking) and timer generations', () => {
  test('set_priority recomputes Skew_Time and Master_Down_Interval (v3); the running timer keeps its deadline', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = step(s, { type: 'set_priority', priority: 100 }, 1 * S);
    assert.equal(r.state.priority, 100);
    assert.equal(r.state.skewUs, 609_375);
    assert.equal(r.state.masterDownIntervalUs, 3_609_375);
    assert.deepEqual(timersSet(r.actions), []);
    assert.deepEqual(r.state.timer, s.timer);
    // the next accepted advert uses the new interval
    const a = step(r.state, advert('192.0.2.20', 150), 2 * S);
    assert.equal(onlyTimer(a.actions).at, 2 * S + 3_609_375);
  });

  test('set_priority recomputes the v2 skew (256 - p)/256 s', () => {
    const s = backup(cfg({ priority: 100 }));
    const r = step(s, { type: 'set_priority', priority: 254 }, 1 * S);
    assert.equal(r.state.skewUs, 7_812);
    assert.equal(r.state.masterDownIntervalUs, 3_007_812);
  });

  test('set_priority changes the priority a Master advertises from its next advert, and the election outcome', () => {
    const m = master(cfg3({ priority: 200 }));
    const lowered = step(m, { type: 'set_priority', priority: 90 }, 1 * S).state;
    assert.deepEqual(sent(fire(lowered).actions), [90]);
    // a 100 advert now wins over us
    assert.equal(step(lowered, advert('192.0.2.20', 100), 2 * S).state.state, 'backup');
  });

  test('set_priority lowering a backup below the master it follows makes it honour that master under preempt', () => {
    let s = backup(cfg3({ priority: 200 }));
    s = step(s, { type: 'set_priority', priority: 50 }, 1 * S).state;
    const r = step(s, advert('192.0.2.20', 100), 2 * S);
    assert.equal(timersSet(r.actions).length, 1);
  });

  test('set_priority to the current value changes nothing', () => {
    const s = backup(cfg3({ priority: 200 }));
    const r = step(s, { type: 'set_priority', priority: 200 }, 1 * S);
    assert.equal(r.state, s);
    assert.deepEqual(r.actions, []);
  });

  test('RFC 5798 §5.2.4: tracking never makes a running router use priority 0 (resigning) or a non-owner use 255', () => {
    const m = master(cfg3({ priority: 200 }));
    const zero = step(m, { type: 'set_priority', priority: 0 }, 1 * S).state;
    assert.equal(zero.priority, 1);
    assert.deepEqual(sent(fire(zero).actions), [1], 'the master must not advertise 0 while it stays master');
    const neg = step(m, { type: 'set_priority', priority: -40 }, 1 * S).state;
    assert.equal(neg.priority, 1);
    const high = step(m, { type: 'set_priority', priority: 300 }, 1 * S).state;
    assert.equal(high.priority, 254);
    const owner = master(cfg3({ priority: 255 }));
    const down = step(owner, { type: 'set_priority', priority: 200 }, 1 * S).state;
    assert.equal(down.priority, 200);
    assert.equal(step(down, { type: 'set_priority', priority: 255 }, 2 * S).state.priority, 255);
  });

  test('set_priority with a non-number priority is ignored', () => {
    const m = master(cfg3({ priority: 200 }));
    for (const p of [NaN, Infinity, -Infinity, '150', null, undefined]) {
      const r = step(m, { type: 'set_priority', priority: p as never }, 1 * S);
      assert.equal(r.state, m, String(p));
      assert.deepEqual(r.actions, []);
    }
  });

  test('stale timer generations are ignored in Backup and Master', () => {
    const b0 = backup(cfg3());
    const b1 = step(b0, advert('192.0.2.20', 200), 1 * S).state;
    assert.notEqual(b1.timer!.gen, b0.timer!.gen);
    const sb = step(b1, { type: 'timer', gen: b0.timer!.gen }, b0.timer!.at);
    assert.equal(sb.state, b1);
    assert.deepEqual(sb.actions, []);

    const m0 = master(cfg3());
    const m1 = step(m0, advert('192.0.2.20', 0), m0.timer!.at - 1).state; // resets the Adver_Timer
    const sm = step(m1, { type: 'timer', gen: m0.timer!.gen }, m0.timer!.at);
    assert.equal(sm.state, m1);
    assert.deepEqual(sm.actions, []);
    // a future generation is not valid either
    const fut = step(m1, { type: 'timer', gen: m1.gen + 1 }, m1.timer!.at);
    assert.equal(fut.state, m1);
  });

  test('step does not mutate its input state (states are values)', () => {
    const s = backup(cfg3({ priority: 200 }));
    const snapshot = JSON.stringify(s);
    step(s, advert('192.0.2.20', 250, 300), 1 * S);
    step(s, { type: 'set_priority', priority: 10 }, 1 * S);
    fire(s);
    step(s, { type: 'fault' }, 1 * S);
    assert.equal(JSON.stringify(s), snapshot);
  });
});
