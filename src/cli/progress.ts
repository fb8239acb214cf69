import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { CampaignStatus, ControllerStatus } from '../domain/status';
import { controllerWorkflowId } from '../../workflows/definitions';

/**
 * The master's status carries bytes only for finished downloads; a download in flight reports them
 * in its activity heartbeats. This adds them for every downloading controller, from the child's
 * pending downloadImage activity (one describe per downloading controller — max-downloads bounds it).
 */
export async function withLiveProgress(client: Client, status: CampaignStatus): Promise<CampaignStatus> {
  const controllers = await Promise.all(
    status.controllers.map(async (c): Promise<ControllerStatus> => {
      if (c.state !== 'downloading') return c;
      try {
        const { raw } = await client.workflow
          .getHandle(controllerWorkflowId(status.campaign, c.ip))
          .describe();
        const download = raw.pendingActivities?.find((a) => a.activityType?.name === 'downloadImage');
        const payload = download?.heartbeatDetails?.payloads?.[0];
        if (!payload) return c;
        const { bytes, totalBytes } = defaultPayloadConverter.fromPayload<{
          bytes?: number;
          totalBytes?: number;
        }>(payload);
        return {
          ...c,
          ...(typeof bytes === 'number' ? { bytes } : {}),
          ...(typeof totalBytes === 'number' ? { totalBytes } : {}),
        };
      } catch {
        return c; // the child just finished or moved on: the next refresh shows its new state
      }
    }),
  );
  return { ...status, controllers };
}
