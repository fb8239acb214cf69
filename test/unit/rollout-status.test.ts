/** How the rollout states read: the status table, --exit-status, and the Web UI's current details. */
import { campaignProblem } from '../../src/cli/commands/campaign';
import { renderStatusTable, stateText } from '../../src/cli/status-table';
import type { CampaignStatus, ControllerStatus } from '../../src/domain/status';
import { ControllerProgress } from '../../workflows/controller-progress';
import { a7210, verifiedImage } from './upgrade-fixtures';

const now = new Date('2026-11-27T12:00:00Z');
const row = (fields: Partial<ControllerStatus>): ControllerStatus => ({
  ip: '10.1.4.17',
  model: 'A7210',
  role: 'local',
  state: 'pending',
  attempts: 1,
  ...fields,
});

test('waiting for a window says which one and until when, in the state and the next-retry column', () => {
  const waiting = row({
    state: 'waiting-window',
    window: 'reboot',
    windowOpensAt: '2026-11-28T01:00:00.000Z',
  });
  expect(stateText(waiting)).toBe('Waiting for maintenance window (reboot) until 2026-11-28T01:00:00Z');
  expect(renderStatusTable([waiting], { now, width: 0 })).toMatch(/\(in 13h\)/);
});

test('pre-check failures and roll-backs read as ArubaOS-style words with their cause, and fail --exit-status', () => {
  const table = renderStatusTable(
    [
      row({ state: 'pre-check-failed', lastError: 'FlashFull: pre-check failed: 1.0 KiB free on flash' }),
      row({ ip: '10.1.4.18', state: 'rolled-back', lastError: 'VersionMismatchAfterReboot: …; rolled back' }),
    ],
    { now, width: 0 },
  );
  expect(table).toMatch(/10\.1\.4\.17 .*Pre-check failed .*FlashFull: pre-check failed/);
  expect(table).toMatch(/10\.1\.4\.18 .*Rolled back .*rolled back/);
  for (const state of ['pre-check-failed', 'rolled-back'] as const) {
    const status = { phase: 'running', controllers: [row({ state })] } as unknown as CampaignStatus;
    expect(campaignProblem(status)).toBe('has failed controllers');
  }
});

test("the Web UI's current details show the window, and it goes once the controller moves on", () => {
  const progress = new ControllerProgress(
    {
      controller: a7210('10.1.4.17'),
      source: { imageFile: 'ArubaOS_72xx_6.4.0.0_81234', server: { host: '127.0.0.1' }, protocol: 'ftp' },
      image: verifiedImage,
      quickTries: 3,
    },
    { attempts: 0, cycles: 0, run: 1 },
  );
  progress.set(
    { state: 'waiting-window', window: 'download', windowOpensAt: '2026-11-28T22:00:00.000Z' },
    now,
  );
  expect(progress.details()).toBe(
    '**Waiting for maintenance window**\n\ndownload window opens at 2026-11-28T22:00:00.000Z',
  );
  progress.set({ state: 'downloading', attempt: 1 }, now);
  expect(progress.status.windowOpensAt).toBeUndefined();
  expect(progress.status.window).toBeUndefined();
});
