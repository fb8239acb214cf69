import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  staticCredentialStore,
  type CredentialStore,
  type StoredCredentials,
} from '../../src/credentials/store';
import type { CampaignConfigInput } from '../../src/domain/config';
import { imageTypeFor, type ControllerModel } from '../../src/domain/models';
import type { Controller } from '../../src/domain/types';
import {
  buildImage,
  generateImageKeyPair,
  signingKeyFromPem,
  trustedImageKeys,
  type TrustedImageKeys,
} from '../../src/image';
import { loopbackHosts, startFleet, type Fleet } from '../simulator/fleet';
import type { ControllerFaults } from '../simulator/faults';
import { freeLoopbackAddress, startFtpServer, type LocalImageServer } from '../image-server';

/** One group of simulated controllers in the demo. */
export interface DemoGroup {
  /** Loopback CIDR the group's controllers take addresses from (.1 upwards). */
  subnet: string;
  count: number;
  models: ControllerModel[];
  /** What they run at start: the old version, or the target one (they are then "Up-to-date"). */
  runs: 'old' | 'target';
  /** Every n-th is a standby. */
  standbyEvery?: number;
  /** Fault switches by index in the group (0-based). */
  faults?: Record<number, ControllerFaults>;
  /** The target selector covering this group; undefined = not targeted ("Not part of target"). */
  target?: string;
}

/** What the demo (and the tests that drive the real thing) set up. Defaults are the `npm start` demo. */
export interface DemoOptions {
  /** Scratch directory: images, controller flash and logs, known_hosts. Wiped at start. */
  stateDir: string;
  groups?: DemoGroup[];
  /** Old and target version/build. Default 6.4.4.0 build 60000 → 6.5.1.0 build 66000. */
  oldVersion?: { version: string; build: number };
  targetVersion?: { version: string; build: number };
  /** Image payload size. Default 4 MiB. */
  payloadBytes?: number;
  /** The image server's bytes per second per download. Default: unlimited. */
  imageServerRate?: number;
  /** Profile settings. Defaults: autoboot on, max-downloads 2, retry-interval 20s, quick-try-backoff 1s. */
  autoboot?: boolean;
  maxDownloads?: number;
  retryInterval?: string;
  quickTryBackoff?: string;
  /**
   * FTP image server's port. Default 21 on a free loopback address; given (`ciu start`), on
   * 127.21.0.21. Controllers speak arubaos, which reaches only port 21; any other port makes them
   * speak arubaos-ext (the simulator's `copy … port <n>`).
   */
  ftpPort?: number;
  /** Controller SSH port. Default 22 (each controller has its own address). */
  sshPort?: number;
  /** How long a reload keeps a controller down. Default 2000 ms. */
  rebootDelayMs?: number;
}

/** The running demo pieces and the campaign config that fits them. */
export interface DemoEnvironment {
  /** masterUpgrade input: the inventory, the profile and the targets. */
  config: CampaignConfigInput;
  /** The worker's credential store: controller login and the FTP login, by reference. */
  credentials: CredentialStore;
  /** The same entries, with their policies, for a worker process's credential file. */
  credentialEntries: Record<string, StoredCredentials>;
  /** known_hosts covering every simulated controller. */
  knownHostsFile: string;
  /** The throwaway key the demo signs its images with, as the worker trusts it. */
  trustedImageKeys: TrustedImageKeys;
  /** Its public key file, for a worker process (CIU_IMAGE_KEYS). */
  imageKeyFile: string;
  ftp: LocalImageServer;
  fleets: Fleet[];
  /** Image file name per model. */
  images: Record<string, string>;
  stop(): Promise<void>;
}

/** The `npm start` fleet: two models on two subnets, faults included, one up-to-date and one untargeted. */
export const demoGroups: DemoGroup[] = [
  // 127.20.1.2 refuses 4 downloads: three quick tries, a retry window, a fourth refused try, then it upgrades on the 5th.
  {
    subnet: '127.20.1.0/24',
    target: '127.20.1.0/24',
    count: 3,
    models: ['A7210'],
    runs: 'old',
    standbyEvery: 3,
    faults: { 1: { refuseDownloads: 4 } },
  },
  // 127.20.2.2 has a full flash: a permanent failure, reported without looping.
  {
    subnet: '127.20.2.0/25',
    target: '127.20.2.0/24',
    count: 3,
    models: ['A7005'],
    runs: 'old',
    faults: { 1: { flashFull: true } },
  },
  // 127.20.2.129 already runs the target version: "Up-to-date", nothing downloaded.
  { subnet: '127.20.2.128/25', target: '127.20.2.0/24', count: 1, models: ['A7005'], runs: 'target' },
  // Associated but not targeted: "Not part of target".
  { subnet: '127.20.3.0/24', count: 1, models: ['A7210'], runs: 'old' },
];

export const controllersRef = 'demo-controllers';
export const imagesRef = 'demo-images';

