import { simulateCampaign } from '../../bench/capacity';
import { maxConfigBytes } from '../../src/domain/campaign-limits';

// What a 10,000-controller master stores, through the real state class and data converter: every
// payload but the config's own start input stays under 512 KB, encrypted or not (issue 13).
test.each([false, true])(
  '10,000 controllers: stored payloads stay under 512 KB (encrypted: %s)',
  async (encrypted) => {
    const sizes = await simulateCampaign(10_000, encrypted);
    const { startInput, ...stored } = sizes;
    for (const [name, bytes] of Object.entries(stored))
      expect([name, bytes < 512 * 1024]).toEqual([name, true]);
    expect(startInput).toBeLessThanOrEqual(maxConfigBytes);
  },
  60_000,
);
