// The configuration table: every Config field, the environment variables it is read from (name,
// default, allowed values, one line on what it does) and the TypeBox schema of its value. The
// Config type (Static<>), loadConfig, .env.example and docs/configuration.md all come from it
// (`npm run config:generate` writes the last two). Fields are read in this order; a setting that
// depends on another (TOKEN_LENGTH on MIN_TOKEN_LENGTH) comes after it.
import { type TInteger, type TLiteral, type TUnion, Type } from '@sinclair/typebox';
import {
  checkBackendName,
  checkDatabaseUrl,
  countryCode,
  DATABASE_KINDS,
  type DatabaseKind,
  databaseKindOf,
  e164Prefix,
  NUMBER_TYPES,
  numberType,
  parsePublicUrl,
  parseRedisUrl,
  parseServerSecret,
  parseTestNumbers,
  parseTrustProxy,
} from './checks.js';
import { group, readVariable, type Setting, type Variable } from './definition.js';
import { InvalidValue } from './errors.js';
import {
  boolean,
  duration,
  instant,
  integer,
  list,
  oneOf,
  optionalText,
  parseInteger,
  ratio,
  type Spec,
  single,
  text,
  wholeNumbers,
} from './kinds.js';
import { backendOptions, translations } from './per-key.js';

export const DEFAULT_MESSAGE = 'Welcome to {app}! Please use security code {security_code} to proceed.';
export const DEFAULT_DENIED_NUMBER_TYPES = 'PREMIUM_RATE,SHARED_COST,PAGER,UAN,VOICEMAIL';
/** The PURGE_INTERVAL values that turn the scheduled purge off. */
export const PURGE_OFF = ['off', 'false', 'never', '0'] as const;
/** Longest SEND_TIMEOUT: as long as the built-in backends' TIMEOUT may be. */
const MAX_SEND_TIMEOUT_MS = 120_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const MAX_TOKEN_LENGTH = 10;

const P = 'PHONE_VERIFICATION_';

/** TOKEN_LENGTH: from MIN_TOKEN_LENGTH (read before it) to 10. */
function tokenLength(): Setting<TInteger> {
  const schema = Type.Integer({ minimum: 1, maximum: MAX_TOKEN_LENGTH });
  const variable: Variable = {
    name: `${P}TOKEN_LENGTH`,
    topic: 'seed',
    default: '6',
    description: 'Digits in a security code.',
    allowed: wholeNumbers(`${P}MIN_TOKEN_LENGTH`, MAX_TOKEN_LENGTH),
  };
  return {
    kind: 'setting',
    schema,
    variables: [variable],
    families: [],
    read: ({ env, earlier }) => {
      const minimum = earlier.minTokenLength as number;
      return readVariable(variable, env, (raw) => {
        const value = parseInteger(raw, Type.Integer({ minimum: 1 }));
        if (value < minimum || value > MAX_TOKEN_LENGTH) {
          throw new InvalidValue(
            `expected ${minimum} to ${MAX_TOKEN_LENGTH} digits (MIN_TOKEN_LENGTH is ${minimum})`,
            String(value),
          );
        }
        return value;
      });
    },
  };
}

/** _SECONDS wins over _TIME when set; both are checked. */
function codeExpiry(): Setting<TInteger> {
  const schema = Type.Integer({ minimum: 1 });
  const time: Variable = {
    name: `${P}SECURITY_CODE_EXPIRATION_TIME`,
    topic: 'seed',
    default: '3600',
    description: 'Seconds a code stays valid.',
    allowed: wholeNumbers(schema.minimum!),
  };
  const seconds: Variable = {
    name: `${P}SECURITY_CODE_EXPIRATION_SECONDS`,
    topic: 'seed',
    unset: `the value of ${P}SECURITY_CODE_EXPIRATION_TIME`,
    description: `Seconds a code stays valid; wins over ${P}SECURITY_CODE_EXPIRATION_TIME when set.`,
    allowed: wholeNumbers(schema.minimum!),
  };
  const parse = (raw: string) => parseInteger(raw, schema);
  return {
    kind: 'setting',
    schema,
    variables: [time, seconds],
    families: [],
    read: ({ env }) => {
      const fromTime = readVariable(time, env, parse);
      return readVariable(seconds, env, parse, () => fromTime);
    },
  };
}

