import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from '../domain/rules';
import { decodePacket, encodeAck, encodeError, encodeRrq, TftpErrorCode } from './tftp-packets';
import { TransferError } from './errors';

/** Options of one TFTP read. */
export interface TftpReadOptions {
  /** Block size to ask for (RFC 2348), 8..65464. Default 1468: one block per 1500-byte Ethernet frame. */
  blksize?: number;
  /** Wait for the next packet before retransmitting, in ms. Default 1000. */
  retransmitMs?: number;
  /** Retransmissions of one packet before giving up. Default 5. */
  retries?: number;
  /** Aborting sends the server an ERROR and rejects with TransferError 'aborted'. */
  signal?: AbortSignal;
}

/** Receives each block in order; returning 'stop' ends the transfer early (the server is told). */
export type BlockSink = (data: Buffer, tsize: number | undefined) => void | 'stop' | Promise<void | 'stop'>;

interface Datagram {
  msg: Buffer;
  rinfo: RemoteInfo;
}

/** Datagrams as an awaitable queue, so the protocol reads as a sequential loop. */
class Inbox {
  private queue: Datagram[] = [];
  private waiter: ((d: Datagram | undefined) => void) | undefined;

  constructor(socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) waiter({ msg, rinfo });
      else this.queue.push({ msg, rinfo });
    });
  }

  /** The next datagram, or undefined after `timeoutMs`. */
  next(timeoutMs: number): Promise<Datagram | undefined> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = (d) => {
        clearTimeout(timer);
        resolve(d);
      };
    });
  }

  /** Wakes a pending next() with undefined. */
  wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(undefined);
  }
}

function serverError(code: number, message: string, where: string): TransferError {
  const text = `${where}: tftp server error ${code}${message ? ` (${message})` : ''}`;
  if (code === TftpErrorCode.fileNotFound || code === TftpErrorCode.accessViolation)
    return new TransferError('not-found', text);
  return new TransferError('protocol', text);
}

function bindLocal(host: string): Promise<Socket> {
  const socket = createSocket('udp4');
  // A loopback server is answered from loopback; anything else from any interface.
  const address = host.startsWith('127.') || host === 'localhost' ? '127.0.0.1' : undefined;
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: 0, address }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * Reads `file` from a TFTP server (RFC 1350, octet mode), negotiating blksize and tsize (RFC 2347–2349)
 * and falling back to 512-byte blocks when the server ignores options. Block numbers roll over past
 * 65535, so images bigger than 32 MiB work. Lost packets are recovered by retransmitting on timeout
 * only (never on duplicates: RFC 1123's "Sorcerer's Apprentice" fix).
 */
export async function tftpRead(
  host: string,
  port: number,
  file: string,
  sink: BlockSink,
  options: TftpReadOptions = {},
): Promise<{ bytes: number; stoppedEarly: boolean }> {
  const where = `tftp://${host}:${port}/${file}`;
  const requested = options.blksize ?? 1468;
  if (!Number.isInteger(requested) || requested < 8 || requested > 65464)
    throw new RangeError(`tftp blksize must be an integer 8..65464, got ${requested}`);
  const retransmitMs = options.retransmitMs ?? 1000;
  const retries = options.retries ?? 5;
  const signal = options.signal;
  if (signal?.aborted) throw new TransferError('aborted', `transfer from ${where} aborted`);

  // The first reply fixes the server's transfer port (its TID), but only a reply from the server's
  // own address may do so: any other host on the network could otherwise inject the image.
  const serverAddress = isIPv4(host) ? host : (await lookup(host, { family: 4 })).address;
  const socket = await bindLocal(host);
  const inbox = new Inbox(socket);
  const onAbort = () => inbox.wake();
  signal?.addEventListener('abort', onAbort, { once: true });
  // Resolves once the datagram left: the last ACK or an ERROR must go out before the socket closes.
  const send = (buf: Buffer, to: { port: number; address: string }) =>
    new Promise<void>((resolve) => socket.send(buf, to.port, to.address, () => resolve()));

  let peer: { port: number; address: string } | undefined;
  let lastSent = encodeRrq(file, { blksize: String(requested), tsize: '0' });
  let blksize = 512;
  let tsize: number | undefined;
  let expected = 1;
  let bytes = 0;
  let tries = 0;

  try {
    void send(lastSent, { port, address: host });
    for (;;) {
      const got = await inbox.next(retransmitMs);
      if (signal?.aborted) {
        if (peer) await send(encodeError(TftpErrorCode.notDefined, 'transfer aborted by client'), peer);
        throw new TransferError('aborted', `transfer from ${where} aborted`);
      }
      if (!got) {
        tries += 1;
        if (tries > retries) {
          throw peer
            ? new TransferError(
                'timeout',
                `${where} stalled after ${bytes} bytes (no packet for ${retries + 1} tries)`,
              )
            : new TransferError(
                'unreachable',
                `no answer from tftp server ${host}:${port} after ${retries + 1} tries`,
              );
        }
        void send(lastSent, peer ?? { port, address: host });
        continue;
      }
      if (
        got.rinfo.address !== serverAddress ||
        (peer && (got.rinfo.port !== peer.port || got.rinfo.address !== peer.address))
      ) {
        void send(encodeError(TftpErrorCode.unknownTid, 'unknown transfer ID'), got.rinfo);
        continue;
      }
      let packet;
      try {
        packet = decodePacket(got.msg);
      } catch {
        continue;
      }
      peer ??= { port: got.rinfo.port, address: got.rinfo.address };

      if (packet.op === 'error') throw serverError(packet.code, packet.message, where);
      if (packet.op === 'oack' && expected === 1 && bytes === 0) {
        const offered = Number(packet.options.blksize ?? 512);
        if (!Number.isInteger(offered) || offered < 8 || offered > requested) {
          await send(
            encodeError(TftpErrorCode.optionRefused, `blksize ${packet.options.blksize} not acceptable`),
            peer,
          );
          throw new TransferError(
            'protocol',
            `${where}: server offered blksize ${packet.options.blksize}, asked for ${requested}`,
          );
        }
        blksize = offered;
        if (packet.options.tsize !== undefined) tsize = Number(packet.options.tsize);
        lastSent = encodeAck(0);
        tries = 0;
        void send(lastSent, peer);
        continue;
      }
      if (packet.op !== 'data' || packet.block !== (expected & 0xffff)) continue;

      tries = 0;
      bytes += packet.data.length;
      if ((await sink(packet.data, tsize)) === 'stop') {
        await send(encodeError(TftpErrorCode.notDefined, 'client has read enough'), peer);
        return { bytes, stoppedEarly: true };
      }
      lastSent = encodeAck(packet.block);
      expected += 1;
      if (packet.data.length < blksize) {
        await send(lastSent, peer);
        return { bytes, stoppedEarly: false };
      }
      void send(lastSent, peer);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    socket.close();
  }
}
