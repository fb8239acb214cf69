import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControllerModel } from '../../src/domain/models';
import type { Controller } from '../../src/domain/types';
import { SimulatedController, type SimulatedControllerOptions } from './controller';
import type { ControllerFaults } from './faults';

/** A fleet of simulated controllers on consecutive addresses of one loopback subnet. */
export interface FleetOptions {
  count: number;
  /** Loopback CIDR, e.g. '127.20.0.0/24'; controllers take its host addresses from .1 upwards. */
  subnet: string;
  /** Models, assigned round-robin. */
  models: ControllerModel[];
  /** What every controller runs at first start. */
  version: string;
  build: number;
  /** Fault switches by controller IP. */
  faults?: Record<string, ControllerFaults>;
  /** Root directory; each controller keeps its flash and log in `<stateDir>/<ip>`. */
  stateDir: string;
  /** The CLI login every controller accepts, and the credential-store name the inventory uses for it. */
  credentials: { username: string; password: string; publicKey?: string; ref?: string };
  /** SSH port on every address. Default 22. */
  port?: number;
  /** The first controller is a master whose `show switches` lists the others. Default false. */
  master?: boolean;
  /** Every n-th controller (n, 2n, …) is a standby; the rest are locals. Default: none. */
  standbyEvery?: number;
  /** Options passed to every controller (reboot delay, progress interval, image-server known_hosts, fetch, prompt style, copy extensions). */
  controller?: Pick<
    SimulatedControllerOptions,
    | 'rebootDelayMs'
    | 'progressIntervalMs'
    | 'imageServerKnownHosts'
    | 'imageServerCaFile'
    | 'fetch'
    | 'aos'
    | 'extensions'
  >;
}

/** A running fleet. */
export interface Fleet {
  controllers: SimulatedController[];
  /** Inventory entries (host keys pinned), credentialsRef = credentials.ref ?? 'controllers'. */
  inventory: Controller[];
  /** known_hosts text covering every controller's host key. */
  knownHosts: string;
  /** The controller at an address; throws for one not in the fleet. */
  controller(ip: string): SimulatedController;
  /** Stops every controller. */
  stop(): Promise<void>;
}

/** Host addresses of a loopback CIDR, in order (network and broadcast excluded for /30 and wider). */
export function loopbackHosts(subnet: string, count: number): string[] {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(subnet);
  const octets = m ? [127, Number(m[1]), Number(m[2]), Number(m[3])] : [];
  const bits = Number(m?.[4]);
  if (!m || octets.some((o) => o > 255) || bits < 8 || bits > 32)
    throw new Error(
      `subnet must be a loopback CIDR inside 127.0.0.0/8, like 127.20.0.0/24 (got "${subnet}")`,
    );
  const size = 2 ** (32 - bits);
  const network = Math.floor(octets.reduce((acc, o) => acc * 256 + o, 0) / size) * size;
  const first = size >= 4 ? 1 : 0;
  const usable = size >= 4 ? size - 2 : size;
  if (!Number.isInteger(count) || count < 1 || count > usable)
    throw new Error(`count must be between 1 and ${usable} for subnet ${subnet} (got ${count})`);
  return Array.from({ length: count }, (_, i) => {
    const n = network + first + i;
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  });
}

/** Starts `count` simulated controllers, each on its own address of `subnet`. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  if (options.models.length === 0) throw new Error('models must name at least one controller model');
  const ips = loopbackHosts(options.subnet, options.count);
  await mkdir(options.stateDir, { recursive: true });
  const ref = options.credentials.ref ?? 'controllers';
  const controllers: SimulatedController[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(controllers.map((c) => c.stop()));
  };
  try {
    for (const [i, ip] of ips.entries()) {
      controllers.push(
        await SimulatedController.start({
          ...options.controller,
          ip,
          port: options.port,
          model: options.models[i % options.models.length] as ControllerModel,
          role: options.standbyEvery && (i + 1) % options.standbyEvery === 0 ? 'standby' : 'local',
          version: options.version,
          build: options.build,
          stateDir: join(options.stateDir, ip),
          login: {
            username: options.credentials.username,
            password: options.credentials.password,
            ...(options.credentials.publicKey ? { publicKey: options.credentials.publicKey } : {}),
          },
          faults: options.faults?.[ip],
        }),
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  if (options.master) controllers[0]?.setAssociates(controllers.slice(1));
  const byIp = new Map(controllers.map((c) => [c.ip, c]));
  return {
    controllers,
    inventory: controllers.map((c) => c.inventoryEntry(ref)),
    knownHosts: controllers.map((c) => `${c.knownHostsLine}\n`).join(''),
    controller(ip) {
      const found = byIp.get(ip);
      if (!found) throw new Error(`${ip} is not a controller of this fleet`);
      return found;
    },
    stop,
  };
}
