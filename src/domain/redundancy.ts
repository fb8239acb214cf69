/**
 * Redundancy-aware reboots (issue 14.8): controllers that back each other up share a group in the
 * inventory; no two members of a group reboot at the same time, and a standby reboots before the
 * active one. The master hands out reboot permits like download slots; this is the pure rule. No I/O.
 */

/** A controller's role within its group. */
export const redundancyRoles = ['active', 'standby'] as const;
export type RedundancyRole = (typeof redundancyRoles)[number];

/** A group name: letters, digits, `.`, `_`, `-`, at most 64 characters. */
export const redundancyGroupPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Reboot permits: who holds one, who waits for one (oldest first), and grants not yet sent. */
export interface RebootPermitState {
  holders: string[];
  queue: string[];
  grants: string[];
}

/** What the rule needs to know of a targeted controller. */
export interface GroupMember {
  ip: string;
  group?: string;
  redundancy?: RedundancyRole;
  /** Its upgrade ended (upgraded, failed, purged, …): it will not reboot for this campaign again. */
  final: boolean;
}

/** What holds a grouped controller's reload: a peer rebooting now, or a standby that goes first. */
export interface PeerHold {
  reason: 'peer-rebooting' | 'standby-first';
  peer: string;
  group: string;
}

/** The peer that holds `member`'s reload now, or undefined when none does. */
export function peerHold(
  member: GroupMember,
  peers: readonly GroupMember[],
  holders: readonly string[],
): PeerHold | undefined {
  const group = member.group;
  if (group === undefined) return undefined;
  const others = peers.filter((p) => p.ip !== member.ip && p.group === group);
  const rebooting = others.find((p) => holders.includes(p.ip));
  if (rebooting) return { reason: 'peer-rebooting', peer: rebooting.ip, group };
  if (member.redundancy === 'active') {
    const standby = others.find((p) => p.redundancy === 'standby' && !p.final);
    if (standby) return { reason: 'standby-first', peer: standby.ip, group };
  }
  return undefined;
}

/** A peer hold in words: `10.1.4.3 of group hq-pair is rebooting`, `standby 10.1.4.3 of group hq-pair reboots first`. */
export function peerHoldText(hold: PeerHold): string {
  return hold.reason === 'peer-rebooting'
    ? `${hold.peer} of group ${hold.group} is rebooting`
    : `standby ${hold.peer} of group ${hold.group} reboots first`;
}

/** Why `member` may not reboot now, or undefined when it may. */
export function rebootBlocker(
  member: GroupMember,
  peers: readonly GroupMember[],
  holders: readonly string[],
): string | undefined {
  const hold = peerHold(member, peers, holders);
  return hold && peerHoldText(hold);
}

/** The reboot-permit semaphore per group; the child's next report after its reboot gives the permit back. */
export class RebootPermits {
  constructor(private readonly state: RebootPermitState = { holders: [], queue: [], grants: [] }) {}

  get waiting(): readonly string[] {
    return this.state.queue;
  }

  holds(ip: string): boolean {
    return this.state.holders.includes(ip);
  }

  /** A child asks; one that already holds a permit (its grant got lost) is granted again. */
  request(ip: string): void {
    const { holders, queue, grants } = this.state;
    if (holders.includes(ip)) grants.push(ip);
    else if (!queue.includes(ip)) queue.push(ip);
  }

  release(ip: string): void {
    this.state.holders = this.state.holders.filter((h) => h !== ip);
    this.state.queue = this.state.queue.filter((q) => q !== ip);
  }

  /**
   * Grants every waiting controller nothing blocks, oldest request first; returns every grant to send
   * now. `members` knows each targeted controller (an unknown one is granted: nothing to wait for);
   * those `may` refuses (paused, or the campaign halted) keep their place in the queue.
   */
  grant(members: ReadonlyMap<string, GroupMember>, may: (ip: string) => boolean = () => true): string[] {
    const { holders, queue, grants } = this.state;
    const all = [...members.values()];
    for (const ip of [...queue]) {
      const member = members.get(ip);
      if (!may(ip) || (member && rebootBlocker(member, all, holders) !== undefined)) continue;
      this.state.queue = this.state.queue.filter((q) => q !== ip);
      holders.push(ip);
      grants.push(ip);
    }
    return grants.splice(0);
  }

  snapshot(): RebootPermitState {
    return this.state;
  }
}
