// Configuration: every variable of docs/configuration.md, defaults, and one-line errors naming the variable.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  ConfigError,
  DEFAULT_MESSAGE,
  ENV_VARIABLES,
  loadConfig,
  loadDotEnv,
  PURGE_OFF,
  parseWindow,
} from '../src/config.js';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

t.test('defaults match the seed', async (t) => {
  const config = loadConfig({});
  t.match(config, {
    backend: 'console',
    backendOptions: {},
    tokenLength: 6,
    minTokenLength: 6,
    message: DEFAULT_MESSAGE,
    appName: 'Phone Verify',
    codeExpirySeconds: 3600,
    verifyCodeOnlyOnce: true,
    maxFailedAttempts: 5,
    recordRetentionDays: 30,
    port: 3000,
    host: '0.0.0.0',
    databaseUrl: 'file:./data/phone-verify.db',
    databaseKind: 'sqlite',
    migrateOnStart: true,
    pluginsDir: './plugins',
    logLevel: 'info',
    apiKeys: [],
    rateLimit: { max: 100, windowMs: 60_000 },
    phoneRateLimit: { max: 5, windowMs: 3_600_000 },
    redisUrl: undefined,
    trustProxy: false,
  });
  t.equal(DEFAULT_MESSAGE, 'Welcome to {app}! Please use security code {security_code} to proceed.');
});

t.test('backend options: JSON, per-key variables win, keys lower-cased', async (t) => {
  const config = loadConfig({
    PHONE_VERIFICATION_OPTIONS: '{"SID": "ACjson", "Secret": "s1", "FROM": "+1"}',
    PHONE_VERIFICATION_OPTIONS_SECRET: 's2',
    PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: '123456',
  });
  t.same(config.backendOptions, { sid: 'ACjson', secret: 's2', from: '+1', sandbox_token: '123456' });
});

t.test('an empty variable means its default, a per-key option included', async (t) => {
  // As an .env with every line uncommented but left empty ("NAME=") would set them.
  const empty = Object.fromEntries(ENV_VARIABLES.map((name) => [name, '']));
  const { backendOptions, ...config } = loadConfig({
    ...empty,
    PHONE_VERIFICATION_OPTIONS: '{"SID": "ACjson"}',
    PHONE_VERIFICATION_OPTIONS_SID: '',
  });
  t.same(backendOptions, { sid: 'ACjson' }, 'an empty _SID does not blank the JSON one');
  const { backendOptions: _, ...defaults } = loadConfig({});
  t.same(config, defaults);
});

t.test('LOG_FORMAT: json by default, or pretty', async (t) => {
  t.equal(loadConfig({}).logFormat, 'json');
  t.equal(loadConfig({ LOG_FORMAT: 'Pretty' }).logFormat, 'pretty');
  t.match(refusal({ LOG_FORMAT: 'colour' }), /^LOG_FORMAT: expected one of json, pretty \(got "colour"\)$/);
});

t.test('PURGE_INTERVAL: a window, or off (also false, never, 0)', async (t) => {
  t.same(PURGE_OFF, ['off', 'false', 'never', '0']);
  for (const value of ['off', 'OFF', 'false', 'never', '0', ' off ']) {
    t.equal(loadConfig({ PURGE_INTERVAL: value }).purgeIntervalMs, 0, value);
  }
  t.equal(loadConfig({ PURGE_INTERVAL: '30 minutes' }).purgeIntervalMs, 1_800_000);
  t.match(
    refusal({ PURGE_INTERVAL: 'no' }),
    /^PURGE_INTERVAL: expected milliseconds, .* or off\/false\/never\/0 to turn it off \(got "no"\)$/,
  );
});

t.test('.env: read for what the environment does not set; the environment wins', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pv-dotenv-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, '.env');
  writeFileSync(
    file,
    '# a comment\nPORT=4000\nLOG_LEVEL=debug\nPHONE_VERIFICATION_MESSAGE="Hi {app}: {security_code}"\n# API_KEYS=commented\n',
  );
  const env: Record<string, string | undefined> = { LOG_LEVEL: 'warn' };
  t.same(loadDotEnv(file, env), ['PHONE_VERIFICATION_MESSAGE', 'PORT'], 'the names it set');
  t.same(env, { LOG_LEVEL: 'warn', PORT: '4000', PHONE_VERIFICATION_MESSAGE: 'Hi {app}: {security_code}' });
  t.equal(loadConfig(env).port, 4000);
  t.same(loadDotEnv(join(dir, 'missing.env'), env), [], 'no file: nothing set');
  t.throws(
    () => loadDotEnv(dir, {}),
    { name: 'ConfigError', message: /^\S+: cannot be read \(/ },
    'a folder',
  );
});

