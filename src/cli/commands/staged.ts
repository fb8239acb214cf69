import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { validate } from '../../domain/config';
import { controllerSchema, type Controller } from '../../domain/schemas';
import { loadStaged, saveStaged, type StagedConfig } from '../config-file';
import { globalOptions, withExamples, type CliContext } from '../context';
import { UsageError } from '../exit-codes';
import {
  addController,
  addTarget,
  removeController,
  removeModelImage,
  removeTarget,
  setAllowUnsigned,
  setAutoboot,
  setCampaign,
  setMaxDownloads,
  setModelImage,
  setPartition,
  setQuickTries,
  setQuickTryBackoff,
  setRebootTimeout,
  setRetryInterval,
  upsertControllers,
} from '../staging';

/** Applies one edit to the staged config file and says what is now staged. */
export function edit(
  ctx: CliContext,
  command: Command,
  change: (config: StagedConfig) => StagedConfig,
  said: string,
): void {
  const { configDir } = globalOptions(command, ctx);
  saveStaged(configDir, change(loadStaged(configDir)));
  ctx.io.out(`${said} (staged; \`ciu write memory\` commits)\n`);
}

/** `ciu upgrade-profile ...`: the per-model images and the global download settings. */
export function registerProfileCommands(program: Command, ctx: CliContext): void {
  const profile = withExamples(
    program
      .command('upgrade-profile')
      .description('stage the upgrade profile: images per model and download settings'),
    'ciu upgrade-profile model A7210 image-file ArubaOS_72xx_6.5.1.0_12345 server 10.0.0.5:21 protocol ftp credentials image-ftp version 6.5.1.0 build 12345',
    'ciu upgrade-profile autoboot',
  );
  withExamples(
    profile
      .command('model <model> [keywordValues...]')
      .description(
        'set the image for a controller model: image-file <f> server <host[:port]> protocol <ftp|ftps|scp|sftp|tftp|http> [credentials <ref>] [version <v>] [build <n>] [host-key <SHA256:..>]',
      )
      .action(function (this: Command, model: string, words: string[]) {
        edit(ctx, this, (c) => setModelImage(c, model, words), `profile.models.${model} set`);
      }),
    'ciu upgrade-profile model A7005 image-file ArubaOS_70xx_6.5.1.0_12345 server 10.0.0.5 protocol scp credentials image-scp',
  );
  withExamples(
    profile
      .command('no-model <model>')
      .description('remove a model from the profile')
      .action(function (this: Command, model: string) {
        edit(ctx, this, (c) => removeModelImage(c, model), `profile.models.${model} removed`);
      }),
    'ciu upgrade-profile no-model A7005',
  );
  withExamples(
    profile
      .command('autoboot')
      .description('reboot each controller into the new image after a verified download')
      .action(function (this: Command) {
        edit(ctx, this, (c) => setAutoboot(c, true), 'autoboot enabled');
      }),
    'ciu upgrade-profile autoboot',
  );
  withExamples(
    profile
      .command('no-autoboot')
      .description('leave controllers on the old image after the download ("Upgraded, reboot required")')
      .action(function (this: Command) {
        edit(ctx, this, (c) => setAutoboot(c, false), 'autoboot disabled');
      }),
    'ciu upgrade-profile no-autoboot',
  );
  withExamples(
    profile
      .command('allow-unsigned')
      .description(
        "accept images no trusted key signed (unsigned, or an unknown signer's); a broken signature is still refused",
      )
      .action(function (this: Command) {
        edit(ctx, this, (c) => setAllowUnsigned(c, true), 'unsigned images allowed');
      }),
    'ciu upgrade-profile allow-unsigned',
  );
  withExamples(
    profile
      .command('no-allow-unsigned')
      .description('accept only images signed by a key the worker trusts (CIU_IMAGE_KEYS; the default)')
      .action(function (this: Command) {
        edit(ctx, this, (c) => setAllowUnsigned(c, false), 'only signed images allowed');
      }),
    'ciu upgrade-profile no-allow-unsigned',
  );
  const setting = (
    name: string,
    description: string,
    example: string,
    apply: (c: StagedConfig, value: string) => StagedConfig,
  ) =>
    withExamples(
      profile
        .command(`${name} <value>`)
        .description(description)
        .action(function (this: Command, value: string) {
          edit(ctx, this, (c) => apply(c, value), `${name} ${value}`);
        }),
      `ciu upgrade-profile ${name} ${example}`,
    );
  setting('max-downloads', 'how many controllers may download at once (default 10)', '20', setMaxDownloads);
  setting('retry-interval', 'wait between download cycles (default 15m)', '15m', setRetryInterval);
  setting('quick-tries', 'download attempts in quick succession per cycle (default 3)', '3', setQuickTries);
  setting('partition', 'partition to write: non-boot (default), 0 or 1', 'non-boot', setPartition);
  setting(
    'quick-try-backoff',
    'pause between the quick tries of one cycle (default 5s)',
    '5s',
    setQuickTryBackoff,
  );
  setting(
    'reboot-timeout',
    'how long a reloaded controller may stay unreachable, 1s to 2h (default 10m)',
    '10m',
    setRebootTimeout,
  );
}

