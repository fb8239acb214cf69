import { cleanText } from './clean-text';
import { isIPv4 } from './rules';
import type { Controller, TargetSelector } from './types';

/** A parsed target selector. */
export type Selector =
  | { kind: 'all' }
  | { kind: 'host'; ip: string }
  | { kind: 'subnet'; network: number; prefix: number; text: string };

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function maskFor(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses 'all', an IPv4 address or a CIDR subnet; undefined for anything else. */
export function parseSelector(text: string): Selector | undefined {
  const trimmed = text.trim();
  if (trimmed === 'all') return { kind: 'all' };
  if (isIPv4(trimmed)) return { kind: 'host', ip: trimmed };
  const slash = trimmed.indexOf('/');
  if (slash < 0) return undefined;
  const address = trimmed.slice(0, slash);
  const prefixText = trimmed.slice(slash + 1);
  if (!isIPv4(address) || !/^(3[0-2]|[12]?\d)$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return { kind: 'subnet', network: (ipToNumber(address) & maskFor(prefix)) >>> 0, prefix, text: trimmed };
}

/** Whether a parsed selector covers an IPv4 address. */
export function selectorMatches(selector: Selector, ip: string): boolean {
  switch (selector.kind) {
    case 'all':
      return true;
    case 'host':
      return selector.ip === ip;
    case 'subnet':
      return (ipToNumber(ip) & maskFor(selector.prefix)) >>> 0 === selector.network;
  }
}

/** Targets resolved against the inventory. */
export interface ResolvedTargets {
  /** Targeted controllers, in inventory order, each once. */
  controllers: Controller[];
  /** Selectors that matched no associated controller (reported to the operator, never ignored). */
  unmatched: string[];
}

/** Resolves selectors against the inventory. Selectors must already be valid (see parseSelector). */
export function resolveTargets(
  inventory: readonly Controller[],
  selectors: readonly TargetSelector[],
): ResolvedTargets {
  const parsed = selectors.map((text) => ({ text, selector: parseSelector(text) }));
  const unmatched = parsed
    .filter(({ selector }) => !selector || !inventory.some((c) => selectorMatches(selector, c.ip)))
    .map(({ text }) => text);
  const controllers = inventory.filter((c) =>
    parsed.some(({ selector }) => selector !== undefined && selectorMatches(selector, c.ip)),
  );
  return { controllers, unmatched };
}

/** IPs among `ips` that any of the selectors covers. Invalid selectors match nothing. */
export function matchingIps(ips: Iterable<string>, selectors: readonly string[]): string[] {
  const parsed = selectors.map(parseSelector).filter((s): s is Selector => s !== undefined);
  return [...ips].filter((ip) => parsed.some((s) => selectorMatches(s, ip)));
}

/**
 * What is wrong with a purge request (purgeTargetsUpdate's validator, the CLI): it must be one
 * selector or a non-empty list of them, each 'all', an IPv4 address or a CIDR subnet. One issue per
 * bad selector, naming it (cut to 100 characters).
 */
export function purgeSelectorIssues(selectors: unknown): string[] {
  const list: unknown[] = Array.isArray(selectors) ? selectors : [selectors];
  if (list.length === 0)
    return ['selectors must name at least one target (an IPv4 address, a CIDR subnet or all)'];
  return list.flatMap((selector, index) => {
    const shown = cleanText(JSON.stringify(selector) ?? String(selector));
    const name = `selector ${shown.length > 100 ? `${shown.slice(0, 99)}…` : shown}`;
    const at = Array.isArray(selectors) ? ` (selectors[${index}])` : '';
    if (typeof selector !== 'string')
      return [`${name}${at} must be a string: an IPv4 address, a CIDR subnet or all`];
    return parseSelector(selector) ? [] : [`${name}${at} is not an IPv4 address, a CIDR subnet or all`];
  });
}
