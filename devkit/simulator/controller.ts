import { timingSafeEqual } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { Server, utils, type AuthenticationType, type Connection, type ParsedKey } from 'ssh2';
import { download } from '../../src/transfer';
import { imageTypeFor, type ControllerModel } from '../../src/domain/models';
import type { Controller } from '../../src/domain/types';
import { hostKeyFingerprint } from '../../src/transfer/host-key';
import type { CliContext, SwitchRow } from './cli';
import { ControllerLog } from './controller-log';
import type { ImageFetcher } from './copy';
import type { ControllerFaults } from './faults';
import { Flash } from './flash';
import { serveShell } from './shell';

/** One simulated controller: who it is, where it listens, and how it misbehaves. */
export interface SimulatedControllerOptions {
  /** Loopback IPv4 address it listens on, e.g. 127.20.0.5. */
  ip: string;
  /** SSH port. Default 22. */
  port?: number;
  model: ControllerModel;
  /** Default 'local'. */
  role?: 'local' | 'standby';
  /** ArubaOS prompt style: 6 `(host) #` (default) or 8 `(host) [mynode] #`. */
  aos?: 6 | 8;
  /**
   * Accept the simulator's `copy` extensions (ftps/sftp/http, `port`, `host-key`); its inventory
   * entry then says dialect `arubaos-ext`. Default false: only what ArubaOS documents.
   */
  extensions?: boolean;
  /** What `enable` asks for. Default: the login password. */
  enablePassword?: string;
  /**
   * Extra commands it advertises in its SSH login banner (`show image checksum` as image-sha256,
   * `logging message` as log-message). Default both; [] for one that, like a real ArubaOS
   * controller, advertises nothing (it still answers them).
   */
  capabilities?: ReadonlyArray<'image-sha256' | 'log-message'>;
  /** Version and build of the image in partition 0 on first start. */
  version: string;
  build: number;
  /** Directory for its flash (partitions, boot state) and log; reused across restarts. */
  stateDir: string;
  /** The CLI login it accepts: the password, and also the key when `publicKey` (OpenSSH format) is given. */
  login: { username: string; password: string; publicKey?: string };
  /** OpenSSH/PEM private host key. Default: an ed25519 key generated once and kept in stateDir. */
  hostKey?: string;
  faults?: ControllerFaults;
  /** How long `reload` keeps it off the network. Default 3000 ms. */
  rebootDelayMs?: number;
  /** known_hosts for scp/sftp image servers without a pinned key. */
  imageServerKnownHosts?: string;
  /** CA bundle trusted for ftps image servers. Default: env CIU_TLS_CA_FILE, else the system CAs. */
  imageServerCaFile?: string;
  /** How images are fetched. Default: src/transfer download. */
  fetch?: ImageFetcher;
  /** Milliseconds between progress lines during copy. Default 200. */
  progressIntervalMs?: number;
}

/** What the simulated controller is right now (for tests and the demo). */
export interface ControllerSnapshot {
  up: boolean;
  runningVersion: string;
  runningBuild: number;
  runningPartition: 0 | 1;
  bootPartition: 0 | 1;
  partitions: Array<{ partition: 0 | 1; version?: string; build?: number; imageType?: string }>;
}

/**
 * An ArubaOS-like controller behind a real SSH server (ssh2) on its own loopback IP. Its CLI
 * really downloads images, keeps two partitions on disk, logs, and reloads.
 */
export class SimulatedController {
  /** Live fault switches; change them with setFaults. */
  readonly faults: ControllerFaults;
  /** 'SHA256:<base64>' of its host key. */
  readonly hostKeyFingerprint: string;
  /** Its known_hosts line. */
  readonly knownHostsLine: string;
  readonly log: ControllerLog;
  private server: Server | TcpServer | undefined;
  /** TCP connections a blackholed controller holds open without a word. */
  private readonly heldSockets = new Set<Socket>();
  private readonly authorizedKey: ParsedKey | undefined;
  private readonly connections = new Set<Connection>();
  private loginsAccepted = 0;
  private rebootTimer: NodeJS.Timeout | undefined;
  private bootedAt = new Date();
  private associates: SimulatedController[] = [];
  private stopped = false;

