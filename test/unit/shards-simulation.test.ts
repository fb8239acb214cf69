import { shardSize, simulateShards } from '../../bench/shards';

// The 100,000 plan on a virtual clock (bench/shards.ts): 100 shards, each the real CampaignState on
// its slice, a parent that moves max-downloads between them as quota. What the README claims of it.
test('100,000 controllers in 100 shards: every one upgraded, never more downloads than max-downloads, the parent within Temporal limits', () => {
  const timing = { downloadS: 1, taskS: 0.05, signalS: 0.02, retryS: 120, countsEveryS: 60 };
  const run = simulateShards(100_000, 10, timing);
  expect(run.shards).toBe(100_000 / shardSize);
  expect(run.counts).toEqual({ upgraded: 100_000 });
  expect(run.retried).toBeGreaterThan(0);
  expect(run.peakDownloads).toBe(10);
  expect(run.parent.peakPendingSignals).toBeLessThanOrEqual(2_000);
  // Each parent run (6,000 events) receives fewer than 10,000 signals.
  expect(run.parent.signalsIn / run.parent.runs).toBeLessThan(10_000);
  // The quota's round trips cost little against one master holding every target (same model, same clock).
  const one = simulateShards(100_000, 10, timing, 100_000);
  expect(one.counts).toEqual({ upgraded: 100_000 });
  expect(run.makespan / one.makespan).toBeLessThan(1.05);
}, 60_000);
