import type * as Devkit from '../../devkit';
import { UsageError } from './exit-codes';

/**
 * Loads the dev kit (simulator, image-server launchers, demo) for `ciu simulate` and `ciu start`. It is
 * not part of a production install (the worker image leaves it out), which this says plainly.
 */
export async function loadDevkit(): Promise<typeof Devkit> {
  try {
    return await import('../../devkit');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && !/devkit[/\\]./.test(String(err)))
      throw new UsageError(
        'this installation has no dev kit (devkit/): `ciu simulate` and `ciu start` run from a source checkout',
      );
    throw err;
  }
}