t.test('settings', async (t) => {
  const config = loadConfig({
    PHONE_VERIFICATION_TOKEN_LENGTH: '8',
    PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_TIME: '600',
    PHONE_VERIFICATION_VERIFY_SECURITY_CODE_ONLY_ONCE: 'false',
    PHONE_VERIFICATION_MESSAGE_DE: 'Hallo {security_code}',
    PHONE_VERIFICATION_MESSAGE_pt_br: 'Olá {security_code}',
    DATABASE_URL: 'postgresql://u@db:5432/pv',
    API_KEYS: ' k1, k2 ,,',
    RATE_LIMIT_WINDOW: '30 seconds',
    PHONE_RATE_LIMIT_WINDOW: '90000',
    REDIS_URL: 'redis://127.0.0.1:6379',
    TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
    MIGRATE_ON_START: 'false',
    DATABASE_TIMEOUT: '2 seconds',
  });
  t.equal(config.tokenLength, 8);
  t.equal(config.codeExpirySeconds, 600);
  t.equal(config.verifyCodeOnlyOnce, false);
  t.same(config.messages, { DE: 'Hallo {security_code}', PT_BR: 'Olá {security_code}' });
  t.equal(config.databaseKind, 'postgresql');
  t.same(config.apiKeys, ['k1', 'k2']);
  t.equal(config.rateLimit.windowMs, 30_000);
  t.equal(config.phoneRateLimit.windowMs, 90_000);
  t.same(config.trustProxy, ['10.0.0.0/8', '127.0.0.1']);
  t.equal(config.migrateOnStart, false);
  t.equal(config.databaseTimeoutMs, 2_000);
  t.equal(loadConfig({}).databaseTimeoutMs, 5_000, 'DATABASE_TIMEOUT defaults to 5 seconds');
  t.equal(loadConfig({ DATABASE_TIMEOUT: '750' }).databaseTimeoutMs, 750);
  t.equal(
    loadConfig({
      PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_TIME: '600',
      PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_SECONDS: '60',
    }).codeExpirySeconds,
    60,
    '_SECONDS wins over _TIME',
  );
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
});

t.test('windows', async (t) => {
  t.equal(parseWindow('1 minute'), 60_000);
  t.equal(parseWindow('2 hours'), 7_200_000);
  t.equal(parseWindow('1 day'), 86_400_000);
  t.equal(parseWindow('1500'), 1500);
  t.equal(parseWindow('soon'), undefined);
  t.equal(parseWindow('0'), undefined);
});

t.test('a bad value is one line naming the variable and the value', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { PHONE_VERIFICATION_TOKEN_LENGTH: 'six' },
      /^PHONE_VERIFICATION_TOKEN_LENGTH: expected a whole number \(got "six"\)$/,
    ],
    [{ PHONE_VERIFICATION_TOKEN_LENGTH: '5' }, /^PHONE_VERIFICATION_TOKEN_LENGTH: .*6 to 10.*"5"/],
    [{ PHONE_VERIFICATION_TOKEN_LENGTH: '11' }, /^PHONE_VERIFICATION_TOKEN_LENGTH: .*"11"/],
    [
      { PHONE_VERIFICATION_MIN_TOKEN_LENGTH: '4', PHONE_VERIFICATION_TOKEN_LENGTH: '3' },
      /^PHONE_VERIFICATION_TOKEN_LENGTH: expected 4 to 10/,
    ],
    [{ PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: '0' }, /^PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: /],
    [{ DATABASE_TIMEOUT: '50' }, /^DATABASE_TIMEOUT: expected milliseconds .*\(got "50"\)$/],
    [{ DATABASE_TIMEOUT: 'soon' }, /^DATABASE_TIMEOUT: .*\(got "soon"\)$/],
    [
      { PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_TIME: '1h' },
      /^PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_TIME: /,
    ],
    [
      { PHONE_VERIFICATION_VERIFY_SECURITY_CODE_ONLY_ONCE: 'maybe' },
      /^PHONE_VERIFICATION_VERIFY_SECURITY_CODE_ONLY_ONCE: expected true or false/,
    ],
    [{ PHONE_VERIFICATION_OPTIONS: '{"SID": ' }, /^PHONE_VERIFICATION_OPTIONS: is not valid JSON/],
    [{ PHONE_VERIFICATION_OPTIONS: '["a"]' }, /^PHONE_VERIFICATION_OPTIONS: expected a JSON object/],
    [{ PHONE_VERIFICATION_BACKEND: '../etc/passwd' }, /^PHONE_VERIFICATION_BACKEND: /],
    [{ PHONE_VERIFICATION_MESSAGE_D3$: 'x' }, /^PHONE_VERIFICATION_MESSAGE_D3\$: /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: expected file:PATH/],
    [{ PORT: 'http' }, /^PORT: /],
    [{ PORT: '70000' }, /^PORT: /],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ RATE_LIMIT_MAX: '-1' }, /^RATE_LIMIT_MAX: /],
    [{ RATE_LIMIT_WINDOW: 'a while' }, /^RATE_LIMIT_WINDOW: .*"a while"/],
    [{ PHONE_RATE_LIMIT_WINDOW: '1 fortnight' }, /^PHONE_RATE_LIMIT_WINDOW: /],
    [{ REDIS_URL: 'localhost:6379' }, /^REDIS_URL: /],
    [{ TRUST_PROXY: 'everyone' }, /^TRUST_PROXY: /],
    [{ MIGRATE_ON_START: 'sometimes' }, /^MIGRATE_ON_START: /],
  ];
  for (const [env, expected] of cases) {
    const message = refusal(env);
    t.match(message, expected, Object.keys(env).join(','));
    t.notMatch(message, /\n/, 'one line');
  }
});

t.test('secrets never appear in a refusal', async (t) => {
  const json = refusal({ PHONE_VERIFICATION_OPTIONS: '{"SECRET": "hunter2-very-secret", ' });
  t.notMatch(json, /hunter2/);
  const database = refusal({ DATABASE_URL: 'mysql://root:hunter2@db/x' });
  t.notMatch(database, /hunter2/);
});
