// The destination prefixes the fraud guard judges for a number, narrowest first, and the safe list.
//
// Four levels at once, because pumping comes in two shapes. A concentrated attack fills a range
// (say +447441 0000 00 … +447441 9999 99, 100 blocks of 10,000): its `range` gets the starts. A thin
// attack spreads over a whole operator's numbers so no block or range ever gets two; only `wide`
// (the calling code and the first digits, ~100 million numbers) or `country` sees it. Wider levels
// mix in more real traffic, so they need more evidence: a multiple of FRAUD_GUARD_MIN_STARTS.
import type { NumberFacts } from './number-facts.js';

export type LevelName = 'block' | 'range' | 'wide' | 'country';

export interface Level {
  name: LevelName;
  /** "+" and digits: "+1415555" */
  prefix: string;
  /** judged starts needed before this level's conversion is judged */
  minStarts: number;
}

/** Digits each level drops from the end of the number, and how much evidence it needs. */
const LEVELS: { name: LevelName; dropDigits: number; startsFactor: number }[] = [
  { name: 'block', dropDigits: 4, startsFactor: 1 },
  { name: 'range', dropDigits: 6, startsFactor: 1 },
  { name: 'wide', dropDigits: 8, startsFactor: 2 },
];
const COUNTRY_STARTS_FACTOR = 4;

/**
 * The levels of `e164` (whose facts are `facts`), narrowest first; a level that would be no
 * narrower than the next is left out. Kept on the facts: a start and its approval ask for the same
 * number's levels, and a kept prefix string keeps its hash for the guard store's lookups. Shared
 * between callers, so never to be changed.
 */
export function levelsOf(e164: string, facts: NumberFacts, minStarts: number): readonly Level[] {
  const kept = facts.guardLevels;
  if (kept !== undefined && kept.minStarts === minStarts) return kept.levels;
  const levels = makeLevels(e164, facts.callingCode, minStarts);
  facts.guardLevels = { minStarts, levels };
  return levels;
}

function makeLevels(e164: string, country: string, minStarts: number): Level[] {
  const digits = e164.slice(1);
  const levels: Level[] = [];
  for (const { name, dropDigits, startsFactor } of LEVELS) {
    const kept = digits.length - dropDigits;
    // Every level keeps at least one digit after the calling code: the country level is below.
    if (kept <= country.length) continue;
    const prefix = `+${digits.slice(0, kept)}`;
    if (levels.at(-1)?.prefix === prefix) continue;
    levels.push({ name, prefix, minStarts: minStarts * startsFactor });
  }
  levels.push({ name: 'country', prefix: `+${country}`, minStarts: minStarts * COUNTRY_STARTS_FACTOR });
  return levels;
}

/** The 10,000-number block PREFIX_RATE_LIMIT_* counts: the number without its last 4 digits. */
export function blockOf(e164: string): string {
  return e164.slice(0, -4);
}

/** True when the number is, or starts with, an entry of FRAUD_GUARD_SAFE_LIST. */
export function isSafeListed(e164: string, safeList: readonly string[]): boolean {
  // A loop, not some(): no closure per start (and the list is most often empty).
  for (const entry of safeList) if (e164.startsWith(entry)) return true;
  return false;
}
