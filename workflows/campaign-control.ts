/**
 * The operator's hold on a campaign, apart from its targets: which waves are open, the failure-budget
 * halt, and what is paused. Pure like CampaignState, which owns one and asks it before starting a
 * child or granting a download slot; shard workflows reuse it through CampaignState.
 */
import type { PauseRequest, PauseResult, ResumeRequest, ResumeResult } from '../src/domain/campaign-control';
import {
  finalStates,
  problemStates,
  stateLabels,
  type CampaignStateWord,
  type ControllerStatus,
  type WaveStatus,
} from '../src/domain/status';
import { matchingIps, resolveTargets } from '../src/domain/targets';
import type { CampaignConfig } from '../src/domain/types';
import {
  assignWaves,
  budgetExceeded,
  describeBudget,
  type FailureBudget,
  type WaveMembers,
} from '../src/domain/waves';

/** What CampaignControl carries across continue-as-new. */
export interface ControlCarried {
  /** Waves whose controllers may start (the first one always may). */
  opened: string[];
  /** When each wave was first seen done (ms), for its soak time. */
  doneAt: Record<string, number>;
  halt?: { reason: string; at: string };
  /** Failures a resume forgave, per budget ('campaign' or 'wave:<name>'): only failures beyond them count. */
  forgiven: Record<string, number>;
  /** The whole campaign is paused since (ISO). */
  pausedAll?: string;
  pausedIps: string[];
  pausedAt?: string;
  /** Controllers whose download the master still has to stop. */
  aborts: string[];
}

/** What the control reads of a target. */
export interface ControlTarget {
  status: ControllerStatus;
  child: 'none' | 'running' | 'closed';
}

/** What the control knows of the campaign: its committed config, its targets' entries and the slot holders. */
export interface ControlView {
  config(): CampaignConfig;
  entries(): Readonly<Record<string, ControlTarget>>;
  slotHolders(): readonly string[];
}

const finalish = (t: ControlTarget | undefined) =>
  t !== undefined && t.child !== 'running' && finalStates.includes(t.status.state);

const isFailure = (t: ControlTarget | undefined) => t !== undefined && problemStates.includes(t.status.state);

export class CampaignControl {
  private readonly state: ControlCarried;
  private readonly paused: Set<string>;
  private cache?: {
    config: CampaignConfig;
    targeted: string[];
    waves: WaveMembers[] | undefined;
    byIp: Map<string, number>;
  };

  constructor(
    private readonly view: ControlView,
    carried?: ControlCarried,
  ) {
    this.state = carried ?? { opened: [], doneAt: {}, forgiven: {}, pausedIps: [], aborts: [] };
    this.paused = new Set(this.state.pausedIps);
  }

  /** Undefined while nothing was ever waved, halted or paused: older campaigns carry exactly what they did. */
  carried(): ControlCarried | undefined {
    const s = this.state;
    const used =
      s.opened.length > 0 ||
      Object.keys(s.doneAt).length > 0 ||
      s.halt !== undefined ||
      s.pausedAll !== undefined ||
      this.paused.size > 0 ||
      s.aborts.length > 0 ||
      Object.keys(s.forgiven).length > 0;
    return used ? { ...s, pausedIps: [...this.paused] } : undefined;
  }

  /** The profile's waves with their members (undefined without waves), recomputed when the config changes. */
  waves(): WaveMembers[] | undefined {
    return this.assignment().waves;
  }

  private assignment(): NonNullable<CampaignControl['cache']> {
    const config = this.view.config();
    if (this.cache?.config !== config) {
      const targeted = resolveTargets(config.inventory, config.targets).controllers;
      const waves = assignWaves(config.profile.waves, targeted);
      const byIp = new Map<string, number>();
      waves?.forEach((w, index) => w.members.forEach((ip) => byIp.set(ip, index)));
      this.cache = { config, targeted: targeted.map((c) => c.ip), waves, byIp };
    }
    return this.cache;
  }

  waveOf(ip: string): string | undefined {
    const { waves, byIp } = this.assignment();
    const index = byIp.get(ip);
    return waves && index !== undefined ? waves[index]?.name : undefined;
  }

  private waveOpen(ip: string): boolean {
    const { waves, byIp } = this.assignment();
    if (!waves) return true;
    const index = byIp.get(ip);
    if (index === undefined || index === 0) return true;
    return this.state.opened.includes(waves[index]!.name);
  }

  /** Controllers the committed config targets (what a campaign-wide percentage budget is of). */
  get targetedCount(): number {
    return this.assignment().targeted.length;
  }

