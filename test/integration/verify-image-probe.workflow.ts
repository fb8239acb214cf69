import { proxyActivities } from '@temporalio/workflow';
import type { UpgradeActivities, VerifiedImage, VerifyImageInput } from '../../activities/types';

// Up to three tries, quickly: enough to see that only transient failures are retried.
const { verifyImage } = proxyActivities<Pick<UpgradeActivities, 'verifyImage'>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 1 },
});

/** Test workflow: verifies one image, as masterUpgrade does before dispatching. */
export async function verifyImageProbe(input: VerifyImageInput): Promise<VerifiedImage> {
  return verifyImage(input);
}
