import { Transform } from 'node:stream';

/** A pass-through that counts bytes and reports them. `total()` is read at each report. */
export function progressCounter(
  onProgress: ((bytes: number, total?: number) => void) | undefined,
  total: () => number | undefined,
): Transform & { bytes: () => number } {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      onProgress?.(bytes, total());
      done(null, chunk);
    },
  });
  return Object.assign(counter, { bytes: () => bytes });
}
