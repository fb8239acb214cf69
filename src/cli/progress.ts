import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { CampaignStatus, ControllerStatus } from '../domain/status';
import { downloadActivityTypes } from '../domain/download-activities';
import { controllerWorkflowId } from '../../workflows/definitions';

/** The first heartbeat detail of a child's pending download activity (downloadActivityTypes), if it has one. */
export type DownloadHeartbeat = (childWorkflowId: string) => Promise<unknown>;

/**
 * The master's status carries bytes only for finished downloads; a download in flight reports them
 * in its activity heartbeats. This adds them for every downloading controller, from the child's
 * pending downloadImage activity (one describe per downloading controller — max-downloads bounds it).
 */
export async function addLiveProgress(
  status: CampaignStatus,
  heartbeatOf: DownloadHeartbeat,
): Promise<CampaignStatus> {
  const controllers = await Promise.all(
    status.controllers.map(async (c): Promise<ControllerStatus> => {
      if (c.state !== 'downloading') return c;
      try {
        const details = await heartbeatOf(controllerWorkflowId(status.campaign, c.ip));
        if (typeof details !== 'object' || details === null) return c;
        const { bytes, totalBytes } = details as { bytes?: unknown; totalBytes?: unknown };
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

/** addLiveProgress through the SDK client, for a process that holds one anyway (the demo). */
export function withLiveProgress(client: Client, status: CampaignStatus): Promise<CampaignStatus> {
  return addLiveProgress(status, async (workflowId) => {
    const { raw } = await client.workflow.getHandle(workflowId).describe();
    const download = raw.pendingActivities?.find((a) =>
      downloadActivityTypes.includes(a.activityType?.name ?? ''),
    );
    const payload = download?.heartbeatDetails?.payloads?.[0];
    return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
  });
}

/** Download rates per controller from successive status snapshots (bytes per second since the last one). */
export class DownloadRates {
  private readonly seen = new Map<string, { bytes: number; at: number }>();
  private readonly rates = new Map<string, number>();

  /** Takes a snapshot taken at `at` (ms) and returns the rate of every download in flight that has one. */
  update(status: CampaignStatus, at: number = Date.now()): ReadonlyMap<string, number> {
    const downloading = new Set<string>();
    for (const c of status.controllers) {
      if (c.state !== 'downloading' || c.bytes === undefined) continue;
      downloading.add(c.ip);
      const before = this.seen.get(c.ip);
      // Bytes come from heartbeats, which reach Temporal every few seconds (the worker throttles them),
      // while snapshots come every second: a rate spans two changes, and holds between them.
      if (before && c.bytes === before.bytes) continue;
      // A new attempt starts again from 0 bytes: no rate until its bytes change.
      if (before && c.bytes > before.bytes && at > before.at)
        this.rates.set(c.ip, ((c.bytes - before.bytes) * 1000) / (at - before.at));
      else this.rates.delete(c.ip);
      this.seen.set(c.ip, { bytes: c.bytes, at });
    }
    for (const ip of [...this.seen.keys()])
      if (!downloading.has(ip)) {
        this.seen.delete(ip);
        this.rates.delete(ip);
      }
    return this.rates;
  }
}

/**
 * The terminal control that makes the next frame replace `previous` in place: the cursor goes back to
 * the frame's first line and everything below it is cleared. Empty when nothing was drawn yet.
 */
export function redrawControl(previous: string | undefined): string {
  const lines = previous ? previous.split('\n').length - 1 : 0;
  return lines > 0 ? `\x1b[${lines}F\x1b[J` : '';
}
