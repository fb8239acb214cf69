import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HEADER_SIZE,
  ImageFormatError,
  buildImage,
  describeImageHeader,
  inspectImageFile,
  verifyImageFile,
} from '../../src/image';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ciu-image-file-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function codeOf(work: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageFormatError);
  return { code: (err as ImageFormatError).code, message: (err as Error).message };
}

test('an image built from a payload file carries its length and SHA-256, and verifies', async () => {
  const payload = Buffer.alloc(3 * 1024 * 1024 + 5, 0xa5);
  const payloadFile = join(dir, 'payload.bin');
  await writeFile(payloadFile, payload);
  const out = join(dir, 'ArubaOS_72xx_6.4.0.0_81234');
  const header = await buildImage({
    payload: payloadFile,
    imageType: '72xx',
    version: '6.4.0.0',
    build: 81234,
    out,
  });
  expect(header).toEqual({
    formatVersion: 1,
    imageType: '72xx',
    version: '6.4.0.0',
    build: 81234,
    payloadLength: payload.length,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
  });
  const bytes = await readFile(out);
  expect(bytes.length).toBe(HEADER_SIZE + payload.length);
  expect(bytes.subarray(HEADER_SIZE).equals(payload)).toBe(true);
  await expect(inspectImageFile(out)).resolves.toEqual(header);
  await expect(verifyImageFile(out)).resolves.toEqual(header);
});

test('an image built from a buffer verifies, and its description is print-ready', async () => {
  const out = join(dir, 'img');
  const header = await buildImage({
    payload: Buffer.from('tiny'),
    imageType: 'MMC',
    version: '6.3.1.0',
    build: 7,
    out,
  });
  await expect(verifyImageFile(out)).resolves.toEqual(header);
  expect(describeImageHeader(header, out)).toBe(
    [
      `source      ${out}`,
      'format      ciu image v1',
      'image type  MMC',
      'version     6.3.1.0',
      'build       7',
      'payload     4 bytes',
      `sha256      ${header.payloadSha256}`,
      'signed by   nobody (unsigned)',
    ].join('\n'),
  );
});

test('a bad field fails before any file is written', async () => {
  const out = join(dir, 'never');
  const err = await codeOf(
    buildImage({ payload: Buffer.from('x'), imageType: '72xx', version: 'v6', build: 1, out }),
  );
  expect(err.code).toBe('bad-field');
  expect(existsSync(out)).toBe(false);
});

describe('a damaged image', () => {
  let out: string;
  beforeEach(async () => {
    out = join(dir, 'img');
    await buildImage({
      payload: Buffer.alloc(10_000, 1),
      imageType: '70xx',
      version: '6.4.0.0',
      build: 2,
      out,
    });
  });

  test('cut short is truncated', async () => {
    await truncate(out, HEADER_SIZE + 9_000);
    expect(await codeOf(verifyImageFile(out))).toEqual({
      code: 'truncated',
      message: `image ${out} is truncated: 9000 payload bytes, the header announces 10000`,
    });
    // The header alone is still fine: inspect reads nothing else.
    await expect(inspectImageFile(out)).resolves.toMatchObject({ payloadLength: 10_000 });
  });

  test('with bytes appended is a payload mismatch', async () => {
    await appendFile(out, 'junk');
    expect(await codeOf(verifyImageFile(out))).toEqual({
      code: 'payload-mismatch',
      message: `image ${out} has 4 bytes after the 10000-byte payload`,
    });
  });

  test('with one payload byte changed is a payload mismatch naming both hashes', async () => {
    const file = await open(out, 'r+');
    await file.write(Buffer.from([2]), 0, 1, HEADER_SIZE + 5000);
    await file.close();
    const err = await codeOf(verifyImageFile(out));
    expect(err.code).toBe('payload-mismatch');
    expect(err.message).toMatch(/payload SHA-256 is [0-9a-f]{64}, the header says [0-9a-f]{64}$/);
  });

  test('cut inside the header is a truncated header', async () => {
    await truncate(out, 10);
    expect((await codeOf(inspectImageFile(out))).message).toBe(
      'image header truncated: got 10 bytes, need 256',
    );
  });
});
