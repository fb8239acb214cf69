import { createHash } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flash } from '../../devkit/simulator/flash';
import { HEADER_SIZE, buildImage } from '../../src/image';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ciu-flash-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const initial = { imageType: 'A72xx', version: '6.3.1.0', build: 40000 };

async function installed(payload: Buffer): Promise<{ flash: Flash; partition: string }> {
  const flash = await Flash.open(join(dir, 'flash'), initial);
  const download = join(dir, 'download.img');
  const header = await buildImage({ ...initial, version: '6.5.1.0', build: 66000, payload, out: download });
  await flash.install(1, download, header);
  return { flash, partition: join(dir, 'flash', 'partition1.img') };
}

test('`show image checksum` reports the payload as installed, and what a later change to the partition made of it', async () => {
  const payload = Buffer.alloc(64 * 1024, 'image bytes ');
  const { flash, partition } = await installed(payload);
  expect(await flash.actualSha256(1)).toBe(createHash('sha256').update(payload).digest('hex'));

  const handle = await open(partition, 'r+');
  await handle.write(Buffer.from('X'), 0, 1, HEADER_SIZE + 100);
  await handle.close();
  const changed = Buffer.from(payload);
  changed[100] = 'X'.charCodeAt(0);
  expect(await flash.actualSha256(1)).toBe(createHash('sha256').update(changed).digest('hex'));
  expect(await flash.actualSha256(0)).toMatch(/^[0-9a-f]{64}$/);
});

test('an empty partition has no checksum', async () => {
  const flash = await Flash.open(join(dir, 'flash'), initial);
  expect(await flash.actualSha256(1)).toBeUndefined();
});
