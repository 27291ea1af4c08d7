// Reads the environment once at start into a typed, validated Config by walking the table
// (settings.ts) in order; the first bad value throws a ConfigError whose message is the one line
// the process prints before exiting. An empty variable means its default.
import type { Static } from '@sinclair/typebox';
import { type Env, entriesOf, isFamily, readNode } from './definition.js';
import { CONFIG } from './settings.js';

/** The schema of the whole Config, as the table builds it. */
export const ConfigSchema = CONFIG.schema;
export type Config = Static<typeof ConfigSchema>;
export type RateLimitSetting = Config['rateLimit'];
export type FraudGuardSetting = Config['fraudGuard'];
/**
 * While Redis is unreachable: `local` counts in each replica's memory (limits hold per replica),
 * `open` stops limiting, `closed` refuses limited requests with 503.
 */
export type RedisFailurePolicy = Config['rateLimitOnRedisError'];
export type LogFormat = Config['logFormat'];

const entries = entriesOf(CONFIG);

/** Every variable loadConfig reads by its full name, in table order. */
export const ENV_VARIABLES: readonly string[] = entries.flatMap((entry) =>
  isFamily(entry) ? [] : [entry.name],
);
/** Variable families with one variable per key or language: PHONE_VERIFICATION_OPTIONS_SID, …_MESSAGE_DE. */
export const ENV_VARIABLE_PREFIXES: readonly string[] = entries.flatMap((entry) =>
  isFamily(entry) ? [entry.prefix] : [],
);

/** Parses and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  return readNode(CONFIG, env) as Config;
}
