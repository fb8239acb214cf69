import type { Client, ClientChannel } from 'ssh2';
import { failureTypes, type FailureType } from '../domain/errors';
import { openSshConnection, SshConnectError } from '../transfer/ssh-connect';
import { advertisedCapabilities, TerminalText, type Capability, type Dialect } from './dialect';
import { BoundedText, PeerFloodError } from '../peer/bounded-text';
import { DeviceError } from './errors';

/** How to reach and log in to one controller's CLI. */
export interface SessionOptions {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: string;
  /** Answers `enable`'s `Password:` when the CLI starts in user mode (`>`). Default: `password`. */
  enablePassword?: string;
  /** Pinned host key 'SHA256:<base64>'; without it, `knownHostsFile` decides. Unknown keys are refused. */
  hostKey?: string;
  /** known_hosts file. Default: env CIU_KNOWN_HOSTS. */
  knownHostsFile?: string;
  /** Deadline for TCP connect + SSH handshake + login. Default 15 s. */
  connectTimeoutMs?: number;
  /** Aborting ends the login (connect, handshake, first prompts) at once, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/** An interactive question during a command and its answer (e.g. "Password:", "(y/n):"). */
export interface PromptAnswer {
  prompt: RegExp;
  answer: string;
}

/** How one command runs. */
export interface RunOptions {
  /** Overall deadline. Default 30 s. */
  timeoutMs?: number;
  /** Fail when the controller prints nothing for this long (stalled transfer). Default: off. */
  idleTimeoutMs?: number;
  /** Failure type for a timeout. Default controllerUnreachable. */
  timeoutFailure?: FailureType;
  /** Questions to answer, each at most once, as they appear. */
  answers?: PromptAnswer[];
  /** Called with each complete output line. */
  onLine?: (line: string) => void;
  /** Aborting sends Ctrl-C to the controller and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The command ends the session (reload): resolve when the controller closes it. */
  expectClose?: boolean;
}

const interrupt = '\x03';
/** The question a controller asks for a password (image server, enable). */
export const passwordPrompt = /Password:\s*$/;
/** How much of the output's end is searched for a prompt. */
const tailChars = 256;

/**
 * One SSH shell on a controller's CLI, driven one command at a time: write the line, answer the
 * prompts it asks, collect output until the CLI prompt returns.
 */
export class DeviceSession {
  /** What the CLI printed for the running command: its tail, bounded, so a flooding controller cannot grow the worker. */
  private readonly buffer = new BoundedText();
  private flood: PeerFloodError | undefined;
  private onData: (() => void) | undefined;
  private onClose: (() => void) | undefined;
  private closed = false;
  private readonly text = new TerminalText();
  private lastLevel: '>' | '#' | undefined;

  private constructor(
    private readonly client: Client,
    private readonly channel: ClientChannel,
    /** host:port, for messages. */
    readonly target: string,
    readonly dialect: Dialect,
    /** What the controller advertised at login beyond its dialect. */
    readonly capabilities: ReadonlySet<Capability>,
  ) {
    const receive = (chunk: Buffer): void => {
      if (!this.flood)
        try {
          this.buffer.append(this.text.push(chunk.toString('utf8')));
        } catch (err) {
          if (!(err instanceof PeerFloodError)) throw err;
          this.flood = err;
        }
      this.onData?.();
    };
    channel.on('data', receive);
    channel.stderr.on('data', receive);
    const closed = (): void => {
      if (this.closed) return;
      this.closed = true;
      this.onClose?.();
    };
    channel.on('close', closed);
    client.on('close', closed);
    client.on('error', closed);
  }

