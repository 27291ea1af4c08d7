// Turns any common human spelling of an international number into E.164, or refuses it.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { InvalidPhoneNumber } from '../errors.js';

export function normalizePhoneNumber(input: string): string {
  // "00 44 …" is the international prefix most of the world dials; "+" is what the parser wants.
  const spelled = input.trim().replace(/^00[\s.-]*(?=[1-9])/, '+');
  const parsed = spelled.startsWith('+') ? parsePhoneNumberFromString(spelled) : undefined;
  if (!parsed?.isValid()) {
    throw new InvalidPhoneNumber(
      `${JSON.stringify(input.slice(0, 40))} is not a valid international phone number (expected E.164, e.g. +14155550100)`,
    );
  }
  return parsed.number;
}

/** "+14155550100" → "+1415*****00": enough to correlate log lines, not enough to identify. */
export function maskPhoneNumber(e164: string): string {
  if (e164.length <= 6) return '*'.repeat(e164.length);
  return `${e164.slice(0, 5)}${'*'.repeat(e164.length - 7)}${e164.slice(-2)}`;
}
