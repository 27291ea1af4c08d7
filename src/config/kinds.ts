// The kinds of setting the table is made of. Each builds a Setting from a variable's description:
// its TypeBox schema holds the bounds or allowed values, and its parse function checks a value
// against that same schema, so the bound that refuses a value is the one the documentation shows.
import {
  type Static,
  type TArray,
  type TBoolean,
  type TDate,
  type TInteger,
  type TLiteral,
  type TNumber,
  type TSchema,
  type TString,
  type TUndefined,
  type TUnion,
  Type,
} from '@sinclair/typebox';
import { readVariable, type Setting, type Variable } from './definition.js';
import { DURATION_SYNTAX, formatDuration, parseWindow } from './durations.js';
import { InvalidValue } from './errors.js';

/** A variable as a table entry writes it: `allowed` may be left to the kind. */
export type Spec = Omit<Variable, 'allowed'> & { allowed?: string };

function variableOf(spec: Spec, allowed: string): Variable {
  return { ...spec, allowed: spec.allowed ?? allowed };
}

/** A setting read from one variable by `parse`; unset without a default gives `unset()`. */
export function single<T extends TSchema>(
  schema: T,
  variable: Variable,
  parse: (raw: string) => Static<T>,
  unset?: () => Static<T>,
): Setting<T> {
  return {
    kind: 'setting',
    schema,
    variables: [variable],
    families: [],
    read: ({ env }) => readVariable(variable, env, parse, unset),
  };
}

/** Free text, as written (or trimmed); `check` may refuse it. */
export function text(
  spec: Spec,
  options: { trim?: boolean; check?: (value: string) => void } = {},
): Setting<TString> {
  return single(Type.String(), variableOf({ keepsSpaces: !options.trim, ...spec }, 'text'), (raw) => {
    const value = options.trim ? raw.trim() : raw;
    options.check?.(value);
    return value;
  });
}

/** Text that may be unset (undefined); `parse` checks and normalises it. */
export function optionalText(
  spec: Spec,
  parse: (raw: string) => string = (raw) => raw,
): Setting<TUnion<[TString, TUndefined]>> {
  return single(
    Type.Union([Type.String(), Type.Undefined()]),
    variableOf(spec, 'text'),
    parse,
    () => undefined,
  );
}

/** The documentation's (and refusals') words for a whole-number range. */
export function wholeNumbers(minimum: number | string, maximum?: number): string {
  return maximum === undefined
    ? `a whole number, at least ${minimum}`
    : `a whole number from ${minimum} to ${maximum}`;
}

/** A whole number within the schema's bounds. */
export function integer(spec: Spec, bounds: { minimum: number; maximum?: number }): Setting<TInteger> {
  const schema = Type.Integer(bounds);
  return single(schema, variableOf(spec, wholeNumbers(bounds.minimum, bounds.maximum)), (raw) =>
    parseInteger(raw, schema),
  );
}

