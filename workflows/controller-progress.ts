/**
 * controllerUpgrade's state, apart from the workflow that drives it: the controller's status as its
 * query, search attributes and Web UI details show it, and the quick-try cycle's counting. Pure — no
 * Temporal API, no I/O — so it is unit-tested without a server; the workflow keeps the handlers, the
 * activities, the timers and continue-as-new.
 */
import type { ControllerFacts } from '../activities/types';
import type { ControllerCarried, ControllerUpgradeInput } from '../src/domain/schemas';
import { stateLabels, type ControllerState, type ControllerStatus } from '../src/domain/status';

/** What controllerUpgrade returns: its final state. */
export interface ControllerUpgradeResult {
  ip: string;
  state: ControllerState;
  attempts: number;
  cycles: number;
  lastError?: string;
  runningVersion?: string;
  runningBuild?: number;
  /** Bytes of the image copied, when a copy ran (the master shows them from this result when no last report brought them). */
  bytes?: number;
  totalBytes?: number;
}

/** Search attributes a status change touches (CiuState, CiuAttempts). */
export interface AttributeChanges {
  state?: ControllerState;
  attempts?: number;
}

type Subject = Pick<ControllerUpgradeInput, 'controller' | 'source' | 'image' | 'quickTries'>;

/** One controller's status while its upgrade runs. */
export class ControllerProgress {
  readonly status: ControllerStatus;

  constructor(
    private readonly subject: Subject,
    carried: ControllerCarried,
  ) {
    const { controller, source, image } = subject;
    this.status = {
      ip: controller.ip,
      model: controller.model,
      role: controller.role,
      state: 'pending',
      attempts: carried.attempts,
      image: source.imageFile,
      targetVersion: image.version,
      targetBuild: image.build,
      lastError: carried.lastError,
      runningVersion: carried.facts?.runningVersion,
      runningBuild: carried.facts?.runningBuild,
    };
  }

  /** Merges `fields`; returns the search-attribute changes they imply. */
  set(fields: Partial<ControllerStatus>, now: Date): AttributeChanges {
    const { status } = this;
    Object.assign(status, fields, { updatedAt: now.toISOString() });
    // These two only mean something in their state.
    if (status.state !== 'waiting-retry') delete status.nextRetryAt;
    if (status.state !== 'downloading') delete status.attempt;
    if (status.state !== 'waiting-window') {
      delete status.windowOpensAt;
      delete status.window;
    }
    return {
      ...(fields.state !== undefined ? { state: status.state } : {}),
      ...(fields.attempts !== undefined ? { attempts: status.attempts } : {}),
    };
  }

  /** Markdown for the Web UI's current details. */
  details(): string {
    const { status } = this;
    const lines = [`**${stateLabels[status.state]}**`];
    if (status.state === 'downloading')
      lines.push(`attempt ${status.attempt}/${this.subject.quickTries}, ${status.attempts} in all`);
    if (status.nextRetryAt) lines.push(`next cycle at ${status.nextRetryAt}`);
    if (status.windowOpensAt)
      lines.push(`${status.window ?? 'maintenance'} window opens at ${status.windowOpensAt}`);
    if (status.lastError) lines.push(`last error: ${status.lastError}`);
    const { group, redundancy } = this.subject.controller;
    if (group !== undefined)
      lines.push(
        `redundancy group ${group}${redundancy === undefined ? '' : ` (${redundancy})`}: its members reboot one at a time${status.state === 'waiting-peer' ? "; the campaign's status names what holds this one" : ''}`,
      );
    return lines.join('\n\n');
  }

  /** Whether the controller runs exactly the verified image. */
  runsTarget(version?: string, build?: number): boolean {
    return version === this.subject.image.version && build === this.subject.image.build;
  }

  result(cycles: number): ControllerUpgradeResult {
    const { status } = this;
    return {
      ip: status.ip,
      state: status.state,
      attempts: status.attempts,
      cycles,
      lastError: status.lastError,
      runningVersion: status.runningVersion,
      runningBuild: status.runningBuild,
      ...(status.bytes === undefined ? {} : { bytes: status.bytes, totalBytes: status.totalBytes }),
    };
  }
}

/** The partition to write: the profile's, or the one the controller did not boot from. */
export function targetPartition(partition: 'non-boot' | 0 | 1, current: ControllerFacts): 0 | 1 {
  if (partition === 'non-boot') return current.bootPartition === 0 ? 1 : 0;
  return partition;
}

/** What to do after a failed try. */
export type AfterFailure = 'give-up' | 'try-again' | 'cycle-over';

/**
 * The quick-try cycle: up to `quickTries` tries in quick succession, then the retry interval, then
 * another cycle; `cyclesPerRun` cycles per workflow run before continue-as-new.
 */
export class QuickTryCycle {
  private cyclesThisRun = 0;

  constructor(
    private readonly quickTries: number,
    private readonly cyclesPerRun: number,
    /** Failed cycles so far, all runs. */
    public cycles: number,
  ) {}

  /** After try `n` of a cycle failed: a permanent failure ends it all; otherwise the cycle goes on while tries are left. */
  afterFailure(n: number, permanent: boolean): AfterFailure {
    if (permanent) return 'give-up';
    return n >= this.quickTries ? 'cycle-over' : 'try-again';
  }

  /** A cycle used up its tries. */
  endCycle(): void {
    this.cycles++;
    this.cyclesThisRun++;
  }

  /** After the retry interval: hand over to a new run (bounded history), or go on in this one. */
  continueAsNew(suggested: boolean): boolean {
    return this.cyclesThisRun >= this.cyclesPerRun || suggested;
  }
}
