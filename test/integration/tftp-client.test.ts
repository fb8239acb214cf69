import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { TransferError } from '../../src/transfer';
import { tftpRead } from '../../src/transfer/tftp-client';
import {
  decodePacket,
  encodeData,
  encodeError,
  encodeOack,
  type TftpPacket,
} from '../../src/transfer/tftp-packets';

// The client against a scripted TFTP server in this process, over loopback UDP (one layer: the wire
// protocol). The same client is proven against the real tftpd-hpa in transfer-servers.test.ts.

interface FakeOptions {
  content: Buffer;
  /** Answer options with an OACK (default true). */
  options?: boolean;
  /** Block size the OACK offers instead of the one asked for. */
  offerBlksize?: number;
  /** Blocks whose first transmission is lost. */
  drop?: number[];
  /** A block sent twice. */
  duplicate?: number;
  /** Answer the read request with this error. */
  rrqError?: [number, string];
  /** Send one stray packet to the client from another port after this block. */
  rogueAfter?: number;
  /** Before the server answers, another loopback address sends the client a forged one-block file. */
  spoofFrom?: string;
}

interface Fake {
  port: number;
  rrqs: TftpPacket[];
  acks: number[];
  errorsReceived: Array<{ code: number; message: string }>;
  rogueGot: TftpPacket[];
  /** The client acknowledged the last block. */
  acknowledgedAll: boolean;
  /** Resolves once `check` holds, checked on every packet the fake receives (fails after 5 s). */
  until(check: () => boolean): Promise<void>;
  close(): void;
}

function bind(socket: Socket): Promise<number> {
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket.address().port)));
}

