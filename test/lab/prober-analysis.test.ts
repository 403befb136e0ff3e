/** The prober's pure analysis: outages, duplicates, open gaps, attribution to events. No root needed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeProbes, attributeOutages, outagesIn, type ProbeData, type ProbeReport, type ProbeReply } from '../../src/linux/lab/prober.js';

const T0 = 1_800_000_000_000;

/** Replies for seqs [0, n) every `iv` ms except those in `lost`, RTT 0.1 ms. */
function replies(n: number, iv: number, lost: Set<number> = new Set()): ProbeReply[] {
  const out: ProbeReply[] = [];
  for (let s = 0; s < n; s++) if (!lost.has(s)) out.push({ seq: s, t: T0 + s * iv + 0.1, rttMs: 0.1 });
  return out;
}

function data(r: ProbeReply[], sent: number, name = 'vip4'): ProbeData {
  return { name, address: '192.0.2.1', sent, replies: r, sendErrors: 0 };
}

test('no loss: no outage, counts add up', () => {
  const r = analyzeProbes(data(replies(500, 2), 500), T0, T0 + 1000);
  assert.equal(r.sent, 500);
  assert.equal(r.received, 500);
  assert.equal(r.lost, 0);
  assert.equal(r.duplicates, 0);
  assert.deepEqual(r.outages, []);
  assert.equal(r.longestOutageMs, 0);
  assert.equal(r.firstReply, T0 + 0.1);
  assert.equal(r.lastReply, T0 + 499 * 2 + 0.1);
  assert.equal(r.rttMs?.min, 0.1);
  assert.equal(r.rttMs?.max, 0.1);
  assert.ok(Math.abs(r.rttMs!.avg - 0.1) < 1e-9);
});

test('a gap is an outage from the last reply before it to the first after it', () => {
  const lost = new Set<number>();
  for (let s = 100; s < 250; s++) lost.add(s); // 150 probes, 300 ms
  const r = analyzeProbes(data(replies(500, 2, lost), 500), T0, T0 + 1000);
  assert.equal(r.received, 350);
  assert.equal(r.lost, 150);
  assert.equal(r.outages.length, 1);
  const o = r.outages[0]!;
  assert.equal(o.start, T0 + 99 * 2 + 0.1);
  assert.equal(o.end, T0 + 250 * 2 + 0.1);
  assert.equal(o.durationMs, 302);
  assert.equal(o.lost, 150);
  assert.equal(o.firstLostSeq, 100);
  assert.equal(o.lastLostSeq, 249);
  assert.equal(o.open, undefined);
  assert.equal(r.longestOutageMs, 302);
});

test('one lost probe reads as two intervals; the longest of several gaps is reported', () => {
  const r = analyzeProbes(data(replies(100, 2, new Set([10, 50, 51, 52])), 100), T0, T0 + 200);
  assert.deepEqual(
    r.outages.map((o) => [o.firstLostSeq, o.lost, o.durationMs]),
    [
      [10, 1, 4],
      [50, 3, 8],
    ],
  );
  assert.equal(r.longestOutageMs, 8);
});

test('replies arriving out of order do not make an outage; duplicates are counted with their times', () => {
  const base = replies(10, 2);
  const swapped = [...base.slice(0, 4), base[5]!, base[4]!, ...base.slice(6)];
  const dup = { seq: 7, t: T0 + 14.5, rttMs: 0.5 };
  const r = analyzeProbes(data([...swapped, dup], 10), T0, T0 + 20);
  assert.deepEqual(r.outages, []);
  assert.equal(r.received, 10);
  assert.equal(r.duplicates, 1);
  assert.deepEqual(r.duplicateTimes, [T0 + 14.5]);
});

