// Reads the environment once at start into a typed, validated Config. Every variable of
// CONTRACT.md section 2 is parsed here and nowhere else; a bad value throws a ConfigError whose
// message is the one line the process prints before exiting. An empty variable means its default.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type DatabaseKind = 'sqlite' | 'postgresql';

export interface RateLimitSetting {
  max: number;
  /** window length in milliseconds */
  windowMs: number;
}

export interface Config {
  // seed settings (PHONE_VERIFICATION_*)
  backend: string;
  /** backend options, keys lower-cased, per-key variables merged over the JSON */
  backendOptions: Record<string, unknown>;
  tokenLength: number;
  minTokenLength: number;
  message: string;
  /** translated templates keyed by the upper-case tag with underscores: DE, PT_BR, ZH_HANT */
  messages: Record<string, string>;
  appName: string;
  /** seconds a code stays valid */
  codeExpirySeconds: number;
  verifyCodeOnlyOnce: boolean;
  maxFailedAttempts: number;
  recordRetentionDays: number;
  /** milliseconds between scheduled purges of old sessions; 0 turns the schedule off */
  purgeIntervalMs: number;

  // service settings
  port: number;
  host: string;
  databaseUrl: string;
  databaseKind: DatabaseKind;
  /** the deadline of each database operation, in milliseconds (a statement, a lock wait, a connect) */
  databaseTimeoutMs: number;
  migrateOnStart: boolean;
  pluginsDir: string;
  logLevel: string;
  /** json (one JSON object per line, for collectors) or pretty (for a person at a terminal) */
  logFormat: LogFormat;
  apiKeys: string[];
  rateLimit: RateLimitSetting;
  phoneRateLimit: RateLimitSetting;
  redisUrl: string | undefined;
  /** prefix of every Redis key this service writes, so deployments can share one Redis */
  redisKeyPrefix: string;
  /** what the rate limits do while Redis is unreachable (see README, Security) */
  rateLimitOnRedisError: RedisFailurePolicy;
  /** how log lines show phone numbers */
  logPhoneNumbers: 'masked' | 'full';
  /** Fastify trustProxy: false, true, a hop count, or addresses/CIDRs */
  trustProxy: boolean | number | string[];
  /** milliseconds a backend without a TIMEOUT option of its own may take to send one message */
  sendTimeoutMs: number;
}

/**
 * While Redis is unreachable: `local` counts in each replica's memory (limits hold per replica),
 * `open` stops limiting, `closed` refuses limited requests with 503.
 */
export type RedisFailurePolicy = 'local' | 'open' | 'closed';

export type LogFormat = 'json' | 'pretty';

type Env = Record<string, string | undefined>;

/**
 * Every variable loadConfig reads by its full name, so the Dockerfile, docker-compose.yml and
 * .env.example can be checked against it. The per-key families are in ENV_VARIABLE_PREFIXES.
 */
export const ENV_VARIABLES = [
  'PHONE_VERIFICATION_BACKEND',
  'PHONE_VERIFICATION_OPTIONS',
  'PHONE_VERIFICATION_TOKEN_LENGTH',
  'PHONE_VERIFICATION_MESSAGE',
  'PHONE_VERIFICATION_APP_NAME',
  'PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_TIME',
  'PHONE_VERIFICATION_VERIFY_SECURITY_CODE_ONLY_ONCE',
  'PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_SECONDS',
  'PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS',
  'PHONE_VERIFICATION_MIN_TOKEN_LENGTH',
  'PHONE_VERIFICATION_RECORD_RETENTION_DAYS',
  'PORT',
  'HOST',
  'DATABASE_URL',
  'DATABASE_TIMEOUT',
  'MIGRATE_ON_START',
  'PLUGINS_DIR',
  'LOG_LEVEL',
  'API_KEYS',
  'RATE_LIMIT_MAX',
  'RATE_LIMIT_WINDOW',
  'PHONE_RATE_LIMIT_MAX',
  'PHONE_RATE_LIMIT_WINDOW',
  'REDIS_URL',
  'TRUST_PROXY',
  'PURGE_INTERVAL',
  'REDIS_KEY_PREFIX',
  'RATE_LIMIT_ON_REDIS_ERROR',
  'LOG_PHONE_NUMBERS',
  'LOG_FORMAT',
  'SEND_TIMEOUT',
] as const;

/** Variable families with one variable per key or language: PHONE_VERIFICATION_OPTIONS_SID, …_MESSAGE_DE. */
export const ENV_VARIABLE_PREFIXES = ['PHONE_VERIFICATION_OPTIONS_', 'PHONE_VERIFICATION_MESSAGE_'] as const;

const PREFIX = 'PHONE_VERIFICATION_';
const OPTION_PREFIX = `${PREFIX}OPTIONS_`;
const MESSAGE_PREFIX = `${PREFIX}MESSAGE_`;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SECRET_NAME = /secret|token|key|password/i;

export const DEFAULT_MESSAGE = 'Welcome to {app}! Please use security code {security_code} to proceed.';

