/** Raised when a peer sent more text than one exchange may hold. */
export class PeerFloodError extends Error {
  override readonly name = 'PeerFloodError';
  constructor(readonly limitChars: number) {
    super(`the peer sent more than ${limitChars} characters without an answer ciu expects`);
  }
}

/** Limits of a BoundedText. */
export interface BoundedTextLimits {
  /** Characters kept (the tail). Default 256 Ki. */
  keepChars?: number;
  /** Characters one exchange may receive in all before `append` throws PeerFloodError. Default 4 Mi. */
  failAfterChars?: number;
}

/**
 * Text received from a peer (an SSH session's output), bounded: only the tail is kept, and a peer
 * that floods past the limit fails the exchange instead of growing the worker's memory (a flooding
 * controller grew an unbounded buffer to 68 M characters and 1 GB RSS). Offsets are absolute — as if
 * nothing had been dropped — so code that remembers positions keeps working; positions that fell
 * out of the kept tail read as the start of the tail.
 */
export class BoundedText {
  private text = '';
  private dropped = 0;
  readonly keepChars: number;
  readonly failAfterChars: number;

  constructor(limits: BoundedTextLimits = {}) {
    this.keepChars = limits.keepChars ?? 256 * 1024;
    this.failAfterChars = limits.failAfterChars ?? 4 * 1024 * 1024;
  }

  /** Characters received since the last reset (kept or not). */
  get length(): number {
    return this.dropped + this.text.length;
  }

  /** Appends a chunk; throws PeerFloodError once more than failAfterChars arrived since the last reset. */
  append(chunk: string): void {
    if (this.length + chunk.length > this.failAfterChars) throw new PeerFloodError(this.failAfterChars);
    this.text += chunk;
    // Trim in steps, not on every chunk, so appending stays linear.
    if (this.text.length > 2 * this.keepChars) {
      const cut = this.text.length - this.keepChars;
      this.dropped += cut;
      this.text = this.text.slice(cut);
    }
  }

  /** Like String.slice, with absolute offsets (negative ones count from the end). */
  slice(start: number, end?: number): string {
    const local = (at: number) => (at < 0 ? at : Math.max(0, at - this.dropped));
    return end === undefined ? this.text.slice(local(start)) : this.text.slice(local(start), local(end));
  }

  /** Like String.indexOf, with absolute offsets; -1 when not found in the kept tail. */
  indexOf(search: string, from = 0): number {
    const found = this.text.indexOf(search, Math.max(0, from - this.dropped));
    return found === -1 ? -1 : found + this.dropped;
  }

  /** The kept tail. */
  toString(): string {
    return this.text;
  }

  /** Forgets everything, for the next exchange. */
  reset(): void {
    this.text = '';
    this.dropped = 0;
  }
}