  /**
   * Connects, checks the host key, logs in, opens the shell, waits for the first prompt and
   * prepares the CLI as the dialect says: `enable` from user mode, then `no paging`.
   */
  static async open(options: SessionOptions, dialect: Dialect): Promise<DeviceSession> {
    const target = `${options.host}:${options.port}`;
    let banner = '';
    let client: Client;
    try {
      client = await openSshConnection({
        host: options.host,
        port: options.port,
        username: options.username,
        password: options.password,
        privateKey: options.privateKey,
        hostKey: options.hostKey,
        knownHostsFile: options.knownHostsFile,
        readyTimeoutMs: options.connectTimeoutMs ?? 15_000,
        onBanner: (message) => (banner += message),
        signal: options.signal,
      });
    } catch (err) {
      if (!(err instanceof SshConnectError)) throw err;
      if (err.kind === 'host-key')
        throw new DeviceError(failureTypes.hostKeyMismatch, options.host, `controller ${err.message}`);
      if (err.kind === 'auth')
        throw new DeviceError(
          failureTypes.authenticationFailed,
          options.host,
          `controller ${target} refused the login of user ${options.username}`,
        );
      throw new DeviceError(
        failureTypes.controllerUnreachable,
        options.host,
        `controller ${target} unreachable: ${(err.cause as Error).message}`,
      );
    }
    let session: DeviceSession | undefined;
    try {
      // A wide terminal: controllers wrap long lines (show switches) at the terminal width.
      const channel = await new Promise<ClientChannel>((resolve, reject) =>
        client.shell({ term: 'vt100', cols: 511, rows: 24 }, (err, ch) => (err ? reject(err) : resolve(ch))),
      );
      session = new DeviceSession(client, channel, target, dialect, advertisedCapabilities(banner));
      const timeoutMs = options.connectTimeoutMs ?? 15_000;
      const signal = options.signal;
      await session.run('', { timeoutMs, signal });
      if (!session.privileged()) {
        await session.run(dialect.enable, {
          timeoutMs,
          signal,
          answers: [{ prompt: passwordPrompt, answer: options.enablePassword ?? options.password ?? '' }],
        });
        if (!session.privileged())
          throw new DeviceError(
            failureTypes.authenticationFailed,
            options.host,
            `controller ${target} refused "enable" for user ${options.username}`,
          );
      }
      for (const line of dialect.prepare) {
        const output = await session.run(line, { timeoutMs, signal });
        if (/^\s*(% |Error:)/m.test(output))
          throw new DeviceError(
            failureTypes.commandRejected,
            options.host,
            `controller ${target} rejected "${line}": ${output.trim()}`,
          );
      }
      return session;
    } catch (err) {
      session?.close();
      client.end();
      if (err instanceof DeviceError || options.signal?.aborted) throw err;
      throw new DeviceError(
        failureTypes.controllerUnreachable,
        options.host,
        `controller ${target} opened no CLI shell: ${(err as Error).message}`,
      );
    }
  }

  /** Whether the last prompt seen was privileged (`#`), not user mode (`>`). */
  privileged(): boolean {
    return this.lastLevel === '#';
  }

