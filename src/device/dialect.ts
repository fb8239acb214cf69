import { defaultDialect, dialects, type DialectName, type DialectSpec } from '../domain/dialects';

/**
 * A controller CLI dialect as data: its prompt grammar, how a session is prepared, how paging looks,
 * and what its `copy` can express (src/domain/dialects.ts). The driver is given one; it never sends
 * a command the dialect does not document, and uses a controller's extra capabilities only when the
 * controller advertises them.
 */
export interface Dialect {
  name: DialectName;
  spec: DialectSpec;
  /** The CLI prompt at the very end of the output, in any mode; group `level` is '>' (user mode) or '#'. */
  prompt: RegExp;
  /** A pager waiting for a key: answered with a space, in case paging is still on. */
  more: RegExp;
  /** The command that leaves user mode; its `Password:` is answered with the enable password. */
  enable: string;
  /** Commands run once after login (in privileged mode), in order. */
  prepare: readonly string[];
}

/**
 * ArubaOS prompts: 6.x `(host) >`, `(host) #`, `(host) (config) #`; 8.x `(host) [node] #` with `*`
 * (unsaved changes) or `^` before the `[`, `(host) *#`, and `(host) [node] (config) #`.
 */
const arubaPrompt =
  /(?:^|\n)\((?<host>[^()\r\n]+)\) ?[*^]?(?:\[(?<node>[^\]\r\n]*)\] ?)?(?:\((?<mode>[a-z][^()\r\n]*)\) ?)?(?<level>[#>]) ?$/;

const arubaos: Omit<Dialect, 'name' | 'spec'> = {
  prompt: arubaPrompt,
  more: /(?:^|\n)[ \t]*-+ ?More ?-+[^\n]*$/i,
  enable: 'enable',
  prepare: ['no paging'],
};

/** The dialect named by an inventory entry (default arubaos). */
export function dialectFor(name: DialectName = defaultDialect): Dialect {
  return { name, spec: dialects[name], ...arubaos };
}

/** Extra commands a controller may offer beyond its dialect; used only when it advertises them. */
export const capabilityNames = ['image-sha256', 'log-message'] as const;
export type Capability = (typeof capabilityNames)[number];

/**
 * Capabilities a controller advertises in its SSH login banner (`ciu-capabilities: image-sha256
 * log-message`, the ciu simulator does); a real ArubaOS controller advertises none.
 */
export function advertisedCapabilities(banner: string): Set<Capability> {
  const words = /^ciu-capabilities:[ \t]*(.*)$/m.exec(banner)?.[1]?.trim().split(/\s+/) ?? [];
  return new Set(capabilityNames.filter((name) => words.includes(name)));
}

const esc = String.fromCharCode(0x1b);
const bel = String.fromCharCode(0x07);
/** Terminal escape sequences (CSI, OSC, charset selection, two-byte escapes). */
const escapeSequence = new RegExp(
  `${esc}(?:\\[[0-9;?]*[ -/]*[@-~]|\\][^${bel}${esc}]*(?:${bel}|${esc}\\\\)|[()][A-Za-z0-9]|[@-Z\\\\-_])`,
  'g',
);
/** An escape sequence cut off at the end of a chunk. */
const partialEscape = new RegExp(`${esc}(?:\\[[0-9;?]*[ -/]*|\\][^${bel}${esc}]*${esc}?|[()])?$`);
/**
 * Control characters other than the line feed and tab, once escapes and carriage returns are handled;
 * C1 controls too (U+0080–U+009F: U+009B is a one-character CSI to a terminal that reads UTF-8).
 */
const controlCharacters = new RegExp(
  `[${String.fromCharCode(0)}-${String.fromCharCode(8)}${String.fromCharCode(0x0b)}-${String.fromCharCode(0x1f)}${String.fromCharCode(0x7f)}-${String.fromCharCode(0x9f)}]`,
  'g',
);

/**
 * Turns raw terminal output into plain text as it arrives: escape sequences removed, `\r\n` and a
 * lone `\r` both end a line. A sequence or `\r` split across chunks is held until the next chunk.
 */
export class TerminalText {
  private carry = '';

  push(chunk: string): string {
    let text = this.carry + chunk;
    this.carry = '';
    const partial = partialEscape.exec(text);
    if (partial) {
      this.carry = partial[0];
      text = text.slice(0, partial.index);
    }
    if (text.endsWith('\r')) {
      this.carry = `\r${this.carry}`;
      text = text.slice(0, -1);
    }
    return text
      .replace(escapeSequence, '')
      .replace(/\r+\n/g, '\n')
      .replace(/\r/g, '\n')
      .replace(controlCharacters, '');
  }
}