async function startFake(opts: FakeOptions): Promise<Fake> {
  const listener = createSocket('udp4');
  const sockets: Socket[] = [listener];
  const waiters: Array<() => boolean> = [];
  const heard = () => {
    for (const waiter of [...waiters]) if (waiter()) waiters.splice(waiters.indexOf(waiter), 1);
  };
  const fake: Fake = {
    port: await bind(listener),
    rrqs: [],
    acks: [],
    errorsReceived: [],
    rogueGot: [],
    acknowledgedAll: false,
    until: (check) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the fake never heard: ${check.toString()}`)), 5000);
        const waiter = () => check() && (clearTimeout(timer), resolve(), true);
        if (!waiter()) waiters.push(waiter);
      }),
    close: () => sockets.forEach((s) => s.close()),
  };

  listener.on('message', (msg, client) => {
    const rrq = decodePacket(msg);
    if (rrq.op !== 'rrq') return;
    fake.rrqs.push(rrq);
    const session = createSocket('udp4');
    sockets.push(session);
    if (opts.spoofFrom) {
      const spoofer = createSocket('udp4');
      sockets.push(spoofer);
      spoofer.bind(0, opts.spoofFrom, () =>
        spoofer.send(encodeData(1, Buffer.from('forged image')), client.port, client.address),
      );
    }
    const delay = opts.spoofFrom ? 30 : 0;
    void bind(session).then(() => setTimeout(() => serve(session, client, rrq), delay));
  });

  function serve(session: Socket, client: RemoteInfo, rrq: Extract<TftpPacket, { op: 'rrq' }>) {
    const send = (buf: Buffer) => session.send(buf, client.port, client.address);
    if (opts.rrqError) return send(encodeError(...opts.rrqError));
    const negotiate = opts.options !== false && rrq.options.blksize !== undefined;
    const blksize = negotiate ? (opts.offerBlksize ?? Number(rrq.options.blksize)) : 512;
    const blocks = Math.floor(opts.content.length / blksize) + 1;
    const dropped = new Set<number>();
    let current = 0;
    const sendBlock = (n: number) => {
      if (opts.drop?.includes(n) && !dropped.has(n)) return dropped.add(n);
      const data = encodeData(n, opts.content.subarray((n - 1) * blksize, n * blksize));
      send(data);
      if (opts.duplicate === n) send(data);
      if (opts.rogueAfter === n) {
        const rogue = createSocket('udp4');
        sockets.push(rogue);
        rogue.on('message', (m) => {
          fake.rogueGot.push(decodePacket(m));
          heard();
        });
        void bind(rogue).then(() =>
          rogue.send(encodeData(n + 1, Buffer.from('forged')), client.port, client.address),
        );
      }
    };
    session.on('message', (msg) => {
      const packet = decodePacket(msg);
      if (packet.op === 'error') fake.errorsReceived.push({ code: packet.code, message: packet.message });
      if (packet.op === 'ack') {
        fake.acks.push(packet.block);
        if (packet.block === (current & 0xffff)) {
          if (current === blocks) fake.acknowledgedAll = true;
          else sendBlock(++current);
        } else if (packet.block === ((current - 1) & 0xffff)) {
          sendBlock(current);
        }
      }
      heard();
    });
    if (negotiate) send(encodeOack({ blksize: String(blksize), tsize: String(opts.content.length) }));
    else {
      current = 1;
      sendBlock(1);
    }
  }
  return fake;
}

let fake: Fake | undefined;
afterEach(() => {
  fake?.close();
  fake = undefined;
});

async function readAll(port: number, options: Parameters<typeof tftpRead>[4] = {}) {
  const chunks: Buffer[] = [];
  const sizes: Array<number | undefined> = [];
  const result = await tftpRead(
    '127.0.0.1',
    port,
    'image',
    (data, tsize) => {
      chunks.push(Buffer.from(data));
      sizes.push(tsize);
    },
    // Long enough that a loaded CI machine never retransmits by accident, so the ACKs are exact; the
    // tests about loss pass a short one.
    { retransmitMs: 2000, ...options },
  );
  // The client resolves once it has sent its last ACK; the fake may not have read it yet.
  await fake?.until(() => fake?.acknowledgedAll === true);
  return { ...result, content: Buffer.concat(chunks), sizes };
}

test('negotiates blksize and tsize, then reads every block in order', async () => {
  const content = randomBytes(10_000);
  fake = await startFake({ content });
  const got = await readAll(fake.port, { blksize: 1000 });
  expect(got.content.equals(content)).toBe(true);
  expect(got.bytes).toBe(10_000);
  expect(fake.rrqs[0]).toMatchObject({
    file: 'image',
    mode: 'octet',
    options: { blksize: '1000', tsize: '0' },
  });
  // ACK 0 confirms the OACK; 10000 bytes in 1000-byte blocks end with an empty block 11.
  expect(fake.acks).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  expect(got.sizes.every((s) => s === 10_000)).toBe(true);
});

test('falls back to 512-byte blocks when the server ignores options', async () => {
  const content = randomBytes(1300);
  fake = await startFake({ content, options: false });
  const got = await readAll(fake.port, { blksize: 1468 });
  expect(got.content.equals(content)).toBe(true);
  expect(fake.acks).toEqual([1, 2, 3]);
});

test('a lost block is recovered by retransmitting the last ACK after the timeout', async () => {
  const content = randomBytes(5000);
  fake = await startFake({ content, drop: [3] });
  const got = await readAll(fake.port, { blksize: 1000, retransmitMs: 100 });
  expect(got.content.equals(content)).toBe(true);
  expect(fake.acks.filter((a) => a === 2)).toHaveLength(2);
});

test('a duplicated block is not acknowledged twice (no Sorcerer’s Apprentice)', async () => {
  const content = randomBytes(5000);
  fake = await startFake({ content, duplicate: 2 });
  const got = await readAll(fake.port, { blksize: 1000 });
  expect(got.content.equals(content)).toBe(true);
  expect(fake.acks.filter((a) => a === 2)).toHaveLength(1);
});

test('block numbers roll over past 65535', async () => {
  const content = randomBytes(8 * 65_540 + 3);
  fake = await startFake({ content });
  const got = await readAll(fake.port, { blksize: 8 });
  expect(got.content.equals(content)).toBe(true);
  expect(fake.acks.at(-1)).toBe(65_541 & 0xffff);
});

test('a packet from a stranger port gets "unknown transfer ID" and changes nothing', async () => {
  const content = randomBytes(3000);
  fake = await startFake({ content, rogueAfter: 1 });
  const got = await readAll(fake.port, { blksize: 1000 });
  expect(got.content.equals(content)).toBe(true);
  await fake.until(() => fake?.rogueGot.length === 1);
  expect(fake.rogueGot).toEqual([{ op: 'error', code: 5, message: 'unknown transfer ID' }]);
});

test('the server’s "file not found" becomes not-found, with its message', async () => {
  fake = await startFake({ content: Buffer.alloc(0), rrqError: [1, 'File not found'] });
  const err = await readAll(fake.port).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TransferError);
  expect(err).toMatchObject({
    code: 'not-found',
    message: `tftp://127.0.0.1:${fake.port}/image: tftp server error 1 (File not found)`,
  });
});