  private constructor(
    private readonly options: SimulatedControllerOptions,
    private readonly flash: Flash,
    private readonly hostKey: string,
    publicKey: string,
  ) {
    this.faults = { ...options.faults };
    this.log = new ControllerLog(join(options.stateDir, 'controller.log'));
    if (options.login.publicKey) {
      const authorized = utils.parseKey(options.login.publicKey);
      if (authorized instanceof Error)
        throw new Error(`login.publicKey is not an SSH public key: ${authorized.message}`);
      this.authorizedKey = authorized;
    }
    const parsed = utils.parseKey(publicKey);
    if (parsed instanceof Error) throw parsed;
    this.hostKeyFingerprint = hostKeyFingerprint(parsed.getPublicSSH());
    const hostField = this.port === 22 ? options.ip : `[${options.ip}]:${this.port}`;
    this.knownHostsLine = `${hostField} ${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
  }

  /** Creates its flash (or reopens it from stateDir) and starts listening unless `unreachable`. */
  static async start(options: SimulatedControllerOptions): Promise<SimulatedController> {
    const imageType = imageTypeFor(options.model);
    if (!imageType) throw new Error(`model ${options.model} is not a known controller model`);
    const flash = await Flash.open(options.stateDir, {
      imageType,
      version: options.version,
      build: options.build,
    });
    const privateKey =
      options.hostKey ?? (await persistentHostKey(join(options.stateDir, 'ssh_host_ed25519_key')));
    const parsed = utils.parseKey(privateKey);
    if (parsed instanceof Error) throw parsed;
    const publicKey = `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
    const controller = new SimulatedController(options, flash, privateKey, publicKey);
    await controller.log.write(
      'info',
      'sysmgr',
      `System up, running ${flash.running.version} build ${flash.running.build}`,
    );
    if (!controller.faults.unreachable) await controller.listen();
    return controller;
  }

  get ip(): string {
    return this.options.ip;
  }

  get port(): number {
    return this.options.port ?? 22;
  }

  get model(): ControllerModel {
    return this.options.model;
  }

  /** Its inventory entry, with its host key pinned. */
  inventoryEntry(credentialsRef: string): Controller {
    return {
      ip: this.ip,
      model: this.model,
      role: this.options.role ?? 'local',
      ssh: { host: this.ip, port: this.port, hostKey: this.hostKeyFingerprint },
      credentialsRef,
      ...(this.options.extensions ? { dialect: 'arubaos-ext' as const } : {}),
    };
  }

  /** Makes it a master whose `show switches` lists these controllers besides itself. */
  setAssociates(controllers: SimulatedController[]): void {
    this.associates = controllers;
  }

  private switchRow(type: SwitchRow['type']): SwitchRow {
    const running = this.flash.running;
    return {
      ip: this.ip,
      name: `${this.model}-${this.ip}`,
      type,
      model: this.model,
      version: running.version,
      build: running.build,
      up: this.server !== undefined,
      configState:
        this.faults.unhealthyAfterUpgrade &&
        (running.version !== this.options.version || running.build !== this.options.build)
          ? 'UPDATE FAILED'
          : 'UPDATE SUCCESSFUL',
    };
  }

  snapshot(): ControllerSnapshot {
    const running = this.flash.running;
    return {
      up: this.server !== undefined,
      runningVersion: running.version,
      runningBuild: running.build,
      runningPartition: this.flash.runningPartition,
      bootPartition: this.flash.bootPartition,
      partitions: ([0, 1] as const).map((partition) => {
        const image = this.flash.partition(partition);
        return image
          ? { partition, version: image.version, build: image.build, imageType: image.imageType }
          : { partition };
      }),
    };
  }

  /** SSH logins it accepted since it started (tests count the logins an activity costs). */
  get logins(): number {
    return this.loginsAccepted;
  }

  /** TCP connections it holds open without a word while blackholed (someone waits for its SSH handshake). */
  get heldConnections(): number {
    return this.heldSockets.size;
  }

  /** Changes fault switches; `unreachable` and `blackhole` take effect at once. */
  async setFaults(changes: Partial<ControllerFaults>): Promise<void> {
    Object.assign(this.faults, changes);
    if (changes.blackhole !== undefined) await this.goDown();
    if (changes.unreachable === true) await this.goDown();
    else if (
      (changes.unreachable === false || changes.blackhole !== undefined) &&
      !this.faults.unreachable &&
      !this.rebootTimer &&
      !this.stopped
    )
      await this.listen();
  }

