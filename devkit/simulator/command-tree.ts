/**
 * The simulated CLI's own command grammar: keyword paths per mode, unique-prefix abbreviation
 * (`sh ver`, `conf t`) and ArubaOS's refusals. Deliberately independent of the driver's builders and
 * validators, so a drift between what ciu sends and what a controller accepts shows up in tests.
 */

/** CLI modes: user (`>`), privileged (`#`), configuration (`(config) #`). */
export type Mode = 'user' | 'enable' | 'config';

/** A word of a command path: a keyword, one value (`<value>`), or the rest of the line (`<rest>`). */
export type Word = string;

export interface CommandSpec<Id extends string = string> {
  id: Id;
  words: readonly Word[];
  modes: readonly Mode[];
}

/** What a typed line resolves to. `at` is the index of the offending word. */
export type Resolution<Id extends string> =
  | { ok: true; id: Id; args: string[] }
  | { ok: false; error: 'invalid' | 'ambiguous'; at: number }
  | { ok: false; error: 'incomplete' };

const isValue = (word: Word): boolean => word === '<value>' || word === '<rest>';

export function resolveCommand<Id extends string>(
  typed: readonly string[],
  specs: readonly CommandSpec<Id>[],
  mode: Mode,
): Resolution<Id> {
  let alive = specs.filter((spec) => spec.modes.includes(mode));
  const args: string[] = [];
  for (const [i, word] of typed.entries()) {
    const lower = word.toLowerCase();
    const rest = alive.find((spec) => spec.words[i] === '<rest>');
    const keywordMatches = alive.filter((spec) => {
      const keyword = spec.words[i];
      return keyword !== undefined && !isValue(keyword) && keyword.startsWith(lower);
    });
    const exact = keywordMatches.filter((spec) => spec.words[i] === lower);
    const keywords = new Set(keywordMatches.map((spec) => spec.words[i]));
    if (exact.length > 0) alive = exact;
    else if (keywords.size === 1) alive = keywordMatches;
    else if (keywords.size > 1) return { ok: false, error: 'ambiguous', at: i };
    else if (rest) return { ok: true, id: rest.id, args: [...args, ...typed.slice(i)] };
    else {
      const values = alive.filter((spec) => spec.words[i] === '<value>');
      if (values.length === 0) return { ok: false, error: 'invalid', at: i };
      alive = values;
      args.push(word);
    }
  }
  const complete = alive.find(
    (spec) => spec.words.length === typed.length || spec.words[typed.length] === '<rest>',
  );
  return complete ? { ok: true, id: complete.id, args } : { ok: false, error: 'incomplete' };
}

/** Splits a command line into words; "double quoted" text is one word. */
export function words(line: string): string[] {
  const found: string[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (let m = pattern.exec(line); m; m = pattern.exec(line)) found.push(m[1] ?? m[2] ?? '');
  return found;
}

/** Column where word `index` of `line` starts (for the caret under an invalid word). */
export function wordColumn(line: string, index: number): number {
  const pattern = /"[^"]*"|\S+/g;
  let m = pattern.exec(line);
  for (let i = 0; m && i < index; i++) m = pattern.exec(line);
  return m ? m.index : line.length;
}
