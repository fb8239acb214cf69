import type { UpgradeProfile } from '../src/domain/types';
import type { ControllerUpgradeInput } from './controller-upgrade';

/**
 * The profile's rollout controls as a child's input fields: only the ones set, so a campaign without
 * them starts children with exactly the input it always did.
 */
export function rolloutArgs(
  profile: UpgradeProfile,
): Pick<ControllerUpgradeInput, 'preChecks' | 'fallback' | 'downloadWindow' | 'rebootWindow' | 'startAt'> {
  const { preChecks, fallback, downloadWindow, rebootWindow, startAt } = profile;
  return {
    ...(preChecks === undefined ? {} : { preChecks }),
    ...(fallback === undefined ? {} : { fallback }),
    ...(downloadWindow === undefined ? {} : { downloadWindow }),
    ...(rebootWindow === undefined ? {} : { rebootWindow }),
    ...(startAt === undefined ? {} : { startAt }),
  };
}
