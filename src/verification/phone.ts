// Turns any common human spelling of an international number into E.164, or refuses it.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { rememberNumberFacts } from '../abuse/number-facts.js';
import { InvalidPhoneNumber } from '../errors.js';

/**
 * Recently normalised spellings: the number a verify carries is, almost always, spelled as it was
 * in its start, and parsing with full metadata is a tenth of a verify's CPU. Two generations of up
 * to RECENT_LIMIT entries each: when the current one is full it becomes the previous one, and the
 * older is dropped whole (deleting entries one by one from a Map this size costs more than the
 * parse it saves). Only valid numbers are kept.
 */
const RECENT_LIMIT = 5_000;
let recent = new Map<string, string>();
let previous = new Map<string, string>();

export function normalizePhoneNumber(input: string): string {
  let e164 = recent.get(input) ?? previous.get(input);
  if (e164 === undefined) {
    e164 = parseE164(input);
    if (recent.size >= RECENT_LIMIT) {
      previous = recent;
      recent = new Map();
    }
    recent.set(input, e164);
  }
  return e164;
}

function parseE164(input: string): string {
  // "00 44 …" is the international prefix most of the world dials; "+" is what the parser wants.
  const spelled = input.trim().replace(/^00[\s.-]*(?=[1-9])/, '+');
  const parsed = spelled.startsWith('+') ? parsePhoneNumberFromString(spelled) : undefined;
  // With full metadata isValid() is getType() !== undefined, so one call gives both, and the
  // SMS-bill protections get the number's country and type without parsing it a second time.
  const type = parsed?.getType();
  if (parsed === undefined || type === undefined) {
    throw new InvalidPhoneNumber(
      `${JSON.stringify(input.slice(0, 40))} is not a valid international phone number (expected E.164, e.g. +14155550100)`,
    );
  }
  rememberNumberFacts(parsed.number, {
    country: parsed.country ?? 'ZZ',
    callingCode: parsed.countryCallingCode,
    type,
  });
  return parsed.number;
}

/** "+14155550100" → "+1415*****00": enough to correlate log lines, not enough to identify. */
export function maskPhoneNumber(e164: string): string {
  if (e164.length <= 6) return '*'.repeat(e164.length);
  return `${e164.slice(0, 5)}${'*'.repeat(e164.length - 7)}${e164.slice(-2)}`;
}
