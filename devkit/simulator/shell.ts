import type { ServerChannel } from 'ssh2';
import { executeCommand, prompt, type CliContext, type CliState } from './cli';
import type { Terminal } from './terminal';

const ctrlC = '\x03';
/** Lines per screen before `--More--`, as on a 24-line terminal. */
const screenLines = 23;
const morePrompt = '--More-- (q) quit (u) pageup (/) search (n) repeat';

/**
 * Runs the controller CLI on one SSH shell channel: user mode `>` first, a prompt, one command at a
 * time, questions answered by the next line typed (`\r`, `\n` or `\r\n`), Ctrl-C aborting the
 * running command. With a pty (a human or a terminal-driving client) typed characters are echoed,
 * except answers to "Password:". Output is written in one piece per event-loop turn, so the echo of
 * a line, a quick command's output and the next prompt leave together, as a real controller's do.
 */
export function serveShell(channel: ServerChannel, ctx: CliContext, options: { echo: boolean }): void {
  const state: CliState = { mode: 'user', paging: true };
  const lines: string[] = [];
  let partial = '';
  let waiter: ((line: string | undefined) => void) | undefined;
  let keyWaiter: ((key: string | undefined) => void) | undefined;
  let secret = false;
  let current: AbortController | undefined;
  let ended = false;
  let lastWasCr = false;
  let pending = '';

  const flush = (): void => {
    const text = pending;
    pending = '';
    if (text && !ended && channel.writable) channel.write(text);
  };
  const write = (text: string): void => {
    if (!pending) setImmediate(flush);
    pending += text.replace(/\r?\n/g, '\r\n');
  };
  const nextLine = (): Promise<string | undefined> =>
    lines.length || ended ? Promise.resolve(lines.shift()) : new Promise((resolve) => (waiter = resolve));
  const nextKey = (): Promise<string | undefined> =>
    ended ? Promise.resolve(undefined) : new Promise((resolve) => (keyWaiter = resolve));
  const deliver = (line: string | undefined): void => {
    const resolve = waiter;
    waiter = undefined;
    if (resolve) resolve(line);
    else if (line !== undefined) lines.push(line);
  };

  channel.on('data', (chunk: Buffer) => {
    for (const ch of chunk.toString('utf8')) {
      if (keyWaiter) {
        const resolve = keyWaiter;
        keyWaiter = undefined;
        resolve(ch);
        continue;
      }
      if (ch === ctrlC) {
        partial = '';
        if (current) current.abort();
        else if (options.echo) write('^C\n');
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && partial === '' && lastWasCr) {
          lastWasCr = false;
          continue;
        }
        lastWasCr = ch === '\r';
        if (options.echo) write('\n');
        const line = partial;
        partial = '';
        deliver(line);
        continue;
      }
      lastWasCr = false;
      if (ch === '\x7f' || ch === '\b') {
        if (partial && options.echo && !secret) write('\b \b');
        partial = partial.slice(0, -1);
        continue;
      }
      partial += ch;
      if (options.echo && !secret) write(ch);
    }
  });
  const end = (): void => {
    if (ended) return;
    ended = true;
    current?.abort();
    deliver(undefined);
    keyWaiter?.(undefined);
  };
  channel.on('close', end);
  channel.on('end', end);

  const page = async (text: string, paging: boolean): Promise<void> => {
    const all = text.split('\n');
    if (!paging || all.length <= screenLines + 1) return write(text);
    let shown = 0;
    let step = screenLines;
    while (shown < all.length - 1) {
      write(`${all.slice(shown, shown + step).join('\n')}\n`);
      shown += step;
      if (shown >= all.length - 1) break;
      write(morePrompt);
      const key = await nextKey();
      write(`\r${' '.repeat(morePrompt.length)}\r`);
      if (key === undefined || key === 'q' || key === ctrlC) return;
      step = key === '\r' || key === '\n' ? 1 : screenLines;
    }
  };

  const loop = async (): Promise<void> => {
    write(`\n${prompt(ctx, state.mode)}`);
    for (let line = await nextLine(); line !== undefined; line = await nextLine()) {
      current = new AbortController();
      const terminal: Terminal = {
        write,
        page,
        signal: current.signal,
        ask: async (question) => {
          write(question);
          secret = /password/i.test(question);
          const answer = await nextLine();
          secret = false;
          // The answer was not echoed, but the line still ends for whoever reads the output.
          if (!options.echo) write('\n');
          return answer ?? '';
        },
      };
      const outcome = await executeCommand(line, terminal, ctx, state);
      current = undefined;
      if (outcome === 'close') break;
      write(prompt(ctx, state.mode));
    }
    flush();
    if (!ended) {
      ended = true;
      // An exit status first: OpenSSH clients wait for it before they close the session.
      channel.exit(0);
      channel.end();
    }
  };
  loop().catch((err: unknown) => {
    write(`Error: internal error: ${(err as Error).message}\n`);
    flush();
    channel.end();
  });
}
