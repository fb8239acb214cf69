import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ScpReceiver, ScpRefusal, shellQuote } from '../../src/transfer/scp-protocol';

// The sink side of `scp -f`: what the sender writes, split into arbitrary chunks, becomes the file.
async function receive(chunks: Buffer[]): Promise<{ data: Buffer; acks: number; size: number | undefined }> {
  let acks = 0;
  const receiver = new ScpReceiver(() => acks++);
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    receiver,
    new Writable({
      write(chunk: Buffer, _e, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return { data: Buffer.concat(out), acks, size: receiver.size };
}

function bytewise(buf: Buffer): Buffer[] {
  return [...buf].map((b) => Buffer.from([b]));
}

const file = Buffer.from('header+payload bytes\n with a newline and \x00 NULs \x01');
const wire = Buffer.concat([Buffer.from(`C0644 ${file.length} image\n`), file, Buffer.from([0])]);

test('reads the announced bytes exactly, acknowledging the C line and the final status', async () => {
  expect(await receive([wire])).toEqual({ data: file, acks: 2, size: file.length });
});

test('the same, with the sender’s bytes arriving one at a time', async () => {
  expect(await receive(bytewise(wire))).toEqual({ data: file, acks: 2, size: file.length });
});

test('a T (times) line is acknowledged and skipped; an empty file works', async () => {
  const empty = Buffer.concat([Buffer.from('T1700000000 0 1700000000 0\nC0644 0 empty\n'), Buffer.from([0])]);
  expect(await receive([empty])).toEqual({ data: Buffer.alloc(0), acks: 3, size: 0 });
});

test('the sender’s refusal surfaces as ScpRefusal with its text', async () => {
  const refusal = Buffer.from('\x01scp: ArubaOS_x: No such file or directory\n');
  await expect(receive([refusal])).rejects.toThrow(
    new ScpRefusal(false, 'scp: ArubaOS_x: No such file or directory'),
  );
});

test('a stream that ends before the file is complete is an error', async () => {
  await expect(receive([wire.subarray(0, wire.length - 5)])).rejects.toThrow(
    'scp stream ended early (while reading payload)',
  );
});

test('an unexpected control line is an error naming it', async () => {
  await expect(receive([Buffer.from('D0755 0 dir\n')])).rejects.toThrow(
    'unexpected scp control line "D0755 0 dir"',
  );
});

test('paths are single-quoted for the remote shell, quotes included', () => {
  expect(shellQuote("Aruba OS's image")).toBe(`'Aruba OS'\\''s image'`);
});
