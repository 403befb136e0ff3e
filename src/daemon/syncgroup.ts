/**
 * vrrp_sync_group: the pure rule that keeps members in MASTER, BACKUP and FAULT together, as keepalived's
 * vrrp_sync.c does. The daemon calls `syncGroupStep` whenever a member wants to change state (before applying it)
 * and applies the answer: whether the member may make the move, which other members it forces, and the group's new
 * state (for group notify scripts and the FIFO `GROUP "G" STATE 0` line).
 *
 *  - A member going MASTER (its down timer expired, or it preempts): allowed when the group is already MASTER, or when
 *    every other member wants MASTER too ("prefer backup state to avoid thrashing"); otherwise it stays BACKUP and
 *    restarts its down timer (`restartDownTimer`). When allowed, every other member goes MASTER
 *    ("VRRP_Group(G) Syncing instances to MASTER state"). A member in FAULT never wants MASTER.
 *  - A member going BACKUP (higher-priority advert, priority-0 release): every other member that is not BACKUP goes
 *    BACKUP too.
 *  - A member going FAULT: every other member goes FAULT; the group is FAULT.
 *  - A member recovering from FAULT: it stays in FAULT while any other member still has a fault condition; when the
 *    last one clears, every member leaves FAULT for BACKUP and the group is BACKUP.
 */
export type MemberState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';
export type GroupState = MemberState;

export interface SyncGroupView {
  name: string;
  /** Member instance names, in configuration order. */
  members: string[];
  /** The group's current state. */
  state: GroupState;
  /** Current state of every member. */
  memberState: Record<string, MemberState>;
  /** Members whose own trackers/interfaces put them in FAULT right now (Tracker.isFault, link state). */
  faultCondition: ReadonlySet<string>;
  /** Members that want MASTER on their own (keepalived's wantstate: down timer expired, or preempting), besides
   * those already MASTER. */
  wantMaster: ReadonlySet<string>;
}

export interface SyncDecision {
  /** May the member make the move it asked for? When false it stays where it is (or FAULT on recovery). */
  allow: boolean;
  /** Other members that must move, and where. */
  force: { instance: string; to: MemberState }[];
  /** The group's state after the move. */
  groupState: GroupState;
  groupChanged: boolean;
  /** keepalived's log line for the group, or null. */
  log: string | null;
  /** MASTER refused: the member stays BACKUP and restarts its down timer (keepalived waits for the others). */
  restartDownTimer: boolean;
}

/** The rule. `instance` wants to go from its current state to `to`. */
export function syncGroupStep(g: SyncGroupView, instance: string, to: MemberState): SyncDecision {
  const others = g.members.filter((m) => m !== instance);
  const from = g.memberState[instance] ?? 'INIT';
  const decide = (allow: boolean, force: { instance: string; to: MemberState }[], groupState: GroupState): SyncDecision => {
    const changed = groupState !== g.state;
    return {
      restartDownTimer: !allow && to === 'MASTER',
      allow,
      force,
      groupState,
      groupChanged: changed,
      log: changed && force.length + (allow ? 1 : 0) > 0 ? `VRRP_Group(${g.name}) Syncing instances to ${groupState} state` : null,
    };
  };
  switch (to) {
    case 'MASTER': {
      if (g.faultCondition.has(instance) || from === 'FAULT') return decide(false, [], g.state);
      const wants = (m: string) =>
        g.memberState[m] !== 'FAULT' && !g.faultCondition.has(m) && (g.memberState[m] === 'MASTER' || g.wantMaster.has(m));
      if (g.state !== 'MASTER' && !others.every(wants)) return decide(false, [], g.state);
      return decide(true, others.filter((m) => g.memberState[m] !== 'MASTER').map((m) => ({ instance: m, to: 'MASTER' as const })), 'MASTER');
    }
    case 'BACKUP': {
      if (from === 'FAULT') {
        // Recovery: only when nobody in the group still has a fault condition.
        const still = g.members.some((m) => m !== instance && g.faultCondition.has(m));
        if (still || g.faultCondition.has(instance)) return decide(false, [], 'FAULT');
        return decide(true, others.filter((m) => g.memberState[m] !== 'BACKUP').map((m) => ({ instance: m, to: 'BACKUP' as const })), 'BACKUP');
      }
      if (g.state === 'FAULT') return decide(false, [], 'FAULT');
      return decide(true, others.filter((m) => g.memberState[m] !== 'BACKUP').map((m) => ({ instance: m, to: 'BACKUP' as const })), 'BACKUP');
    }
    case 'FAULT':
      return decide(true, others.filter((m) => g.memberState[m] !== 'FAULT').map((m) => ({ instance: m, to: 'FAULT' as const })), 'FAULT');
    default:
      return decide(true, [], g.state);
  }
}
