import type { Command } from 'commander';
import { credentialStore } from '../../credentials/store';
import { isKnownModel } from '../../domain/models';
import { isCredentialsRef, isHost, isHostKeyFingerprint, isPort } from '../../domain/rules';
import { ControllerDriver } from '../../device/driver';
import type { SwitchesReply } from '../../device/parsers';
import { DeviceError } from '../../device/errors';
import { loadStaged, saveStaged } from '../config-file';
import { globalOptions, withExamples, type CliContext } from '../context';
import { CliError, exitCodes, UsageError } from '../exit-codes';
import { upsertControllers } from '../staging';
import { settingsFromEnv } from '../../settings';

interface DiscoverOptions {
  credentials?: string;
  hostKey?: string;
}

/** `<host>` or `<host>:<port>` of the master to ask. */
function parseTarget(text: string): { host: string; port: number } {
  const m = /^([^:]+)(?::(\d+))?$/.exec(text);
  const port = m?.[2] === undefined ? 22 : Number(m[2]);
  if (!m?.[1] || !isHost(m[1]) || !isPort(port))
    throw new UsageError(`inventory discover: controller must be <host>[:<port>], got "${text}"`);
  return { host: m[1], port };
}

/**
 * `ciu inventory discover <controller> [--credentials REF] [--host-key FP]`: runs `show switches`
 * on a master/conductor and stages its standbys and locals (IP, model, role), as the master knows
 * them. Lines it cannot parse are printed with their text, and the command then exits 2.
 */
export function registerDiscoverCommand(program: Command, ctx: CliContext): void {
  const inventory = program.commands.find((c) => c.name() === 'inventory');
  if (!inventory) throw new Error('the inventory command must be registered before discover');
  withExamples(
    inventory
      .command('discover <controller>')
      .description(
        "stage the standby and local controllers a master/conductor lists in `show switches` (its SSH host key: the staged entry's, --host-key, or CIU_KNOWN_HOSTS)",
      )
      .option(
        '--credentials <ref>',
        "the master's login in the credential store (default: its staged entry's)",
      )
      .option('--host-key <SHA256:…>', "the master's pinned SSH host key")
      .action(async function (this: Command, target: string) {
        const o = this.opts<DiscoverOptions>();
        const { configDir } = globalOptions(this, ctx);
        const { host, port } = parseTarget(target);
        const staged = loadStaged(configDir);
        const known = staged.inventory.find((c) => c.ip === host) as
          { credentialsRef?: string; ssh?: { hostKey?: string } } | undefined;
        const ref = o.credentials ?? known?.credentialsRef;
        if (!ref || !isCredentialsRef(ref))
          throw new UsageError(
            `inventory discover: --credentials must name the master's login (${host} is not staged with one)`,
          );
        const hostKey = o.hostKey ?? known?.ssh?.hostKey;
        if (hostKey !== undefined && !isHostKeyFingerprint(hostKey))
          throw new UsageError("inventory discover: --host-key must be a fingerprint 'SHA256:<base64>'");
        const login = credentialStore({ env: ctx.env }).resolve(ref, {
          purpose: 'controller-login',
          host,
          port,
          protocol: 'ssh',
        });
        let driver: ControllerDriver | undefined;
        let reply: SwitchesReply;
        try {
          driver = await ControllerDriver.open({
            host,
            port,
            hostKey,
            knownHostsFile: settingsFromEnv(ctx.env).knownHostsFile,
            username: login.username,
            password: login.password,
            privateKey: login.privateKey,
            enablePassword: login.enablePassword,
          });
          reply = await driver.switches();
        } catch (err) {
          if (err instanceof DeviceError) throw new CliError(err.message, exitCodes.failure);
          throw err;
        } finally {
          driver?.close();
        }
        const refused = [...reply.refused];
        const controllers: Array<Record<string, unknown>> = [];
        const stagedBefore = new Map(staged.inventory.map((c) => [c.ip, c]));
        for (const entry of reply.switches) {
          if (entry.role === 'master' || entry.ip === host) continue;
          if (!isKnownModel(entry.model)) {
            refused.push({ line: `${entry.ip} ${entry.model}`, reason: `unknown model ${entry.model}` });
            continue;
          }
          const redundancy = discoveredRedundancy(entry.role, host, stagedBefore.get(entry.ip));
          controllers.push({
            ip: entry.ip,
            model: entry.model,
            role: entry.role,
            ssh: { host: entry.ip, port: 22 },
            credentialsRef: ref,
            ...redundancy,
          });
          const grouped = redundancy.group
            ? ` group ${redundancy.group}${redundancy.redundancy ? ` ${redundancy.redundancy}` : ''}`
            : '';
          ctx.io.out(
            `${entry.ip} ${entry.model} ${entry.role} ${entry.version}${entry.build === undefined ? '' : ` build ${entry.build}`}${grouped}\n`,
          );
        }
        saveStaged(configDir, upsertControllers(staged, controllers));
        ctx.io.out(
          `${controllers.length} controllers discovered on ${host} (staged; \`ciu write memory\` commits)\n`,
        );
        if (refused.length > 0)
          throw new UsageError(
            `inventory discover: ${refused.length} line(s) of ${host}'s show switches not staged`,
            refused.map((r) => `${r.reason}: ${r.line}`),
          );
      }),
    'ciu inventory discover 10.1.4.2 --credentials ctrl-admin',
    'ciu inventory discover 10.1.4.2:22 --credentials ctrl-admin --host-key SHA256:…',
  );
}

/**
 * The redundancy group a discovered controller gets: a standby backs up the master it was discovered
 * on (group `master-<host>`, standby; the master itself joins as active when the operator inventories
 * it). A local keeps the group the operator staged for it, since `show switches` does not say.
 */
function discoveredRedundancy(
  role: string,
  master: string,
  before: { group?: unknown; redundancy?: unknown } | undefined,
): { group?: string; redundancy?: string } {
  if (role === 'standby') return { group: `master-${master}`.slice(0, 64), redundancy: 'standby' };
  if (typeof before?.group !== 'string') return {};
  return {
    group: before.group,
    ...(typeof before.redundancy === 'string' ? { redundancy: before.redundancy } : {}),
  };
}
