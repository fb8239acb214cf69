import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configInput } from '../../src/cli/commit';
import type { ConfigStoreError } from '../../src/config-store/store';
import { putConfig, readConfig } from '../../src/config-store/store';
import { campaignSizeIssues, maxConfigBytes } from '../../src/domain/campaign-limits';
import { canonicalJson } from '../../src/domain/canonical-json';
import { maxReferencedConfigBytes, validateConfigRef } from '../../src/domain/config-ref';
import { a7210, campaignConfig } from './upgrade-fixtures';

const fleet = (n: number) =>
  Array.from({ length: n }, (_, i) => a7210(`10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`));

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'ciu-config-store-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as ConfigStoreError;
  }
  throw new Error('expected a failure');
};

describe('config store', () => {
  it('stores a config once under the SHA-256 of its canonical JSON and reads it back', () => {
    const config = campaignConfig(fleet(3));
    const ref = putConfig(dir, config);
    const canonical = canonicalJson(config);
    expect(ref).toEqual({
      sha256: createHash('sha256').update(canonical).digest('hex'),
      bytes: Buffer.byteLength(canonical),
    });
    expect(readConfig(dir, ref)).toEqual(JSON.parse(canonical));
    const written = statSync(join(dir, `${ref.sha256}.json`)).mtimeMs;
    expect(putConfig(dir, config)).toEqual(ref);
    expect(statSync(join(dir, `${ref.sha256}.json`)).mtimeMs).toBe(written);
    expect(readdirSync(dir)).toEqual([`${ref.sha256}.json`]);
  });

  it('refuses an object changed in the store, and never overwrites it', () => {
    const config = campaignConfig(fleet(3));
    const ref = putConfig(dir, config);
    const path = join(dir, `${ref.sha256}.json`);
    const tampered = canonicalJson({ ...config, targets: ['10.1.0.2'] }).padEnd(ref.bytes, ' ');
    writeFileSync(path, tampered.slice(0, ref.bytes));
    expect(failure(() => readConfig(dir, ref))).toMatchObject({
      code: 'hash-mismatch',
      message: `configRef.sha256: the stored config ${ref.sha256} does not hash to its name (changed or damaged in the store)`,
    });
    expect(failure(() => putConfig(dir, config)).code).toBe('hash-mismatch');
  });

  it('names the field when the object is missing or its length differs', () => {
    const ref = putConfig(dir, campaignConfig(fleet(2)));
    expect(failure(() => readConfig(dir, { ...ref, bytes: ref.bytes + 1 }))).toMatchObject({
      code: 'size-mismatch',
      message: expect.stringMatching(/^configRef\.bytes: /),
    });
    expect(failure(() => readConfig(dir, { sha256: 'a'.repeat(64), bytes: 10 }))).toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/^configRef\.sha256: no config a{64} in the worker's config store/),
    });
  });

  it('reads only names that are a hash: a path is refused before any file is opened', () => {
    expect(() => readConfig(dir, { sha256: '../../etc/passwd', bytes: 10 })).toThrow(
      'configRef.sha256 must be 64 lowercase hex digits',
    );
    expect(
      failure(() => readConfig(dir, { sha256: 'a'.repeat(64), bytes: maxReferencedConfigBytes + 1 })).code,
    ).toBe('too-large');
  });
});

describe('validateConfigRef', () => {
  it('accepts a reference and names every bad field', () => {
    expect(validateConfigRef({ configRef: { sha256: 'f'.repeat(64), bytes: 42 } })).toEqual({
      ok: true,
      value: { sha256: 'f'.repeat(64), bytes: 42 },
    });
    const bad = validateConfigRef({ configRef: { sha256: 'F00', bytes: -1 } });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.issues).toEqual([
      expect.stringMatching(/^configRef\.sha256 must be 64 lowercase hex digits/),
      expect.stringMatching(/^configRef\.bytes /),
    ]);
  });
});

describe('configInput (what write memory starts with)', () => {
  it('passes a config inline up to the inline limit, and by reference above it when a store is set', () => {
    const small = campaignConfig(fleet(3));
    expect(configInput(small, dir)).toBe(small);
    // 18,000 entries: over what a plain start input may carry, 8 of them targeted.
    const large = campaignConfig(fleet(18_000), {}, ['10.1.0.0/29']);
    expect(campaignSizeIssues(large)).toEqual([
      expect.stringContaining(`the limit is ${maxConfigBytes.toLocaleString('en-US')} bytes`),
    ]);
    expect(campaignSizeIssues(large, true)).toEqual([]);
    expect(configInput(large)).toBe(large);
    const input = configInput(large, dir);
    expect(input).toEqual({
      configRef: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number) },
    });
    expect(JSON.stringify(input).length).toBeLessThan(150);
    if (!('configRef' in input)) return;
    expect(readConfig(dir, input.configRef)).toEqual(JSON.parse(canonicalJson(large)));
  });
});
