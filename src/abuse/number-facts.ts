// What the SMS-bill protections need to know of a number: its country, calling code and type
// (libphonenumber-js with full metadata, as the service's parser uses). Cached: the parser that
// normalised the number leaves its facts here, a start and its verify ask about the same number,
// and parsing is the costly part.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Level } from './prefixes.js';

export interface NumberFacts {
  /** ISO 3166-1 alpha-2, or "ZZ" for numbers of no single country (+800, +882 …) */
  country: string;
  /** the country calling code's digits, "44" for +44 */
  callingCode: string;
  /** libphonenumber's NumberType, or "UNKNOWN" */
  type: string;
  /** the fraud guard's levels of the number for a FRAUD_GUARD_MIN_STARTS, kept by levelsOf (prefixes.ts) */
  guardLevels?: { minStarts: number; levels: readonly Level[] };
}

const LIMIT = 5_000;
let recent = new Map<string, NumberFacts>();
let previous = new Map<string, NumberFacts>();

/** Facts of a number already in E.164 (normalizePhoneNumber's output). */
export function numberFacts(e164: string): NumberFacts {
  const facts = recent.get(e164) ?? previous.get(e164);
  if (facts !== undefined) return facts;
  const parsed = parsePhoneNumberFromString(e164);
  const parsedFacts = {
    country: parsed?.country ?? 'ZZ',
    callingCode: parsed?.countryCallingCode ?? e164.slice(1, 2),
    type: parsed?.getType() ?? 'UNKNOWN',
  };
  rememberNumberFacts(e164, parsedFacts);
  return parsedFacts;
}

/**
 * Keeps the facts of a number parsed elsewhere (two generations of up to LIMIT entries each). The
 * verify of a start parses its number again: the facts already kept stay when they are the same,
 * and with them the levels derived from them.
 */
export function rememberNumberFacts(e164: string, facts: NumberFacts): void {
  const kept = recent.get(e164);
  if (kept !== undefined && sameFacts(kept, facts)) return;
  const older = previous.get(e164);
  if (older !== undefined && sameFacts(older, facts)) facts = older;
  if (recent.size >= LIMIT) {
    previous = recent;
    recent = new Map();
  }
  recent.set(e164, facts);
}

function sameFacts(a: NumberFacts, b: NumberFacts): boolean {
  return a.country === b.country && a.callingCode === b.callingCode && a.type === b.type;
}