  get halted(): { reason: string; at: string } | undefined {
    return this.state.halt;
  }

  /** Whether `ip` is paused (the whole campaign, or it by a selector). */
  isPaused(ip: string): boolean {
    return this.state.pausedAll !== undefined || this.paused.has(ip);
  }

  /** Why nothing new may start for `ip` (no child, no download slot, no reboot), or undefined. */
  holdsBack(ip: string): string | undefined {
    if (this.state.halt) return `campaign halted: ${this.state.halt.reason}`;
    if (this.isPaused(ip)) return 'paused by the operator';
    return undefined;
  }

  /** Whether `ip`'s child may start now: its wave is open and nothing holds it back. */
  mayStart(ip: string): boolean {
    return this.waveOpen(ip) && this.holdsBack(ip) === undefined;
  }

  /** Whether `ip` may get a download slot now. */
  mayGrant(ip: string): boolean {
    return this.holdsBack(ip) === undefined;
  }

  /**
   * Checks the failure budgets (halting the campaign when one is exceeded) and opens the next wave
   * when the one before is done and soaked. Returns whether anything changed, and the ms until the
   * earliest soak time ends (the master's durable timer).
   */
  advance(now: number): { changed: boolean; wakeInMs?: number } {
    const changed = this.checkBudgets(now);
    const waves = this.waves();
    // A halted campaign opens no wave: after a resume (and a retry) the previous wave must be done again.
    if (!waves || this.state.halt) return { changed };
    const entries = this.view.entries();
    let opened = false;
    for (let i = 1; i < waves.length; i++) {
      const wave = waves[i]!;
      if (this.state.opened.includes(wave.name)) continue;
      const before = waves.slice(0, i);
      if (!before.every((w) => w.members.every((ip) => finalish(entries[ip])))) break;
      const previous = waves[i - 1]!;
      this.state.doneAt[previous.name] ??= now;
      const soakEnds = this.state.doneAt[previous.name]! + (previous.soakMs ?? 0);
      if (now < soakEnds) return { changed: changed || opened, wakeInMs: soakEnds - now };
      this.state.opened.push(wave.name);
      opened = true;
    }
    return { changed: changed || opened };
  }

  private checkBudgets(now: number): boolean {
    if (this.state.halt) return false;
    const entries = this.view.entries();
    const scopes: Array<{ key: string; what: string; members: readonly string[]; budget?: FailureBudget }> = [
      ...(this.waves() ?? []).map((w) => ({
        key: `wave:${w.name}`,
        what: `wave "${w.name}"`,
        members: w.members,
        budget: w.maxFailures,
      })),
      {
        key: 'campaign',
        what: 'the campaign',
        members: this.assignment().targeted,
        budget: this.view.config().profile.maxFailures,
      },
    ];
    for (const { key, what, members, budget } of scopes) {
      if (budget === undefined) continue;
      const failed = members.filter((ip) => isFailure(entries[ip]));
      const counted = failed.length - (this.state.forgiven[key] ?? 0);
      if (!budgetExceeded(budget, counted, members.length)) continue;
      const which = failed
        .slice(0, 5)
        .map((ip) => `${ip} ${stateLabels[entries[ip]!.status.state]}`)
        .join(', ');
      this.state.halt = {
        reason: `${what}: ${counted} failure(s) exceed max-failures ${describeBudget(budget, members.length)} (${which}${failed.length > 5 ? ', …' : ''})`,
        at: new Date(now).toISOString(),
      };
      return true;
    }
    return false;
  }

  /** pauseCampaign. `known`: every target of the campaign. */
  pause(request: PauseRequest, known: readonly string[], now: number): PauseResult {
    const at = new Date(now).toISOString();
    const selectors = request.selectors;
    const idle = (selectors ?? []).filter((s) => matchingIps(known, [s]).length === 0);
    let paused: string[];
    if (!selectors) {
      this.state.pausedAll ??= at;
      paused = [...known];
    } else {
      paused = matchingIps(known, selectors);
      for (const ip of paused) this.paused.add(ip);
    }
    this.state.pausedAt = at;
    const aborting = request.abortDownloads ? this.view.slotHolders().filter((ip) => this.isPaused(ip)) : [];
    this.state.aborts = [...new Set([...this.state.aborts, ...aborting])];
    return { campaign: this.state.pausedAll !== undefined, paused, aborting, matchingNoTarget: idle };
  }

