import { executeChild, proxyActivities } from '@temporalio/workflow';

const { touch } = proxyActivities<{ touch(ip: string): Promise<void> }>({ startToCloseTimeout: '1 minute' });

/** Baseline child: one activity, nothing else. */
export async function baselineChild(ip: string): Promise<void> {
  await touch(ip);
}

/** Baseline parent: one child per target, all at once, no verification, throttling or status. */
export async function baselineParent(ips: string[]): Promise<number> {
  await Promise.all(
    ips.map((ip) => executeChild(baselineChild, { workflowId: `${ip}-baseline-${ips.length}`, args: [ip] })),
  );
  return ips.length;
}
