import { cleanText } from '../domain/clean-text';

/** Why a transfer failed, as a stable code the activities map to failure types. */
export type TransferErrorCode =
  'unreachable' | 'auth' | 'not-found' | 'host-key' | 'aborted' | 'protocol' | 'timeout';

/**
 * A failed image-server transfer. The message names the server and file, never a password; what the
 * server said in it is cleaned of control characters (it ends up on terminals and in the Web UI).
 */
export class TransferError extends Error {
  override readonly name = 'TransferError';
  constructor(
    readonly code: TransferErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(cleanText(message), options);
  }
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Maps a socket-level error (ECONNREFUSED, ETIMEDOUT, …) to a TransferError, or undefined. */
export function socketError(err: unknown, where: string): TransferError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  if (UNREACHABLE.has(code))
    return new TransferError('unreachable', `${where} is unreachable (${code})`, { cause: err });
  if (code === 'ETIMEDOUT') return new TransferError('timeout', `${where} timed out`, { cause: err });
  return undefined;
}

/** The error an aborted transfer rejects with. */
export function abortedError(where: string): TransferError {
  return new TransferError('aborted', `transfer from ${where} aborted`);
}