test('a block size larger than asked for is refused with error 8', async () => {
  fake = await startFake({ content: randomBytes(100), offerBlksize: 4096 });
  const err = await readAll(fake.port, { blksize: 1024 }).catch((e: unknown) => e);
  expect(err).toMatchObject({
    code: 'protocol',
    message: expect.stringContaining('offered blksize 4096, asked for 1024'),
  });
  await fake.until(() => fake?.errorsReceived.length === 1);
  expect(fake.errorsReceived[0]?.code).toBe(8);
});

test('stopping early tells the server and reports only what arrived', async () => {
  fake = await startFake({ content: randomBytes(100_000) });
  const result = await tftpRead('127.0.0.1', fake.port, 'image', () => 'stop', { blksize: 512 });
  expect(result).toEqual({ bytes: 512, stoppedEarly: true });
  await fake.until(() => fake?.errorsReceived.length === 1);
  expect(fake.errorsReceived).toEqual([{ code: 0, message: 'client has read enough' }]);
});

test('aborting mid-transfer rejects as aborted and tells the server', async () => {
  fake = await startFake({ content: randomBytes(100_000) });
  const controller = new AbortController();
  let blocks = 0;
  const err = await tftpRead(
    '127.0.0.1',
    fake.port,
    'image',
    () => {
      if (++blocks === 3) controller.abort();
    },
    { blksize: 512, signal: controller.signal },
  ).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: 'aborted' });
  await fake.until(() => fake?.errorsReceived.length === 1);
  expect(fake.errorsReceived[0]).toEqual({ code: 0, message: 'transfer aborted by client' });
});

test('no answer at all is unreachable after the retries', async () => {
  const silent = createSocket('udp4');
  const port = await bind(silent);
  try {
    const started = Date.now();
    const err = await tftpRead('127.0.0.1', port, 'image', () => undefined, {
      retransmitMs: 50,
      retries: 2,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'unreachable',
      message: `no answer from tftp server 127.0.0.1:${port} after 3 tries`,
    });
    // 3 × 50 ms; the client's own default (1 s a try) would take 3 s, so a loaded machine has room.
    expect(Date.now() - started).toBeLessThan(2500);
  } finally {
    silent.close();
  }
});

test('a block size outside RFC 2348’s range is refused before sending anything', async () => {
  await expect(tftpRead('127.0.0.1', 9, 'x', () => undefined, { blksize: 70_000 })).rejects.toThrow(
    'tftp blksize must be an integer 8..65464, got 70000',
  );
});

test('data from any address but the server’s is ignored, even before the server first answers', async () => {
  const content = randomBytes(3000);
  fake = await startFake({ content, spoofFrom: '127.0.0.2' });
  const got = await readAll(fake.port, { blksize: 1000 });
  expect(got.content.toString('hex')).toBe(content.toString('hex'));
});
