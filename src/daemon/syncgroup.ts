/**
 * vrrp_sync_group: the pure rule that keeps members in MASTER, BACKUP and FAULT together, as keepalived's
 * vrrp_sync.c does. The daemon calls `syncGroupStep` whenever a member wants to change state (before applying it)
 * and applies the answer: whether the member may make the move, which other members it forces, and the group's new
 * state (for group notify scripts and the FIFO `GROUP "G" STATE 0` line).
 *
 *  - A member going MASTER: allowed only when no other member is in FAULT (or has a fault condition); every other
 *    member then goes MASTER too ("VRRP_Group(G) Syncing instances to MASTER state").
 *  - A member going BACKUP (higher-priority advert, priority-0 release): every MASTER member goes BACKUP too.
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
}

/** The rule. `instance` wants to go from its current state to `to`. */
export function syncGroupStep(g: SyncGroupView, instance: string, to: MemberState): SyncDecision {
  const others = g.members.filter((m) => m !== instance);
  const from = g.memberState[instance] ?? 'INIT';
  const decide = (allow: boolean, force: { instance: string; to: MemberState }[], groupState: GroupState): SyncDecision => {
    const changed = groupState !== g.state;
    return {
      allow,
      force,
      groupState,
      groupChanged: changed,
      log: changed && force.length + (allow ? 1 : 0) > 0 ? `VRRP_Group(${g.name}) Syncing instances to ${groupState} state` : null,
    };
  };
  switch (to) {
    case 'MASTER': {
      const blocked = others.some((m) => g.memberState[m] === 'FAULT' || g.faultCondition.has(m));
      if (blocked || g.faultCondition.has(instance)) return decide(false, [], g.state);
      return decide(true, others.filter((m) => g.memberState[m] !== 'MASTER').map((m) => ({ instance: m, to: 'MASTER' as const })), 'MASTER');
    }
    case 'BACKUP': {
      if (from === 'FAULT') {
        // Recovery: only when nobody in the group still has a fault condition.
        const still = g.members.some((m) => m !== instance && g.faultCondition.has(m));
        if (still || g.faultCondition.has(instance)) return decide(false, [], 'FAULT');
        return decide(true, others.filter((m) => g.memberState[m] === 'FAULT' || g.memberState[m] === 'MASTER').map((m) => ({ instance: m, to: 'BACKUP' as const })), 'BACKUP');
      }
      if (g.state === 'FAULT') return decide(false, [], 'FAULT');
      return decide(true, others.filter((m) => g.memberState[m] === 'MASTER').map((m) => ({ instance: m, to: 'BACKUP' as const })), 'BACKUP');
    }
    case 'FAULT':
      return decide(true, others.filter((m) => g.memberState[m] !== 'FAULT').map((m) => ({ instance: m, to: 'FAULT' as const })), 'FAULT');
    default:
      return decide(true, [], g.state);
  }
}
