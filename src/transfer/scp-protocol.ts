import { Transform, type TransformCallback } from 'node:stream';

/** The sender's refusal (a 0x01/0x02 line), e.g. "scp: x: No such file or directory". */
export class ScpRefusal extends Error {
  override readonly name = 'ScpRefusal';
  constructor(
    readonly fatal: boolean,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Longest control line accepted (`C0644 <size> <name>`: a name is at most 255 bytes on the servers
 * ciu reads from). An endless line otherwise grows in memory until the worker dies.
 */
export const maxControlLine = 4096;

/**
 * The sink side of the SCP (rcp) protocol for one file: turns what `scp -f FILE` sends into the
 * file's bytes. `ack` is called whenever the protocol wants a zero byte sent back.
 *
 *   sender: C<mode> <size> <name>\n   receiver: \0
 *   sender: <size bytes> \0           receiver: \0
 */
export class ScpReceiver extends Transform {
  /** Announced file size, known once the C line arrived. */
  size: number | undefined;
  private state: 'control' | 'payload' | 'status' | 'done' = 'control';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;

  constructor(private readonly ack: () => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'control') {
        const nl = chunk.indexOf(0x0a, at);
        if (nl === -1) {
          this.line.push(chunk.subarray(at));
          this.lineLength += chunk.length - at;
          if (this.lineLength > maxControlLine)
            return done(
              new Error(`scp control line longer than ${maxControlLine} bytes: the sender is not scp`),
            );
          break;
        }
        this.line.push(chunk.subarray(at, nl));
        at = nl + 1;
        const problem = this.control(Buffer.concat(this.line));
        this.line = [];
        this.lineLength = 0;
        if (problem) return done(problem);
      } else if (this.state === 'payload') {
        const take = Math.min(this.remaining, chunk.length - at);
        this.push(chunk.subarray(at, at + take));
        at += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'status';
      } else if (this.state === 'status') {
        const status = chunk[at];
        at += 1;
        if (status !== 0) return done(new ScpRefusal(true, 'scp sender reported an error after the file'));
        this.ack();
        this.state = 'done';
      } else {
        break;
      }
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.state !== 'done') done(new Error(`scp stream ended early (while reading ${this.state})`));
    else done();
  }

  private control(line: Buffer): Error | undefined {
    const kind = line[0];
    const text = line.subarray(1).toString('utf8');
    if (kind === 0x01 || kind === 0x02) return new ScpRefusal(kind === 0x02, text.trim());
    if (kind === 0x54 /* T: times, sent with -p */) {
      this.ack();
      return undefined;
    }
    const match = /^C[0-7]{4} ([0-9]+) .+$/.exec(line.toString('utf8'));
    if (!match?.[1])
      return new Error(`unexpected scp control line ${JSON.stringify(line.toString('utf8').slice(0, 80))}`);
    this.size = Number(match[1]);
    this.remaining = this.size;
    this.state = this.size === 0 ? 'status' : 'payload';
    this.emit('size', this.size);
    this.ack();
    return undefined;
  }
}

/** Quotes a path for the remote POSIX shell that runs `scp -f`. */
export function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}