test('open outages at the start and at the end; nothing received at all', () => {
  const lost = new Set([0, 1, 2, 7, 8, 9]);
  const r = analyzeProbes(data(replies(10, 2, lost), 10), T0, T0 + 25);
  assert.deepEqual(
    r.outages.map((o) => [o.open, o.firstLostSeq, o.lastLostSeq, o.start, o.end]),
    [
      ['start', 0, 2, T0, T0 + 6.1],
      ['end', 7, 9, T0 + 12.1, T0 + 25],
    ],
  );
  const none = analyzeProbes(data([], 50), T0, T0 + 100);
  assert.equal(none.received, 0);
  assert.equal(none.lost, 50);
  assert.deepEqual(none.outages.map((o) => [o.open, o.durationMs, o.lost]), [['start', 100, 50]]);
  assert.equal(none.rttMs, null);
  assert.equal(none.firstReply, null);
});

test('a reply for a seq never sent (cut stream) is ignored', () => {
  const r = analyzeProbes(data([...replies(5, 2), { seq: 99, t: T0 + 50, rttMs: 1 }], 5), T0, T0 + 20);
  assert.equal(r.received, 5);
  assert.equal(r.duplicates, 0);
});

test('outages are attributed to the latest event at or before their start (+ slack)', () => {
  const lost = new Set<number>();
  for (let s = 100; s < 200; s++) lost.add(s); // gap after reply 99 (t=198.1) to 200 (t=400.1)
  for (let s = 600; s < 610; s++) lost.add(s); // gap after reply 599 (t=1198.1)
  const v4 = analyzeProbes(data(replies(1000, 2, lost), 1000), T0, T0 + 2000);
  const up = analyzeProbes(data(replies(1000, 2), 1000, 'upstream4'), T0, T0 + 2000);
  const report: ProbeReport = {
    intervalMs: 2,
    startedAt: T0,
    stoppedAt: T0 + 2000,
    targets: [v4, up],
    events: [
      { t: T0 + 150, name: 'before' },
      { t: T0 + 199, name: 'link down' }, // just after the last reply before the gap
      { t: T0 + 700, name: 'link up' },
      { t: T0 + 1260, name: 'too late for the second gap' },
    ],
  };
  const imp = attributeOutages(report);
  const get = (ev: string, target: string) => imp.find((x) => x.event.name === ev && x.target === target)!;
  assert.equal(get('link down', 'vip4').outageMs, 202);
  assert.equal(get('link down', 'vip4').lostProbes, 100);
  assert.equal(get('before', 'vip4').outageMs, 0);
  assert.equal(get('link up', 'vip4').outageMs, 22);
  assert.equal(get('too late for the second gap', 'vip4').outageMs, 0);
  assert.equal(get('link down', 'upstream4').outageMs, 0);
  assert.equal(outagesIn(v4, T0 + 300, T0 + 310).length, 1);
  assert.equal(outagesIn(v4, T0 + 500, T0 + 600).length, 0);
});

test('slow replies are late, not lost; attributed to the event whose window they were sent in', () => {
  const r = replies(100, 2);
  // Requests 40-44 held ~60 ms (a router queueing them while nobody owned the VIP) and answered in a burst.
  for (let s = 40; s < 45; s++) r[s] = { seq: s, t: T0 + 44 * 2 + 60, rttMs: T0 + 44 * 2 + 60 - (T0 + s * 2) };
  const tr = analyzeProbes(data(r, 100), T0, T0 + 200);
  assert.equal(tr.lost, 0);
  assert.deepEqual(tr.outages, []);
  assert.equal(tr.late, 5);
  assert.deepEqual(tr.lateReplies.map((x) => x.seq), [40, 41, 42, 43, 44]);
  assert.equal(tr.rttMs?.max, 68);
  const rep: ProbeReport = { intervalMs: 2, startedAt: T0, stoppedAt: T0 + 200, targets: [tr], events: [{ t: T0 + 79, name: 'planned stop' }, { t: T0 + 150, name: 'later' }] };
  const [stop, later] = attributeOutages(rep);
  assert.equal(stop!.lateProbes, 5);
  assert.equal(stop!.maxLateRttMs, 68);
  assert.equal(stop!.outageMs, 0);
  assert.equal(later!.lateProbes, 0);
  // A stricter threshold counts none of the ordinary replies as late.
  assert.equal(analyzeProbes(data(replies(10, 2), 10), T0, T0 + 20, 0.05).late, 10);
  assert.equal(analyzeProbes(data(replies(10, 2), 10), T0, T0 + 20, 0.2).late, 0);
});