/** `ciu upgrade campaign|target add|target remove`: what is upgraded, staged. */
export function registerTargetCommands(upgrade: Command, target: Command, ctx: CliContext): void {
  withExamples(
    upgrade
      .command('campaign <name>')
      .description('name the campaign (the masterUpgrade workflow ID; default "ciu")')
      .action(function (this: Command, name: string) {
        edit(ctx, this, (c) => setCampaign(c, name), `campaign ${name}`);
      }),
    'ciu upgrade campaign spring-2026',
  );
  withExamples(
    target
      .command('add <selector>')
      .description('add a target: one controller IP, a subnet (CIDR) or all')
      .action(function (this: Command, selector: string) {
        edit(ctx, this, (c) => addTarget(c, selector), `target ${selector} added`);
      }),
    'ciu upgrade target add 10.1.4.0/24',
    'ciu upgrade target add all',
  );
  withExamples(
    target
      .command('remove <selector>')
      .description('remove a staged target; once committed, its controllers are cleared from the run')
      .action(function (this: Command, selector: string) {
        edit(ctx, this, (c) => removeTarget(c, selector), `target ${selector} removed`);
      }),
    'ciu upgrade target remove 10.1.4.17',
  );
}

/** The controllers in an inventory file, each checked by the domain's controller schema. */
function controllersFromFile(file: string): Controller[] {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`inventory import: cannot read ${file}: ${(err as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { inventory?: unknown } | null)?.inventory;
  if (!Array.isArray(list))
    throw new UsageError(
      `inventory import: ${file} must be a list of controllers (or a mapping with an inventory list)`,
    );
  const result = validate(z.array(controllerSchema), list, 'inventory');
  if (!result.ok) throw new UsageError(`inventory import: ${file} is refused`, result.issues);
  return result.value;
}

/** `ciu inventory add|remove|import`: the associated controllers the master manages. */
export function registerInventoryCommands(program: Command, ctx: CliContext): void {
  const inventory = withExamples(
    program.command('inventory').description('stage the associated (local and standby) controllers'),
    'ciu inventory add 10.1.4.17 model A7210 role local credentials ctrl-admin ssh 10.1.4.17:22 host-key SHA256:…',
  );
  withExamples(
    inventory
      .command('add <ip> [keywordValues...]')
      .description(
        'add or replace a controller: model <m> role <local|standby> credentials <ref> [ssh <host[:port]>] [host-key <SHA256:..>] [dialect <d>] [group <g> [redundancy <active|standby>]]',
      )
      .action(function (this: Command, ip: string, words: string[]) {
        edit(ctx, this, (c) => addController(c, ip, words), `controller ${ip} added`);
      }),
    'ciu inventory add 10.1.4.17 model A7210 role local credentials ctrl-admin',
  );
  withExamples(
    inventory
      .command('remove <ip>')
      .description('remove a controller from the inventory')
      .action(function (this: Command, ip: string) {
        edit(ctx, this, (c) => removeController(c, ip), `controller ${ip} removed`);
      }),
    'ciu inventory remove 10.1.4.17',
  );
  withExamples(
    inventory
      .command('import <file>')
      .description(
        'add or replace controllers from a YAML/JSON list (e.g. the inventory `ciu simulate` writes)',
      )
      .action(function (this: Command, file: string) {
        const controllers = controllersFromFile(file);
        edit(
          ctx,
          this,
          (c) => upsertControllers(c, controllers),
          `${controllers.length} controllers imported`,
        );
      }),
    'ciu inventory import fleet.yaml',
  );
}
