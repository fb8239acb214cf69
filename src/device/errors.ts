import type { FailureType } from '../domain/errors';

/**
 * A controller operation that failed, classified by a stable failure type (src/domain/errors.ts).
 * The message names the controller and the cause — the controller's own words where it gave any —
 * and never carries a password.
 */
export class DeviceError extends Error {
  override readonly name = 'DeviceError';
  constructor(
    readonly failureType: FailureType,
    readonly controller: string,
    message: string,
  ) {
    super(message);
  }
}
