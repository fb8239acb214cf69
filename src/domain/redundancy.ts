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

/** Why `member` may not reboot now, or undefined when it may. */
export function rebootBlocker(
  member: GroupMember,
  peers: readonly GroupMember[],
  holders: readonly string[],
): string | undefined {
  if (member.group === undefined) return undefined;
  const others = peers.filter((p) => p.ip !== member.ip && p.group === member.group);
  const rebooting = others.find((p) => holders.includes(p.ip));
  if (rebooting) return `${rebooting.ip} of group ${member.group} is rebooting`;
  if (member.redundancy === 'active') {
    const standby = others.find((p) => p.redundancy === 'standby' && !p.final);
    if (standby) return `standby ${standby.ip} of group ${member.group} reboots first`;
  }
  return undefined;
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
