import type { Command } from 'commander';
import type { StagedConfig } from '../config-file';
import { withExamples, type CliContext } from '../context';
import { registerControlCommands } from './control';
import { subcommand } from './rollout-tree';
import { edit } from './staged';
import {
  removeWindow,
  setFallback,
  setPreChecks,
  setStartAt,
  setWindow,
  type WindowField,
} from '../rollout-staging';
import { removeWave, setMaxFailures, setWave } from '../wave-staging';

/**
 * The rollout controls on the existing command tree: `upgrade-profile pre-checks|no-pre-checks|
 * fallback|no-fallback|download-window|reboot-window|no-…-window` and `upgrade campaign start-at`.
 */
export function registerRolloutCommands(program: Command, ctx: CliContext): void {
  const profile = subcommand(program, 'upgrade-profile');
  const toggle = (
    name: string,
    description: string,
    apply: (c: StagedConfig) => StagedConfig,
    said: string,
  ) =>
    withExamples(
      profile
        .command(name)
        .description(description)
        .action(function (this: Command) {
          edit(ctx, this, apply, said);
        }),
      `ciu upgrade-profile ${name}`,
    );
  toggle(
    'pre-checks',
    'before any download check model, target partition and free flash (`show storage`) (default)',
    (c) => setPreChecks(c, true),
    'pre-checks enabled',
  );
  toggle(
    'no-pre-checks',
    'download without the pre-checks',
    (c) => setPreChecks(c, false),
    'pre-checks disabled',
  );
  toggle(
    'fallback',
    'boot a controller that comes back on the wrong image back into its previous partition ("Rolled back")',
    (c) => setFallback(c, true),
    'fallback enabled',
  );
  toggle(
    'no-fallback',
    'report a wrong-version boot as Failed (default)',
    (c) => setFallback(c, false),
    'fallback disabled',
  );

  const windows: Array<[string, WindowField, string]> = [
    ['download', 'downloadWindow', 'when downloads may start; one under way when it closes finishes'],
    ['reboot', 'rebootWindow', 'when controllers may reload into the new image'],
  ];
  for (const [kind, field, what] of windows) {
    withExamples(
      profile
        .command(`${kind}-window <words...>`)
        .description(
          `${what}: HH:MM-HH:MM [days mon,tue,…] [time-zone <IANA zone>] (daily/weekly), or once <from> <until>`,
        )
        .action(function (this: Command, words: string[]) {
          edit(ctx, this, (c) => setWindow(c, field, words), `${kind}-window ${words.join(' ')}`);
        }),
      `ciu upgrade-profile ${kind}-window 02:00-05:00 time-zone Europe/Berlin`,
      `ciu upgrade-profile ${kind}-window 01:00-04:00 days sat,sun`,
      `ciu upgrade-profile ${kind}-window once 2026-12-01T02:00Z 2026-12-01T05:00Z`,
    );
    toggle(
      `no-${kind}-window`,
      `${kind}s at any time (default)`,
      (c) => removeWindow(c, field),
      `${kind}-window removed`,
    );
  }

  const campaign = subcommand(subcommand(program, 'upgrade'), 'campaign');
  withExamples(
    campaign
      .command('start-at <time>')
      .description('start nothing on any controller before this time (ISO 8601 with a zone); `now` clears it')
      .action(function (this: Command, time: string) {
        edit(ctx, this, (c) => setStartAt(c, time), time === 'now' ? 'start-at cleared' : `start-at ${time}`);
      }),
    'ciu upgrade campaign start-at 2026-12-01T02:00:00Z',
  );
  registerWaveCommands(profile, ctx);
  registerControlCommands(program, ctx);
}

/** `upgrade-profile wave|no-wave|max-failures|no-max-failures`. */
function registerWaveCommands(profile: Command, ctx: CliContext): void {
  withExamples(
    profile
      .command('wave <name> [words...]')
      .description(
        'add (or change) a wave, in order: <n> | <p>% | subnet <cidr> | model <m> | role <local|standby> | nothing (all remaining); [soak <duration>] [max-failures <n|p%>]',
      )
      .action(function (this: Command, name: string, words: string[]) {
        edit(ctx, this, (c) => setWave(c, name, words), `wave ${[name, ...words].join(' ')}`);
      }),
    'ciu upgrade-profile wave canary 1 soak 30m max-failures 0',
    'ciu upgrade-profile wave early 10% max-failures 5%',
    'ciu upgrade-profile wave rest',
  );
  withExamples(
    profile
      .command('no-wave <name>')
      .description('remove a wave (`all`: every wave; the campaign then starts every target at once)')
      .action(function (this: Command, name: string) {
        edit(
          ctx,
          this,
          (c) => removeWave(c, name),
          name === 'all' ? 'waves removed' : `wave ${name} removed`,
        );
      }),
    'ciu upgrade-profile no-wave early',
  );
  withExamples(
    profile
      .command('max-failures <budget>')
      .description(
        'failures the whole campaign may have (a number, or a percentage of its targets); one more halts it',
      )
      .action(function (this: Command, budget: string) {
        edit(ctx, this, (c) => setMaxFailures(c, budget), `max-failures ${budget}`);
      }),
    'ciu upgrade-profile max-failures 5%',
  );
  withExamples(
    profile
      .command('no-max-failures')
      .description('no campaign-wide failure budget (default)')
      .action(function (this: Command) {
        edit(ctx, this, (c) => setMaxFailures(c, undefined), 'max-failures removed');
      }),
    'ciu upgrade-profile no-max-failures',
  );
}
