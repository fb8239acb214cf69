import { appendFile, readFile } from 'node:fs/promises';

/** ArubaOS severity tags, as `show log` prints them. */
const severities = { error: 'ERRS', warning: 'WARN', info: 'INFO' } as const;

export type LogSeverity = keyof typeof severities;

/**
 * A simulated controller's own log file, one line per event in ArubaOS's shape:
 * `<ISO time> :<msg id>: <ERRS> |<process>| <message>`.
 */
export class ControllerLog {
  constructor(readonly file: string) {}

  async write(severity: LogSeverity, process: string, message: string): Promise<void> {
    const id = severity === 'error' ? 399801 : 399802;
    const line = `${new Date().toISOString()} :${id}: <${severities[severity]}> |${process}| ${message.replace(/[\r\n]+/g, ' ')}\n`;
    await appendFile(this.file, line);
  }

  /** The last n lines. */
  async tail(n: number): Promise<string[]> {
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return text.split('\n').filter(Boolean).slice(-n);
  }
}
