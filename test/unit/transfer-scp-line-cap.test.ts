import { maxControlLine, ScpReceiver } from '../../src/transfer/scp-protocol';

test('an endless scp control line fails once it passes the cap, without buffering the flood', async () => {
  const receiver = new ScpReceiver(() => undefined);
  const failed = new Promise<Error>((resolve) => receiver.on('error', resolve));
  const chunk = Buffer.alloc(64 * 1024, 'C');
  let written = 0;
  // A flooding sender: 64 KiB chunks of one line that never ends (today it reached 3.5 GB RSS).
  while (written < 64 * 1024 * 1024 && !receiver.destroyed) {
    receiver.write(chunk);
    written += chunk.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const err = await failed;
  expect(err.message).toBe(`scp control line longer than ${maxControlLine} bytes: the sender is not scp`);
  expect(written).toBeLessThanOrEqual(128 * 1024);
});
