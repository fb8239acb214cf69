import type * as Devkit from '../../devkit';
import type * as DevkitBinaries from '../../devkit/temporal/binaries';
import { UsageError } from './exit-codes';

/**
 * Loads the dev kit (simulator, image-server launchers, demo) for `ciu simulate` and `ciu start`. It is
 * not part of a production install (the worker image leaves it out), which this says plainly.
 */
export async function loadDevkit(): Promise<typeof Devkit> {
  return guarded('devkit', () => import('../../devkit'));
}

/** Only where the dev kit finds the Temporal binaries (`ciu temporal`): not the simulator and the rest. */
export async function loadDevkitBinaries(): Promise<typeof DevkitBinaries> {
  return guarded('devkit/temporal/binaries', () => import('../../devkit/temporal/binaries'));
}

/** `load()`, or a UsageError when `module` itself is missing (not a module it imports). */
async function guarded<T>(module: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const missing = /Cannot find module '([^']+)'/.exec(String(err))?.[1] ?? '';
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && missing.endsWith(module))
      throw new UsageError(
        'this installation has no dev kit (devkit/): `ciu simulate`, `ciu start` and `ciu temporal` run from a source checkout',
      );
    throw err;
  }
}
