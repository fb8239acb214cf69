import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEADER_SIZE, parseImageHeader } from '../../src/image';
import { freePort } from '../../devkit/temporal/free-port';
import { download, readHeader, TransferError, type TransferEndpoint } from '../../src/transfer';
import {
  createTestImage,
  writeSparseImage,
  startHttpServer,
  type LocalImageServer,
  everyProtocol,
  startServersForEveryProtocol,
  type ImageServersByProtocol,
} from '../fixtures/servers';

const image = createTestImage({
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadSize: 3 * 1024 * 1024 + 17,
});
const files = { [image.name]: image.bytes };
const bigImage = 'ArubaOS_72xx_6.4.0.0_81235';

let imageServers: ImageServersByProtocol | undefined;
let ftp: LocalImageServer;
let ftps: LocalImageServer;
let ssh: LocalImageServer;
let tftp: LocalImageServer;
let http: LocalImageServer;
let work: string;

beforeAll(async () => {
  imageServers = await startServersForEveryProtocol(files);
  ({ ftp, ftps, ssh, tftp, http } = imageServers);
  work = await mkdtemp(join(tmpdir(), 'ciu-transfer-test-'));
  // Big enough that no loopback transfer finishes before the abort lands.
  const big = join(work, bigImage);
  await writeSparseImage(big, {
    imageType: '72xx',
    version: '6.4.0.0',
    build: 81235,
    payloadLength: 512 * 1024 * 1024,
  });
  for (const server of [ftp, ftps, ssh, tftp, http]) await server.addFile(bigImage, big);
});

afterAll(async () => {
  await imageServers?.stop();
  await rm(work, { recursive: true, force: true });
});

async function failure(work: Promise<unknown>): Promise<TransferError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TransferError)) throw new Error(`expected a TransferError, got ${String(err)}`);
  return err;
}

const servers = everyProtocol(() => imageServers);

