import {
  campaignProblem,
  campaignSettled,
  renderCampaignStatus,
  statusRequestFromOptions,
} from '../../src/cli/commands/campaign';
import { DownloadRates, redrawControl } from '../../src/cli/progress';
import { renderStatusTable, stateCounts, stateText } from '../../src/cli/status-table';
import type { CampaignStatus, ControllerStatus } from '../../src/domain/status';

const now = new Date('2026-11-27T08:00:00Z');

const controllers: ControllerStatus[] = [
  {
    ip: '127.20.1.10',
    model: 'A7210',
    role: 'local',
    state: 'upgraded',
    attempts: 1,
    runningVersion: '6.5.1.0',
    runningBuild: 100,
    targetVersion: '6.5.1.0',
    targetBuild: 100,
  },
  {
    ip: '127.20.1.11',
    model: 'A7210',
    role: 'standby',
    state: 'downloading',
    attempt: 2,
    attempts: 2,
    bytes: 512,
    totalBytes: 2048,
    runningVersion: '6.4.0.0',
    runningBuild: 90,
    targetVersion: '6.5.1.0',
    targetBuild: 100,
  },
  {
    ip: '127.20.2.10',
    model: 'A7005',
    role: 'local',
    state: 'waiting-retry',
    attempts: 3,
    nextRetryAt: '2026-11-27T08:12:00Z',
    lastError: 'DownloadFailed: 550 Failed to open file.\n(refused by fault switch)',
    runningVersion: '6.4.0.0',
    runningBuild: 90,
  },
  {
    ip: '127.20.2.11',
    model: 'A7005',
    role: 'local',
    state: 'not-targeted',
    attempts: 0,
    runningVersion: '6.3.0.0',
  },
];

/** A table row as the operator reads it: every cell's wrapped lines joined, cells joined by " | ". */
function rowOf(table: string, firstCell: string): string {
  const rows: string[][] = [];
  for (const line of table.split('\n').filter((l) => l.startsWith('│'))) {
    const cells = line
      .split('│')
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells[0] || !rows.length) rows.push(cells);
    else rows.at(-1)!.forEach((_, i, row) => (row[i] = [row[i], cells[i]].filter(Boolean).join(' ')));
  }
  const row = rows.find((r) => r[0] === firstCell);
  if (!row) throw new Error(`no row for ${firstCell}`);
  return row.join(' | ');
}

