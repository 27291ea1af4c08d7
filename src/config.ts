// Reads the environment once at start into a typed, validated Config. Every variable of
// docs/configuration.md is parsed here and nowhere else; a bad value throws a ConfigError whose
// message is the one line the process prints before exiting. An empty variable means its default.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { getCountries } from 'libphonenumber-js';

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
  // django-phone-verify's settings (PHONE_VERIFICATION_*)
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
  /** what the rate limits do while Redis is unreachable (docs/security.md) */
  rateLimitOnRedisError: RedisFailurePolicy;
  /** how log lines show phone numbers */
  logPhoneNumbers: 'masked' | 'full';
  /** Fastify trustProxy: false, true, a hop count, or addresses/CIDRs */
  trustProxy: boolean | number | string[];
  /** milliseconds a backend without a TIMEOUT option of its own may take to send one message */
  sendTimeoutMs: number;

  // SMS-bill protection (docs/sms-bill-protection.md)
  /** upper-case ISO 3166-1 alpha-2 codes; [] = every country */
  allowedCountries: string[];
  deniedCountries: string[];
  /** libphonenumber-js NumberType names refused; [] = none */
  deniedNumberTypes: string[];
  /** least milliseconds between two starts for one number; 0 = none */
  phoneResendIntervalMs: number;
  prefixRateLimit: RateLimitSetting;
  fraudGuard: FraudGuardSetting;
  /** messages the deployment sends per window; undefined = no budget */
  smsBudget: RateLimitSetting | undefined;
  /** E.164 number -> its fixed code */
  testPhoneNumbers: Record<string, string>;
  testPhoneNumbersUntil: Date | undefined;

  // delivery (docs/delivery.md)
  fallbackBackend: string | undefined;
  /** fallback backend options, keys lower-cased, per-key variables merged over the JSON */
  fallbackBackendOptions: Record<string, unknown>;
  /** the service's external origin (path allowed), without a trailing "/" */
  publicUrl: string | undefined;
  /** at least 32 characters; never printed */
  serverSecret: string | undefined;
}

export interface FraudGuardSetting {
  mode: 'enforce' | 'monitor' | 'off';
  windowMs: number;
  minStarts: number;
  /** 0..1 */
  minConversion: number;
  graceMs: number;
  blockMs: number;
  /** "+"-prefixed digit strings: numbers or prefixes never refused by the prefix limit or the guard */
  safeList: string[];
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
  'ALLOWED_COUNTRIES',
  'DENIED_COUNTRIES',
  'DENIED_NUMBER_TYPES',
  'PHONE_RESEND_INTERVAL',
  'PREFIX_RATE_LIMIT_MAX',
  'PREFIX_RATE_LIMIT_WINDOW',
  'FRAUD_GUARD',
  'FRAUD_GUARD_WINDOW',
  'FRAUD_GUARD_MIN_STARTS',
  'FRAUD_GUARD_MIN_CONVERSION',
  'FRAUD_GUARD_GRACE',
  'FRAUD_GUARD_BLOCK',
  'FRAUD_GUARD_SAFE_LIST',
  'SMS_BUDGET_MAX',
  'SMS_BUDGET_WINDOW',
  'TEST_PHONE_NUMBERS',
  'TEST_PHONE_NUMBERS_UNTIL',
  'PHONE_VERIFICATION_FALLBACK_BACKEND',
  'PHONE_VERIFICATION_FALLBACK_OPTIONS',
  'PUBLIC_URL',
  'SERVER_SECRET',
] as const;

/** Variable families with one variable per key or language: PHONE_VERIFICATION_OPTIONS_SID, …_MESSAGE_DE. */
export const ENV_VARIABLE_PREFIXES = [
  'PHONE_VERIFICATION_OPTIONS_',
  'PHONE_VERIFICATION_MESSAGE_',
  'PHONE_VERIFICATION_FALLBACK_OPTIONS_',
] as const;

