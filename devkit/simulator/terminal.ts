/** The CLI's view of one interactive session: output, questions, and Ctrl-C / disconnect. */
export interface Terminal {
  /** Writes text; `\n` becomes `\r\n` on the wire. */
  write(text: string): void;
  /** Prints a question and resolves with the next line typed (without echo for passwords). */
  ask(question: string): Promise<string>;
  /** Aborted by Ctrl-C during the current command, or when the session ends. */
  readonly signal: AbortSignal;
}

/** Splits a command line into words; "double quoted" text is one word. */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (let m = pattern.exec(line); m; m = pattern.exec(line)) words.push(m[1] ?? m[2] ?? '');
  return words;
}