  /**
   * Runs one command line (empty: just wait for the prompt) and returns its output, without the
   * trailing prompt.
   */
  run(command: string, options: RunOptions = {}): Promise<string> {
    if (this.closed)
      return Promise.reject(
        this.failure(failureTypes.controllerUnreachable, `connection to ${this.target} is closed`),
      );
    const host = this.target;
    return new Promise<string>((resolve, reject) => {
      const answers = [...(options.answers ?? [])];
      let answeredUpTo = 0;
      let lineStart = 0;
      let finished = false;
      let idleTimer: NodeJS.Timeout | undefined;
      const timeoutMs = options.timeoutMs ?? 30_000;
      const timeoutFailure = options.timeoutFailure ?? failureTypes.controllerUnreachable;

      const finish = (outcome: () => void): void => {
        if (finished) return;
        finished = true;
        clearTimeout(overall);
        clearTimeout(idleTimer);
        options.signal?.removeEventListener('abort', onAbort);
        this.onData = undefined;
        this.onClose = undefined;
        this.buffer.reset();
        outcome();
      };
      const fail = (type: FailureType, message: string): void => {
        if (!this.closed) this.channel.write(interrupt);
        finish(() => reject(this.failure(type, message)));
      };
      const armIdle = (): void => {
        if (!options.idleTimeoutMs) return;
        clearTimeout(idleTimer);
        const ms = options.idleTimeoutMs;
        idleTimer = setTimeout(
          () =>
            fail(
              timeoutFailure,
              `controller ${host} printed nothing for ${ms / 1000} s during "${verb(command)}"`,
            ),
          ms,
        );
      };
      const overall = setTimeout(
        () =>
          fail(
            timeoutFailure,
            `controller ${host} did not finish "${verb(command)}" within ${timeoutMs / 1000} s`,
          ),
        timeoutMs,
      );
      const onAbort = (): void => {
        if (!this.closed) this.channel.write(interrupt);
        finish(() => reject(options.signal?.reason ?? new Error('aborted')));
      };

      this.onData = () => {
        if (this.flood)
          return fail(
            failureTypes.unexpectedControllerReply,
            `controller ${host} printed more than ${this.flood.limitChars} characters during "${verb(command)}"`,
          );
        armIdle();
        let newline = this.buffer.indexOf('\n', lineStart);
        while (newline !== -1) {
          options.onLine?.(this.buffer.slice(lineStart, newline).replace(/\r$/, ''));
          lineStart = newline + 1;
          newline = this.buffer.indexOf('\n', lineStart);
        }
        // Prompts sit at the very end of the output: look at the tail only, so a long copy's
        // thousands of progress lines do not make each check slower than the last.
        const fresh = this.buffer.slice(Math.max(answeredUpTo, this.buffer.length - tailChars));
        const asked = answers.findIndex((a) => a.prompt.test(fresh));
        if (asked !== -1) {
          const [next] = answers.splice(asked, 1);
          answeredUpTo = this.buffer.length;
          this.channel.write(`${next?.answer ?? ''}\n`);
          return;
        }
        if (this.dialect.more.test(fresh)) {
          this.buffer.replace(this.dialect.more, '');
          answeredUpTo = this.buffer.length;
          this.channel.write(' ');
          return;
        }
        const prompt = this.dialect.prompt.exec(this.buffer.slice(-tailChars));
        if (prompt) {
          this.lastLevel = prompt.groups?.level === '>' ? '>' : '#';
          const output = withoutEcho(this.buffer.slice(0, this.buffer.length - prompt[0].length), command);
          finish(() => resolve(output));
        }
      };
      this.onClose = () => {
        const output = this.buffer.toString();
        if (options.expectClose) finish(() => resolve(output));
        else
          finish(() =>
            reject(
              this.failure(failureTypes.controllerUnreachable, `controller ${host} closed the connection`),
            ),
          );
      };

      if (options.signal?.aborted) {
        finish(() => reject(options.signal?.reason ?? new Error('aborted')));
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      armIdle();
      if (command) this.channel.write(`${command}\n`);
      else this.onData();
    });
  }

  /** Whether the connection is still up (neither side closed it, no error ended it). */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Ends the session; safe to call twice. */
  close(): void {
    if (!this.closed) this.channel.end();
    this.client.end();
  }

  private failure(type: FailureType, message: string): DeviceError {
    return new DeviceError(type, this.target.replace(/:\d+$/, ''), message);
  }
}

/** Output without the controller's echo of the command line (a terminal echoes what is typed). */
function withoutEcho(output: string, command: string): string {
  if (!command) return output;
  const text = output.replace(/^\n+/, '');
  const firstLine = text.split('\n', 1)[0] ?? '';
  return firstLine.trimEnd().endsWith(command) ? text.slice(firstLine.length + 1) : output;
}

/** The command word(s) without arguments, so messages never echo values such as user names. */
function verb(command: string): string {
  return command.split(' ').slice(0, 2).join(' ') || 'login';
}
