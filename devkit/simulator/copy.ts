import { open, rm } from 'node:fs/promises';
import type { Credentials } from '../../src/credentials/store';
import { imageTypeFor } from '../../src/domain/models';
import type { Protocol } from '../../src/domain/types';
import { HEADER_SIZE, verifyImageFile } from '../../src/image';
import type { TransferEndpoint } from '../../src/transfer/endpoint';
import type { ControllerLog } from './controller-log';
import type { ControllerFaults } from './faults';
import type { Flash } from './flash';
import type { Terminal } from './terminal';

/** Downloads one file from an image server (src/transfer's download, in production). */
export type ImageFetcher = (
  endpoint: TransferEndpoint,
  path: string,
  destFile: string,
  opts: { signal?: AbortSignal; onProgress?: (bytes: number, total?: number) => void },
) => Promise<{ bytes: number }>;

/** What `copy` needs from its controller. */
export interface CopyContext {
  /** The model the controller really is (its platform decides which images it accepts). */
  model: string;
  flash: Flash;
  log: ControllerLog;
  faults: ControllerFaults;
  fetch: ImageFetcher;
  /**
   * Accept the simulator's extensions to ArubaOS's `copy`: ftps/sftp/http sources and the
   * `port <n>` / `host-key <fingerprint>` clauses. Off: only what ArubaOS documents.
   */
  extensions: boolean;
  /** known_hosts for scp/sftp image servers without a pinned key. */
  knownHostsFile?: string;
  /** CA bundle trusted for ftps image servers. Default: env CIU_TLS_CA_FILE, else the system CAs. */
  caFile?: string;
  /** Milliseconds between progress lines. Default 200. */
  progressIntervalMs?: number;
}

export interface CopyArgs {
  protocol: Protocol;
  host: string;
  user?: string;
  file: string;
  partition: 0 | 1;
  port?: number;
  hostKey?: string;
}

/** What ArubaOS's `copy` reaches a remote file with, and which of them ask for a user. */
const documentedSources: Record<string, { user: boolean }> = {
  ftp: { user: true },
  scp: { user: true },
  tftp: { user: false },
};
const extensionSources: Record<string, { user: boolean }> = {
  ftps: { user: true },
  sftp: { user: true },
  http: { user: false },
};

/** A `copy` line the CLI does not accept; `word` is the index (after `copy`) of the offending word. */
export class CopySyntaxError extends Error {
  override readonly name = 'CopySyntaxError';
  constructor(readonly word: number) {
    super(`invalid copy argument at word ${word}`);
  }
}

/** A reply line the device prints for a copy that failed, and the reason it logs. */
class CopyFailure extends Error {
  override readonly name = 'CopyFailure';
}

const hostWord = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const userWord = /^[A-Za-z0-9_][A-Za-z0-9._@-]*$/;
const fileWord = /^[^\s-][^\s]*$/;
const fingerprintWord = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/**
 * Parses the words after `copy`: `<proto>: <host> [<user>] <file> system: partition <0|1>`, then,
 * with extensions, `port <n>` and `host-key <fingerprint>` in any order.
 */
export function parseCopyArgs(args: readonly string[], extensions: boolean): CopyArgs {
  const source = /^([a-z]+):$/.exec(args[0] ?? '')?.[1] ?? '';
  const kind = documentedSources[source] ?? (extensions ? extensionSources[source] : undefined);
  if (!kind) throw new CopySyntaxError(0);
  const fields = kind.user ? 3 : 2;
  const [host = '', second = '', third = ''] = args.slice(1, 1 + fields);
  if (!hostWord.test(host)) throw new CopySyntaxError(1);
  const user = kind.user ? second : undefined;
  if (user !== undefined && !userWord.test(user)) throw new CopySyntaxError(2);
  const file = kind.user ? third : second;
  if (!fileWord.test(file)) throw new CopySyntaxError(fields);
  if (args[fields + 1] !== 'system:') throw new CopySyntaxError(fields + 1);
  if (args[fields + 2] !== 'partition') throw new CopySyntaxError(fields + 2);
  const partition = args[fields + 3];
  if (partition !== '0' && partition !== '1') throw new CopySyntaxError(fields + 3);
  const parsed: CopyArgs = { protocol: source as Protocol, host, file, partition: partition === '0' ? 0 : 1 };
  if (user !== undefined) parsed.user = user;
  for (let i = fields + 4; i < args.length; i += 2) {
    const value = args[i + 1] ?? '';
    if (
      extensions &&
      args[i] === 'port' &&
      /^\d{1,5}$/.test(value) &&
      Number(value) >= 1 &&
      Number(value) <= 65535
    )
      parsed.port = Number(value);
    else if (extensions && args[i] === 'host-key' && fingerprintWord.test(value)) parsed.hostKey = value;
    else throw new CopySyntaxError(extensions && (args[i] === 'port' || args[i] === 'host-key') ? i + 1 : i);
  }
  return parsed;
}

/**
 * `copy`: really downloads the image from its server, checks header and SHA-256, checks the image
 * type against the controller's platform, writes the partition, and logs the outcome — success or
 * the exact failure — in the controller's own log.
 */
