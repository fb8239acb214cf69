import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isKnownModel, type ControllerModel } from '../domain/models';
import type { ControllerFaults } from './faults';
import { startFleet, type Fleet } from './fleet';

/** `ciu simulate`: a fleet for the demo and for manual tests. */
export interface SimulateOptions {
  /** How many controllers. */
  controllers: number;
  /** Loopback CIDR, e.g. 127.20.0.0/24. */
  subnet: string;
  /** Models, round-robin. Default ['A7210', 'A7010']. */
  models?: string[];
  /** What they run at first start. Default 6.3.1.0 build 40000. */
  version?: string;
  build?: number;
  /** Flash, logs, known_hosts and the credentials file go here. */
  stateDir: string;
  /** Login every controller accepts. Default user 'admin', a random password (written to the credentials file only). */
  username?: string;
  password?: string;
  /** Credential-store name the inventory uses. Default 'controllers'. */
  credentialsRef?: string;
  /** Inventory output format. Default 'yaml'. */
  format?: 'yaml' | 'json';
  /** Fault switches by controller IP. */
  faults?: Record<string, ControllerFaults>;
  /** How long a reload keeps a controller down. Default 3000 ms. */
  rebootDelayMs?: number;
  /** known_hosts for scp/sftp image servers the controllers download from. */
  imageServerKnownHosts?: string;
}

/** A running simulated fleet and the files it wrote. */
export interface Simulation {
  fleet: Fleet;
  /** known_hosts with every controller's key (point CIU_KNOWN_HOSTS here, or use the pinned keys). */
  knownHostsFile: string;
  /** YAML credential store holding the controllers' login (CIU_CREDENTIALS_FILE), mode 0600. */
  credentialsFile: string;
}

/**
 * Starts the fleet, writes its known_hosts and credentials files, and prints its inventory (YAML or
 * JSON, ready for the `inventory:` of a campaign config). Stop it with `simulation.fleet.stop()`.
 */
export async function simulate(options: SimulateOptions, print: (text: string) => void): Promise<Simulation> {
  const models = options.models ?? ['A7210', 'A7010'];
  const unknown = models.filter((m) => !isKnownModel(m));
  if (unknown.length) throw new Error(`models: ${unknown.join(', ')} is not a known controller model`);
  const stateDir = resolve(options.stateDir);
  const credentialsRef = options.credentialsRef ?? 'controllers';
  const username = options.username ?? 'admin';
  const password = options.password ?? randomBytes(12).toString('base64url');
  const fleet = await startFleet({
    count: options.controllers,
    subnet: options.subnet,
    models: models as ControllerModel[],
    version: options.version ?? '6.3.1.0',
    build: options.build ?? 40000,
    faults: options.faults,
    stateDir,
    credentials: { username, password, ref: credentialsRef },
    controller: {
      rebootDelayMs: options.rebootDelayMs,
      imageServerKnownHosts: options.imageServerKnownHosts,
    },
  });
  const knownHostsFile = join(stateDir, 'known_hosts');
  const credentialsFile = join(stateDir, 'controller-credentials.yaml');
  try {
    await writeFile(knownHostsFile, fleet.knownHosts);
    await writeFile(credentialsFile, toYaml({ [credentialsRef]: { username, password } }), { mode: 0o600 });
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  if (options.format === 'json')
    print(`${JSON.stringify({ inventory: fleet.inventory, knownHostsFile, credentialsFile }, null, 2)}\n`);
  else
    print(
      [
        `# ${fleet.controllers.length} simulated controllers on ${options.subnet}`,
        `# known_hosts: ${knownHostsFile}`,
        `# login (credentials reference "${credentialsRef}"): ${credentialsFile}`,
        toYaml({ inventory: fleet.inventory }),
      ].join('\n'),
    );
  return { fleet, knownHostsFile, credentialsFile };
}