export function parseInteger(raw: string, schema: TInteger): number {
  if (!/^\s*-?\d+\s*$/.test(raw)) throw new InvalidValue('expected a whole number', raw);
  const value = Number(raw);
  const minimum = schema.minimum ?? Number.MIN_SAFE_INTEGER;
  const maximum = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  if (value < minimum || value > maximum) {
    // Without a maximum of its own, a number refused for its size names the largest one taken.
    const shownMaximum = schema.maximum ?? (value > maximum ? maximum : undefined);
    throw new InvalidValue(`expected ${wholeNumbers(minimum, shownMaximum)}`, raw);
  }
  return value;
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

export function boolean(spec: Spec): Setting<TBoolean> {
  return single(Type.Boolean(), variableOf(spec, 'true or false (also 1/0, yes/no, on/off)'), (raw) => {
    const value = raw.trim().toLowerCase();
    if (TRUE.includes(value)) return true;
    if (FALSE.includes(value)) return false;
    throw new InvalidValue('expected true or false', raw);
  });
}

type Literals<T extends readonly string[]> = TUnion<TLiteral<T[number]>[]>;

/** One of `values`, case-insensitive. */
export function oneOf<const T extends readonly [string, ...string[]]>(
  spec: Spec,
  values: T,
): Setting<Literals<T>> {
  const schema: Literals<T> = Type.Union(values.map((value) => Type.Literal(value)));
  return single(schema, variableOf(spec, values.join(', ')), (raw) => {
    const value = raw.trim().toLowerCase();
    if (!(values as readonly string[]).includes(value)) {
      throw new InvalidValue(`expected one of ${values.join(', ')}`, value);
    }
    return value as Static<Literals<T>>;
  });
}

/** A number from 0 to 1. */
export function ratio(spec: Spec): Setting<TNumber> {
  const schema = Type.Number({ minimum: 0, maximum: 1 });
  return single(schema, variableOf(spec, 'a number from 0 to 1'), (raw) => {
    const value = Number(raw);
    if (!/^\s*\d*\.?\d+\s*$/.test(raw) || value < schema.minimum! || value > schema.maximum!) {
      throw new InvalidValue('expected a number from 0 to 1', raw);
    }
    return value;
  });
}

export interface DurationBounds {
  /** shortest accepted, in milliseconds (default 1) */
  minimum?: number;
  maximum?: number;
  /** also "0", meaning none */
  zero?: boolean;
  /** words that mean "off" (0) */
  off?: readonly string[];
}

function durationForms(bounds: DurationBounds): string {
  if (bounds.off)
    return `${DURATION_SYNTAX.replace(' or ', ', ')}, or ${bounds.off.join('/')} to turn it off`;
  const range =
    bounds.minimum !== undefined && bounds.maximum !== undefined
      ? `, from ${formatDuration(bounds.minimum)} to ${formatDuration(bounds.maximum)}`
      : bounds.maximum !== undefined
        ? `, at most ${formatDuration(bounds.maximum)}`
        : '';
  return `${DURATION_SYNTAX}${range}${bounds.zero ? ', or 0 for none' : ''}`;
}

/** A duration (DURATION_SYNTAX) in milliseconds, within the schema's bounds. */
export function duration(spec: Spec, bounds: DurationBounds = {}): Setting<TInteger> {
  const schema = Type.Integer({
    minimum: bounds.zero || bounds.off ? 0 : (bounds.minimum ?? 1),
    ...(bounds.maximum === undefined ? {} : { maximum: bounds.maximum }),
  });
  const forms = durationForms(bounds);
  return single(schema, variableOf(spec, forms), (raw) => {
    const word = raw.trim().toLowerCase();
    if (bounds.off?.includes(word) || (bounds.zero && word === '0')) return 0;
    const ms = parseWindow(raw);
    if (ms === undefined || ms < schema.minimum! || ms > (schema.maximum ?? Number.MAX_SAFE_INTEGER)) {
      throw new InvalidValue(`expected ${forms}`, raw);
    }
    return ms;
  });
}

/** Comma-separated entries, trimmed, empty ones dropped. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * A comma-separated list; `entry` checks and normalises each (throwing InvalidValue for a bad one);
 * `none`, when given, is the word for the empty list.
 */
export function list(
  spec: Spec,
  options: { entry?: (entry: string) => string; none?: string; allowed?: string } = {},
): Setting<TArray<TString>> {
  const allowed = options.allowed ?? 'comma-separated text';
  return single(
    Type.Array(Type.String()),
    variableOf(spec, allowed),
    (raw) => {
      if (options.none !== undefined && raw.trim().toLowerCase() === options.none) return [];
      const entries = splitList(raw);
      return options.entry ? entries.map(options.entry) : entries;
    },
    () => [],
  );
}

/** An ISO 8601 instant, or undefined when unset. */
export function instant(spec: Spec): Setting<TUnion<[TDate, TUndefined]>> {
  return single(
    Type.Union([Type.Date(), Type.Undefined()]),
    variableOf(spec, 'an ISO 8601 instant such as 2027-01-31T00:00:00Z'),
    (raw) => {
      const value = raw.trim();
      const date = new Date(value);
      // A date part first: Date alone would also take "March 7" and the like.
      if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
        throw new InvalidValue('expected an ISO 8601 instant such as 2027-01-31T00:00:00Z', value);
      }
      return date;
    },
    () => undefined,
  );
}