/** True for option names whose values must never be printed (CONTRACT section 2). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function fail(variable: string, problem: string, value?: string): never {
  const secret = variable.startsWith(OPTION_PREFIX) && isSecretName(variable.slice(OPTION_PREFIX.length));
  const shown = value === undefined || secret ? '' : ` (got ${JSON.stringify(value)})`;
  throw new ConfigError(`${variable}: ${problem}${shown}`);
}

function text(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\s*-?\d+\s*$/.test(raw)) fail(name, 'expected a whole number', raw);
  const value = Number(raw);
  if (value < min || value > max) fail(name, `expected a whole number from ${min} to ${max}`, raw);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  fail(name, 'expected true or false', raw);
}

const UNIT_MS: Record<string, number> = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** A window is milliseconds ("60000") or "N second(s)/minute(s)/hour(s)/day(s)". */
export function parseWindow(raw: string): number | undefined {
  const value = raw.trim().toLowerCase();
  if (/^\d+$/.test(value)) return Number(value) > 0 ? Number(value) : undefined;
  const match = /^(\d+)\s*(second|minute|hour|day)s?$/.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  return amount > 0 ? amount * UNIT_MS[match[2]!]! : undefined;
}

function rateLimit(
  env: Env,
  maxName: string,
  windowName: string,
  max: number,
  window: string,
): RateLimitSetting {
  const raw = text(env, windowName, window);
  const windowMs = parseWindow(raw);
  if (windowMs === undefined) {
    fail(windowName, 'expected milliseconds or "N second(s)/minute(s)/hour(s)/day(s)"', raw);
  }
  return { max: integer(env, maxName, max, 1), windowMs };
}

/** The PURGE_INTERVAL values that turn the scheduled purge off (README, Retention). */
export const PURGE_OFF = ['off', 'false', 'never', '0'] as const;

/** PURGE_INTERVAL: a window like RATE_LIMIT_WINDOW, or off to leave purging to `npm run purge`. */
function purgeInterval(env: Env): number {
  const raw = text(env, 'PURGE_INTERVAL', '1 hour');
  if ((PURGE_OFF as readonly string[]).includes(raw.trim().toLowerCase())) return 0;
  const ms = parseWindow(raw);
  if (ms === undefined) {
    fail(
      'PURGE_INTERVAL',
      `expected milliseconds, "N second(s)/minute(s)/hour(s)/day(s)", or ${PURGE_OFF.join('/')} to turn it off`,
      raw,
    );
  }
  return ms;
}

/** DATABASE_TIMEOUT: a window like RATE_LIMIT_WINDOW, from 100 ms to 10 minutes. */
function databaseTimeout(env: Env): number {
  const raw = text(env, 'DATABASE_TIMEOUT', '5 seconds');
  const ms = parseWindow(raw);
  if (ms === undefined || ms < 100 || ms > 600_000) {
    fail('DATABASE_TIMEOUT', 'expected milliseconds (100 to 600000) or "N second(s)/minute(s)"', raw);
  }
  return ms;
}

/** Longest SEND_TIMEOUT: as long as the built-in backends' TIMEOUT may be. */
const MAX_SEND_TIMEOUT_MS = 120_000;

/** SEND_TIMEOUT: a window like RATE_LIMIT_WINDOW, up to two minutes. */
function sendTimeout(env: Env): number {
  const raw = text(env, 'SEND_TIMEOUT', '10 seconds');
  const ms = parseWindow(raw);
  if (ms === undefined || ms > MAX_SEND_TIMEOUT_MS) {
    fail('SEND_TIMEOUT', 'expected milliseconds or "N second(s)/minute(s)", at most 2 minutes', raw);
  }
  return ms;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) fail(name, `expected one of ${values.join(', ')}`, raw);
  return raw as T;
}

