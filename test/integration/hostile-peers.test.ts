/** Image servers that drip: the header read ends at its overall deadline, not when the server likes. */
import { createServer, type Server } from 'node:http';
import { freePort } from '../../devkit/temporal/free-port';
import { readHeader, TransferError } from '../../src/transfer';
import { HEADER_SIZE } from '../../src/image';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

test('an HTTP server dripping one byte every 200 ms is cut off at the header-read deadline', async () => {
  const host = '127.0.0.1';
  const port = await freePort(host);
  server = createServer((_req, res) => {
    res.writeHead(206, { 'content-length': String(HEADER_SIZE) });
    // Each byte arrives well inside the idle timeout, so only an overall deadline can stop the read.
    const drip = setInterval(() => res.write('x'), 200);
    res.on('close', () => clearInterval(drip));
  });
  await new Promise<void>((resolve) => server!.listen(port, host, resolve));
  const started = Date.now();
  const err = await readHeader(
    { protocol: 'http', host, port, timeoutMs: 5_000, deadlineMs: 2_000 },
    'image',
    HEADER_SIZE,
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransferError);
  expect((err as TransferError).code).toBe('timeout');
  expect((err as TransferError).message).toBe(
    `http://${host}:${port}/image: the header read took longer than its 2000 ms deadline`,
  );
  expect(Date.now() - started).toBeLessThan(4_000);
});
