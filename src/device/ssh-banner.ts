import { connect } from 'node:net';
import { failureTypes } from '../domain/errors';
import { DeviceError } from './errors';

/** RFC 4253 §4.2 allows lines before the identification line; a server sending more than this is not one. */
const maxBannerBytes = 4096;

/**
 * The SSH identification line (`SSH-2.0-…`) a controller's SSH server sends as soon as a TCP
 * connection opens: proof that it listens again after a reload, for the cost of a TCP handshake —
 * no key exchange, no login. Rejects with ControllerUnreachable when nothing answers within
 * `timeoutMs` (default 2 s), the connection is refused or closed, or what arrives is not SSH.
 */
export function sshBanner(host: string, port: number, timeoutMs = 2000): Promise<string> {
  const target = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host, port });
    const fail = (cause: string) => {
      socket.destroy();
      reject(
        new DeviceError(
          failureTypes.controllerUnreachable,
          host,
          `controller ${target} unreachable: ${cause}`,
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail(`no SSH banner within ${timeoutMs} ms`));
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('connection closed before the SSH banner'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const line = received.split(/\r?\n/).find((l, i, all) => l.startsWith('SSH-') && i < all.length - 1);
      if (line !== undefined) {
        socket.removeAllListeners('close');
        socket.destroy();
        resolve(line);
      } else if (received.length > maxBannerBytes) fail('no SSH identification line in its first 4 KiB');
    });
  });
}
