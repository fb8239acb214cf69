import { createServer, type Server, type Socket } from 'node:net';
import { readHeader, TransferError } from '../../src/transfer';

// An image server that accepts the connection and closes it before answering (a vsftpd restarting,
// a proxy dropping it) is a transient outage, not a bad image: the master retries verification
// instead of failing the campaign as ImageVerificationFailed.
let server: Server;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.74.5.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  // The client may keep its half of the connection open; close() waits for every connection.
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

test('an FTP server that closes the connection unanswered is unreachable, not a protocol failure', async () => {
  const err = await readHeader(
    { protocol: 'ftp', host: '127.74.5.1', port },
    'ArubaOS_72xx_6.5.1.0_66000',
    256,
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TransferError);
  expect(err).toMatchObject({ code: 'unreachable' });
  expect((err as Error).message).toContain(
    `ftp://127.74.5.1:${port}/ArubaOS_72xx_6.5.1.0_66000 closed the connection`,
  );
});