const PREFIX = 'PHONE_VERIFICATION_';
const OPTION_PREFIX = `${PREFIX}OPTIONS_`;
const MESSAGE_PREFIX = `${PREFIX}MESSAGE_`;
const FALLBACK_OPTION_PREFIX = `${PREFIX}FALLBACK_OPTIONS_`;
/** Variables whose values are never echoed in a refusal. */
const SECRET_VARIABLES = new Set(['SERVER_SECRET']);
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SECRET_NAME = /secret|token|key|password/i;
/** A built-in backend's name or a plugin's module.ClassName (no path: the plugin loader resolves it). */
const BACKEND_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z_$][\w$]*)?$/;

export const DEFAULT_MESSAGE = 'Welcome to {app}! Please use security code {security_code} to proceed.';

/** True for option names whose values must never be printed (docs/backends.md, "Backend options"). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

function fail(variable: string, problem: string, value?: string): never {
  const secret =
    SECRET_VARIABLES.has(variable) ||
    [OPTION_PREFIX, FALLBACK_OPTION_PREFIX].some(
      (prefix) => variable.startsWith(prefix) && isSecretName(variable.slice(prefix.length)),
    );
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

/** The PURGE_INTERVAL values that turn the scheduled purge off (docs/operations.md, "Retention"). */
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

/** A backend's options: the JSON variable `name`, then one variable per key (`prefix` + KEY) over it. */
function backendOptions(env: Env, name: string, prefix: string): Record<string, unknown> {
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
    if (key.startsWith(prefix) && key.length > prefix.length && value) {
      options[key.slice(prefix.length).toLowerCase()] = value;
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

const WINDOW_FORMAT = 'expected milliseconds or "N second(s)/minute(s)/hour(s)/day(s)"';

/** A window like RATE_LIMIT_WINDOW; `zero` also accepts 0 (meaning none). */
function windowMs(env: Env, name: string, fallback: string, zero = false): number {
  const raw = text(env, name, fallback);
  if (zero && raw.trim() === '0') return 0;
  const ms = parseWindow(raw);
  if (ms === undefined) fail(name, zero ? `${WINDOW_FORMAT}, or 0 for none` : WINDOW_FORMAT, raw);
  return ms;
}

/** A comma-separated list, entries trimmed, empty ones dropped. */
function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

const COUNTRY_CODES = new Set<string>(getCountries());

function countries(env: Env, name: string): string[] {
  const codes = list(env, name).map((code) => code.toUpperCase());
  const bad = codes.find((code) => !COUNTRY_CODES.has(code));
  if (bad !== undefined)
    fail(name, 'expected comma-separated ISO 3166-1 alpha-2 country codes such as US,CA,GB', bad);
  return codes;
}

/** The libphonenumber-js number types a destination policy may refuse. */
export const NUMBER_TYPES = [
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
  'FIXED_LINE',
] as const;
export const DEFAULT_DENIED_NUMBER_TYPES = 'PREMIUM_RATE,SHARED_COST,PAGER,UAN,VOICEMAIL';

function numberTypes(env: Env): string[] {
  const name = 'DENIED_NUMBER_TYPES';
  const raw = text(env, name, DEFAULT_DENIED_NUMBER_TYPES);
  if (raw.trim().toLowerCase() === 'none') return [];
  const types = list({ [name]: raw }, name).map((type) => type.toUpperCase());
  const bad = types.find((type) => !(NUMBER_TYPES as readonly string[]).includes(type));
  if (bad !== undefined)
    fail(name, `expected none or comma-separated types among ${NUMBER_TYPES.join(', ')}`, bad);
  return types;
}

function ratio(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!/^\s*\d*\.?\d+\s*$/.test(raw) || value > 1) fail(name, 'expected a number from 0 to 1', raw);
  return value;
}

function fraudGuard(env: Env): FraudGuardSetting {
  const safeList = list(env, 'FRAUD_GUARD_SAFE_LIST');
  const bad = safeList.find((entry) => !/^\+\d{1,15}$/.test(entry));
  if (bad !== undefined) {
    fail('FRAUD_GUARD_SAFE_LIST', 'expected comma-separated E.164 numbers or prefixes such as +1415555', bad);
  }
  return {
    mode: oneOf(env, 'FRAUD_GUARD', ['enforce', 'monitor', 'off'], 'enforce'),
    windowMs: windowMs(env, 'FRAUD_GUARD_WINDOW', '1 hour'),
    minStarts: integer(env, 'FRAUD_GUARD_MIN_STARTS', 20, 1),
    minConversion: ratio(env, 'FRAUD_GUARD_MIN_CONVERSION', 0.1),
    graceMs: windowMs(env, 'FRAUD_GUARD_GRACE', '2 minutes', true),
    blockMs: windowMs(env, 'FRAUD_GUARD_BLOCK', '12 hours'),
    safeList,
  };
}

function smsBudget(env: Env): RateLimitSetting | undefined {
  // Read both, so an unset budget still checks its window.
  const window = windowMs(env, 'SMS_BUDGET_WINDOW', '1 hour');
  const raw = env.SMS_BUDGET_MAX;
  if (raw === undefined || raw.trim() === '') return undefined;
  return { max: integer(env, 'SMS_BUDGET_MAX', 0, 1), windowMs: window };
}

function testPhoneNumbers(env: Env): Record<string, string> {
  const name = 'TEST_PHONE_NUMBERS';
  const numbers: Record<string, string> = {};
  for (const entry of list(env, name)) {
    const match = /^(\+[1-9]\d{1,14})\s*=\s*(\d{4,10})$/.exec(entry);
    if (!match) fail(name, 'expected comma-separated +E164=CODE pairs with 4 to 10 digit codes', entry);
    numbers[match[1]!] = match[2]!;
  }
  return numbers;
}

function instant(env: Env, name: string): Date | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const date = new Date(raw);
  // ISO 8601 with a date part; Date alone would also take "March 7" and the like.
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(date.getTime())) {
    fail(name, 'expected an ISO 8601 instant such as 2027-01-31T00:00:00Z', raw);
  }
  return date;
}

