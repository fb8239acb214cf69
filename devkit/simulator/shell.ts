import type { ServerChannel } from 'ssh2';
import { executeCommand, prompt, type CliContext } from './cli';
import type { Terminal } from './terminal';

const ctrlC = '\x03';

/**
 * Runs the controller CLI on one SSH shell channel: a prompt, one command at a time, questions
 * answered by the next line typed, Ctrl-C aborting the running command. With a pty (a human at a
 * terminal) typed characters are echoed, except answers to "Password:".
 */
export function serveShell(channel: ServerChannel, ctx: CliContext, options: { echo: boolean }): void {
  const lines: string[] = [];
  let partial = '';
  let waiter: ((line: string | undefined) => void) | undefined;
  let secret = false;
  let current: AbortController | undefined;
  let ended = false;
  let lastWasCr = false;

  const write = (text: string): void => {
    if (!ended && channel.writable) channel.write(text.replace(/\r?\n/g, '\r\n'));
  };
  const nextLine = (): Promise<string | undefined> =>
    lines.length || ended ? Promise.resolve(lines.shift()) : new Promise((resolve) => (waiter = resolve));
  const deliver = (line: string | undefined): void => {
    const resolve = waiter;
    waiter = undefined;
    if (resolve) resolve(line);
    else if (line !== undefined) lines.push(line);
  };

  channel.on('data', (chunk: Buffer) => {
    for (const ch of chunk.toString('utf8')) {
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
  };
  channel.on('close', end);
  channel.on('end', end);

  const loop = async (): Promise<void> => {
    write(`\n${prompt(ctx)}`);
    for (let line = await nextLine(); line !== undefined; line = await nextLine()) {
      current = new AbortController();
      const terminal: Terminal = {
        write,
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
      const outcome = await executeCommand(line, terminal, ctx);
      current = undefined;
      if (outcome === 'close') break;
      write(prompt(ctx));
    }
    if (!ended) {
      ended = true;
      // An exit status first: OpenSSH clients wait for it before they close the session.
      channel.exit(0);
      channel.end();
    }
  };
  loop().catch((err: unknown) => {
    write(`Error: internal error: ${(err as Error).message}\n`);
    channel.end();
  });
}
