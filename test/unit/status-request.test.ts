import { statusPageLimit, validateStatusRequest } from '../../src/domain/status-request';

describe('validateStatusRequest', () => {
  it('no argument asks for the first page', () => {
    expect(validateStatusRequest(undefined)).toEqual({ ok: true, value: {} });
    expect(validateStatusRequest(null)).toEqual({ ok: true, value: {} });
  });

  it('accepts a state, a controller and a page', () => {
    const request = { state: 'failed', controller: '10.1.4.17', offset: 500, limit: statusPageLimit };
    expect(validateStatusRequest(request)).toEqual({ ok: true, value: request });
  });

  it('names every bad field', () => {
    const result = validateStatusRequest({ state: 'done', offset: -1, limit: 10_000, page: 2 });
    expect(result.ok).toBe(false);
    const issues = result.ok ? [] : result.issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^upgradeStatus request\.state must be one of pending/),
        'upgradeStatus request.offset must be 0 or more',
        'upgradeStatus request.limit must be at most 250',
      ]),
    );
    expect(issues.some((issue) => issue.includes('page'))).toBe(true);
  });
});