function publicUrl(env: Env): string | undefined {
  const raw = env.PUBLIC_URL?.trim();
  if (raw === undefined || raw === '') return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username) {
    fail('PUBLIC_URL', 'expected an http(s) origin such as https://verify.example.com (a path allowed)', raw);
  }
  return raw.replace(/\/+$/, '');
}

function serverSecret(env: Env): string | undefined {
  const raw = env.SERVER_SECRET;
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 32) fail('SERVER_SECRET', 'expected at least 32 characters', raw);
  return raw;
}

function fallbackBackend(env: Env): string | undefined {
  const name = `${PREFIX}FALLBACK_BACKEND`;
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!BACKEND_NAME.test(raw)) fail(name, 'expected a built-in backend name or "module.ClassName"', raw);
  return raw;
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
  if (!BACKEND_NAME.test(backend)) {
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
    backendOptions: backendOptions(env, `${PREFIX}OPTIONS`, OPTION_PREFIX),
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
    allowedCountries: countries(env, 'ALLOWED_COUNTRIES'),
    deniedCountries: countries(env, 'DENIED_COUNTRIES'),
    deniedNumberTypes: numberTypes(env),
    phoneResendIntervalMs: windowMs(env, 'PHONE_RESEND_INTERVAL', '0', true),
    prefixRateLimit: rateLimit(env, 'PREFIX_RATE_LIMIT_MAX', 'PREFIX_RATE_LIMIT_WINDOW', 50, '1 hour'),
    fraudGuard: fraudGuard(env),
    smsBudget: smsBudget(env),
    testPhoneNumbers: testPhoneNumbers(env),
    testPhoneNumbersUntil: instant(env, 'TEST_PHONE_NUMBERS_UNTIL'),
    fallbackBackend: fallbackBackend(env),
    fallbackBackendOptions: backendOptions(env, `${PREFIX}FALLBACK_OPTIONS`, FALLBACK_OPTION_PREFIX),
    publicUrl: publicUrl(env),
    serverSecret: serverSecret(env),
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