  /** resumeCampaign: a whole-campaign resume also clears a halt and forgives the failures so far. */
  resume(request: ResumeRequest, known: readonly string[]): ResumeResult {
    const selectors = request.selectors;
    if (!selectors) {
      const resumed = known.filter((ip) => this.isPaused(ip));
      const clearedHalt = this.state.halt?.reason;
      this.state.pausedAll = undefined;
      this.paused.clear();
      this.state.pausedAt = undefined;
      if (this.state.halt) {
        this.forgiveFailures();
        this.state.halt = undefined;
      }
      return { resumed, ...(clearedHalt ? { clearedHalt } : {}), matchingNoTarget: [] };
    }
    const idle = selectors.filter((s) => matchingIps(known, [s]).length === 0);
    const matched = matchingIps(known, selectors);
    if (this.state.pausedAll !== undefined) {
      for (const ip of known) this.paused.add(ip);
      this.state.pausedAll = undefined;
    }
    const resumed = matched.filter((ip) => this.paused.delete(ip));
    return {
      resumed,
      ...(this.state.halt ? { stillHalted: this.state.halt.reason } : {}),
      matchingNoTarget: idle,
    };
  }

  /** A resumed budget (or a retry after completion) counts only failures after it. */
  forgiveFailures(): void {
    const entries = this.view.entries();
    const count = (members: readonly string[]) => members.filter((ip) => isFailure(entries[ip])).length;
    for (const w of this.waves() ?? []) this.state.forgiven[`wave:${w.name}`] = count(w.members);
    this.state.forgiven.campaign = count(this.assignment().targeted);
  }

  /** Controllers whose download is to be stopped; each returned once. */
  takeAborts(): string[] {
    return this.state.aborts.splice(0);
  }

  /** The master's CiuCampaignState. */
  stateWord(completed: boolean): CampaignStateWord {
    if (completed) return 'completed';
    if (this.state.halt) return 'halted';
    if (this.state.pausedAll !== undefined) return 'paused';
    return 'running';
  }

  /** Per wave: its state, size, final members and failures. */
  waveStatus(now: number): WaveStatus[] | undefined {
    const waves = this.waves();
    if (!waves) return undefined;
    const entries = this.view.entries();
    return waves.map((w, index): WaveStatus => {
      const final = w.members.filter((ip) => finalish(entries[ip])).length;
      const failures = w.members.filter((ip) => isFailure(entries[ip])).length;
      const open = index === 0 || this.state.opened.includes(w.name);
      const previous = waves[index - 1];
      const soakUntil =
        !open && previous && this.state.doneAt[previous.name] !== undefined
          ? this.state.doneAt[previous.name]! + (previous.soakMs ?? 0)
          : undefined;
      const state: WaveStatus['state'] =
        open && final === w.members.length
          ? 'done'
          : open
            ? 'running'
            : soakUntil !== undefined && soakUntil > now
              ? 'soaking'
              : 'waiting';
      return {
        name: w.name,
        state,
        size: w.members.length,
        final,
        failures,
        ...(w.maxFailures === undefined
          ? {}
          : { maxFailures: describeBudget(w.maxFailures, w.members.length) }),
        ...(state === 'soaking' && soakUntil !== undefined
          ? { soakUntil: new Date(soakUntil).toISOString() }
          : {}),
      };
    });
  }

  /** The pause as the status shows it. */
  pauseStatus(): { campaign: boolean; controllers: string[]; at: string } | undefined {
    if (this.state.pausedAll === undefined && this.paused.size === 0) return undefined;
    return {
      campaign: this.state.pausedAll !== undefined,
      controllers: Object.keys(this.view.entries()).filter((ip) => this.paused.has(ip)),
      at: this.state.pausedAll ?? this.state.pausedAt ?? '',
    };
  }

  /** Markdown lines for the master's Web UI current details (none for a campaign without waves, pause or halt). */
  details(now: number): string[] {
    const lines: string[] = [];
    if (this.state.halt)
      lines.push(
        `**Halted**: ${this.state.halt.reason} — \`ciu upgrade resume\` continues, \`ciu upgrade target purge all\` ends it`,
      );
    const pause = this.pauseStatus();
    if (pause)
      lines.push(
        pause.campaign
          ? `**Paused** since ${pause.at} — \`ciu upgrade resume\``
          : `**Paused**: ${pause.controllers.length} controller(s) — \`ciu upgrade resume\``,
      );
    const waves = this.waveStatus(now);
    if (waves)
      lines.push(
        `Waves: ${waves
          .map(
            (w) =>
              `${w.name} ${w.state}${w.soakUntil ? ` until ${w.soakUntil}` : ''} (${w.final}/${w.size}${w.failures ? `, ${w.failures} failed` : ''})`,
          )
          .join(' · ')}`,
      );
    return lines;
  }
}
