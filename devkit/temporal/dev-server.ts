import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { ciuSearchAttributes } from '../../src/domain/search-attributes';
import { temporalCliPath } from './binaries';
import { freePort } from './free-port';
import { endWithThisProcess } from './watchdog';

/** How to run `temporal server start-dev`. */
export interface DevServerOptions {
  /** SQLite file that keeps history across restarts. Default: a temp file removed on stop. */
  dbFile?: string;
  /** Frontend gRPC port. Default: a free port (7233 for `npm start`, which passes it). */
  port?: number;
  /** Web UI port. Default: a free port; `false` runs headless. */
  uiPort?: number | false;
  /** Address the frontend and UI bind to. Default 127.0.0.1: nothing is exposed beyond loopback. */
  ip?: string;
  /** Server log level. Default 'error' (the dev server is chatty). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How long to wait for the frontend to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** Dynamic config values (`--dynamic-config-value key=value`), e.g. a lower `limit.blobSize.error` in a test. */
  dynamicConfig?: Record<string, string | number>;
  /** Codec server the Web UI decodes payloads with (`--ui-codec-endpoint`). Default none. */
  uiCodecEndpoint?: string;
  /** Where the server's own output goes. Default: discarded (kept in memory for the start error). */
  onOutput?: (chunk: string) => void;
  /**
   * Records the server's pid here (removed on stop); a server an earlier start recorded that still
   * runs on the same SQLite file is ended first — in case even its watchdog was killed.
   */
  pidFile?: string;
}

/** What a pid file records. */
interface Recorded {
  pid: number;
  dbFile: string;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` is still a `temporal server start-dev` on `dbFile` (not a later process that got the pid). */
function isDevServerOn(pid: number, dbFile: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('start-dev') && args.includes(dbFile);
  } catch {
    return false;
  }
}

/** Ends the dev server recorded in `pidFile` if it still runs on the same file: SIGTERM, SIGKILL after 5 s. */
async function endRecorded(pidFile: string, dbFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  let recorded: Partial<Recorded> = {};
  try {
    recorded = JSON.parse(readFileSync(pidFile, 'utf8')) as Partial<Recorded>;
  } catch {
    // An unreadable record names nothing to end.
  }
  const { pid } = recorded;
  if (typeof pid === 'number' && recorded.dbFile === dbFile && isDevServerOn(pid, dbFile)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5_000;
    while (isRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    while (isRunning(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(pidFile, { force: true });
}

/** A running dev server. */
export interface DevServer {
  /** host:port of the frontend, for Connection.connect / --address. */
  readonly address: string;
  /** Web UI URL, or undefined when headless. */
  readonly uiUrl: string | undefined;
  readonly dbFile: string;
  readonly process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and removes a temp DB. */
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` with ciu's search attributes registered and waits until it answers. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = temporalCliPath();
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  const uiPort = options.uiPort === false ? undefined : (options.uiPort ?? (await freePort(ip)));
  const tempDir = options.dbFile ? undefined : mkdtempSync(join(tmpdir(), 'ciu-temporal-'));
  const dbFile = options.dbFile ?? join(tempDir as string, 'temporal.db');

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--db-filename', dbFile];
  args.push('--log-level', options.logLevel ?? 'error');
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  for (const [name, type] of Object.entries(ciuSearchAttributes))
    args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {}))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

  if (options.pidFile) await endRecorded(options.pidFile, dbFile);
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A SIGKILLed owner runs no stop(): the watchdog ends the server with it.
  const releaseWatchdog = child.pid === undefined ? () => undefined : endWithThisProcess(child.pid);
  child.once('exit', releaseWatchdog);
  if (options.pidFile && child.pid !== undefined)
    writeFileSync(options.pidFile, JSON.stringify({ pid: child.pid, dbFile } satisfies Recorded));
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-8192);
    options.onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  const cleanup = () => {
    if (options.pidFile) rmSync(options.pidFile, { force: true });
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    cleanup();
  };

  const address = `${ip}:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      cleanup();
      throw new Error(`temporal server start-dev exited with code ${child.exitCode}:\n${output}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        break;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `temporal dev server on ${address} did not answer in time (${String(err)}):\n${output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${ip}:${uiPort}`,
    dbFile,
    process: child,
    stop,
  };
}
