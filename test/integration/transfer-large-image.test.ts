import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { activityEnvironment } from '../fixtures/activity-env';
import pino from 'pino';
import type { VerifiedImage, VerifyImageInput } from '../../activities/types';
import { createImageActivities } from '../../activities/verify-image';
import { staticCredentialStore } from '../../src/credentials/store';
import { HEADER_SIZE, parseImageHeader } from '../../src/image';
import { readHeader } from '../../src/transfer';
import {
  testImageKeys,
  writeSparseImage,
  type LocalHttpServer,
  type LocalImageServer,
  everyProtocol,
  startServersForEveryProtocol,
  type ImageServersByProtocol,
} from '../fixtures/servers';

// The master reads headers only: a 256 MiB image is verified while at most 64 KiB cross the wire,
// counted by our clients and, for HTTP, by the server itself. (SFTP asks for exactly 256 bytes; FTP
// and SCP cannot ask for a range, so the client hangs up after its first chunk — the kernel may have
// buffered more on the server's side, which vsftpd's log shows as a few MiB "FAIL DOWNLOAD".)
const MiB = 1024 * 1024;
const LIMIT = 64 * 1024;
const name = 'ArubaOS_72xx_6.4.0.0_81300';

let work: string;
let imageServers: ImageServersByProtocol | undefined;
let ftp: LocalImageServer;
let ssh: LocalImageServer;
let http: LocalHttpServer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ciu-large-image-'));
  const file = join(work, name);
  await writeSparseImage(file, {
    imageType: '72xx',
    version: '6.4.0.0',
    build: 81300,
    payloadLength: 256 * MiB,
  });
  imageServers = await startServersForEveryProtocol({ [name]: file });
  ({ ftp, ssh, http } = imageServers);
});

afterAll(async () => {
  await imageServers?.stop();
  await rm(work, { recursive: true, force: true });
});

test('the served image really is 256 MiB', async () => {
  expect((await stat(join(ssh.root, name))).size).toBe(HEADER_SIZE + 256 * MiB);
});

test.each(everyProtocol(() => imageServers))(
  '%s: the header of a 256 MiB image arrives with at most 64 KiB transferred',
  async (protocol, server) => {
    const read = await readHeader(server().endpoint(protocol), name, HEADER_SIZE);
    expect(parseImageHeader(read.bytes)).toMatchObject({ payloadLength: 256 * MiB, build: 81300 });
    expect(read.bytesTransferred).toBeLessThanOrEqual(LIMIT);
  },
);

test('http: the server itself counts only the header bytes sent', async () => {
  const before = http.bytesServed();
  await readHeader(http.endpoint(), name, HEADER_SIZE);
  expect(http.bytesServed() - before).toBe(HEADER_SIZE);
  expect(http.requests.at(-1)).toMatchObject({
    path: name,
    range: `bytes=0-${HEADER_SIZE - 1}`,
    status: 206,
  });
});

test('verifyImage on the 256 MiB image reports how few bytes it read', async () => {
  const { verifyImage } = createImageActivities({
    credentials: staticCredentialStore({ images: ftp.credentials! }),
    logger: pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })),
    trustedImageKeys: testImageKeys,
  });
  const input: VerifyImageInput = {
    source: {
      imageFile: name,
      protocol: 'ftp',
      server: { host: ftp.host, port: ftp.port },
      credentialsRef: 'images',
    },
    models: ['A7240'],
    expectedVersion: '6.4.0.0',
  };
  const verified = (await activityEnvironment().run(verifyImage, input)) as VerifiedImage;
  expect(verified.payloadLength).toBe(256 * MiB);
  expect(verified.bytesRead).toBeLessThanOrEqual(LIMIT);
});