describe.each(servers)('%s against the real server', (protocol, server) => {
  const endpoint = (): TransferEndpoint => server().endpoint(protocol);

  test('reads the image header without downloading the image', async () => {
    const read = await readHeader(endpoint(), image.name, HEADER_SIZE);
    expect(parseImageHeader(read.bytes)).toEqual({ formatVersion: 1, ...image.header });
    expect(read.bytes.length).toBe(HEADER_SIZE);
    expect(read.bytesTransferred).toBeGreaterThanOrEqual(HEADER_SIZE);
    expect(read.bytesTransferred).toBeLessThanOrEqual(64 * 1024);
  });

  test('downloads the whole image byte for byte, reporting progress', async () => {
    const dest = join(work, `${protocol}-download`);
    const progress: number[] = [];
    const result = await download(endpoint(), image.name, dest, {
      onProgress: (bytes) => progress.push(bytes),
    });
    expect(result.bytes).toBe(image.bytes.length);
    expect((await readFile(dest)).equals(image.bytes)).toBe(true);
    expect(progress.at(-1)).toBe(image.bytes.length);
    expect(progress.length).toBeGreaterThan(1);
  });

  test('a missing file is reported as not found, naming server and file', async () => {
    const err = await failure(readHeader(endpoint(), 'ArubaOS_72xx_9.9.9.9_1', HEADER_SIZE));
    expect(err.code).toBe('not-found');
    expect(err.message).toContain(`${server().host}:${server().port}/ArubaOS_72xx_9.9.9.9_1`);
  });

  test('aborting a download stops it promptly', async () => {
    const controller = new AbortController();
    const dest = join(work, `${protocol}-aborted`);
    const started = Date.now();
    const err = await failure(
      download(endpoint(), bigImage, dest, {
        signal: controller.signal,
        onProgress: (bytes) => bytes > 64 * 1024 && controller.abort(),
      }),
    );
    expect(err.code).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(5000);
    const size = await stat(dest).then(
      (s) => s.size,
      () => 0,
    );
    expect(size).toBeLessThan(64 * 1024 * 1024);
  });

  test('every one of repeated early aborts settles promptly (a purge must never hang a download)', async () => {
    for (let i = 0; i < 6; i++) {
      const controller = new AbortController();
      const abortNow = i % 2 === 0;
      const started = Date.now();
      const err = await failure(
        download(endpoint(), bigImage, join(work, `${protocol}-early-abort-${i}`), {
          signal: controller.signal,
          onProgress: (bytes) => {
            if (bytes === 0 || controller.signal.aborted) return;
            if (abortNow) controller.abort();
            else setTimeout(() => controller.abort(), 20);
          },
        }),
      );
      expect(err.code).toBe('aborted');
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });
});

describe('logins', () => {
  test.each(['ftp', 'ftps', 'sftp', 'scp'] as const)(
    '%s: a wrong password is refused, and the message holds no password',
    async (protocol) => {
      const server = protocol.startsWith('ftp') ? (protocol === 'ftp' ? ftp : ftps) : ssh;
      const password = 'wrong-Secret-42';
      const err = await failure(
        readHeader(
          { ...server.endpoint(protocol), credentials: { username: server.username ?? '', password } },
          image.name,
          HEADER_SIZE,
        ),
      );
      expect(err.code).toBe('auth');
      expect(err.message).toContain(`login as "${server.username}" refused`);
      expect(err.message).not.toContain(password);
      expect(err.message).not.toContain(server.password);
    },
  );

  test('http basic auth: without the right password the server refuses', async () => {
    const guarded = await startHttpServer({ files, auth: true });
    try {
      const err = await failure(
        readHeader(
          { ...guarded.endpoint(), credentials: { username: 'images', password: 'nope' } },
          image.name,
          HEADER_SIZE,
        ),
      );
      expect(err.code).toBe('auth');
      const read = await readHeader(guarded.endpoint(), image.name, HEADER_SIZE);
      expect(parseImageHeader(read.bytes).build).toBe(81234);
    } finally {
      await guarded.stop();
    }
  });
});

describe('host keys', () => {
  test.each(['sftp', 'scp'] as const)(
    '%s: a host key other than the pinned one is refused',
    async (protocol) => {
      const pinned = 'SHA256:' + 'A'.repeat(43);
      const err = await failure(
        readHeader({ ...ssh.endpoint(protocol), hostKey: pinned }, image.name, HEADER_SIZE),
      );
      expect(err.code).toBe('host-key');
      expect(err.message).toBe(
        `host key of 127.0.0.1:${ssh.port} is ${ssh.hostKey}, but ${pinned} is pinned`,
      );
    },
  );

  test('without a pinned key, the known_hosts file decides', async () => {
    const { hostKey: _pinned, ...unpinned } = ssh.endpoint('sftp');
    const read = await readHeader(
      { ...unpinned, knownHostsFile: ssh.knownHostsFile },
      image.name,
      HEADER_SIZE,
    );
    expect(parseImageHeader(read.bytes).version).toBe('6.4.0.0');

    const otherHosts = join(work, 'known_hosts_other');
    await writeFile(
      otherHosts,
      `[127.0.0.1]:${ssh.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2wSeIsKb7eRkWBd/o0CqNdlNOxtKxcqzeC4C3KQrTA\n`,
    );
    const mismatch = await failure(
      readHeader({ ...unpinned, knownHostsFile: otherHosts }, image.name, HEADER_SIZE),
    );
    expect(mismatch.code).toBe('host-key');
    expect(mismatch.message).toContain('does not match known_hosts file');
  });

  test('a host neither pinned nor in known_hosts is refused, not trusted on first use', async () => {
    const { hostKey: _pinned, ...unpinned } = ssh.endpoint('sftp');
    const empty = join(work, 'known_hosts_empty');
    await writeFile(empty, '');
    const err = await failure(readHeader({ ...unpinned, knownHostsFile: empty }, image.name, HEADER_SIZE));
    expect(err.code).toBe('host-key');
    expect(err.message).toBe(`127.0.0.1:${ssh.port} is not in known_hosts file ${empty}`);
  });

  test('ftps: a server certificate the client does not trust is refused', async () => {
    const { caFile: _ca, ...untrusting } = ftps.endpoint();
    const err = await failure(readHeader(untrusting, image.name, HEADER_SIZE));
    expect(err.code).toBe('host-key');
    expect(err.message).toContain('TLS certificate');
  });
});

describe('server down', () => {
  test.each(['ftp', 'sftp', 'scp', 'http'] as const)(
    '%s: nothing listening is reported as unreachable',
    async (protocol) => {
      const port = await freePort();
      const err = await failure(
        readHeader(
          {
            protocol,
            host: '127.0.0.1',
            port,
            credentials: { username: 'images', password: 'not-the-password' },
            hostKey: ssh.hostKey,
          },
          image.name,
          HEADER_SIZE,
        ),
      );
      expect(err.code).toBe('unreachable');
      expect(err.message).toContain(`127.0.0.1:${port}`);
      expect(err.message).toContain('ECONNREFUSED');
    },
  );

  test('tftp: no answer after the retransmissions is reported as unreachable', async () => {
    const port = await freePort();
    const err = await failure(
      readHeader({ protocol: 'tftp', host: '127.0.0.1', port, timeoutMs: 2000 }, image.name, HEADER_SIZE),
    );
    expect(err.code).toBe('unreachable');
    expect(err.message).toBe(`no answer from tftp server 127.0.0.1:${port} after 6 tries`);
  });
});

describe('server hangs', () => {
  test.each(['ftp', 'sftp', 'http'] as const)(
    '%s: a server that accepts but never answers times out',
    async (protocol) => {
      const sockets: Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      const port = await freePort();
      await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
      try {
        const started = Date.now();
        const err = await failure(
          readHeader(
            {
              protocol,
              host: '127.0.0.1',
              port,
              timeoutMs: 500,
              credentials: { username: 'images', password: 'not-the-password' },
              hostKey: ssh.hostKey,
            },
            image.name,
            HEADER_SIZE,
          ),
        );
        expect(err.code).toBe('timeout');
        expect(err.message).toContain(`127.0.0.1:${port}`);
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        sockets.forEach((s) => s.destroy());
        await new Promise((resolve) => silent.close(resolve));
      }
    },
  );
});
