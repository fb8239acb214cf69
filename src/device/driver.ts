import { failureTypes, type FailureType } from '../domain/errors';
import type { DialectName } from '../domain/dialects';
import * as commands from './commands';
import { dialectFor, type Capability } from './dialect';
import { DeviceError } from './errors';
import {
  commandError,
  parseCopyReply,
  parseImageChecksum,
  parseProgressLine,
  parseShowImageVersion,
  parseShowLog,
  parseShowSwitches,
  parseShowStorage,
  parseShowVersion,
  parseSwitchHealth,
  type HealthReply,
  type StorageReply,
  type SwitchesReply,
  type LogLine,
  type PartitionReply,
  type VersionReply,
} from './parsers';
import { DeviceSession, passwordPrompt, type SessionOptions } from './session';

/** Timeouts for one controller, each with its default. */
export interface DriverTimeouts {
  /** Ordinary show/config commands. Default 30 s. */
  commandMs?: number;
  /** A whole image copy. Default 2 h: large images over slow WAN links. */
  copyMs?: number;
  /** No output at all during a copy (stalled transfer). Default 60 s; the device prints progress every second. */
  copyIdleMs?: number;
}

/** What a controller says about itself. */
export interface DeviceFacts extends VersionReply {
  partitions: PartitionReply[];
}

/** Progress of a copy, from the controller's "Received … bytes" lines. */
export type CopyProgress = (progress: { bytes: number; totalBytes?: number }) => void;

/** ArubaOS asks whether to save unsaved changes before it asks to restart; ciu never saves config. */
const reloadSave = /save.*\(y\/n\):?\s*$/i;
const reloadConfirm = /(?:restart|reset|reload).*\(y\/n\):?\s*$/i;

/** The controller CLI, one typed method per command. Close it when done. */
export class ControllerDriver {
  private constructor(
    private readonly session: DeviceSession,
    private readonly host: string,
    private readonly timeouts: DriverTimeouts,
  ) {}

  /** Opens an SSH session to the controller's CLI in its dialect (default arubaos), ready for commands. */
  static async open(
    options: SessionOptions,
    timeouts: DriverTimeouts = {},
    dialect?: DialectName,
  ): Promise<ControllerDriver> {
    return new ControllerDriver(
      await DeviceSession.open(options, dialectFor(dialect)),
      options.host,
      timeouts,
    );
  }

  /** Whether the controller advertised an extra capability at login. */
  has(capability: Capability): boolean {
    return this.session.capabilities.has(capability);
  }

  /** `show version` + `show image version`. */
  async facts(): Promise<DeviceFacts> {
    const version = parseShowVersion(await this.command(commands.showVersion()));
    const partitions = parseShowImageVersion(await this.command(commands.showImageVersion()));
    return { ...version, partitions };
  }

  async partitions(): Promise<PartitionReply[]> {
    return parseShowImageVersion(await this.command(commands.showImageVersion()));
  }

  /** The file system images are staged on (ArubaOS `show storage`, the /flash row). */
  async storage(): Promise<StorageReply> {
    const { spec } = this.session.dialect;
    return parseShowStorage(await this.command(commands.showStorage(spec)), spec.storage.mount);
  }

  /** The controller's own health view (ArubaOS `show switches`, its own row by `ip`). */
  async health(ip: string): Promise<HealthReply> {
    const { spec } = this.session.dialect;
    return parseSwitchHealth(
      await this.command(commands.showHealth(spec)),
      ip,
      spec.health.failedConfigStates,
    );
  }

  /** `show switches` on a master/conductor: its associated controllers. */
  async switches(): Promise<SwitchesReply> {
    return parseShowSwitches(await this.command(commands.showSwitches()));
  }

  /** SHA-256 (hex) of the image payload in a partition, undefined when it is empty (capability `image-sha256`). */
  async checksum(partition: 0 | 1): Promise<string | undefined> {
    this.require('image-sha256');
    return parseImageChecksum(await this.command(commands.showImageChecksum(partition)));
  }

  /**
   * Copies an image from its server into a partition; the password (if any) answers the device's
   * prompt and never appears on the command line. Throws DeviceError with the controller's own
   * error text; aborting `signal` sends Ctrl-C, so the device abandons the transfer.
   */
  async copy(
    request: commands.CopyRequest,
    password: string | undefined,
    options: { onProgress?: CopyProgress; signal?: AbortSignal } = {},
  ): Promise<{ bytes: number; totalBytes?: number }> {
    const line = commands.copyImage(request, this.session.dialect.spec);
    const output = await this.session.run(line, {
      timeoutMs: this.timeouts.copyMs ?? 2 * 60 * 60_000,
      idleTimeoutMs: this.timeouts.copyIdleMs ?? 60_000,
      timeoutFailure: failureTypes.downloadFailed,
      answers: [{ prompt: passwordPrompt, answer: password ?? '' }],
      signal: options.signal,
      onLine: (text) => {
        const progress = parseProgressLine(text);
        if (progress) options.onProgress?.(progress);
      },
    });
    const reply = parseCopyReply(output);
    if (!reply.ok) throw new DeviceError(reply.failureType, this.host, reply.error);
    return reply.totalBytes === undefined
      ? { bytes: reply.bytes }
      : { bytes: reply.bytes, totalBytes: reply.totalBytes };
  }

  /** Writes one line into the controller's own log (capability `log-message`). */
  async log(level: commands.LogLevel, message: string): Promise<void> {
    this.require('log-message');
    await this.command(commands.logMessage(level, message));
  }

  /** The last `lines` lines of the controller's log. */
  async showLog(lines = 100): Promise<LogLine[]> {
    return parseShowLog(await this.command(commands.showLog(lines)));
  }

  /** `boot system partition <n>`; a partition without a valid image is an integrity failure. */
  async setBootPartition(partition: 0 | 1): Promise<void> {
    await this.command(commands.bootSystemPartition(partition), failureTypes.integrityCheckFailed);
  }

  /** `reload`, confirmed; resolves once the controller has dropped the session. */
  async reload(): Promise<void> {
    await this.session.run(commands.reload(), {
      timeoutMs: this.timeouts.commandMs ?? 30_000,
      answers: [
        { prompt: reloadSave, answer: 'n' },
        { prompt: reloadConfirm, answer: 'y' },
      ],
      expectClose: true,
    });
    this.session.close();
  }

  /** Whether the session is still up: a parked one is reused only then. */
  get isOpen(): boolean {
    return this.session.isOpen;
  }

  close(): void {
    this.session.close();
  }

  private require(capability: Capability): void {
    if (!this.has(capability))
      throw new DeviceError(
        failureTypes.commandRejected,
        this.host,
        `controller ${this.host} does not offer ${capability} (not advertised at login)`,
      );
  }

  /** Runs a non-copy command; a CLI refusal becomes a DeviceError of type `onError`. */
  private async command(line: string, onError: FailureType = failureTypes.commandRejected): Promise<string> {
    const output = await this.session.run(line, { timeoutMs: this.timeouts.commandMs ?? 30_000 });
    const error = commandError(output);
    if (error) throw new DeviceError(onError, this.host, `controller rejected "${line}": ${error}`);
    return output;
  }
}
