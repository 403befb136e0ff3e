import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syncGroupStep, type MemberState, type SyncGroupView } from '../../src/daemon/syncgroup.js';

function view(state: MemberState, members: Record<string, MemberState>, faults: string[] = [], want: string[] = []): SyncGroupView {
  return { name: 'G', members: Object.keys(members), state, memberState: members, faultCondition: new Set(faults), wantMaster: new Set(want) };
}

test('sync group: MASTER only when every other member wants it too, then all go together', () => {
  // B's down timer has not expired: A waits in BACKUP and restarts its down timer (keepalived avoids thrashing).
  const wait = syncGroupStep(view('BACKUP', { A: 'BACKUP', B: 'BACKUP', C: 'BACKUP' }, [], ['C']), 'A', 'MASTER');
  assert.deepEqual([wait.allow, wait.force, wait.restartDownTimer, wait.groupChanged, wait.log], [false, [], true, false, null]);
  const d = syncGroupStep(view('BACKUP', { A: 'BACKUP', B: 'BACKUP', C: 'MASTER' }, [], ['B']), 'A', 'MASTER');
  assert.equal(d.allow, true);
  assert.equal(d.restartDownTimer, false);
  assert.deepEqual(d.force, [{ instance: 'B', to: 'MASTER' }]);
  assert.deepEqual([d.groupState, d.groupChanged], ['MASTER', true]);
  assert.equal(d.log, 'VRRP_Group(G) Syncing instances to MASTER state');
  // Once the group is MASTER, a member (e.g. after its own brief BACKUP) may rejoin at once.
  assert.equal(syncGroupStep(view('MASTER', { A: 'BACKUP', B: 'MASTER' }), 'A', 'MASTER').allow, true);
});

test('sync group: no MASTER while another member is in FAULT or has a fault condition', () => {
  assert.equal(syncGroupStep(view('FAULT', { A: 'BACKUP', B: 'FAULT' }, [], ['B']), 'A', 'MASTER').allow, false);
  const d = syncGroupStep(view('BACKUP', { A: 'BACKUP', B: 'BACKUP' }, ['B'], ['B']), 'A', 'MASTER');
  assert.deepEqual([d.allow, d.force, d.groupChanged, d.log], [false, [], false, null]);
  assert.equal(syncGroupStep(view('BACKUP', { A: 'BACKUP', B: 'BACKUP' }, ['A'], ['B']), 'A', 'MASTER').allow, false);
});

test('sync group: one member to BACKUP brings the others with it', () => {
  const d = syncGroupStep(view('MASTER', { A: 'MASTER', B: 'MASTER', C: 'MASTER' }), 'B', 'BACKUP');
  assert.equal(d.allow, true);
  assert.deepEqual(d.force, [
    { instance: 'A', to: 'BACKUP' },
    { instance: 'C', to: 'BACKUP' },
  ]);
  assert.equal(d.groupState, 'BACKUP');
  assert.equal(d.log, 'VRRP_Group(G) Syncing instances to BACKUP state');
});

test('sync group: one member to FAULT faults all; recovery waits for the last fault to clear', () => {
  const f = syncGroupStep(view('MASTER', { A: 'MASTER', B: 'MASTER' }, ['A']), 'A', 'FAULT');
  assert.deepEqual([f.allow, f.force, f.groupState], [true, [{ instance: 'B', to: 'FAULT' }], 'FAULT']);
  assert.equal(f.log, 'VRRP_Group(G) Syncing instances to FAULT state');
  // B has its own fault too: A clearing is not enough.
  const r1 = syncGroupStep(view('FAULT', { A: 'FAULT', B: 'FAULT' }, ['B']), 'A', 'BACKUP');
  assert.deepEqual([r1.allow, r1.force, r1.groupState], [false, [], 'FAULT']);
  const r2 = syncGroupStep(view('FAULT', { A: 'FAULT', B: 'FAULT' }, []), 'B', 'BACKUP');
  assert.deepEqual([r2.allow, r2.force, r2.groupState, r2.groupChanged], [true, [{ instance: 'A', to: 'BACKUP' }], 'BACKUP', true]);
  // A member of a FAULT group cannot wander into BACKUP on its own (e.g. on a priority-0 advert).
  assert.equal(syncGroupStep(view('FAULT', { A: 'FAULT', B: 'BACKUP' }, ['A']), 'B', 'BACKUP').allow, false);
});

test('sync group: a move that changes nothing logs nothing', () => {
  const d = syncGroupStep(view('MASTER', { A: 'MASTER', B: 'MASTER' }), 'A', 'MASTER');
  assert.deepEqual([d.allow, d.force, d.groupChanged, d.log], [true, [], false, null]);
});
