/**
 * The plain SSH script bench/e2e.ts holds ciu against: what an operator writes instead of ciu, with
 * the same SSH library (ssh2) and nothing else — no Temporal, no retries, no status.
 *
 * Reads one JSON object on stdin (controllers: [{host, port}], username, password, image: {host, user,
 * password, file}, target: {version, build}, maxDownloads) and upgrades every controller at once, at
 * most maxDownloads copies (and their checks) running together: inspect, copy with the image-server
 * password answered, check the partition, set the boot partition, reload, wait for the SSH banner to
 * go and come back, confirm the version. Prints one JSON object: each controller's end state
 * (`states`) and when each of its steps ended, in ms from the script's start (`marks`).
 */
import { connect } from 'node:net';
import { Client, type ClientChannel } from 'ssh2';

interface Input {
  controllers: Array<{ host: string; port: number }>;
  username: string;
  password: string;
  image: { host: string; user: string; password: string; file: string };
  target: { version: string; build: number };
  maxDownloads: number;
}

const prompt = /[>#] ?$/;

/** One CLI session: type a line, read until a pattern ends the output. */
class Shell {
  private buffer = '';
  private waiter: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly client: Client,
    private readonly channel: ClientChannel,
  ) {
    channel.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      this.waiter?.();
    });
    channel.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static async open(host: string, port: number, input: Input): Promise<Shell> {
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve).once('error', reject);
      client.connect({
        host,
        port,
        username: input.username,
        password: input.password,
        readyTimeout: 60_000,
      });
    });
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      client.shell({ cols: 200 }, (err, ch) => (err ? reject(err) : resolve(ch))),
    );
    const shell = new Shell(client, channel);
    if ((await shell.until(prompt)).trimEnd().endsWith('>')) {
      await shell.send('enable', /Password:\s*$/);
      await shell.send(input.password, /# ?$/);
    }
    await shell.send('no paging');
    return shell;
  }

  async until(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.buffer)) {
      if (this.closed) throw new Error(`session closed waiting for ${pattern}: ${this.buffer.slice(-200)}`);
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${pattern}: ${this.buffer.slice(-200)}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 1000);
      });
    }
    const output = this.buffer;
    this.buffer = '';
    return output;
  }

  send(line: string, until = prompt, timeoutMs?: number): Promise<string> {
    this.channel.write(`${line}\n`);
    return this.until(until, timeoutMs);
  }

  async closedByPeer(): Promise<void> {
    while (!this.closed) await new Promise((resolve) => setTimeout(resolve, 50));
    this.client.end();
  }

  close(): void {
    this.client.end();
  }
}

function running(showVersion: string): string {
  const m = /Version (\S+)[\s\S]*?\(build (\d+)\)/.exec(showVersion);
  return m ? `${m[1]} ${m[2]}` : 'unknown';
}

/** Partition number → "version build", and which one runs. */
function partitions(showImageVersion: string): { images: Record<number, string>; running?: number } {
  const images: Record<number, string> = {};
  let runningPartition: number | undefined;
  const re =
    /Partition\s*:\s*0:(\d)[^\n]*\n\s*Software Version\s*:\s*ArubaOS (\S+)[^\n]*\n\s*Build number\s*:\s*(\d+)/g;
  for (const m of showImageVersion.matchAll(re)) {
    images[Number(m[1])] = `${m[2]} ${m[3]}`;
    if (m[0].includes('**Running**')) runningPartition = Number(m[1]);
  }
  return { images, ...(runningPartition === undefined ? {} : { running: runningPartition }) };
}

function banner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (d: Buffer) => done(d.toString().startsWith('SSH-')));
  });
}

async function waitForBanner(host: string, port: number, up: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await banner(host, port)) !== up) {
    if (Date.now() > deadline) throw new Error(up ? 'did not come back after reload' : 'did not go down');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** At most n holders at once. */
function semaphore(n: number) {
  let free = n;
  const queue: Array<() => void> = [];
  return async <T>(body: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => queue.push(resolve));
    try {
      return await body();
    } finally {
      const next = queue.shift();
      if (next) next();
      else free++;
    }
  };
}

const started = Date.now();

async function upgrade(
  input: Input,
  host: string,
  port: number,
  slot: ReturnType<typeof semaphore>,
  marks: Record<string, number>,
) {
  const mark = (step: string) => (marks[step] = Date.now() - started);
  const want = `${input.target.version} ${input.target.build}`;
  const { image } = input;
  const shell = await Shell.open(host, port, input);
  try {
    mark('logged in');
    if (running(await shell.send('show version')) === want) return 'up-to-date';
    const partition = 1 - (partitions(await shell.send('show image version')).running ?? 0);
    mark('inspected');
    const copied = await slot(async () => {
      mark('slot');
      await shell.send(
        `copy ftp: ${image.host} ${image.user} ${image.file} system: partition ${partition}`,
        /Password:\s*$/,
      );
      const reply = await shell.send(image.password, prompt, 600_000);
      mark('copied');
      if (!reply.includes('successfully')) return `copy: ${reply.trim().split('\n').pop()}`;
      const holds = partitions(await shell.send('show image version')).images[partition];
      mark('checked');
      return holds === want ? undefined : `check: partition ${partition} holds ${holds}`;
    });
    if (copied) return `failed: ${copied}`;
    await shell.send(`boot system partition ${partition}`);
    await shell.send('reload', /\(y\/n\):?\s*$/);
    shell.send('y').catch(() => undefined);
    await shell.closedByPeer();
    mark('reload sent');
  } finally {
    shell.close();
  }
  await waitForBanner(host, port, false, 60_000);
  mark('down');
  await waitForBanner(host, port, true, 600_000);
  mark('back');
  const after = await Shell.open(host, port, input);
  try {
    const now = running(await after.send('show version'));
    mark('confirmed');
    return now === want ? 'upgraded' : 'failed: old version after reload';
  } finally {
    after.close();
  }
}

async function main(): Promise<void> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const input = JSON.parse(text) as Input;
  const slot = semaphore(input.maxDownloads);
  const marks = input.controllers.map(() => ({}));
  const states = await Promise.all(
    input.controllers.map(({ host, port }, i) =>
      upgrade(input, host, port, slot, marks[i] as Record<string, number>).catch(
        (err: unknown) => `failed: ${(err as Error).message}`,
      ),
    ),
  );
  process.stdout.write(
    `${JSON.stringify({ states: Object.fromEntries(input.controllers.map((c, i) => [c.host, states[i]])), marks })}\n`,
  );
}

void main();