  /** Stops listening and drops every session, for good. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rebootTimer);
    this.rebootTimer = undefined;
    await this.goDown();
  }

  /** Drops all sessions, stays down rebootDelayMs, then boots (per boot settings and faults). */
  reload(): void {
    if (this.rebootTimer || this.stopped) return;
    this.rebootTimer = setTimeout(() => {
      void this.goDown().then(() => {
        this.rebootTimer = setTimeout(() => void this.comeBack(), this.options.rebootDelayMs ?? 3000);
      });
    }, this.faults.slowShutdownMs ?? 50);
  }

  private async comeBack(): Promise<void> {
    this.rebootTimer = undefined;
    if (this.faults.neverComeBack || this.stopped) return;
    const partition = this.faults.bootOldVersion ? this.flash.runningPartition : this.flash.bootPartition;
    await this.flash.boot(partition);
    this.bootedAt = new Date();
    const running = this.flash.running;
    await this.log.write(
      'info',
      'sysmgr',
      `System booted from partition ${partition}, running ${running.version} build ${running.build}`,
    );
    if (!this.faults.unreachable) await this.listen();
  }

  private cliContext(): CliContext {
    return {
      hostname: `${this.model}-${this.ip}`,
      aos: this.options.aos ?? 6,
      enablePassword: this.options.enablePassword ?? this.options.login.password,
      extensions: this.options.extensions ?? false,
      switches: () => [
        this.switchRow(this.associates.length > 0 ? 'master' : (this.options.role ?? 'local')),
        ...this.associates.map((c) => c.switchRow(c.options.role ?? 'local')),
      ],
      model: this.faults.wrongModel ?? this.model,
      flash: this.flash,
      log: this.log,
      faults: this.faults,
      fetch: this.options.fetch ?? download,
      knownHostsFile: this.options.imageServerKnownHosts,
      caFile: this.options.imageServerCaFile,
      progressIntervalMs: this.options.progressIntervalMs,
      bootedAt: this.bootedAt,
      reload: () => this.reload(),
    };
  }

  private listen(): Promise<void> {
    if (this.server) return Promise.resolve();
    const advertised = this.options.capabilities ?? ['image-sha256', 'log-message'];
    const banner = advertised.length ? { banner: `ciu-capabilities: ${advertised.join(' ')}\n` } : {};
    const server = this.faults.blackhole
      ? createServer((socket) => {
          this.heldSockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => this.heldSockets.delete(socket));
        })
      : new Server({ hostKeys: [this.hostKey], ...banner }, (client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.ip, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private goDown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const client of this.connections) client.end();
    this.connections.clear();
    for (const socket of this.heldSockets) socket.destroy();
    this.heldSockets.clear();
    return server ? new Promise((resolve) => server.close(() => resolve())) : Promise.resolve();
  }

  private accept(client: Connection): void {
    this.connections.add(client);
    // Without it the echo and the prompt can leave as separate packets held apart by Nagle's algorithm.
    (client as Connection & { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    const { username, password } = this.options.login;
    const key = this.authorizedKey;
    const methods: AuthenticationType[] = key ? ['publickey', 'password'] : ['password'];
    client.on('error', () => this.connections.delete(client));
    client.on('close', () => this.connections.delete(client));
    client.on('authentication', (ctx) => {
      if (ctx.username !== username) return ctx.reject(methods);
      if (ctx.method === 'password' && sameSecret(ctx.password, password)) return ctx.accept();
      if (
        ctx.method === 'publickey' &&
        key &&
        ctx.key.algo === key.type &&
        ctx.key.data.equals(key.getPublicSSH())
      ) {
        // Without a signature the client only asks whether this key would do; with one, it proves it holds the key.
        if (!ctx.signature || key.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) === true)
          return ctx.accept();
      }
      ctx.reject(methods);
    });
    client.on('ready', () => {
      this.loginsAccepted++;
      client.on('session', (accept) => {
        const session = accept();
        let pty = false;
        session.on('pty', (acceptPty) => {
          pty = true;
          acceptPty();
        });
        session.on('shell', (acceptShell) => serveShell(acceptShell(), this.cliContext(), { echo: pty }));
      });
    });
  }
}

/** The controller's host key, generated on first start and kept in its state dir (like /etc/ssh). */
async function persistentHostKey(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = freshHostKey();
  await writeFile(file, key, { mode: 0o600 });
  return key;
}

/** A new ed25519 key. ssh2's generator now and then (about 1 in 400) emits a key its own parser rejects. */
function freshHostKey(): string {
  for (;;) {
    const { private: key } = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(key) instanceof Error)) return key;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