/** Derived from DATABASE_URL (read before it), which has no other source. */
function databaseKind(): Setting<TUnion<TLiteral<DatabaseKind>[]>> {
  return {
    kind: 'setting',
    schema: Type.Union(DATABASE_KINDS.map((kind) => Type.Literal(kind))),
    variables: [],
    families: [],
    read: ({ earlier }) => databaseKindOf(earlier.databaseUrl as string) as DatabaseKind,
  };
}

type LimitSpec = Omit<Spec, 'topic'>;

/** A limit: so many (`max`) per window. */
function rateLimit(topic: 'limits' | 'protection', max: LimitSpec, window: LimitSpec) {
  return group({
    max: integer({ ...max, topic }, { minimum: 1 }),
    windowMs: duration({ ...window, topic }),
  });
}

export const CONFIG = group({
  // --- service ---
  port: integer(
    { name: 'PORT', topic: 'service', default: '3000', description: 'The port the service listens on.' },
    { minimum: 0, maximum: 65535 },
  ),
  host: text({
    name: 'HOST',
    topic: 'service',
    default: '0.0.0.0',
    description: 'The address the service listens on.',
    allowed: 'an IP address or host name',
  }),
  databaseUrl: text(
    {
      name: 'DATABASE_URL',
      topic: 'service',
      default: 'file:./data/phone-verify.db',
      description: "The database; the image's default is file:/data/phone-verify.db.",
      allowed: 'file:PATH (SQLite) or postgresql://user:password@host:5432/db',
    },
    { check: checkDatabaseUrl },
  ),
  databaseKind: databaseKind(),
  databaseTimeoutMs: duration(
    {
      name: 'DATABASE_TIMEOUT',
      topic: 'service',
      default: '5 seconds',
      description:
        'Deadline of each database operation (a statement, a lock wait, a connect); past it the request is 503 service_unavailable.',
    },
    { minimum: 100, maximum: 600_000 },
  ),
  migrateOnStart: boolean({
    name: 'MIGRATE_ON_START',
    topic: 'service',
    default: 'true',
    description: 'Apply pending database migrations at start (replicas starting together take turns).',
  }),
  logLevel: oneOf(
    { name: 'LOG_LEVEL', topic: 'service', default: 'info', description: 'The pino log level.' },
    LOG_LEVELS,
  ),
  logFormat: oneOf(
    {
      name: 'LOG_FORMAT',
      topic: 'service',
      default: 'json',
      description:
        'Log lines: json (one JSON object per line, for log collectors) or pretty (for a person at a terminal).',
    },
    ['json', 'pretty'],
  ),
  logPhoneNumbers: oneOf(
    {
      name: 'LOG_PHONE_NUMBERS',
      topic: 'service',
      default: 'masked',
      description: 'Phone numbers in log lines: masked (+1415*****00) or full.',
    },
    ['masked', 'full'],
  ),
  apiKeys: list(
    {
      name: 'API_KEYS',
      topic: 'service',
      unset: 'open, with a warning at start',
      description:
        'When set, every /v1 route needs "Authorization: Bearer <key>" (and /v2 the key as Basic password).',
      secret: true,
    },
    { allowed: 'comma-separated keys' },
  ),
  purgeIntervalMs: duration(
    {
      name: 'PURGE_INTERVAL',
      topic: 'service',
      default: '1 hour',
      description: 'How often old sessions are purged (jittered ±10%); off leaves it to `npm run purge`.',
    },
    { off: PURGE_OFF },
  ),

  // --- seed settings (PHONE_VERIFICATION_*) ---
  minTokenLength: integer(
    {
      name: `${P}MIN_TOKEN_LENGTH`,
      topic: 'seed',
      default: '6',
      description: 'Smallest TOKEN_LENGTH accepted at start.',
    },
    { minimum: 1, maximum: MAX_TOKEN_LENGTH },
  ),
  tokenLength: tokenLength(),
  message: text({
    name: `${P}MESSAGE`,
    topic: 'seed',
    default: DEFAULT_MESSAGE,
    description:
      'The message template; {app} and {security_code} are replaced, any other {placeholder} is kept.',
    allowed: 'text',
  }),
  messages: translations({
    prefix: `${P}MESSAGE_`,
    topic: 'seed',
    description:
      "A translated template per language tag (_DE, _PT_BR, _ZH_HANT…), chosen from the request's locale or Accept-Language.",
    example: { key: 'DE', value: 'Willkommen bei {app}! Ihr Sicherheitscode lautet {security_code}.' },
  }),
  appName: text({
    name: `${P}APP_NAME`,
    topic: 'seed',
    default: 'Phone Verify',
    description: 'The {app} in the message.',
  }),
  codeExpirySeconds: codeExpiry(),
  verifyCodeOnlyOnce: boolean({
    name: `${P}VERIFY_SECURITY_CODE_ONLY_ONCE`,
    topic: 'seed',
    default: 'true',
    description: 'A code approves once (true) or again until it expires (false).',
  }),
  maxFailedAttempts: integer(
    {
      name: `${P}MAX_FAILED_ATTEMPTS`,
      topic: 'seed',
      default: '5',
      description: 'Wrong codes after which a session is locked (429 too_many_attempts).',
    },
    { minimum: 1 },
  ),
  recordRetentionDays: integer(
    {
      name: `${P}RECORD_RETENTION_DAYS`,
      topic: 'seed',
      default: '30',
      description: 'Finished and expired sessions last updated this many days ago are purged.',
    },
    { minimum: 1 },
  ),

  // --- backends ---
  backend: text(
    {
      name: `${P}BACKEND`,
      topic: 'backends',
      default: 'console',
      description: 'The SMS backend: a built-in one, or module.ClassName of a file in PLUGINS_DIR.',
      allowed:
        'a built-in backend name, or module.ClassName (or a module with a default export) in PLUGINS_DIR',
    },
    { trim: true, check: checkBackendName },
  ),
  backendOptions: backendOptions(
    {
      name: `${P}OPTIONS`,
      topic: 'backends',
      default: '{}',
      description:
        'The backend\'s options as a JSON object, e.g. {"SID": "...", "SECRET": "...", "FROM": "+15005550006"}.',
    },
    {
      prefix: `${P}OPTIONS_`,
      topic: 'backends',
      description:
        'One backend option per variable (SID, SECRET, FROM, SANDBOX_TOKEN, BASE_URL, TIMEOUT; the webhook backend: URL, SECRET, TIMEOUT; Vonage receipts: SIGNATURE_SECRET, SIGNATURE_METHOD); wins over the JSON.',
      example: { key: 'SID', value: '' },
    },
  ),
  pluginsDir: text({
    name: 'PLUGINS_DIR',
    topic: 'backends',
    default: './plugins',
    description: "Folder of custom backend files (.js, .mjs, .cjs); the image's default is /plugins.",
    allowed: 'a folder path',
  }),
  sendTimeoutMs: duration(
    {
      name: 'SEND_TIMEOUT',
      topic: 'backends',
      default: '10 seconds',
      description:
        "Longest a custom or console backend's sendSms may take before the start is 502 backend_error (twilio and vonage use their TIMEOUT option).",
    },
    { maximum: MAX_SEND_TIMEOUT_MS },
  ),

  // --- limits ---
  rateLimit: rateLimit(
    'limits',
    {
      name: 'RATE_LIMIT_MAX',
      default: '100',
      description: 'Requests per client IP on /v1 per RATE_LIMIT_WINDOW.',
    },
    { name: 'RATE_LIMIT_WINDOW', default: '1 minute', description: 'The window of RATE_LIMIT_MAX.' },
  ),
  phoneRateLimit: rateLimit(
    'limits',
    {
      name: 'PHONE_RATE_LIMIT_MAX',
      default: '5',
      description:
        'Verifications started per phone number per PHONE_RATE_LIMIT_WINDOW (every start that reached the backend counts).',
    },
    {
      name: 'PHONE_RATE_LIMIT_WINDOW',
      default: '1 hour',
      description: 'The window of PHONE_RATE_LIMIT_MAX.',
    },
  ),
  trustProxy: single(
    Type.Union([Type.Boolean(), Type.Integer({ minimum: 0 }), Type.Array(Type.String())]),
    {
      name: 'TRUST_PROXY',
      topic: 'limits',
      default: 'false',
      description: 'Proxies whose X-Forwarded-For is trusted for the client IP (1 = one load balancer).',
      allowed:
        'false, true, a hop count, or comma-separated addresses/CIDRs (also loopback, linklocal, uniquelocal)',
    },
    parseTrustProxy,
  ),
  redisUrl: optionalText(
    {
      name: 'REDIS_URL',
      topic: 'limits',
      unset: 'in memory',
      description:
        "Redis for the counters of every limit and the fraud guard's state, shared by all replicas.",
      allowed: 'redis://… or rediss://…',
      secret: true,
    },
    parseRedisUrl,
  ),
  redisKeyPrefix: text({
    name: 'REDIS_KEY_PREFIX',
    topic: 'limits',
    default: 'phone-verify:',
    description: 'Prefix of every key this service writes in Redis, so deployments can share one Redis.',
  }),
  rateLimitOnRedisError: oneOf(
    {
      name: 'RATE_LIMIT_ON_REDIS_ERROR',
      topic: 'limits',
      default: 'local',
      description:
        "While Redis is unreachable: local (count in each replica's memory), open (no limits) or closed (503).",
    },
    ['local', 'open', 'closed'],
  ),

  // --- SMS-bill protection ---
  allowedCountries: list(
    {
      name: 'ALLOWED_COUNTRIES',
      topic: 'protection',
      unset: 'every country',
      description: 'When set, a number of any other country is refused.',
    },
    { entry: countryCode, allowed: 'comma-separated ISO 3166-1 alpha-2 codes (US,CA,GB)' },
  ),
  deniedCountries: list(
    { name: 'DENIED_COUNTRIES', topic: 'protection', description: 'Countries refused even when allowed.' },
    { entry: countryCode, allowed: 'comma-separated ISO 3166-1 alpha-2 codes' },
  ),
  deniedNumberTypes: list(
    {
      name: 'DENIED_NUMBER_TYPES',
      topic: 'protection',
      default: DEFAULT_DENIED_NUMBER_TYPES,
      description: 'Number types refused, as libphonenumber names them.',
    },
    { entry: numberType, none: 'none', allowed: `none, or comma-separated among ${NUMBER_TYPES.join(', ')}` },
  ),
  phoneResendIntervalMs: duration(
    {
      name: 'PHONE_RESEND_INTERVAL',
      topic: 'protection',
      default: '0',
      description: 'Least time between two starts for one number.',
    },
    { zero: true },
  ),
  prefixRateLimit: rateLimit(
    'protection',
    {
      name: 'PREFIX_RATE_LIMIT_MAX',
      default: '50',
      description:
        'Starts per number block (the E.164 number without its last 4 digits) per PREFIX_RATE_LIMIT_WINDOW.',
    },
    {
      name: 'PREFIX_RATE_LIMIT_WINDOW',
      default: '1 hour',
      description: 'The window of PREFIX_RATE_LIMIT_MAX.',
    },
  ),
  fraudGuard: group({
    mode: oneOf(
      {
        name: 'FRAUD_GUARD',
        topic: 'protection',
        default: 'enforce',
        description:
          'The fraud guard: enforce, monitor (judge, log and count what it would block; block nothing) or off.',
      },
      ['enforce', 'monitor', 'off'],
    ),
    windowMs: duration({
      name: 'FRAUD_GUARD_WINDOW',
      topic: 'protection',
      default: '1 hour',
      description: "The time over which a destination prefix's starts and approvals are compared.",
    }),
    minStarts: integer(
      {
        name: 'FRAUD_GUARD_MIN_STARTS',
        topic: 'protection',
        default: '20',
        description: 'Starts to a prefix within the window before its conversion is judged.',
      },
      { minimum: 1 },
    ),
    minConversion: ratio({
      name: 'FRAUD_GUARD_MIN_CONVERSION',
      topic: 'protection',
      default: '0.1',
      description: "Share of a prefix's judged starts that must be approved; below it the prefix is blocked.",
    }),
    graceMs: duration(
      {
        name: 'FRAUD_GUARD_GRACE',
        topic: 'protection',
        default: '2 minutes',
        description: 'A start counts as not converted only once it is older than this.',
      },
      { zero: true },
    ),
    blockMs: duration({
      name: 'FRAUD_GUARD_BLOCK',
      topic: 'protection',
      default: '12 hours',
      description: 'How long a blocked prefix stays blocked.',
    }),
    safeList: list(
      {
        name: 'FRAUD_GUARD_SAFE_LIST',
        topic: 'protection',
        description: 'Numbers or prefixes that the prefix limit and the fraud guard never refuse.',
      },
      { entry: e164Prefix, allowed: 'comma-separated E.164 numbers or prefixes (+1415555)' },
    ),
  }),
  // Both are read, so an unset budget still checks its window.
  smsBudget: group(
    {
      max: integer(
        {
          name: 'SMS_BUDGET_MAX',
          topic: 'protection',
          unset: 'no budget',
          description: 'Messages the whole deployment sends per SMS_BUDGET_WINDOW.',
        },
        { minimum: 1 },
      ),
      windowMs: duration({
        name: 'SMS_BUDGET_WINDOW',
        topic: 'protection',
        default: '1 hour',
        description: 'The window of SMS_BUDGET_MAX.',
      }),
    },
    'max',
  ),
  testPhoneNumbers: single(
    Type.Record(Type.String(), Type.String()),
    {
      name: 'TEST_PHONE_NUMBERS',
      topic: 'protection',
      description: 'Test numbers with fixed codes: nothing is sent, and no limit but the per-IP one applies.',
      allowed: 'comma-separated +E164=CODE pairs, codes of 4 to 10 digits (+15555550100=123456)',
    },
    parseTestNumbers,
    () => ({}),
  ),
  testPhoneNumbersUntil: instant({
    name: 'TEST_PHONE_NUMBERS_UNTIL',
    topic: 'protection',
    unset: 'no end',
    description: 'The instant after which TEST_PHONE_NUMBERS are ordinary numbers again.',
  }),

  // --- delivery ---
  fallbackBackend: optionalText(
    {
      name: `${P}FALLBACK_BACKEND`,
      topic: 'delivery',
      unset: 'none',
      description:
        'The backend that sends when the primary one fails (any name as for PHONE_VERIFICATION_BACKEND).',
      allowed: 'as PHONE_VERIFICATION_BACKEND',
    },
    (raw) => {
      checkBackendName(raw.trim());
      return raw.trim();
    },
  ),
  fallbackBackendOptions: backendOptions(
    {
      name: `${P}FALLBACK_OPTIONS`,
      topic: 'delivery',
      default: '{}',
      description: "The fallback backend's options as a JSON object.",
    },
    {
      prefix: `${P}FALLBACK_OPTIONS_`,
      topic: 'delivery',
      description: 'One fallback option per variable; wins over the JSON.',
      example: { key: 'SID', value: '' },
    },
  ),
  publicUrl: optionalText(
    {
      name: 'PUBLIC_URL',
      topic: 'delivery',
      description: "The service's external origin, for the delivery-receipt callbacks of Twilio and Vonage.",
      allowed: 'an http(s) origin, a path allowed (https://verify.example.com)',
    },
    parsePublicUrl,
  ),
  serverSecret: optionalText(
    {
      name: 'SERVER_SECRET',
      topic: 'delivery',
      description:
        'The key idempotent starts seal their stored answers under (the same on every replica; unset: a random one per process, so a replay elsewhere or after a restart is 409); never printed.',
      allowed: 'text of at least 32 characters',
      secret: true,
      keepsSpaces: true,
    },
    parseServerSecret,
  ),
});
