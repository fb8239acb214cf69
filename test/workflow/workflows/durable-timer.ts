import { sleep } from '@temporalio/workflow';

/** Harness check: a 15-minute durable timer that must complete at once under time skipping. */
export async function fifteenMinuteTimer(): Promise<string> {
  await sleep('15 minutes');
  return 'woke';
}
