// Settings read from a family of variables, one per key or language, over an optional JSON base:
// a backend's options (PHONE_VERIFICATION_OPTIONS and …_OPTIONS_<KEY>) and the translated messages.
import { type TRecord, type TString, type TUnknown, Type } from '@sinclair/typebox';
import { type Family, readVariable, type Setting } from './definition.js';
import { ConfigError, InvalidValue } from './errors.js';
import type { Spec } from './kinds.js';

/** The JSON object of options, keys lower-cased. The JSON may hold secrets: it is never echoed. */
function parseOptions(raw: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new InvalidValue(`is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidValue('expected a JSON object such as {"SID": "...", "SECRET": "..."}');
  }
  return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key.toLowerCase(), value]));
}

/** Members of a family that are set, by their key as written after the prefix. */
function members(env: Readonly<Record<string, string | undefined>>, prefix: string): [string, string][] {
  // Empty is unset, as for every variable (a "NAME=" line left in .env, say).
  return Object.entries(env)
    .filter(([name, value]) => name.startsWith(prefix) && name.length > prefix.length && value)
    .map(([name, value]) => [name.slice(prefix.length), value as string]);
}

/**
 * A backend's options: the JSON variable, then one variable per key (the family) over it. Option
 * keys are case-insensitive: backends receive them lower-cased, as in the seed.
 */
export function backendOptions(
  spec: Spec,
  family: Omit<Family, 'key' | 'allowed'>,
): Setting<TRecord<TString, TUnknown>> {
  const variable = { ...spec, allowed: 'a JSON object' };
  const members_ = { ...family, key: 'KEY', allowed: 'text' };
  return {
    kind: 'setting',
    schema: Type.Record(Type.String(), Type.Unknown()),
    variables: [variable],
    families: [members_],
    read: ({ env }) => {
      const options = readVariable<Record<string, unknown>>(variable, env, parseOptions, () => ({}));
      for (const [key, value] of members(env, family.prefix)) options[key.toLowerCase()] = value;
      return options;
    },
  };
}

/** A language tag as the variables write it: DE, PT_BR, ZH_HANT. */
const TAG = /^[A-Z]{2,8}(_[A-Z0-9]{1,8})*$/;

/** Translated message templates keyed by the upper-case tag: { DE: …, PT_BR: … }. */
export function translations(family: Omit<Family, 'key' | 'allowed'>): Setting<TRecord<TString, TString>> {
  return {
    kind: 'setting',
    schema: Type.Record(Type.String(), Type.String()),
    variables: [],
    families: [{ ...family, key: 'LANG', allowed: 'text, with {app} and {security_code}' }],
    read: ({ env }) => {
      const messages: Record<string, string> = {};
      for (const [key, value] of members(env, family.prefix)) {
        const tag = key.toUpperCase();
        if (!TAG.test(tag)) {
          throw new ConfigError(
            `${family.prefix}${key}: expected a language tag suffix such as _DE, _PT_BR or _ZH_HANT`,
          );
        }
        messages[tag] = value;
      }
      return messages;
    },
  };
}
