import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageFormatError } from '../../src/image';
import { inspectImage, TransferError } from '../../src/transfer';
import {
  createTestImage,
  startSshServer,
  startTftpServer,
  testImageSigner,
  type LocalImageServer,
} from '../fixtures/servers';

// What `ciu image inspect FILE|URL` prints, from a file and from real servers.
const image = createTestImage({ imageType: 'MMC', version: '6.3.1.0', build: 40000, payloadSize: 100_000 });
let ssh: LocalImageServer;
let tftp: LocalImageServer;
let work: string;

beforeAll(async () => {
  [ssh, tftp] = await Promise.all([
    startSshServer({ files: { [image.name]: image.bytes } }),
    startTftpServer({ files: { [image.name]: image.bytes } }),
  ]);
  work = await mkdtemp(join(tmpdir(), 'ciu-inspect-'));
});
afterAll(async () => {
  await Promise.all([ssh?.stop(), tftp?.stop()]);
  await rm(work, { recursive: true, force: true });
});

const expectedLines = (source: string) =>
  [
    `source      ${source}`,
    'format      ciu image v1',
    'image type  MMC',
    'version     6.3.1.0',
    'build       40000',
    'payload     100000 bytes',
    `sha256      ${image.header.payloadSha256}`,
    `signed by   key ${testImageSigner.keyId}`,
  ].join('\n');

test('a local file', async () => {
  const file = join(work, image.name);
  await writeFile(file, image.bytes);
  const inspected = await inspectImage(file);
  expect(inspected.text).toBe(expectedLines(file));
  expect(inspected.bytesRead).toBe(256);
});

test('an sftp URL, with credentials and the pinned host key', async () => {
  const url = `sftp://${ssh.username}@127.0.0.1:${ssh.port}/${image.name}`;
  const inspected = await inspectImage(url, { credentials: ssh.credentials, hostKey: ssh.hostKey });
  expect(inspected.text).toBe(expectedLines(url));
  expect(inspected.bytesRead).toBe(256);
});

test('a tftp URL', async () => {
  const url = `tftp://127.0.0.1:${tftp.port}/${image.name}`;
  expect((await inspectImage(url)).header).toEqual({ formatVersion: 1, ...image.header });
});

test('errors say what is wrong: not an image, no such file', async () => {
  const notImage = join(work, 'notes.txt');
  await writeFile(notImage, 'just some text that is long enough to not be truncated'.repeat(10));
  await expect(inspectImage(notImage)).rejects.toThrow(ImageFormatError);
  await expect(inspectImage(notImage)).rejects.toThrow('not an image: bad magic 6a75737420736f6d');
  const missing = inspectImage(`tftp://127.0.0.1:${tftp.port}/nothing-here`);
  await expect(missing).rejects.toThrow(TransferError);
  await expect(inspectImage(`tftp://127.0.0.1:${tftp.port}/nothing-here`)).rejects.toThrow(
    `tftp://127.0.0.1:${tftp.port}/nothing-here: tftp server error 1 (File not found)`,
  );
});