/** Image file name the ArubaOS way: ArubaOS_<family>_<version>_<build>. */
function imageName(model: ControllerModel, version: string, build: number): string {
  return `ArubaOS_${imageTypeFor(model)}_${version}_${build}`;
}

/** Starts a real vsftpd with one image per model, and the simulated fleet; returns the config that upgrades it. */
export async function startDemoEnvironment(options: DemoOptions): Promise<DemoEnvironment> {
  const groups = options.groups ?? demoGroups;
  const oldVersion = options.oldVersion ?? { version: '6.4.4.0', build: 60000 };
  const target = options.targetVersion ?? { version: '6.5.1.0', build: 66000 };
  await rm(options.stateDir, { recursive: true, force: true });
  await mkdir(join(options.stateDir, 'images'), { recursive: true });

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const ftpPort = options.ftpPort ?? 21;
    const ftpHost = options.ftpPort === undefined ? await freeLoopbackAddress(21) : '127.21.0.21';
    const ftp = await startFtpServer({
      host: ftpHost,
      port: ftpPort,
      ...(options.imageServerRate ? { maxRate: options.imageServerRate } : {}),
    });
    stops.push(() => ftp.stop());
    // A throwaway signer per start: its private key never leaves this process.
    const pair = generateImageKeyPair();
    const signer = signingKeyFromPem(pair.privateKeyPem, 'demo image key');
    const imageKeyFile = join(options.stateDir, 'image-key.pub');
    await writeFile(imageKeyFile, pair.publicKeyPem);
    const models = [...new Set(groups.flatMap((g) => g.models))];
    const images: Record<string, string> = {};
    for (const model of models) {
      const name = imageName(model, target.version, target.build);
      const file = join(options.stateDir, 'images', name);
      await buildImage({
        payload: randomBytes(options.payloadBytes ?? 4 * 1024 * 1024),
        imageType: imageTypeFor(model) as string,
        version: target.version,
        build: target.build,
        out: file,
        sign: signer,
      });
      await ftp.addFile(name, file);
      images[model] = name;
    }

    const login = { username: 'admin', password: randomBytes(12).toString('base64url'), ref: controllersRef };
    const fleets: Fleet[] = [];
    for (const [index, group] of groups.entries()) {
      const ips = loopbackHosts(group.subnet, group.count);
      const fleet = await startFleet({
        subnet: group.subnet,
        count: group.count,
        models: group.models,
        ...(group.runs === 'target' ? target : oldVersion),
        stateDir: join(options.stateDir, 'controllers', String(index)),
        credentials: login,
        ...(options.sshPort ? { port: options.sshPort } : {}),
        ...(group.standbyEvery ? { standbyEvery: group.standbyEvery } : {}),
        controller: { rebootDelayMs: options.rebootDelayMs ?? 2000, extensions: ftpPort !== 21 },
        faults: Object.fromEntries(
          Object.entries(group.faults ?? {}).map(([i, faults]) => [ips[Number(i)] as string, faults]),
        ),
      });
      stops.push(() => fleet.stop());
      fleets.push(fleet);
    }

    const knownHostsFile = join(options.stateDir, 'known_hosts');
    await writeFile(knownHostsFile, fleets.map((f) => f.knownHosts).join(''));
    const inventory: Controller[] = fleets.flatMap((f) => f.inventory);
    const config: CampaignConfigInput = {
      inventory,
      profile: {
        models: Object.fromEntries(
          models.map((model) => [
            model,
            {
              imageFile: images[model] as string,
              server: { host: ftp.host, port: ftp.port },
              protocol: 'ftp' as const,
              credentialsRef: imagesRef,
              expectedVersion: target.version,
              expectedBuild: target.build,
            },
          ]),
        ),
        autoboot: options.autoboot ?? true,
        maxDownloads: options.maxDownloads ?? 2,
        retryInterval: options.retryInterval ?? '20s',
        quickTryBackoff: options.quickTryBackoff ?? '1s',
      },
      targets: [...new Set(groups.flatMap((g) => (g.target ? [g.target] : [])))],
    };
    const credentialEntries: Record<string, StoredCredentials> = {
      [controllersRef]: {
        username: login.username,
        password: login.password,
        allow: {
          purpose: 'controller-login',
          hosts: groups.map((g) => g.subnet),
          ports: [options.sshPort ?? 22],
          protocols: ['ssh'],
          hostKeys: inventory.flatMap((c) => (c.ssh.hostKey ? [c.ssh.hostKey] : [])),
        },
      },
      [imagesRef]: ftp.credentials as StoredCredentials,
    };
    const credentials = staticCredentialStore(credentialEntries);
    return {
      config,
      credentials,
      credentialEntries,
      knownHostsFile,
      trustedImageKeys: trustedImageKeys(signer.privateKey),
      imageKeyFile,
      ftp,
      fleets,
      images,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
