/**
 * Text from outside — controller replies, image-server messages, signal inputs, error texts — is
 * printed on operators' terminals and shown in the Web UI. Escape sequences in it would act there
 * (`\x1b]0;…` sets a terminal's title, `\x1b[2J` clears it), so such text passes cleanText first.
 */

// ESC-introduced sequences: CSI (`ESC [ … final`), OSC/DCS/PM/APC strings up to BEL or ST, and
// two-character escapes.
const escapeSequence =
  // eslint-disable-next-line no-control-regex
  /\u001b(?:\[[0-?]*[ -/]*[@-~]|[\]PX^_][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])|\u009b[0-?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Options of cleanText. */
export interface CleanTextOptions {
  /** Keep line feeds (multi-line output); default false: they become spaces. Tabs always become spaces. */
  keepNewlines?: boolean;
}

/**
 * `text` with every escape sequence removed and every other control character shown as `\xHH`, so
 * it can reach a terminal or the Web UI without acting there. Printable text, Unicode included, is
 * kept as it is.
 */
export function cleanText(text: string, options: CleanTextOptions = {}): string {
  const withoutEscapes = text.replace(escapeSequence, '').replace(/\r\n/g, '\n').replace(/\t/g, ' ');
  const lines = options.keepNewlines ? withoutEscapes : withoutEscapes.replace(/\n/g, ' ');
  return lines.replace(controlCharacter, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
