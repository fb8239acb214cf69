import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { stringify as stringifyYaml } from 'yaml';
import { isKnownModel, type ControllerModel } from '../../domain/models';
import { globalOptions, untilStopSignal, withExamples, type CliContext } from '../context';
import { loadDevkit } from '../dev-kit-loader';
import { UsageError } from '../exit-codes';

interface SimulateOptions {
  subnet: string;
  controllers: string;
  models: string;
  version: string;
  build: string;
  sshPort: string;
  standbyEvery?: string;
  rebootDelay: string;
  stateDir?: string;
  aos: string;
  extensions?: boolean;
  master?: boolean;
  fault: string[];
  inventoryOut?: string;
  knownHostsOut?: string;
  credentialsOut?: string;
  credentialsRef: string;
}

function whole(text: string, field: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`${field} must be a whole number >= ${min}, got "${text}"`);
  return Number(text);
}

/** `ciu simulate`: a fleet of simulated controllers on loopback, for trying ciu without hardware. */
export function registerSimulateCommand(program: Command, ctx: CliContext): void {
  withExamples(
    program
      .command('simulate')
      .description(
        'run simulated ArubaOS-like controllers (real SSH, real downloads) on loopback addresses until Ctrl-C',
      )
      .option('--subnet <cidr>', 'loopback subnet; controllers take .1, .2, …', '127.20.0.0/24')
      .option('--controllers <n>', 'how many', '10')
      .option('--models <list>', 'models, assigned round-robin', 'A7210,A7005')
      .option('--version <version>', 'version they run at start', '6.4.4.0')
      .option('--build <n>', 'build they run at start', '60000')
      .option('--ssh-port <port>', 'SSH port on every address', '22')
      .option('--standby-every <n>', 'every n-th controller is a standby')
      .option('--reboot-delay <ms>', 'how long a reload keeps a controller down', '3000')
      .option('--aos <major>', 'ArubaOS prompt style: 6 "(host) #" or 8 "(host) [mynode] #"', '6')
      .option(
        '--extensions',
        "accept ciu's copy extensions (ftps/sftp/http, port and host-key clauses); inventory dialect arubaos-ext",
      )
      .option('--master', 'the first controller is a master whose `show switches` lists the others')
      .option('--state-dir <dir>', 'flash and logs (default: <config-dir>/simulator)')
      .option(
        '--fault <ip:fault,…>',
        'fault switches, repeatable: refuse-downloads=<n>, stall-downloads=<n>, corrupt-downloads=<n>, wrong-model=<m>, flash-full, unreachable, never-come-back, boot-old-version, unhealthy-after-upgrade',
        (spec: string, all: string[]) => [...all, spec],
        [],
      )
      .option('--inventory-out <file>', 'write the inventory (host keys pinned) for `ciu inventory import`')
      .option('--known-hosts-out <file>', "write a known_hosts with every controller's key")
      .option('--credentials-out <file>', 'write the controller login as a credential store file (mode 600)')
      .option(
        '--credentials-ref <name>',
        'credentials reference the inventory names',
        'simulated-controllers',
      )
      .action(async function (this: Command) {
        const o = this.opts<SimulateOptions>();
        const models = o.models.split(',').map((m) => m.trim());
        for (const m of models)
          if (!isKnownModel(m)) throw new UsageError(`--models: "${m}" is not a known controller model`);
        if (o.aos !== '6' && o.aos !== '8') throw new UsageError(`--aos must be 6 or 8, got "${o.aos}"`);
        const { startFleet, parseFaultSpecs } = await loadDevkit();
        const faults = parseFaultSpecs(o.fault);
        const password = randomBytes(12).toString('base64url');
        const fleet = await startFleet({
          subnet: o.subnet,
          count: whole(o.controllers, '--controllers', 1),
          models: models as ControllerModel[],
          version: o.version,
          build: whole(o.build, '--build', 0),
          port: whole(o.sshPort, '--ssh-port', 1),
          stateDir: o.stateDir ?? join(globalOptions(this, ctx).configDir, 'simulator'),
          credentials: { username: 'admin', password, ref: o.credentialsRef },
          faults,
          ...(o.standbyEvery ? { standbyEvery: whole(o.standbyEvery, '--standby-every', 1) } : {}),
          controller: {
            rebootDelayMs: whole(o.rebootDelay, '--reboot-delay', 0),
            aos: o.aos === '8' ? 8 : 6,
            extensions: o.extensions === true,
          },
          master: o.master === true,
        });
        try {
          if (o.inventoryOut) writeFileSync(o.inventoryOut, stringifyYaml(fleet.inventory));
          if (o.knownHostsOut) writeFileSync(o.knownHostsOut, fleet.knownHosts);
          if (o.credentialsOut)
            writeFileSync(
              o.credentialsOut,
              stringifyYaml({ [o.credentialsRef]: { username: 'admin', password } }),
              { mode: 0o600 },
            );
          for (const c of fleet.inventory) {
            const controllerFaults = faults[c.ip];
            ctx.io.out(
              `${c.ip}:${c.ssh.port} ${c.model} ${c.role} ${c.ssh.hostKey ?? ''}${controllerFaults ? ` faults ${JSON.stringify(controllerFaults)}` : ''}\n`,
            );
          }
          ctx.io.out(
            `${fleet.inventory.length} simulated controllers running${o.inventoryOut ? `; inventory in ${o.inventoryOut}` : ''}. Ctrl-C stops them.\n`,
          );
          await untilStopSignal();
        } finally {
          await fleet.stop();
        }
      }),
    'ciu simulate --subnet 127.20.0.0/24 --controllers 50 --fault 127.20.0.2:refuse-downloads=5 --inventory-out fleet.yaml --credentials-out creds.yaml',
  );
}