export async function runCopy(words: readonly string[], terminal: Terminal, ctx: CopyContext): Promise<void> {
  const args = parseCopyArgs(words, ctx.extensions);
  const credentials: Credentials | undefined =
    args.user === undefined ? undefined : { username: args.user, password: await terminal.ask('Password:') };
  const source = `${args.protocol}://${args.host}${args.port ? `:${args.port}` : ''}/${args.file}`;
  try {
    await download(args, credentials, terminal, ctx);
    const image = ctx.flash.partition(args.partition);
    await ctx.log.write(
      'info',
      'fpapps',
      `Image download succeeded: ${source} version ${image?.version} build ${image?.build} written to partition ${args.partition}`,
    );
    terminal.write(`Upgrading partition ${args.partition}\nImage upgraded successfully\n`);
  } catch (err) {
    const reason = err instanceof CopyFailure ? err.message : `internal error: ${(err as Error).message}`;
    await rm(ctx.flash.scratchFile, { force: true });
    await ctx.log.write('error', 'fpapps', `Image download failed: ${source}: ${reason}`);
    terminal.write(`Error: ${reason}\n`);
  }
}

async function download(
  args: CopyArgs,
  credentials: Credentials | undefined,
  terminal: Terminal,
  ctx: CopyContext,
): Promise<void> {
  const { faults } = ctx;
  if (faults.flashFull) throw new CopyFailure('not enough space on flash to store the image');
  if (faults.refuseDownloads) {
    faults.refuseDownloads -= 1;
    throw new CopyFailure(
      `transfer refused: image server ${args.host} closed the data connection (simulated fault)`,
    );
  }
  terminal.write(`Downloading ${args.file} from ${args.host} (${args.protocol})\n`);

  const stall = Boolean(faults.stallDownloads);
  if (stall) faults.stallDownloads = (faults.stallDownloads ?? 1) - 1;
  const transfer = new AbortController();
  const onUserAbort = (): void => transfer.abort();
  terminal.signal.addEventListener('abort', onUserAbort, { once: true });
  let stalled = false;
  let lastPrint = 0;
  const interval = ctx.progressIntervalMs ?? 200;
  let lastPrinted = -1;
  const printProgress = (bytes: number, total?: number): void => {
    if (bytes === lastPrinted) return;
    lastPrinted = bytes;
    terminal.write(
      total
        ? `Received ${bytes} of ${total} bytes (${Math.floor((bytes * 100) / total)}%)\n`
        : `Received ${bytes} bytes\n`,
    );
  };
  const endpoint: TransferEndpoint = { protocol: args.protocol, host: args.host };
  if (args.port !== undefined) endpoint.port = args.port;
  if (args.hostKey !== undefined) endpoint.hostKey = args.hostKey;
  if (credentials) endpoint.credentials = credentials;
  if (ctx.knownHostsFile) endpoint.knownHostsFile = ctx.knownHostsFile;
  if (ctx.caFile) endpoint.caFile = ctx.caFile;
  let fetched: { bytes: number } | undefined;
  let fetchError: unknown;
  const fetching = ctx
    .fetch(endpoint, args.file, ctx.flash.scratchFile, {
      signal: transfer.signal,
      onProgress: (received, total) => {
        if (stalled) return;
        if (stall && received >= (total ?? 2 * received) / 2) {
          stalled = true;
          transfer.abort();
          return;
        }
        const now = Date.now();
        if (now - lastPrint < interval) return;
        lastPrint = now;
        printProgress(received, total);
      },
    })
    .then(
      (result) => (fetched = result),
      (err: unknown) => (fetchError = err),
    );
  // Ctrl-C or a dropped session ends the copy at once, whether or not the client has wound down yet;
  // a stalled transfer goes silent until then.
  const aborted = untilAborted(terminal.signal);
  await Promise.race([fetching.then(() => (stalled ? aborted : undefined)), aborted]);
  terminal.signal.removeEventListener('abort', onUserAbort);
  if (terminal.signal.aborted) throw new CopyFailure('transfer aborted by user');
  if (!fetched) throw new CopyFailure(transferMessage(fetchError));
  printProgress(fetched.bytes, fetched.bytes);

  if (faults.corruptDownloads) {
    faults.corruptDownloads -= 1;
    await flipByte(ctx.flash.scratchFile);
  }
  let header;
  try {
    header = await verifyImageFile(ctx.flash.scratchFile);
  } catch (err) {
    throw new CopyFailure(
      `image integrity check failed: ${(err as Error).message.replace(ctx.flash.scratchFile, args.file)}`,
    );
  }
  const family = imageTypeFor(ctx.model);
  if (header.imageType !== family)
    throw new CopyFailure(
      `image type ${header.imageType} is not supported on this platform (${ctx.model}, image type ${family ?? 'unknown'})`,
    );
  await ctx.flash.install(args.partition, ctx.flash.scratchFile, header);
}

function transferMessage(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = (err as Error).message;
  if (code === 'auth') return `login refused by image server: ${message}`;
  if (code === 'host-key') return `host key verification failed: ${message}`;
  if (code === 'not-found') return `file not found: ${message}`;
  return `transfer failed: ${message}`;
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
  );
}

async function flipByte(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const { size } = await handle.stat();
    const at = HEADER_SIZE + Math.floor((size - HEADER_SIZE) / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
}
