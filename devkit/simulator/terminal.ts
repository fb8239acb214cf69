/** The CLI's view of one interactive session: output, questions, paging, and Ctrl-C / disconnect. */
export interface Terminal {
  /** Writes text; `\n` becomes `\r\n` on the wire. */
  write(text: string): void;
  /** Prints a question and resolves with the next line typed (without echo for passwords). */
  ask(question: string): Promise<string>;
  /** Writes a command's output, a screen at a time behind `--More--` when paging is on. */
  page(text: string, paging: boolean): Promise<void>;
  /** Aborted by Ctrl-C during the current command, or when the session ends. */
  readonly signal: AbortSignal;
}