describe('show upgrade status table', () => {
  const table = renderStatusTable(controllers, { now });

  it('has the columns operators expect', () => {
    for (const column of [
      'IP',
      'Model',
      'Role',
      'Running',
      'Target',
      'State',
      'Attempts',
      'Next retry',
      'Last error',
    ])
      expect(rowOf(table, 'IP')).toContain(column);
  });

  it('shows ArubaOS labels, progress, retry times and whole errors per controller', () => {
    expect(rowOf(table, '127.20.1.10')).toMatch(
      /A7210.*local.*6\.5\.1\.0 \(100\).*6\.5\.1\.0 \(100\).*Upgraded.*1/,
    );
    expect(rowOf(table, '127.20.1.11')).toMatch(/standby.*6\.4\.0\.0 \(90\).*Downloading attempt 2 25%/);
    expect(rowOf(table, '127.20.2.10')).toMatch(
      /Waiting for retry.*3.*08:12:00 \(in 12m\).*DownloadFailed: 550 Failed to open file\. \(refused/,
    );
    expect(rowOf(table, '127.20.2.11')).toMatch(/Not part of target/);
  });

  it('shows an error an upgraded controller had on the way as history, not as a current problem', () => {
    const row = rowOf(
      renderStatusTable([{ ...controllers[0]!, attempts: 2, lastError: 'DownloadFailed: 550 refused' }], {
        now,
        width: 0,
      }),
      '127.20.1.10',
    );
    expect(row).toMatch(/Upgraded.*earlier: DownloadFailed: 550 refused/);
  });

  it('fits 120 columns by wrapping the cause of a failure, never cutting it', () => {
    const cause =
      'DownloadFailed: 550 Failed to open file. (refused by the image server 10.0.0.5:21 for user image-ftp after 3 tries, ' +
      'check the file name ArubaOS_72xx_6.5.1.0_66000 and the permissions of its directory)';
    const table = renderStatusTable([{ ...controllers[2]!, state: 'failed', lastError: cause }], { now });
    const lines = table.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    expect(lines.length).toBeGreaterThan(5);
    expect(rowOf(table, controllers[2]!.ip)).toContain(cause);
    expect(table).not.toContain('…');
  });

  it('keeps one line per controller with width 0 (--wide)', () => {
    const cause = `DownloadFailed: ${'no route to the image server '.repeat(8)}`.trim();
    const table = renderStatusTable([{ ...controllers[2]!, lastError: cause }], { now, width: 0 });
    expect(rowOf(table, controllers[2]!.ip)).toContain(cause);
    expect(table.split('\n').filter((l) => l.includes('127.20.')).length).toBe(1);
  });

  it('shows a progress bar per download with bytes of total and rate when rates are given', () => {
    const downloading = { ...controllers[1]!, bytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024 };
    const table = renderStatusTable([downloading], { now, rates: new Map([[downloading.ip, 512 * 1024]]) });
    expect(table).toContain('Progress');
    expect(rowOf(table, downloading.ip)).toContain('[##--------] 1.0 MiB of 4.0 MiB, 512.0 KiB/s');
  });

  it("fits 120 columns with downloads in flight beside a long cause (the demo's live view)", () => {
    const fleet: ControllerStatus[] = [
      { ...controllers[1]!, ip: '127.20.1.1', role: 'standby', bytes: 3_145_728, totalBytes: 4_194_816 },
      { ...controllers[1]!, ip: '127.20.2.129', bytes: 0, totalBytes: undefined },
      {
        ...controllers[2]!,
        state: 'waiting-retry',
        nextRetryAt: '2026-11-27T08:00:15Z',
        lastError:
          'DownloadFailed: refused by ftp://127.21.0.21:21/ArubaOS_70xx_6.5.1.0_66000: the image server closed the data connection (simulated fault)',
      },
    ];
    const rates = new Map([['127.20.1.1', 655_360]]);
    const table = renderStatusTable(fleet, { now, rates, quickTries: 3 });
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    expect(table).toContain('Progress');
    expect(rowOf(table, '127.20.1.1')).toContain('[#######---] 3.0 MiB of 4.0 MiB, 640.0 KiB/s');
    // Narrow as it is, the cause is all there (its long words split across lines).
    const squeezed = (text: string) => text.replace(/\s+/g, '');
    expect(squeezed(rowOf(table, '127.20.2.10'))).toContain(squeezed(fleet[2]!.lastError!));
  });

  it('labels the reboot-required and verification states the ArubaOS way', () => {
    expect(stateText({ ...controllers[0]!, state: 'downloaded-reboot-required' })).toBe(
      'Upgraded, reboot required',
    );
    expect(stateText(controllers[1]!, 3)).toBe('Downloading attempt 2/3 25%');
    expect(stateText({ ...controllers[0]!, state: 'waiting-verification' })).toBe(
      'Waiting, image not verified',
    );
  });

  it('counts states in lifecycle order', () => {
    expect(stateCounts(controllers)).toBe(
      '1 Downloading, 1 Waiting for retry, 1 Upgraded, 1 Not part of target',
    );
  });
});

describe('campaign status text', () => {
  const status: CampaignStatus = {
    campaign: 'demo',
    phase: 'verification-failed',
    revision: 2,
    verifications: [
      {
        model: 'A7005',
        imageFile: 'ArubaOS_70xx_bad',
        ok: false,
        error: 'bad header checksum',
        errorType: 'ImageVerificationFailed',
      },
      { model: 'A7210', imageFile: 'ArubaOS_72xx', ok: true, version: '6.5.1.0', build: 100 },
    ],
    unmatchedSelectors: ['10.9.9.9'],
    controllers: [],
    page: { offset: 0, limit: 250, total: 0 },
    counts: {},
    downloadSlots: { inUse: 0, max: 2, waiting: 0 },
  };

  it('reports failed verifications per model and unmatched targets', () => {
    const text = renderCampaignStatus(status, { now });
    expect(text).toContain(
      'Campaign demo — verification-failed, config revision 2, downloads 0/2 (0 waiting)',
    );
    expect(text).toContain('Image ArubaOS_70xx_bad for A7005 failed verification: bad header checksum');
    expect(text).not.toContain('ArubaOS_72xx for A7210 failed');
    expect(text).toContain('Targets matching no associated controller: 10.9.9.9');
    expect(campaignSettled(status)).toBe(true);
    expect(campaignSettled({ ...status, phase: 'verifying' })).toBe(false);
    expect(campaignSettled({ ...status, phase: 'running' })).toBe(false);
    expect(campaignSettled({ ...status, phase: 'completed' })).toBe(true);
  });

  it('prints an error text with newlines on one line', () => {
    const text = renderCampaignStatus(
      {
        ...status,
        verifications: [{ ...status.verifications[0]!, error: 'bad header\nchecksum 0x00' }],
        ignoredPurges: ['"a\nb": not an IPv4 address, CIDR subnet or all'],
      },
      { now },
    );
    expect(text).toContain('failed verification: bad header checksum 0x00');
    expect(text).toContain('Purges that did nothing: "a b": not');
  });

  it('--exit-status: a failed verification and failed controllers are problems, a clean run is not', () => {
    expect(campaignProblem(status)).toBe('failed: image verification failed, nothing was dispatched');
    const failed: ControllerStatus = { ...controllers[0]!, state: 'failed' };
    expect(
      campaignProblem({ ...status, phase: 'completed', controllers: [failed], counts: { failed: 1 } }),
    ).toBe('has failed controllers');
    // A failed controller on another page still counts.
    expect(
      campaignProblem({
        ...status,
        phase: 'completed',
        controllers: [],
        counts: { upgraded: 250, failed: 1 },
      }),
    ).toBe('has failed controllers');
    expect(
      campaignProblem({
        ...status,
        phase: 'completed',
        controllers: [controllers[0]!],
        counts: { upgraded: 1 },
      }),
    ).toBeUndefined();
  });
});

describe('status pages', () => {
  const page = (offset: number, shown: number, total: number): CampaignStatus => ({
    campaign: 'big',
    phase: 'running',
    revision: 1,
    verifications: [],
    unmatchedSelectors: [],
    controllers: Array.from({ length: shown }, (_, i) => ({
      ...controllers[0]!,
      ip: `10.1.${Math.floor((offset + i) / 256)}.${(offset + i) % 256}`,
    })),
    page: { offset, limit: 250, total },
    counts: { upgraded: 2_990, failed: 10 },
    downloadSlots: { inUse: 0, max: 10, waiting: 0 },
  });

  it('says which controllers a page shows, how to get the next, and counts the whole campaign', () => {
    const first = renderCampaignStatus(page(0, 250, 3_000), { now, width: 0 });
    expect(first).toContain('Controllers 1–250 of 3,000; next: --page 2');
    expect(first).toContain('2,990 Upgraded, 10 Failed');
    const last = renderCampaignStatus(page(2_750, 250, 3_000), { now, width: 0 });
    expect(last).toContain('Controllers 2,751–3,000 of 3,000');
    expect(last).not.toContain('next:');
    expect(renderCampaignStatus(page(3_000, 0, 3_000), { now })).toContain(
      'No controllers on this page (3,000 in all)',
    );
  });

  it('a whole fleet on one page gets no page line', () => {
    expect(renderCampaignStatus(page(0, 3, 3), { now })).not.toMatch(/Controllers \d|next:/);
  });

  it('--page, --state and --controller become the query request; bad values name the option', async () => {
    expect(await statusRequestFromOptions({ page: '3', state: 'failed' })).toEqual({
      offset: 500,
      state: 'failed',
    });
    expect(await statusRequestFromOptions({ page: '1', controller: '10.1.4.17' })).toEqual({
      offset: 0,
      controller: '10.1.4.17',
    });
    await expect(statusRequestFromOptions({ page: '0' })).rejects.toThrow(
      '--page must be a whole number, 1 or more',
    );
    await expect(statusRequestFromOptions({ page: '1', state: 'done' })).rejects.toThrow(
      /--state must be one of pending/,
    );
    await expect(statusRequestFromOptions({ page: '1', controller: '10.1.4.300' })).rejects.toThrow(
      '--controller must be an IPv4 address',
    );
  });
});

describe('live progress', () => {
  const downloading = (bytes: number): CampaignStatus => ({
    campaign: 'demo',
    phase: 'running',
    revision: 1,
    verifications: [],
    unmatchedSelectors: [],
    controllers: [{ ...controllers[1]!, bytes, totalBytes: 4096 }],
    page: { offset: 0, limit: 250, total: 1 },
    counts: {},
    downloadSlots: { inUse: 1, max: 2, waiting: 0 },
  });

  it('measures a download whose bytes arrive in heartbeats every few seconds, not between every snapshot', () => {
    // Heartbeats reach Temporal at most every 5 s; the table polls every second. 640 KiB/s throughout.
    const rates = new DownloadRates();
    const seen: Array<number | undefined> = [];
    for (let second = 0; second <= 12; second += 1) {
      const bytes = Math.floor(second / 5) * 5 * 655_360;
      seen.push(rates.update(downloading(bytes), second * 1000).get('127.20.1.11'));
    }
    expect(seen.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(seen.slice(5)).toEqual(Array(8).fill(655_360));
  });

  it('measures bytes per second between snapshots and starts over with a new attempt', () => {
    const rates = new DownloadRates();
    expect(rates.update(downloading(0), 1_000).size).toBe(0);
    expect(rates.update(downloading(2048), 3_000).get('127.20.1.11')).toBe(1024);
    expect(rates.update(downloading(100), 4_000).has('127.20.1.11')).toBe(false);
    expect(rates.update({ ...downloading(0), controllers: [] }, 5_000).size).toBe(0);
  });

  it('redraws a frame in place: back to its first line, then cleared below', () => {
    expect(redrawControl(undefined)).toBe('');
    expect(redrawControl('a\nb\n')).toBe('\x1b[2F\x1b[J');
  });
});