function backendOptions(env: Env): Record<string, unknown> {
  const name = `${PREFIX}OPTIONS`;
  const raw = env[name];
  let options: Record<string, unknown> = {};
  if (raw !== undefined && raw.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      // The JSON may hold secrets: name the problem, never echo the value.
      fail(name, `is not valid JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      fail(name, 'expected a JSON object such as {"SID": "...", "SECRET": "..."}');
    }
    options = Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key.toLowerCase(), value]));
  }
  for (const [key, value] of Object.entries(env)) {
    // Empty is unset, as for every variable (a "NAME=" line left in .env, say).
    if (key.startsWith(OPTION_PREFIX) && key.length > OPTION_PREFIX.length && value) {
      options[key.slice(OPTION_PREFIX.length).toLowerCase()] = value;
    }
  }
  return options;
}

function translatedMessages(env: Env): Record<string, string> {
  const messages: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(MESSAGE_PREFIX) || value === undefined || value === '') continue;
    const tag = key.slice(MESSAGE_PREFIX.length).toUpperCase();
    if (!/^[A-Z]{2,8}(_[A-Z0-9]{1,8})*$/.test(tag)) {
      fail(key, 'expected a language tag suffix such as _DE, _PT_BR or _ZH_HANT');
    }
    messages[tag] = value;
  }
  return messages;
}

export function databaseKindOf(url: string): DatabaseKind | undefined {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  return undefined;
}

/** An address, a CIDR, or one of proxy-addr's names for the private ranges. */
function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

function trustProxy(env: Env): Config['trustProxy'] {
  const raw = env.TRUST_PROXY?.trim();
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim());
  if (!entries.every(isProxyEntry)) {
    fail(
      'TRUST_PROXY',
      'expected true, false, a hop count, or comma-separated addresses/CIDRs (or loopback, linklocal, uniquelocal)',
      raw,
    );
  }
  return entries;
}

/** Parses and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const minTokenLength = integer(env, `${PREFIX}MIN_TOKEN_LENGTH`, 6, 1, 10);
  const tokenLength = integer(env, `${PREFIX}TOKEN_LENGTH`, 6, 1);
  if (tokenLength < minTokenLength || tokenLength > 10) {
    fail(
      `${PREFIX}TOKEN_LENGTH`,
      `expected ${minTokenLength} to 10 digits (MIN_TOKEN_LENGTH is ${minTokenLength})`,
      String(tokenLength),
    );
  }
  const expiryTime = integer(env, `${PREFIX}SECURITY_CODE_EXPIRATION_TIME`, 3600, 1);
  const codeExpirySeconds = integer(env, `${PREFIX}SECURITY_CODE_EXPIRATION_SECONDS`, expiryTime, 1);

  const backend = text(env, `${PREFIX}BACKEND`, 'console').trim();
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z_$][\w$]*)?$/.test(backend)) {
    fail(`${PREFIX}BACKEND`, 'expected a built-in backend name or "module.ClassName"', backend);
  }

  const databaseUrl = text(env, 'DATABASE_URL', 'file:./data/phone-verify.db');
  const databaseKind = databaseKindOf(databaseUrl);
  if (!databaseKind) fail('DATABASE_URL', 'expected file:PATH (SQLite) or postgresql://… (PostgreSQL)');

  const logLevel = text(env, 'LOG_LEVEL', 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) fail('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`, logLevel);

  const redisUrl = env.REDIS_URL?.trim() || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) fail('REDIS_URL', 'expected redis://… or rediss://…');

  return {
    backend,
    backendOptions: backendOptions(env),
    tokenLength,
    minTokenLength,
    message: text(env, `${PREFIX}MESSAGE`, DEFAULT_MESSAGE),
    messages: translatedMessages(env),
    appName: text(env, `${PREFIX}APP_NAME`, 'Phone Verify'),
    codeExpirySeconds,
    verifyCodeOnlyOnce: boolean(env, `${PREFIX}VERIFY_SECURITY_CODE_ONLY_ONCE`, true),
    maxFailedAttempts: integer(env, `${PREFIX}MAX_FAILED_ATTEMPTS`, 5, 1),
    recordRetentionDays: integer(env, `${PREFIX}RECORD_RETENTION_DAYS`, 30, 1),
    purgeIntervalMs: purgeInterval(env),
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: text(env, 'HOST', '0.0.0.0'),
    databaseUrl,
    databaseKind,
    databaseTimeoutMs: databaseTimeout(env),
    migrateOnStart: boolean(env, 'MIGRATE_ON_START', true),
    pluginsDir: text(env, 'PLUGINS_DIR', './plugins'),
    logLevel,
    logFormat: oneOf(env, 'LOG_FORMAT', ['json', 'pretty'], 'json'),
    apiKeys: (env.API_KEYS ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean),
    rateLimit: rateLimit(env, 'RATE_LIMIT_MAX', 'RATE_LIMIT_WINDOW', 100, '1 minute'),
    phoneRateLimit: rateLimit(env, 'PHONE_RATE_LIMIT_MAX', 'PHONE_RATE_LIMIT_WINDOW', 5, '1 hour'),
    redisUrl,
    redisKeyPrefix: text(env, 'REDIS_KEY_PREFIX', 'phone-verify:'),
    rateLimitOnRedisError: oneOf(env, 'RATE_LIMIT_ON_REDIS_ERROR', ['local', 'open', 'closed'], 'local'),
    logPhoneNumbers: oneOf(env, 'LOG_PHONE_NUMBERS', ['masked', 'full'], 'masked'),
    trustProxy: trustProxy(env),
    sendTimeoutMs: sendTimeout(env),
  };
}

/**
 * Reads a .env file (Node's own parser) into `env` for each variable `env` does not already have:
 * the real environment wins. Returns the names it set, sorted; a missing file sets nothing. Only the
 * processes' entry points call it (npm start, npm run migrate, npm run purge).
 */
export function loadDotEnv(file = '.env', env: Env = process.env): string[] {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`${path}: cannot be read (${(error as Error).message})`);
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    set.push(name);
  }
  return set.sort();
}
