// The building blocks of the configuration table (settings.ts): a setting is one Config field with
// the TypeBox schema of its value, the environment variables it is read from (name, default,
// allowed values, one-line description) and how it is read; a group nests settings into an object.
// The Config type, the loader, .env.example and docs/configuration.md all come from these.
import {
  type Static,
  type TObject,
  type TSchema,
  type TUndefined,
  type TUnion,
  Type,
} from '@sinclair/typebox';
import { InvalidValue, refusal } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The topics of the documentation, in the order it shows them, each with its one-line summary. */
export const TOPICS = {
  service: {
    title: 'Service',
    summary: 'Where the service listens, its database, its logs, API keys and housekeeping.',
  },
  seed: {
    title: 'Seed settings',
    summary:
      "django-phone-verify's `PHONE_VERIFICATION` settings, one to one (`PHONE_VERIFICATION_TOKEN_LENGTH` is the seed's `TOKEN_LENGTH`, and so on).",
  },
  backends: {
    title: 'Backends',
    summary: 'Which backend sends the messages, its options, and where custom backend files are found.',
  },
  limits: {
    title: 'Limits',
    summary: 'Requests per client IP and verifications per phone number, and where their counters live.',
  },
  protection: {
    title: 'SMS-bill protection',
    summary:
      'Refusals that keep SMS pumping off the bill; a start passes them in the order of [SMS-bill protection](sms-bill-protection.md).',
  },
  compatibility: {
    title: 'Compatibility',
    summary:
      "The Twilio Verify v2 routes (`/v2`) and django-phone-verify's routes (`/api/phone`) have no settings of their own: `API_KEYS` guards them too (on `/v2`, as the Basic-auth password), the SMS-bill protection applies to their starts, and a `/v2` service's code length defaults to `PHONE_VERIFICATION_TOKEN_LENGTH`.",
  },
  delivery: {
    title: 'Delivery',
    summary: "A fallback backend, the service's external origin for delivery receipts, and its own secret.",
  },
} as const;
export type Topic = keyof typeof TOPICS;

/** One environment variable, as the documentation shows it. */
export interface Variable {
  name: string;
  topic: Topic;
  /** the default as written in the environment; undefined: unset */
  default?: string;
  /** what leaving it unset means, for the documentation (e.g. "every country") */
  unset?: string;
  /** one line: what it does */
  description: string;
  /** the values it takes, for the documentation */
  allowed: string;
  /** its value may hold a secret: a refusal never shows it */
  secret?: boolean;
  /** whitespace-only counts as a value (free text), not as unset */
  keepsSpaces?: boolean;
}

/** Variables named by a prefix and a key or language: PHONE_VERIFICATION_OPTIONS_SID, …_MESSAGE_DE. */
export interface Family {
  prefix: string;
  /** the placeholder the documentation writes after the prefix: KEY, LANG */
  key: string;
  topic: Topic;
  description: string;
  allowed: string;
  /** the member .env.example shows */
  example: { key: string; value: string };
}

/** What a setting's read sees: the environment, and the fields read before it (in table order). */
export interface ReadContext {
  env: Env;
  earlier: Readonly<Record<string, unknown>>;
}

export interface Setting<T extends TSchema = TSchema> {
  kind: 'setting';
  schema: T;
  variables: readonly Variable[];
  families: readonly Family[];
  read(context: ReadContext): Static<T>;
}

export interface Group<T extends TSchema = TSchema> {
  kind: 'group';
  schema: T;
  children: Readonly<Record<string, Node>>;
  /** the group is undefined while this child is (a budget without a maximum is no budget) */
  whenSet?: string;
}

export type Node = Setting | Group;

type SchemasOf<C extends Record<string, Node>> = { [K in keyof C]: C[K]['schema'] };

/** Settings nested into one object field. */
export function group<C extends Record<string, Node>>(children: C): Group<TObject<SchemasOf<C>>>;
/** Settings nested into one object field that is undefined while `whenSet` is unset. */
export function group<C extends Record<string, Node>>(
  children: C,
  whenSet: keyof C & string,
): Group<TUnion<[TObject<SchemasOf<C>>, TUndefined]>>;
export function group(children: Record<string, Node>, whenSet?: string): Group {
  const properties = Object.fromEntries(Object.entries(children).map(([key, node]) => [key, node.schema]));
  const object = Type.Object(properties);
  return {
    kind: 'group',
    schema: whenSet === undefined ? object : Type.Union([object, Type.Undefined()]),
    children,
    whenSet,
  };
}

/** True when `raw` means "use the default": unset, empty, or (except for free text) only spaces. */
export function isBlank(variable: Variable, raw: string | undefined): boolean {
  return raw === undefined || (variable.keepsSpaces ? raw === '' : raw.trim() === '');
}

/**
 * Runs `parse` on the variable's value (its default when blank), turning an InvalidValue into the
 * ConfigError that names the variable. A variable with neither value nor default gives `unset()`;
 * without `unset`, undefined, which only the `whenSet` child of a group may be (the group is then
 * undefined as a whole; the schema test holds every other field to its schema).
 */
export function readVariable<V>(variable: Variable, env: Env, parse: (raw: string) => V, unset?: () => V): V {
  const raw = env[variable.name];
  const value = isBlank(variable, raw) ? variable.default : raw;
  if (value === undefined) return unset ? unset() : (undefined as V);
  try {
    return parse(value);
  } catch (error) {
    if (error instanceof InvalidValue) throw refusal(variable.name, error, variable.secret);
    throw error;
  }
}

/** Every variable and family under `node`, in table order (a setting's variables, then its families). */
export function entriesOf(node: Node): (Variable | Family)[] {
  if (node.kind === 'setting') return [...node.variables, ...node.families];
  return Object.values(node.children).flatMap(entriesOf);
}

export function isFamily(entry: Variable | Family): entry is Family {
  return 'prefix' in entry;
}

/** Reads every setting under `node` in table order. */
export function readNode(node: Node, env: Env, earlier?: Record<string, unknown>): unknown {
  if (node.kind === 'setting') return node.read({ env, earlier: earlier ?? {} });
  const value: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.children)) {
    value[key] = readNode(child, env, earlier ?? value);
  }
  if (node.whenSet !== undefined && value[node.whenSet] === undefined) return undefined;
  return value;
}
